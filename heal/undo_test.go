package heal_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/afrkit/afrkit/fixtures"
	"github.com/afrkit/afrkit/heal"
)

// handleLeadsTo fails unless p on brick i has a gfid whose .glusterfs
// handle is the same file.
func handleLeadsTo(t *testing.T, v *fixtures.Vol, i int, p string) {
	t.Helper()
	b := v.Bricks[i]
	abs, _ := b.Abs(p)
	g, err := b.GFIDAt(abs)
	if err != nil {
		t.Fatalf("b%d %s: %v", i, p, err)
	}
	h, err := b.AbsOfGFID(g)
	fh, _ := os.Lstat(h)
	fp, _ := os.Lstat(abs)
	if err != nil || fh == nil || fp == nil || !os.SameFile(fh, fp) {
		t.Errorf("b%d %s: handle of %s leads to %q (%v)", i, p, g, h, err)
	}
}

func mustAbs(t *testing.T, v *fixtures.Vol, i int, p string) string {
	t.Helper()
	abs, err := v.Bricks[i].Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// Undo of resolutions that moved entries out of the namespace (a gfid
// split-brain's loser, a name the source had removed) puts them back as
// they were, handles included. The split-brain then needs the same decision
// again, and the next heal makes it again; the removed name is merged back
// to every brick.
func TestUndoPutsMovedEntriesBack(t *testing.T) {
	for _, tc := range []struct {
		name, path string
		damage     func(v *fixtures.Vol) error
		policy     string
		restored   int // the brick whose copy was moved and comes back
		resolved   int // resolutions made by the heal after the undo
	}{
		{"gfid loser", "/same.txt", nil, "mtime", 0, 1},
		{"removed name", fixtures.ReadmePath, func(v *fixtures.Vol) error {
			return v.Remove(fixtures.ReadmePath, 1)
		}, "", 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state := "healthy"
			if tc.damage == nil {
				state = "gfid-mismatch"
			}
			v := fixtures.MustBuild(t, state, 2)
			if tc.damage != nil {
				if err := tc.damage(v); err != nil {
					t.Fatal(err)
				}
			}
			if tc.policy != "" {
				v.V.Options = map[string]string{"cluster.favorite-child-policy": tc.policy}
			}
			before := []string{fmt.Sprint(tree(t, v.Bricks[0])), fmt.Sprint(tree(t, v.Bricks[1]))}

			res := runHeal(t, v, false, heal.EngineOptions{})
			assertConverged(t, v)
			if len(res.Resolved) != 1 || !res.Resolved[0].Kept[0].Moved {
				t.Fatalf("resolved = %+v, want one record of a moved entry", res.Resolved)
			}
			id := res.Resolved[0].ID
			moved := res.Resolved[0].Kept[0].Path
			lines, err := newEngine(t, v, heal.EngineOptions{}).Undo(id, false)
			if err != nil {
				t.Fatalf("undo %s: %v", id, err)
			}
			if len(lines) == 0 || !strings.HasPrefix(lines[0], fmt.Sprintf("Restored b%d's ", tc.restored)) {
				t.Errorf("undo said %q", lines)
			}
			for i := range before {
				if got := fmt.Sprint(tree(t, v.Bricks[i])); got != before[i] {
					t.Errorf("b%d after undo:\n%s\nwant as before the heal:\n%s", i, got, before[i])
				}
			}
			handleLeadsTo(t, v, tc.restored, tc.path)
			if _, err := os.Lstat(moved); err == nil {
				t.Errorf("the kept copy %s is still there after it was put back", moved)
			}
			if _, err := newEngine(t, v, heal.EngineOptions{}).Undo(id, false); err == nil || !strings.Contains(err.Error(), "already undone") {
				t.Errorf("second undo: %v", err)
			}

			// The undone entry is found again: the split-brain is decided
			// again, the removed name copied back.
			restored := describe(t, v.Bricks[tc.restored], mustAbs(t, v, tc.restored, tc.path))
			res = runHeal(t, v, false, heal.EngineOptions{})
			assertConverged(t, v)
			if len(res.Resolved) != tc.resolved || (tc.resolved > 0 && res.Resolved[0].Path != tc.path) {
				t.Errorf("heal after the undo resolved %+v, want %d of %s", res.Resolved, tc.resolved, tc.path)
			}
			if tc.resolved == 0 {
				if got := describe(t, v.Bricks[0], mustAbs(t, v, 0, tc.path)); got != restored {
					t.Errorf("b0 %s after the undo and a heal: %s, want b%d's restored copy %s", tc.path, got, tc.restored, restored)
				}
			}
		})
	}
}
