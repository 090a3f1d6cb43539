package heal

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/index"
)

// Finalizer is a started GlusterFS volume's AFR, reached as a client
// through the volume's own client graph (package live): it heals a file in
// split-brain from one brick's copy (replica.split-brain-heal-finalize).
// ResolveLive calls it once per resolution, from its own goroutine; a
// call on a file that is no longer in split-brain changes nothing.
type Finalizer interface {
	Finalize(path, client string) error
}

// LiveOptions tune ResolveLive.
type LiveOptions struct {
	// Open reads the bricks, those on other hosts included.
	Open OpenOptions
	// StateDir is afrkit's state directory: the losing copies are kept
	// under kept/VOL/ID there, and the resolution is recorded in the
	// volume's history.
	StateDir string
	// DryRun plans and changes nothing.
	DryRun bool
	// SourceSet is the replica set of a source-brick's brick: the file
	// must be in it.
	SourceSet int
	// Connect reaches the volume's AFR (package live); it is called once
	// the resolution is planned, and not for a dry run.
	Connect func() (Finalizer, error)
	// ResolveGFID has GlusterFS resolve the gfid split-brain of the file at
	// path from source's copy (glfsheal's source-brick, which a client's
	// finalize cannot do); nil refuses gfid split-brains. It is called
	// once the other copies are kept, and not for a dry run.
	ResolveGFID func(path string, source volume.Brick) error
	// Now is the clock of the records; nil means time.Now.
	Now func() time.Time
}

// LiveOutcome is what ResolveLive did, or would do.
type LiveOutcome struct {
	Path string
	// Source labels the brick whose copy is kept, Client its AFR child
	// (VOL-client-N), the value set in replica.split-brain-heal-finalize.
	Source string
	Client string
	Kinds  []afr.Kind
	// Records are the history records written (none for a dry run).
	Records []Record
	// Lines say what was done, or would be.
	Lines []string
}

// ErrLiveUnsupported is a resolution GlusterFS's finalize cannot make on
// a started volume; the error says which command can.
var ErrLiveUnsupported = errors.New("not resolvable through a client of the started volume")

// ResolveLive resolves the data and metadata split-brains of target on a
// started GlusterFS volume, through GlusterFS's own AFR: afrkit picks the
// source as op says (the same choice the command makes on a stopped
// volume), keeps every other brick's copy in its state directory (content
// and metadata, read through that brick, over the network when it is on
// another host), then has AFR heal the file from the source
// (Finalizer.Finalize), checks that it did, and records the resolution. Nothing
// is written to a brick behind GlusterFS's back.
//
// It is refused, changing nothing, for what finalize does not resolve (a
// gfid or type split-brain, a directory), when a brick cannot be read (its
// copy could not be kept), and when data and metadata would come from
// different bricks (finalize takes both from one).
func ResolveLive(v *volume.Volume, target Target, op SplitBrainOp, opts LiveOptions) (LiveOutcome, error) {
	r, err := openLive(v, opts)
	if err != nil {
		return LiveOutcome{}, err
	}
	defer r.close()
	return r.resolve(target, op)
}

// ResolveLiveAll resolves, one after another through ResolveLive's
// steps, the entries in split-brain that the indexes list: those of
// op.Brick of set opts.SourceSet for source-brick (as GlusterFS's
// source-brick without a file heals what that brick's index lists), those
// of every brick for majority; for a directory whose merge is stopped by
// names that are two files (a gfid split-brain GlusterFS lists on the
// parent), those names. The volume's bricks are read and its AFR reached
// once for them all. each is called for every entry in split-brain, in
// turn from this goroutine, with what was done or why it was not; an
// entry refused (a type split-brain, a directory's own) leaves the others
// to go on. It returns how many were resolved (for a dry run: would be),
// and stops between two entries when ctx is done.
//
// Under OpNone it resolves, and keeps the losers of, what GlusterFS's
// self-heal daemon would resolve without a person, each as the daemon
// would: the split-brains the volume's cluster.favorite-child-policy
// or cluster.metadata-splitbrain-forced-heal decides, gfid split-brains
// of names in listed directories included. each is not called for the
// other entries: they wait for a person.
func ResolveLiveAll(ctx context.Context, v *volume.Volume, op SplitBrainOp, opts LiveOptions, each func(Target, LiveOutcome, error)) (int, error) {
	r, err := openLive(v, opts)
	if err != nil {
		return 0, err
	}
	defer r.close()
	if op.Op == afr.OpNone {
		// A split-brain is seen only with every copy read: one brick
		// unread would hide those a policy resolves unkept.
		for _, rs := range r.sets {
			for i, rd := range rs.Read {
				if rd == nil {
					return 0, fmt.Errorf("brick %s cannot be read, so the split-brains GlusterFS's self-heal daemon would resolve without a person cannot all be found and kept first: %w", rs.Bricks[i], rs.Err[i])
				}
			}
		}
	}
	healed := 0
	// step resolves one target; what no unattended heal resolves is
	// passed over in silence under OpNone.
	step := func(t Target, out LiveOutcome, err error) {
		if errors.Is(err, errNotUnattended) {
			return
		}
		if err == nil {
			healed++
		}
		each(t, out, err)
	}
	for _, rs := range r.sets {
		if op.Op == afr.OpSourceBrick && rs.Index != opts.SourceSet {
			continue
		}
		var gfids []afr.GFID
		seen := map[afr.GFID]bool{}
		for i := range rs.Bricks {
			if op.Op == afr.OpSourceBrick && i != op.Brick {
				continue
			}
			if rs.Read[i] == nil && op.Op != afr.OpSourceBrick {
				continue // down: the others' indexes list what it blames
			}
			err := rs.Pending(i, func(_ index.Subdir, e index.Entry) error {
				if e.Err == nil && !seen[e.GFID] {
					seen[e.GFID] = true
					gfids = append(gfids, e.GFID)
				}
				return nil
			})
			if err != nil {
				return healed, fmt.Errorf("list the index of %s: %w", rs.Labels[i], err)
			}
		}
		for _, g := range gfids {
			if err := ctx.Err(); err != nil {
				return healed, err
			}
			replies, _ := rs.GatherCounters(g)
			if st, exists := healStatus(replies, r.afrOpts.QuorumCount); !exists || !st.IsSplitBrain() {
				continue
			}
			// The entry is explained once, for the plan too.
			t := Target{GFID: g}
			ex, exRS, err := explainIn(r.v, r.sets, t, r.afrOpts)
			if err != nil {
				each(t, LiveOutcome{}, err)
				continue
			}
			names := ex.Verdict.Entry.BlockedBy
			if op.Op == afr.OpNone && ex.Verdict.Type == afr.TypeDirectory && ex.Path != "" {
				names = unattendedNames(exRS, r.afrOpts, ex.Path)
			}
			// A directory in split-brain for names that are two files
			// (a gfid split-brain GlusterFS lists on the parent): those
			// names are what is resolved, first: a finalize of the
			// directory would merge it, resolving them unkept.
			for _, p := range names {
				t := Target{Path: p}
				out, err := r.resolve(t, op)
				step(t, out, err)
			}
			switch {
			case ex.Verdict.Type != afr.TypeDirectory:
				out, err := r.resolveIn(ex, exRS, op)
				step(t, out, err)
			case op.Op == afr.OpNone && len(names) > 0:
				out, err := r.resolve(t, op) // explained again: its names changed
				step(t, out, err)
			case op.Op == afr.OpNone || len(names) == 0:
				out, err := r.resolveIn(ex, exRS, op)
				step(t, out, err)
			}
		}
	}
	return healed, nil
}

// errNotUnattended is an entry GlusterFS's self-heal does not resolve
// without a person: ResolveLiveAll under OpNone leaves it alone.
var errNotUnattended = errors.New("not resolved without a person")

// unattended reports whether GlusterFS's self-heal resolves this kind's
// split-brain without a person, replacing copies that differ: by the
// volume's cluster.favorite-child-policy or, for metadata,
// cluster.metadata-splitbrain-forced-heal. (Identical metadata, empty
// files and directories whose times alone differ lose nothing.)
func unattended(kv afr.KindVerdict) bool {
	return kv.SplitBrain && kv.Source >= 0 && (kv.Resolution == afr.ResolvedPolicy || kv.Resolution == afr.ResolvedForcedHeal)
}

// resolvedUnattended reports whether GlusterFS's self-heal resolves a
// split-brain of the entry without a person: its data's or metadata's
// (unattended), or its name's gfid split-brain by the favorite-child
// policy (afr_gfid_split_brain_source), which removes the other files.
func resolvedUnattended(vd afr.Verdict) bool {
	return vd.GFIDMismatch && !vd.TypeMismatch && vd.GFIDSource >= 0 || unattended(vd.Data) || unattended(vd.Metadata)
}

// unattendedNames are the paths of the names in the directory at dir
// whose gfid split-brain GlusterFS's entry self-heal of the directory
// resolves by the favorite-child policy.
func unattendedNames(rs *ReplicaSet, opts afr.Options, dir string) []string {
	kids, err := rs.Children(dir)
	if err != nil {
		return nil
	}
	var out []string
	for name, replies := range kids {
		if vd := afr.Decide(replies, opts); vd.GFIDMismatch && resolvedUnattended(vd) {
			out = append(out, brick.Join(dir, name))
		}
	}
	slices.Sort(out)
	return out
}

// liveResolver resolves split-brains of one started volume, reading its
// bricks through one opening of them and reaching its AFR through one
// connection, made when first needed.
type liveResolver struct {
	v       *volume.Volume
	opts    LiveOptions
	afrOpts afr.Options
	sets    []*ReplicaSet
	fin     Finalizer
}

func openLive(v *volume.Volume, opts LiveOptions) (*liveResolver, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	afrOpts, err := Options(v)
	if err != nil {
		return nil, err
	}
	return &liveResolver{v: v, opts: opts, afrOpts: afrOpts, sets: OpenReplicaSets(v, opts.Open)}, nil
}

func (r *liveResolver) close() {
	for _, rs := range r.sets {
		rs.Close()
	}
}

// finalizer connects to the volume's AFR once.
func (r *liveResolver) finalizer() (Finalizer, error) {
	if r.fin == nil {
		fin, err := r.opts.Connect()
		if err != nil {
			return nil, err
		}
		r.fin = fin
	}
	return r.fin, nil
}

// resolve is ResolveLive of one target.
func (r *liveResolver) resolve(target Target, op SplitBrainOp) (LiveOutcome, error) {
	ex, rs, err := explainIn(r.v, r.sets, target, r.afrOpts)
	if err != nil {
		return LiveOutcome{}, err
	}
	return r.resolveIn(ex, rs, op)
}

// resolveIn is resolve of an entry already explained, in its set rs.
func (r *liveResolver) resolveIn(ex Explanation, rs *ReplicaSet, op SplitBrainOp) (LiveOutcome, error) {
	v, opts, sets, afrOpts := r.v, r.opts, r.sets, r.afrOpts
	if op.Op == afr.OpSourceBrick && rs.Index != opts.SourceSet {
		return LiveOutcome{}, fmt.Errorf("%s is in replica set %d, and the brick named is in set %d", ex.Target, rs.Index, opts.SourceSet)
	}
	plan, err := planLive(v, rs, ex, op, afrOpts)
	if err != nil {
		return LiveOutcome{}, err
	}
	out := LiveOutcome{Path: ex.Path, Source: rs.Labels[plan.src], Client: rs.Bricks[plan.src].ID, Kinds: plan.kinds}
	kinds := make([]string, len(plan.kinds))
	for i, k := range plan.kinds {
		kinds[i] = k.String()
	}
	if plan.gfid {
		kinds = []string{"gfid"}
		if opts.ResolveGFID == nil {
			return LiveOutcome{}, fmt.Errorf("%s: a gfid split-brain, which a client's finalize does not resolve: gluster volume heal %s split-brain source-brick BRICK %s: %w", ex.Path, v.Name, ex.Path, ErrLiveUnsupported)
		}
	}
	now := opts.Now()
	id := NewRecordID(now)
	keptDir := filepath.Join(opts.StateDir, "kept", v.Name, id)
	var losers []string
	for _, i := range plan.losers {
		losers = append(losers, rs.Labels[i])
	}
	source := rs.Bricks[plan.src]
	then := fmt.Sprintf("then GlusterFS heals it: setfattr -n replica.split-brain-heal-finalize -v %s %s", out.Client, ex.Path)
	if plan.gfid {
		then = fmt.Sprintf("then GlusterFS resolves it: gluster volume heal %s split-brain source-brick %s %s", v.Name, source, ex.Path)
	}
	chosen := ""
	if op.Op == afr.OpNone {
		chosen = " (" + plan.how + ", as GlusterFS's self-heal daemon would)"
	}
	out.Lines = append(out.Lines,
		fmt.Sprintf("%s split-brain of %s: keep %s's copy%s", strings.Join(kinds, " and "), ex.Path, out.Source, chosen),
		fmt.Sprintf("keep the copies of %s in %s", strings.Join(losers, ", "), keptDir),
		then)
	if opts.DryRun {
		return out, nil
	}
	// heal is the request to GlusterFS, made once the losers are kept.
	heal := func() error { return opts.ResolveGFID(ex.Path, source) }
	if !plan.gfid {
		fin, err := r.finalizer()
		if err != nil {
			return out, err
		}
		heal = func() error { return fin.Finalize(ex.Path, out.Client) }
	}

	var recs []Record
	for n, k := range kinds {
		rec := Record{
			ID: id, Time: RecordTime(now), Volume: v.Name, Set: rs.Index,
			Path: ex.Path, GFID: ex.Replies[plan.src].GFID.String(), Kind: k,
			How: plan.how + " through GlusterFS", Source: out.Source, Sinks: losers, Live: true,
		}
		if n > 0 {
			rec.ID = fmt.Sprintf("%s-%d", id, n+1)
		}
		recs = append(recs, rec)
	}
	for _, i := range plan.losers {
		kd, err := keepLive(rs, i, ex, recs[0], keptDir, plan.gfid || slices.Contains(plan.kinds, afr.Data))
		if err != nil {
			return out, fmt.Errorf("keep %s's copy of %s (nothing was changed on the volume): %w", rs.Labels[i], ex.Path, err)
		}
		for j := range recs {
			k := kd
			if recs[j].Kind == afr.Metadata.String() {
				k.Path, k.Blake3 = "", "" // a metadata record keeps the metadata alone
			}
			recs[j].Kept = append(recs[j].Kept, k)
		}
	}
	if err := heal(); err != nil {
		return out, fmt.Errorf("%w; the losing copies were kept in %s", err, keptDir)
	}
	// GlusterFS took the request and may have changed the copies: the
	// record is written whatever the check below finds, so that history
	// always says where the kept copies are.
	h := &History{Path: HistoryPath(opts.StateDir, v.Name)}
	for _, rec := range recs {
		if err := h.Append(rec); err != nil {
			return out, fmt.Errorf("GlusterFS was asked to heal %s, but recording it failed (the losing copies are in %s): %w", ex.Path, keptDir, err)
		}
	}
	out.Records = recs
	// AFR healed it before Finalize returned, or says why not only in
	// what libgfapi drops: check, as a reader.
	after, _, err := explainIn(v, sets, Target{GFID: ex.Replies[plan.src].GFID}, afrOpts)
	if plan.gfid {
		after, _, err = explainIn(v, sets, Target{Path: ex.Path}, afrOpts)
	}
	if err != nil {
		return out, fmt.Errorf("after GlusterFS was asked to heal %s: %w", ex.Path, err)
	}
	if plan.gfid && !sameGFID(after.Replies, ex.Replies[plan.src].GFID) {
		return out, fmt.Errorf("GlusterFS left %s in gfid split-brain when asked to resolve it from %s (recorded as %s; the losing copies are in %s)", ex.Path, source, recs[0].ID, keptDir)
	}
	for _, k := range plan.kinds {
		// A split-brain a policy resolves is not Unresolved: only the
		// split-brain gone says that AFR healed it.
		if kv := after.Verdict.Kind(k); kv.Unresolved || kv.SplitBrain {
			return out, fmt.Errorf("GlusterFS left %s in %s split-brain when asked to heal it from %s (recorded as %s; the losing copies are in %s)", ex.Path, k, out.Client, recs[0].ID, keptDir)
		}
	}
	out.Lines = []string{
		fmt.Sprintf("Healed %s from %s through GlusterFS (%s)", ex.Path, out.Source, strings.Join(kinds, " and ")),
		fmt.Sprintf("kept the copies of %s in %s (afrkit heal %s history)", strings.Join(losers, ", "), keptDir, v.Name),
	}
	return out, nil
}

// liveOp is a planned live resolution: the kinds it resolves, the source
// and the copies it replaces (positions in the replica set).
type liveOp struct {
	// how names the choice in records and lines: the command's op, or
	// the volume option that decides under OpNone.
	how   string
	kinds []afr.Kind
	// gfid: the name's copies differ in gfid, and src's gfid wins.
	gfid   bool
	src    int
	losers []int
}

// explainIn is Explain of target in sets, returning the replica set that
// holds it.
func explainIn(v *volume.Volume, sets []*ReplicaSet, target Target, opts afr.Options) (Explanation, *ReplicaSet, error) {
	for _, rs := range sets {
		if ex, ok := explainInSet(v, rs, opts, target); ok {
			return ex, rs, nil
		}
	}
	var why []string
	for _, rs := range sets {
		for i, r := range rs.Read {
			if r == nil {
				why = append(why, fmt.Sprintf("brick %s cannot be read: %v", rs.Bricks[i], rs.Err[i]))
			}
		}
	}
	if len(why) > 0 {
		return Explanation{}, nil, fmt.Errorf("%s: %w (%s)", target, ErrNowhere, strings.Join(why, "; "))
	}
	return Explanation{}, nil, fmt.Errorf("%s: %w", target, ErrNowhere)
}

// planLive decides a live resolution, or says why there is none; under
// OpNone, errNotUnattended for an entry no unattended heal resolves.
func planLive(v *volume.Volume, rs *ReplicaSet, ex Explanation, op SplitBrainOp, opts afr.Options) (liveOp, error) {
	vd := ex.Verdict
	cli := fmt.Sprintf("gluster volume heal %s split-brain", v.Name)
	if op.Op == afr.OpNone && !resolvedUnattended(vd) {
		return liveOp{}, fmt.Errorf("%s: %w", ex.Path, errNotUnattended)
	}
	if vd.TypeMismatch {
		return liveOp{}, fmt.Errorf("%s: its copies differ in type, which afrkit does not resolve on a started volume: %s source-brick BRICK %s: %w", ex.Path, cli, ex.Path, ErrLiveUnsupported)
	}
	if ex.Path == "" {
		return liveOp{}, fmt.Errorf("%s: no brick gives its path, which a client needs: %s source-brick BRICK gfid:%s: %w", ex.Target, cli, ex.Target.GFID, ErrLiveUnsupported)
	}
	for i, r := range ex.Replies {
		if !r.Answered {
			return liveOp{}, fmt.Errorf("%s: brick %s cannot be read, so its copy could not be kept: bring it back first (%v)", ex.Path, rs.Labels[i], ex.Errs[i])
		}
	}
	if vd.GFIDMismatch {
		return planLiveGFID(rs, ex, op, opts.FavoriteChild, cli)
	}
	lo := liveOp{how: op.Op.String(), src: -1}
	// AFR's finalize heals every kind in split-brain from the one brick
	// (afr_heal_splitbrain_file): each kind whose copies differ is in the
	// plan, and kept. Only a split-brain that loses nothing (all empty,
	// identical metadata) is left to it.
	for _, k := range []afr.Kind{afr.Data, afr.Metadata} {
		kv := vd.Kind(k)
		if !kv.Unresolved && !unattended(kv) {
			continue
		}
		var src int
		switch {
		case op.Op == afr.OpNone && kv.Unresolved:
			return liveOp{}, fmt.Errorf("%s: its %s split-brain waits for a person, and AFR's finalize of its %s split-brain would resolve both from one brick: resolve it with afrkit heal %s split-brain source-brick BRICK %s: %w", ex.Path, k, otherKind(k), v.Name, ex.Path, ErrLiveUnsupported)
		case op.Op == afr.OpNone:
			src, lo.how = kv.Source, unattendedHow(kv, opts)
		default:
			var err error
			if src, err = afr.ResolveSplitBrain(ex.Replies, k, op.Op, op.Brick, opts.QuorumCount); err != nil {
				return liveOp{}, fmt.Errorf("%s: %w", ex.Path, err)
			}
		}
		if lo.src >= 0 && src != lo.src {
			return liveOp{}, fmt.Errorf("%s: %s would keep %s's data and %s's metadata, and AFR's finalize takes both from one brick: name it with source-brick: %w", ex.Path, lo.how, rs.Labels[lo.src], rs.Labels[src], ErrLiveUnsupported)
		}
		lo.src = src
		lo.kinds = append(lo.kinds, k)
	}
	if len(lo.kinds) == 0 {
		return liveOp{}, fmt.Errorf("%s is not in data or metadata split-brain (heal info says %s)", ex.Path, ex.Status)
	}
	if len(op.Kinds) > 0 && !slices.Equal(op.Kinds, lo.kinds) {
		return liveOp{}, fmt.Errorf("%s: AFR's finalize resolves its data and metadata split-brains together, from one brick, so --kind does not apply on a started volume: %w", ex.Path, ErrLiveUnsupported)
	}
	for i, r := range ex.Replies {
		if i != lo.src && r.Exists {
			lo.losers = append(lo.losers, i)
		}
	}
	return lo, nil
}

// otherKind is metadata for data and data for metadata.
func otherKind(k afr.Kind) afr.Kind {
	if k == afr.Data {
		return afr.Metadata
	}
	return afr.Data
}

// unattendedHow names the volume option that resolves kv (unattended).
func unattendedHow(kv afr.KindVerdict, opts afr.Options) string {
	if kv.Resolution == afr.ResolvedPolicy {
		return "favorite-child-policy " + opts.FavoriteChild.String()
	}
	return string(kv.Resolution)
}

// sameGFID reports whether every copy there is has gfid g.
func sameGFID(replies []afr.Reply, g afr.GFID) bool {
	for _, r := range replies {
		if r.Exists && r.GFID != g {
			return false
		}
	}
	return true
}

// planLiveGFID plans the resolution of a name whose copies differ in
// gfid: the winner chosen as afr_gfid_split_brain_source chooses it (the
// same choice offline; under OpNone by the volume's policy), the copies
// of other gfids its losers. Regular files only: a directory's gfid
// split-brain is a merge of its entries, and a symlink's target is not
// kept.
func planLiveGFID(rs *ReplicaSet, ex Explanation, op SplitBrainOp, volumePolicy afr.Policy, cli string) (liveOp, error) {
	for _, r := range ex.Replies {
		if r.Exists && r.Type != afr.TypeRegular {
			return liveOp{}, fmt.Errorf("%s: a %s in gfid split-brain, which afrkit resolves on a started volume only for regular files: %s source-brick BRICK %s: %w", ex.Path, r.Type, cli, ex.Path, ErrLiveUnsupported)
		}
	}
	if len(op.Kinds) > 0 {
		return liveOp{}, fmt.Errorf("%s: a gfid split-brain is resolved whole, so --kind does not apply: %w", ex.Path, ErrLiveUnsupported)
	}
	o, policy, how := op.Op, afr.PolicyNone, op.Op.String()
	switch o {
	case afr.OpMajority:
		o, policy = afr.OpNone, afr.PolicyMajority
	case afr.OpNone:
		policy, how = volumePolicy, "favorite-child-policy "+volumePolicy.String()
	}
	// Only copies with a gfid take part, as in GlusterFS.
	withGFID := slices.Clone(ex.Replies)
	for i := range withGFID {
		if withGFID[i].GFID.IsZero() {
			withGFID[i].Exists = false
		}
	}
	src, err := afr.ResolveGFIDSplitBrain(withGFID, o, op.Brick, policy)
	if err != nil {
		return liveOp{}, fmt.Errorf("%s: %w", ex.Path, err)
	}
	lo := liveOp{how: how, gfid: true, src: src}
	// Every other copy is kept, those with the winner's gfid too: once
	// the name holds one file, glfsheal heals its data and metadata from
	// the source brick, split-brains included.
	for i, r := range ex.Replies {
		if i != src && r.Exists {
			lo.losers = append(lo.losers, i)
		}
	}
	return lo, nil
}

// keepLive keeps brick i's copy of the entry in dir: its metadata (in
// NAME.json: mode, owner, times, xattrs and counters, as the brick
// reported them), and its content when data is set (read through the
// brick, fsynced).
func keepLive(rs *ReplicaSet, i int, ex Explanation, rec Record, dir string, data bool) (_ Kept, err error) {
	r := ex.Replies[i]
	name := filepath.Join(dir, keptName(rs.Labels[i], r.GFID.String()))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Kept{}, fmt.Errorf("keep directory: %w", err)
	}
	// The keep directory is written as a brick is: beneath its root, never
	// through a symlink, durably.
	kb := brick.Beneath(dir)
	defer kb.Close()
	// A copy half kept is no copy: what this call wrote goes when it fails.
	defer func() {
		if err != nil {
			os.Remove(name)
			os.Remove(name + ".json")
		}
	}()
	m := keptMeta{
		Record: rec.ID, Volume: rec.Volume, Brick: rs.Labels[i], Path: ex.Path, GFID: r.GFID.String(),
		Type: r.Type.String(), Mode: r.Mode, UID: r.UID, GID: r.GID, Size: r.Size,
		Mtime: r.Mtime.Sec*1e9 + r.Mtime.Nsec, Xattrs: map[string]string{},
	}
	for k, v := range r.Xattrs {
		m.Xattrs[k] = hex.EncodeToString([]byte(v))
	}
	for j, c := range r.Pending {
		if !c.IsZero() {
			m.Xattrs[brick.NSTrusted+"."+rs.Keys[j]] = hex.EncodeToString(brick.EncodeChangelog(c))
		}
	}
	meta, _ := json.MarshalIndent(m, "", "  ")
	if err := kb.WriteFileDurable(name+".json", meta); err != nil {
		return Kept{}, fmt.Errorf("keep the metadata: %w", err)
	}
	k := Kept{Brick: rs.Labels[i], Meta: name + ".json", Type: m.Type, Size: r.Size}
	if !data {
		return k, nil // WriteFileDurable synced the directory
	}
	src, err := rs.Read[i].OpenGFID(r.GFID)
	if err != nil {
		return Kept{}, err
	}
	defer src.Close()
	dst, err := kb.CreateFile(name, 0o600)
	if err != nil {
		return Kept{}, fmt.Errorf("keep the content: %w", err)
	}
	// Read to the end, not to the size seen: a copy a client grew or cut
	// meanwhile reads otherwise, and is not what was decided on.
	n, err := io.Copy(dst, io.NewSectionReader(src, 0, math.MaxInt64))
	if err == nil && n != r.Size {
		err = fmt.Errorf("read %d bytes where the brick said %d: the copy changed while it was kept", n, r.Size)
	}
	if err == nil {
		err = dst.Sync()
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Kept{}, fmt.Errorf("keep %s: %w", name, err)
	}
	k.Path = name
	if k.Blake3, err = kb.HashFile(name); err != nil {
		return Kept{}, err
	}
	return k, kb.SyncDir(dir)
}
