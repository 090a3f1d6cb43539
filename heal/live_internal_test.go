package heal

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick/volume"
)

// TestPlanLiveKeepsEveryKindFinalizeHeals: AFR's finalize heals every
// kind in split-brain from one brick (afr_heal_splitbrain_file), so a live
// plan keeps every such kind, or is refused when one waits for a person.
func TestPlanLiveKeepsEveryKindFinalizeHeals(t *testing.T) {
	v := &volume.Volume{Name: "lv"}
	rs := &ReplicaSet{Labels: []string{"b0", "b1"}}
	blame := func(k afr.Kind) afr.Changelog { var c afr.Changelog; c[k] = 1; return c }
	both := func(k1, k2 afr.Kind) afr.Changelog { c := blame(k1); c[k2] = 1; return c }
	var z afr.Changelog
	// Data and metadata each written on one brick alone: both in
	// split-brain; the sizes differ, the mtimes too.
	replies := []afr.Reply{
		{Name: "b0", Answered: true, Exists: true, Type: afr.TypeRegular, GFID: afr.GFID{15: 1}, Size: 10, Mode: 0o600,
			Mtime: afr.Timespec{Sec: 100}, Pending: []afr.Changelog{z, both(afr.Data, afr.Metadata)}},
		{Name: "b1", Answered: true, Exists: true, Type: afr.TypeRegular, GFID: afr.GFID{15: 1}, Size: 20, Mode: 0o640,
			Mtime: afr.Timespec{Sec: 200}, Pending: []afr.Changelog{both(afr.Data, afr.Metadata), z}},
	}
	plan := func(op SplitBrainOp, opts afr.Options) (liveOp, error) {
		ex := Explanation{Path: "/dm", Replies: replies, Verdict: afr.Decide(replies, opts)}
		return planLive(v, rs, ex, op, opts)
	}

	// The forced metadata heal would have the daemon take b0's metadata;
	// finalize from b0 would take its data too, which waits for a person.
	_, err := plan(SplitBrainOp{Op: afr.OpNone, Brick: -1}, afr.Options{MetadataSplitBrainForcedHeal: true})
	if !errors.Is(err, ErrLiveUnsupported) || !strings.Contains(err.Error(), "its data split-brain waits for a person") {
		t.Errorf("forced metadata heal beside a data split-brain: %v, want refused", err)
	}
	// A policy resolves both from one brick: both are planned, so both
	// copies' data is kept.
	lo, err := plan(SplitBrainOp{Op: afr.OpNone, Brick: -1}, afr.Options{FavoriteChild: afr.PolicyMtime})
	if err != nil || lo.src != 1 || !slices.Equal(lo.kinds, []afr.Kind{afr.Data, afr.Metadata}) {
		t.Errorf("policy mtime: %+v, %v; want data and metadata from b1", lo, err)
	}
	// An explicit source-brick under a policy: the policy-resolved kind
	// is healed by finalize too, from the named brick, and kept.
	lo, err = plan(SplitBrainOp{Op: afr.OpSourceBrick, Brick: 0}, afr.Options{FavoriteChild: afr.PolicyMtime})
	if err != nil || lo.src != 0 || !slices.Equal(lo.kinds, []afr.Kind{afr.Data, afr.Metadata}) || !slices.Equal(lo.losers, []int{1}) {
		t.Errorf("source-brick b0 under policy mtime: %+v, %v; want data and metadata from b0, b1 kept", lo, err)
	}
}
