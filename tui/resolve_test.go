package tui

import (
	"slices"
	"testing"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/heal"
)

// TestChoices: a data split-brain offers each brick's copy and the data
// policies, majority from three bricks up; a metadata split-brain no
// data policy; nothing in split-brain, nothing.
func TestChoices(t *testing.T) {
	ex := func(n int, data, meta bool) heal.Explanation {
		e := heal.Explanation{}
		for i := range n {
			e.Labels = append(e.Labels, "b"+string(rune('0'+i)))
			e.Bricks = append(e.Bricks, volume.Brick{})
			e.Replies = append(e.Replies, afr.Reply{Answered: true, Exists: true})
		}
		e.Verdict.GFIDSource = 0
		e.Verdict.Data.Unresolved, e.Verdict.Metadata.Unresolved = data, meta
		return e
	}
	labels := func(cs []choice) (out []string) {
		for _, c := range cs {
			out = append(out, c.label)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		ex   heal.Explanation
		want []string
	}{
		{"data, two bricks", ex(2, true, false), []string{"keep b0's copy (source-brick)", "keep b1's copy (source-brick)",
			"keep the bigger copy (bigger-file)", "keep the copy modified last (latest-mtime)"}},
		{"data, three bricks", ex(3, true, false), []string{"keep b0's copy (source-brick)", "keep b1's copy (source-brick)", "keep b2's copy (source-brick)",
			"keep the bigger copy (bigger-file)", "keep the copy modified last (latest-mtime)", "keep the version most bricks hold (majority)"}},
		{"metadata", ex(2, false, true), []string{"keep b0's copy (source-brick)", "keep b1's copy (source-brick)"}},
		{"data and metadata", ex(2, true, true), []string{"keep b0's copy (source-brick)", "keep b1's copy (source-brick)",
			"keep the bigger copy (bigger-file)", "keep the copy modified last (latest-mtime)",
			"keep b0's data only (source-brick)", "keep b1's data only (source-brick)", "keep b0's metadata only (source-brick)", "keep b1's metadata only (source-brick)"}},
		{"nothing", ex(2, false, false), nil},
	} {
		if got := labels(choicesFor(tc.ex)); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
