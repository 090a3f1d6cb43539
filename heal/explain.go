package heal

import (
	"errors"
	"fmt"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/index"
)

// Explanation is one replica set's account of an entry: what each brick
// holds, AFR's verdict on it, what heal info says of it and which indexes
// list it, and the split-brain commands that would resolve it, each tried
// on the copies as they are. `heal VOL explain` prints it; the TUI shows
// it. It is read without locks, as heal info reads.
type Explanation struct {
	Set    int
	Labels []string
	Bricks []volume.Brick
	Target Target
	// Path is the entry's path; "" when no brick resolves its gfid.
	Path string
	// Replies are every brick's copy; Errs why a brick could not be read.
	Replies []afr.Reply
	Errs    []error
	// Verdict is AFR's decision, a directory's merge blockers included.
	Verdict afr.Verdict
	// GFIDs are the distinct gfids the bricks hold, in brick order: one
	// normally, several in a gfid split-brain.
	GFIDs []afr.GFID
	// Status is heal info's word for the entry; IndexedIn the brick
	// indexes that list it ("b1's xattrop").
	Status    afr.HealStatus
	IndexedIn []string
	// Choices are the commands that would resolve its split-brains.
	Choices []ResolveChoice
}

// ResolveChoice is one split-brain command that would resolve an entry,
// and the copy it would keep or why it would fail.
type ResolveChoice struct {
	// Kind is the split-brain it resolves: gfid, data or metadata.
	Kind    string `json:"kind"`
	Command string `json:"command"`
	Keeps   string `json:"keeps,omitempty"`
	Fails   string `json:"fails,omitempty"`
}

// Explain explains target in every replica set of v that holds it,
// reaching bricks on other hosts as open says. It fails when no brick that
// can be read has it.
func Explain(v *volume.Volume, target Target, open OpenOptions) ([]Explanation, error) {
	opts, err := Options(v)
	if err != nil {
		return nil, err
	}
	sets := OpenReplicaSets(v, open)
	defer func() {
		for _, rs := range sets {
			rs.Close()
		}
	}()
	var out []Explanation
	for _, rs := range sets {
		if ex, ok := explainInSet(v, rs, opts, target); ok {
			out = append(out, ex)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: %w", target, ErrNowhere)
	}
	return out, nil
}

// ErrNowhere is an entry no brick that afrkit can read has.
var ErrNowhere = errors.New("no brick that afrkit can read has it")

func anyExists(replies []afr.Reply) bool {
	for _, r := range replies {
		if r.Answered && r.Exists {
			return true
		}
	}
	return false
}

// explainInSet explains target in rs, when a brick of rs has it.
func explainInSet(v *volume.Volume, rs *ReplicaSet, opts afr.Options, target Target) (Explanation, bool) {
	var replies []afr.Reply
	var errs []error
	if target.Path != "" {
		replies, errs = rs.GatherPath(target.Path)
	} else {
		replies, errs = rs.Gather(target.GFID)
	}
	if !anyExists(replies) {
		return Explanation{}, false
	}
	return explainSet(v, rs, opts, target, replies, errs), true
}

func explainSet(v *volume.Volume, rs *ReplicaSet, opts afr.Options, target Target, replies []afr.Reply, errs []error) Explanation {
	ex := Explanation{Set: rs.Index, Labels: rs.Labels, Bricks: rs.Bricks, Target: target, Replies: replies, Errs: errs}
	ex.Verdict = afr.Decide(replies, opts)
	ex.Path = target.Path
	if ex.Path == "" {
		ex.Path = rs.PathOf(target.GFID)
	}
	if ex.Verdict.Type == afr.TypeDirectory && ex.Verdict.Entry.Merge && ex.Path != "" {
		ex.Verdict.BlockMerge(mergeBlockers(rs, opts, ex.Verdict, ex.Path))
	}
	seen := map[afr.GFID]bool{}
	for _, r := range replies {
		if r.Answered && r.Exists && !r.GFID.IsZero() && !seen[r.GFID] {
			seen[r.GFID] = true
			ex.GFIDs = append(ex.GFIDs, r.GFID)
		}
	}
	if len(ex.GFIDs) == 0 && !target.GFID.IsZero() {
		ex.GFIDs = append(ex.GFIDs, target.GFID)
	}
	ex.Status = afr.HealInfo(replies, opts.QuorumCount)
	ex.IndexedIn = []string{}
	for i, ix := range rs.Read {
		if ix == nil {
			continue
		}
		for _, sub := range []index.Subdir{index.Xattrop, index.Dirty} {
			for _, g := range ex.GFIDs {
				if ok, err := ix.Has(sub, g); err == nil && ok {
					ex.IndexedIn = append(ex.IndexedIn, fmt.Sprintf("%s's %s", rs.Labels[i], sub))
				}
			}
		}
	}
	ex.Choices = choices(v, rs, opts, ex)
	return ex
}

// mergeBlockers are the paths of the names in the directory at dir that
// stop its conservative merge (afr.MergeBlockers). A directory that
// cannot be listed names none: the verdict then says what the counters
// say.
func mergeBlockers(rs *ReplicaSet, opts afr.Options, dirVerdict afr.Verdict, dir string) []string {
	kids, err := rs.Children(dir)
	if err != nil {
		return nil
	}
	verdicts := make(map[string]afr.Verdict, len(kids))
	for name, replies := range kids {
		verdicts[brick.Join(dir, name)] = afr.Decide(replies, opts)
	}
	return afr.MergeBlockers(dirVerdict, verdicts)
}

// choices are the commands that would resolve the entry's split-brains,
// each tried on the copies as they are: afrkit's, or GlusterFS's on a
// volume glusterd defines.
func choices(v *volume.Volume, rs *ReplicaSet, opts afr.Options, ex Explanation) []ResolveChoice {
	verdict := ex.Verdict
	file := ex.Path
	if file == "" {
		file = "gfid:" + ex.Target.GFID.String()
	}
	cmd := fmt.Sprintf("afrkit heal %s split-brain", v.Name)
	if v.Source == volume.SourceGlusterd {
		cmd = fmt.Sprintf("gluster volume heal %s split-brain", v.Name)
	}
	out := []ResolveChoice{}
	add := func(kind string, ops []afr.HealOp, resolve func(op afr.HealOp, src int) (int, error)) {
		try := func(args string, op afr.HealOp, src int) {
			c := ResolveChoice{Kind: kind, Command: cmd + " " + args}
			keep, err := resolve(op, src)
			var re *afr.ResolveError
			switch {
			case err == nil:
				c.Keeps = rs.Labels[keep]
			case errors.As(err, &re):
				c.Fails = re.Message()
			default:
				c.Fails = err.Error()
			}
			out = append(out, c)
		}
		for _, op := range ops {
			try(op.String()+" "+file, op, -1)
		}
		for i, br := range rs.Bricks {
			try(fmt.Sprintf("source-brick %s %s", br, file), afr.OpSourceBrick, i)
		}
	}
	named := []afr.HealOp{afr.OpBiggerFile, afr.OpLatestMtime}
	if verdict.GFIDMismatch && !verdict.TypeMismatch && verdict.GFIDSource < 0 && ex.Path != "" {
		add("gfid", named, func(op afr.HealOp, src int) (int, error) {
			return afr.ResolveGFIDSplitBrain(ex.Replies, op, src, afr.PolicyNone)
		})
	}
	for _, kind := range []afr.Kind{afr.Data, afr.Metadata} {
		if !verdict.Kind(kind).Unresolved {
			continue
		}
		ops := named
		if kind == afr.Metadata {
			ops = nil // GlusterFS refuses bigger-file and latest-mtime for metadata
		}
		add(kind.String(), ops, func(op afr.HealOp, src int) (int, error) {
			return afr.ResolveSplitBrain(ex.Replies, kind, op, src, opts.QuorumCount)
		})
	}
	return out
}
