package main

import (
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/heal"
)

// Dynamic shell completion.
//
// The scripts `afrkit completion SHELL` prints run `afrkit __complete ARGS...`
// on every TAB; cobra parses ARGS (so --state-dir and --glusterd-dir are
// those of the command line being completed), finds the command and calls
// the function set here for its arguments or for the flag being completed.
//
// Concurrency: none. Each completion request is its own process and calls
// one function once; the functions keep nothing between calls and read the
// volume definitions afresh, so there is no package-level state to guard.
//
// A completion must never fail loudly: the shell discards stderr and an
// unreadable catalog, a missing volume or a bad definition only means
// fewer candidates. What went wrong goes to cobra's debug log
// (BASH_COMP_DEBUG_FILE), which is where one looks when completion seems
// to do nothing.

// addCompletions sets the argument and flag completions of the commands in
// root's tree that completionTable names. Call it once, on a tree NewCmdRoot
// built; the commands cobra adds itself at Execute (help, completion) keep
// cobra's own completion.
func addCompletions(root *cobra.Command, f *Factory) {
	args, flags := completionTable(completer{f: f})
	walkCommands(root, func(cmd *cobra.Command) {
		key := commandKey(cmd)
		if fn, ok := args[key]; ok {
			cmd.ValidArgsFunction = fn
		}
		named := flags[key]
		for name, fn := range named {
			// The only errors are a flag the command lacks and a second
			// registration; TestCompletionTable catches
			// the first, and addCompletions runs once per tree.
			_ = cmd.RegisterFlagCompletionFunc(name, fn)
		}
		// A number is never a path: without this the shell would offer
		// file names for --jobs.
		cmd.LocalNonPersistentFlags().VisitAll(func(fl *pflag.Flag) {
			if _, ok := named[fl.Name]; !ok && fl.Value.Type() == "int" {
				_ = cmd.RegisterFlagCompletionFunc(fl.Name, noFiles)
			}
		})
	})
}

// completionTable maps a command's path below the root ("heal", "volume
// set"; "" is the root) to the completion of its arguments, and to those
// of its flags by name. It is a function of its own so that a test can
// check every entry names a command and flag that exist.
func completionTable(c completer) (map[string]cobra.CompletionFunc, map[string]map[string]cobra.CompletionFunc) {
	args := map[string]cobra.CompletionFunc{
		"volume":               noFiles, // its verbs are completed by cobra
		"volume create":        volumeCreateArgs,
		"volume info":          c.firstVolume(false),
		"volume list":          noFiles,
		"volume set":           c.volumeSetArgs,
		"volume delete":        c.firstVolume(true),
		"volume reset-brick":   c.resetBrickArgs,
		"volume replace-brick": c.replaceBrickArgs,
		"heal":                 c.healArgs,
		"fsck":                 c.firstVolume(false),
		"tui":                  c.firstVolume(false),
		"mount":                c.mountArgs,
		"demo":                 noFiles,
		"version":              noFiles,
		"man":                  oneDir,
	}
	flags := map[string]map[string]cobra.CompletionFunc{
		"": {
			"xattr-ns":     fixed(brick.NSTrusted, brick.NSUser),
			"state-dir":    dirs,
			"glusterd-dir": dirs,
		},
		"heal": {
			"algorithm": fixed(heal.AlgorithmFull, heal.AlgorithmDiff),
		},
		"fsck": {
			"brick":  dirs,
			"volume": c.firstVolume(false),
			// A quarantine id and a path in the volume: neither is a
			// file name here.
			"restore":           noFiles,
			"rename-stale-path": noFiles,
		},
		"demo": {"dir": dirs},
	}
	return args, flags
}

// completer completes from the volumes of the Factory's catalog. Its
// Factory is read at call time, after cobra parsed the command line.
type completer struct{ f *Factory }

// healWords are the words `heal VOL` takes after VOL (NewCmdHeal's RunE).
var healWords = []cobra.Completion{
	cobra.CompletionWithDesc("full", "heal every entry of the volume (crawl)"),
	cobra.CompletionWithDesc("split-brain", "resolve a split-brain"),
	cobra.CompletionWithDesc("history", "every resolution and where the losing copies are kept"),
	cobra.CompletionWithDesc("undo", "put a resolution's losing copies back"),
	cobra.CompletionWithDesc("info", "every entry a brick's heal index lists"),
	cobra.CompletionWithDesc("explain", "why FILE is or is not healed"),
	cobra.CompletionWithDesc("status", "where the heal stands: entries left, rate, ETA"),
	cobra.CompletionWithDesc("wait", "wait until nothing healable is left"),
}

// healInfoModes are what `heal VOL info` takes.
var healInfoModes = []cobra.Completion{
	cobra.CompletionWithDesc(infoSplitBrain, "only the entries in split-brain"),
	cobra.CompletionWithDesc(infoSummary, "counts per brick"),
}

// splitBrainHelp describes the split-brain operations; their names come
// from afr.HealOp, which is what parses them.
var splitBrainHelp = map[afr.HealOp]string{
	afr.OpBiggerFile:  "the largest copy wins",
	afr.OpLatestMtime: "the copy modified last wins",
	afr.OpSourceBrick: "BRICK's copy wins",
	afr.OpMajority:    "the version most bricks hold wins",
}

// healArgs completes `heal VOL [WORD ...]`.
func (c completer) healArgs(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	switch len(args) {
	case 0:
		return c.volumes(toComplete, false)
	case 1:
		return matching(toComplete, healWords), cobra.ShellCompDirectiveNoFileComp
	}
	switch args[1] {
	case "info":
		if len(args) == 2 {
			return matching(toComplete, healInfoModes), cobra.ShellCompDirectiveNoFileComp
		}
	case "split-brain":
		rest := args[2:]
		switch {
		case len(rest) == 0:
			var ops []cobra.Completion
			// The loop ParseHealOp accepts, so a new operation is offered
			// as soon as it is parsed.
			for o := afr.OpBiggerFile; o <= afr.OpMajority; o++ {
				ops = append(ops, cobra.CompletionWithDesc(o.String(), splitBrainHelp[o]))
			}
			return matching(toComplete, ops), cobra.ShellCompDirectiveNoFileComp
		case len(rest) == 1 && rest[0] == afr.OpSourceBrick.String():
			return c.bricks(args[0], toComplete)
		}
	}
	// FILE and ID name things in the volume and its history, not files
	// on this machine.
	return nil, cobra.ShellCompDirectiveNoFileComp
}

// volumeSetArgs completes `volume set VOL KEY VALUE`.
func (c completer) volumeSetArgs(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	switch len(args) {
	case 0:
		return c.volumes(toComplete, true)
	case 1:
		var keys []cobra.Completion
		for k, opt := range settable {
			desc := "a number"
			if opt.values != nil {
				desc = strings.Join(opt.values, "|")
			}
			keys = append(keys, cobra.CompletionWithDesc(k, desc))
		}
		slices.Sort(keys) // settable is a map
		return matching(toComplete, keys), cobra.ShellCompDirectiveNoFileComp
	case 2:
		return matching(toComplete, settable[args[1]].values), cobra.ShellCompDirectiveNoFileComp
	}
	return nil, cobra.ShellCompDirectiveNoFileComp
}

// resetBrickArgs completes `volume reset-brick VOL BRICK`.
func (c completer) resetBrickArgs(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	switch len(args) {
	case 0:
		return c.volumes(toComplete, true)
	case 1:
		return c.bricks(args[0], toComplete)
	}
	return nil, cobra.ShellCompDirectiveNoFileComp
}

// replaceBrickArgs completes `volume replace-brick VOL OLD NEW`: NEW is a
// directory on this machine.
func (c completer) replaceBrickArgs(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) == 2 {
		return nil, cobra.ShellCompDirectiveFilterDirs
	}
	return c.resetBrickArgs(cmd, args, toComplete)
}

// mountArgs completes `mount VOL DIR`.
func (c completer) mountArgs(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	switch len(args) {
	case 0:
		return c.volumes(toComplete, true)
	case 1:
		return nil, cobra.ShellCompDirectiveFilterDirs
	}
	return nil, cobra.ShellCompDirectiveNoFileComp
}

// volumeCreateArgs completes `volume create VOL replica N DIR...`. VOL is a
// new name and N a number: nothing to offer, but not files either.
func volumeCreateArgs(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	switch {
	case len(args) == 1:
		return matching(toComplete, []cobra.Completion{"replica"}), cobra.ShellCompDirectiveNoFileComp
	case len(args) >= 3:
		return nil, cobra.ShellCompDirectiveFilterDirs
	}
	return nil, cobra.ShellCompDirectiveNoFileComp
}

// firstVolume completes a command whose only argument is a volume (or a
// flag whose value is one); afrkitOnly for the commands that refuse
// GlusterFS's volumes.
func (c completer) firstVolume(afrkitOnly bool) cobra.CompletionFunc {
	return func(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return c.volumes(toComplete, afrkitOnly)
	}
}

// volumes lists the catalog's volume names, each described by its source.
// It reads the registry and glusterd's directory separately (Catalog.List
// gives up on glusterd when the registry cannot be read), so that either
// one still completes when the other cannot be read.
func (c completer) volumes(toComplete string, afrkitOnly bool) ([]cobra.Completion, cobra.ShellCompDirective) {
	cat := c.f.Catalog()
	var out []cobra.Completion
	seen := map[string]bool{}
	own, err := cat.Registry.List()
	if err != nil {
		cobra.CompDebugln("afrkit: completing volume names: "+err.Error(), false)
	}
	for _, n := range own {
		seen[n] = true
		out = append(out, cobra.CompletionWithDesc(n, string(volume.SourceAfrkit)))
	}
	if !afrkitOnly {
		gl, err := cat.Glusterd.List()
		if err != nil {
			cobra.CompDebugln("afrkit: completing volume names: "+err.Error(), false)
		}
		for _, n := range gl {
			if !seen[n] { // Lookup prefers the registry, as List does
				out = append(out, cobra.CompletionWithDesc(n, string(volume.SourceGlusterd)))
			}
		}
	}
	return matching(toComplete, out), cobra.ShellCompDirectiveNoFileComp
}

// bricks lists the bricks of volume vol as `volume info` and heal info
// print them, host:/path, described by their brick id. When the word
// begins with "/" it offers the bare paths, which every command taking a
// BRICK accepts too (Volume.BrickIndex).
func (c completer) bricks(vol, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	v, err := c.f.Catalog().Lookup(vol)
	if err != nil {
		cobra.CompDebugln("afrkit: completing the bricks of "+vol+": "+err.Error(), false)
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	for _, b := range v.Bricks {
		name := b.String()
		if strings.HasPrefix(toComplete, "/") {
			name = b.Path
		}
		out = append(out, cobra.CompletionWithDesc(name, b.ID))
	}
	return matching(toComplete, out), cobra.ShellCompDirectiveNoFileComp
}

// fixed completes one of a fixed set of values.
func fixed(values ...string) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return matching(toComplete, values), cobra.ShellCompDirectiveNoFileComp
	}
}

// dirs completes a directory: a flag's value that is one.
func dirs(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return nil, cobra.ShellCompDirectiveFilterDirs
}

// oneDir completes a command whose one argument is a directory.
func oneDir(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return nil, cobra.ShellCompDirectiveFilterDirs
}

// noFiles completes nothing, and tells the shell not to offer file names.
func noFiles(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return nil, cobra.ShellCompDirectiveNoFileComp
}

// matching keeps the candidates whose value (before any tab and
// description) begins with what was typed. Shells filter too; doing it
// here keeps the answer small and the same in every shell.
func matching(toComplete string, cands []cobra.Completion) []cobra.Completion {
	var out []cobra.Completion
	for _, c := range cands {
		value, _, _ := strings.Cut(c, "\t")
		if strings.HasPrefix(value, toComplete) {
			out = append(out, c)
		}
	}
	return out
}

// commandKey is cmd's path below the root: "volume set", or "" for the
// root itself.
func commandKey(cmd *cobra.Command) string {
	_, rest, _ := strings.Cut(cmd.CommandPath(), " ")
	return rest
}

// walkCommands calls fn on cmd and every command below it.
func walkCommands(cmd *cobra.Command, fn func(*cobra.Command)) {
	fn(cmd)
	for _, c := range cmd.Commands() {
		walkCommands(c, fn)
	}
}
