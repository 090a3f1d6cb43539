package afr

import (
	"fmt"
	"testing"
)

// TestTransactionChangelog pins the pre-op and post-op of AFR's write
// transaction (afr-transaction.c) in the cases GlusterFS's source
// distinguishes: the kind, which bricks are up at the start, which fail
// the fop, and optimistic change-log.
func TestTransactionChangelog(t *testing.T) {
	up3 := []bool{true, true, true}
	down2 := []bool{true, true, false}
	for _, c := range []struct {
		name       string
		kind       Kind
		locked     []bool
		optimistic bool
		failed     []bool
		// want: the pre-op's dirty, then the post-op (or "skip").
		preDirty Changelog
		post     string
	}{
		// Data: always dirty, always undirtied; nothing to blame.
		{"data, all up, all succeed", Data, up3, true, nil, Changelog{1, 0, 0}, "on [true true true]: dirty [-1 0 0], pending [[0 0 0] [0 0 0] [0 0 0]]"},
		// Optimistic change-log: metadata and entry skip both phases.
		{"metadata, all up, all succeed", Metadata, up3, true, nil, Changelog{}, "skip"},
		{"entry, all up, all succeed", Entry, up3, true, nil, Changelog{}, "skip"},
		// Without the option, they mark dirty like data.
		{"metadata, option off", Metadata, up3, false, nil, Changelog{0, 1, 0}, "on [true true true]: dirty [0 -1 0], pending [[0 0 0] [0 0 0] [0 0 0]]"},
		// A brick down from the start: no optimism, blamed in the post-op.
		{"entry, b2 down", Entry, down2, true, nil, Changelog{0, 0, 1}, "on [true true false]: dirty [0 0 -1], pending [[0 0 0] [0 0 0] [0 0 1]]"},
		{"data, b2 down", Data, down2, true, nil, Changelog{1, 0, 0}, "on [true true false]: dirty [-1 0 0], pending [[0 0 0] [0 0 0] [1 0 0]]"},
		// A brick that fails the fop: blamed; with optimism there was no
		// dirty mark to take back.
		{"metadata, b1 fails", Metadata, up3, true, []bool{false, true, false}, Changelog{}, "on [true false true]: dirty [0 0 0], pending [[0 0 0] [0 1 0] [0 0 0]]"},
		{"data, b0 fails, b2 down", Data, down2, true, []bool{true, false, false}, Changelog{1, 0, 0}, "on [false true false]: dirty [-1 0 0], pending [[1 0 0] [0 0 0] [1 0 0]]"},
		// Failed everywhere it ran: the pre-op's dirty mark stays.
		{"data, fails everywhere", Data, up3, true, []bool{true, true, true}, Changelog{1, 0, 0}, "skip"},
	} {
		pre := PlanPreOp(c.kind, c.locked, c.optimistic)
		if pre.Dirty != c.preDirty {
			t.Errorf("%s: pre-op dirty %v, want %v", c.name, pre.Dirty, c.preDirty)
		}
		post := PlanPostOp(c.kind, pre, c.failed)
		got := "skip"
		if !post.Skip {
			got = fmt.Sprintf("on %v: dirty %v, pending %v", post.On, post.Dirty, post.Pending)
		}
		if got != c.post {
			t.Errorf("%s: post-op %s\n want %s", c.name, got, c.post)
		}
	}
}

// TestNewEntryMark: afr_mark_pending_changelog's rule, which the write
// path (create, mknod, mkdir) and self-heal's new entries share.
func TestNewEntryMark(t *testing.T) {
	for _, c := range []struct {
		t        FileType
		granular bool
		want     Changelog
	}{
		{TypeRegular, true, Changelog{1, 1, 0}},
		{TypeDirectory, false, Changelog{0, 1, 1}},
		{TypeDirectory, true, Changelog{1, 1, 1}},
		{TypeSymlink, true, Changelog{0, 1, 0}},
		{TypeOther, true, Changelog{0, 1, 0}},
	} {
		if got := NewEntryMark(c.t, c.granular); got != c.want {
			t.Errorf("NewEntryMark(%s, granular %v) = %v, want %v", c.t, c.granular, got, c.want)
		}
	}
	if MarksNewEntry(TypeSymlink, false) || MarksNewEntry(TypeRegular, true) || !MarksNewEntry(TypeDirectory, false) {
		t.Error("only create, mknod and mkdir mark the new entry")
	}
}

// TestArbiterVetoes follows afr_txn_arbitrate_fop: a fop that would leave
// the arbiter the only good copy fails (tests/basic/afr/arbiter.t: with
// the first data brick blamed and the second down, an append fails).
func TestArbiterVetoes(t *testing.T) {
	var z Changelog
	blame := func(kind Kind) Changelog { var c Changelog; c[kind] = 1; return c }
	for _, c := range []struct {
		name     string
		kind     Kind
		counters [][]Changelog
		failed   []bool
		want     bool
	}{
		{"every brick good", Data, [][]Changelog{{z, z, z}, {z, z, z}, {z, z, z}}, []bool{false, false, false}, false},
		{"the first data brick blamed, all up", Data, [][]Changelog{{z, z, z}, {blame(Data), z, z}, {blame(Data), z, z}}, []bool{false, false, false}, false},
		{"the first blamed, the second down", Data, [][]Changelog{{z, z, z}, nil, {blame(Data), z, z}}, []bool{false, true, false}, true},
		{"the same for metadata", Metadata, [][]Changelog{{z, z, z}, nil, {blame(Metadata), z, z}}, []bool{false, true, false}, true},
		{"a data blame does not veto a metadata fop", Metadata, [][]Changelog{{z, z, z}, nil, {blame(Data), z, z}}, []bool{false, true, false}, false},
		{"the arbiter down", Data, [][]Changelog{{z, z, z}, {z, z, z}, nil}, []bool{false, false, true}, false},
		{"one data brick alone", Data, [][]Changelog{{z, z, z}, nil, nil}, []bool{false, true, true}, false},
		{"the arbiter blamed too", Data, [][]Changelog{{z, z, blame(Data)}, nil, {blame(Data), z, z}}, []bool{false, true, false}, false},
	} {
		if got := ArbiterVetoes(c.kind, c.counters, c.failed, 2); got != c.want {
			t.Errorf("%s: veto %v, want %v", c.name, got, c.want)
		}
	}
	if ArbiterVetoes(Data, [][]Changelog{{z, z, z}, nil, {blame(Data), z, z}}, []bool{false, true, false}, -1) {
		t.Error("a set without an arbiter was vetoed")
	}
}
