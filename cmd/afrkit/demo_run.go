package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/fixtures"
	"github.com/afrkit/afrkit/heal"
	"github.com/afrkit/afrkit/rsynctemp"
)

// demoDamage is what the demo does to its volume, in order, as a person
// would tell it.
type demoDamage struct {
	what string
	do   func(v *fixtures.Vol) error
}

func demoDamages() []demoDamage {
	return []demoDamage{
		{"b1 goes down; /hello.txt is rewritten and /docs/todo.txt created on b0 alone", func(v *fixtures.Vol) error {
			if err := v.Overwrite(fixtures.HelloPath, []byte("hello, world, again\n"), 1); err != nil {
				return err
			}
			return v.WriteFile("/docs/todo.txt", []byte("heal b1\n"), 1)
		}},
		{"/notes.txt is written while b1 is down, then again while b0 is down: a data split-brain", func(v *fixtures.Vol) error {
			if err := v.WriteFile("/notes.txt", []byte("first draft\n")); err != nil {
				return err
			}
			if err := v.Overwrite("/notes.txt", []byte("b0's version\n"), 1); err != nil {
				return err
			}
			return v.Overwrite("/notes.txt", []byte("b1's version, which is longer\n"), 0)
		}},
		{"an rsync of /player.json is interrupted, leaving " + fixtures.StaleTempPath, func(v *fixtures.Vol) error {
			return v.WriteFile(fixtures.StaleTempPath, []byte(`{"name":"player"}`+"\n"))
		}},
	}
}

func demoRun(opts *DemoOptions) error {
	out := opts.F.IO.Out
	dir := opts.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "afrkit-demo-")
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		dir = d
		if !opts.Keep {
			defer os.RemoveAll(d)
		}
	}
	v, err := fixtures.Healthy(filepath.Join(dir, "demo"), "demo", 2)
	if err != nil {
		return fmt.Errorf("demo: build volume: %w", err)
	}
	fmt.Fprintf(out, "Built volume demo: replica 2, bricks b0 and b1 under %s\n", filepath.Join(dir, "demo"))
	for _, d := range demoDamages() {
		fmt.Fprintf(out, "  damage: %s\n", d.what)
		if err := d.do(v); err != nil {
			return fmt.Errorf("demo: %s: %w", d.what, err)
		}
	}
	fmt.Fprintf(out, "\n$ afrkit heal demo info\n")
	hf := *opts.F
	hf.StateDir = filepath.Join(dir, "demo", "state")
	if err := healInfoRun(&HealInfoOptions{F: &hf, Volume: "demo"}); err != nil {
		return err
	}
	fmt.Fprintln(out, "Why each entry is listed, and what afrkit would heal from:")
	if err := printVerdicts(out, v); err != nil {
		return err
	}
	if err := demoHeal(&hf); err != nil {
		return err
	}
	if err := demoFullDisk(opts.F, dir); err != nil {
		return err
	}
	if opts.Keep || opts.Dir != "" {
		fmt.Fprintf(out, "\nThe volume is kept in %s.\n", filepath.Join(dir, "demo"))
	}
	return nil
}

// demoHeal heals the demo volume before the reader's eyes: the pending
// entries by a heal, the split-brain by a policy, the stale rsync temp file
// by fsck, then shows heal info empty and where the losing copy is kept.
func demoHeal(f *Factory) error {
	out := f.IO.Out
	run := &HealRunOptions{F: f, Volume: "demo"}
	fmt.Fprintf(out, "\n$ afrkit heal demo\n")
	if err := healRun(run); err != nil && !errors.Is(err, errReported) {
		return err
	}
	fmt.Fprintf(out, "\n$ afrkit heal demo split-brain latest-mtime /notes.txt\n")
	if err := healSplitBrainRun(run, []string{"latest-mtime", "/notes.txt"}); err != nil {
		return err
	}
	fmt.Fprintf(out, "\n$ afrkit heal demo history\n")
	if err := healHistoryRun(f, "demo", false); err != nil {
		return err
	}
	fmt.Fprintf(out, "\n$ afrkit fsck demo --rename-stale\n")
	if err := fsckRun(&FsckOptions{F: f, Volume: "demo", RenameStale: true}); err != nil {
		// fsck's exit status says what it found; only a failure stops the demo.
		var es exitStatus
		if !errors.As(err, &es) || es.err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "\n$ afrkit heal demo info\n")
	return healInfoRun(&HealInfoOptions{F: f, Volume: "demo"})
}

// printVerdicts prints afr's verdict for every entry any brick's index
// lists, then the stale rsync temp files.
func printVerdicts(w io.Writer, v *fixtures.Vol) error {
	quorum := afr.QuorumCount(v.V.Replica, v.V.QuorumType(), v.V.QuorumCount())
	for _, rs := range heal.ReplicaSets(v.V) {
		type entry struct {
			path    string
			verdict afr.Verdict
			status  afr.HealStatus
		}
		// Every entry that heal info lists on any brick, once.
		seen := map[afr.GFID]bool{}
		var ents []entry
		for i := range rs.Bricks {
			err := rs.Info(i, heal.InfoOptions{QuorumCount: quorum, Paths: true, Full: true}, func(e heal.InfoEntry) error {
				if seen[e.GFID] {
					return nil
				}
				seen[e.GFID] = true
				p := e.Path
				if p == "" {
					p = "<gfid:" + e.GFID.String() + ">"
				}
				ents = append(ents, entry{p, afr.Decide(e.Replies, afr.Options{QuorumCount: quorum}), e.Status})
				return nil
			}, nil)
			if err != nil {
				return err
			}
		}
		sort.Slice(ents, func(i, j int) bool { return ents[i].path < ents[j].path })
		fmt.Fprintf(w, "Entries that need a look (%d):\n", len(ents))
		for _, e := range ents {
			fmt.Fprintf(w, "\n%s  [heal info: %s]\n", e.path, e.status)
			for _, line := range strings.Split(e.verdict.String(), "\n") {
				fmt.Fprintf(w, "    %s\n", line)
			}
		}
	}
	stale, err := staleTemps(v)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nStale rsync temp files (%d):\n", len(stale))
	for _, s := range stale {
		fmt.Fprintf(w, "    %s\n", s)
	}
	return nil
}

// staleTemps lists the rsync temp names on the first brick whose final
// name is absent.
func staleTemps(v *fixtures.Vol) ([]string, error) {
	root := v.Bricks[0].Root
	var found []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".glusterfs" && path.Dir(p) == root {
			return filepath.SkipDir
		}
		final, ok := rsynctemp.Final(d.Name())
		if !ok || d.IsDir() {
			return nil
		}
		if _, err := os.Lstat(filepath.Join(filepath.Dir(p), final)); err == nil {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		found = append(found, fmt.Sprintf("/%s: its final name /%s does not exist; `afrkit fsck demo --rename-stale` renames it", rel, filepath.Join(filepath.Dir(rel), final)))
		return nil
	})
	return found, err
}
