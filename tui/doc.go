// Package tui is afrkit's interactive terminal UI (bubbletea v1): the
// volumes of a host with their backlogs, a volume's entries as heal info
// lists them, and an entry's copies side by side with AFR's verdict and
// the commands that would resolve it (heal.Explain), and a split-brain
// resolved from there: a copy chosen, the plan (a dry run) shown, then
// run as the CLI's split-brain commands run it.
package tui
