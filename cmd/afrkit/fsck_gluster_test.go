package main

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/afrkit/afrkit/fsck"
)

// TestFsckOnGlusterFSBricks checks the bricks that a real GlusterFS 10.3
// made for each archived scenario: what GlusterFS keeps (handles,
// gfid2path, index, changelogs, DHT layouts) raises no finding, pending
// heals are not problems, and the gfid and type mismatches GlusterFS made
// are reported where they are.
func TestFsckOnGlusterFSBricks(t *testing.T) {
	for sc, want := range map[string][]string{
		"pending-brick-down":   nil,
		"data-split-brain":     nil,
		"metadata-split-brain": nil,
		"distrep-2x2":          nil,
		"replica3-quorum-auto": nil,
		"replica3-quorum-none": nil,
		"entry-split-brain":    {"type-mismatch /espb/a"},
		"gfid-mismatch":        {"gfid-mismatch /gdir/gfile", "gfid-mismatch /rootfile"},
	} {
		t.Run(sc, func(t *testing.T) {
			fx := glusterScenario(t, sc)
			code, out, errOut := run(t, fx.env, "fsck", fx.vol, "--deep", "--json")
			var rep fsck.Report
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("exit %d: %v\n%s%s", code, err, out, errOut)
			}
			var got []string
			for _, f := range rep.Findings {
				got = append(got, string(f.Class)+" "+f.Path)
			}
			wantCode := ExitFsckClean
			if len(want) > 0 {
				wantCode = ExitFsckProblems
			}
			if code != wantCode || !slices.Equal(got, want) {
				t.Errorf("exit %d, findings %q; want exit %d and %q\n%s", code, got, wantCode, want, out)
			}
		})
	}
}
