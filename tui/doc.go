// Package tui is afrkit's interactive terminal UI (bubbletea v1).
//
// It shows the volumes of a host with their backlogs; a volume's entries
// as heal info lists them, with what fsck's crawl adds (stale rsync temp
// files, copies that differ with no counter to say why), grouped,
// filtered and searched, kept in files so that a million entries cost no
// more memory than ten; an entry's copies side by side with AFR's verdict
// (heal.Explain) and their content compared (heal.ReadCopies, package
// content). From there a person resolves a split-brain (a copy, a policy,
// one kind at a time, or several entries marked), heals an entry or the
// volume, renames a stale temp file or chooses the version that keeps its
// name, and undoes any of it from the history. Every change is an action:
// its plan, the dry run of the very call, first; then, on y, the run, in
// the same heal or repair session as the CLI's. A started GlusterFS
// volume is only read: each action shows its plan and GlusterFS's own
// command.
package tui
