package mount

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/heal"
)

// GlusterFS's virtual xattrs for a file in split-brain, answered by the
// client (afr_get_split_brain_status, afr_set_split_brain_choice,
// afr_split_brain_resolve_do) rather than stored on any brick.
const (
	xattrSplitBrainStatus   = "replica.split-brain-status"
	xattrSplitBrainChoice   = "replica.split-brain-choice"
	xattrSplitBrainFinalize = "replica.split-brain-heal-finalize"
	notInSplitBrain         = "The file is not under data or metadata split-brain"
)

// defaultChoiceTimeout is cluster.split-brain-choice-timeout's default,
// in minutes: how long a choice keeps serving reads.
const defaultChoiceTimeout = 5 * time.Minute

// choice is a person's pick of the copy a file in split-brain is read
// from until it expires.
type choice struct {
	brick   int
	expires time.Time
}

// splitBrains reports whether the node's copies are in data and in
// metadata split-brain, as heal info would report them.
func (n *node) splitBrains() (data, meta bool, c copies, errno syscall.Errno) {
	c = n.copies()
	if _, _, _, errno = c.entry(); errno != 0 {
		return false, false, c, errno
	}
	v := afr.Decide(c.replies, n.m.afrOpts)
	return v.Data.Applies && v.Data.SplitBrain, v.Metadata.Applies && v.Metadata.SplitBrain, c, 0
}

// splitBrainStatus is the value of replica.split-brain-status, with the
// trailing NUL GlusterFS's string values carry.
func (n *node) splitBrainStatus() ([]byte, syscall.Errno) {
	data, meta, c, errno := n.splitBrains()
	if errno != 0 {
		return nil, errno
	}
	if !data && !meta {
		return append([]byte(notInSplitBrain), 0), 0
	}
	yesNo := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	var choices []string
	for i, r := range c.replies {
		if r.Answered && r.Exists {
			choices = append(choices, n.m.vol.ReplicaSets()[0][i].ID)
		}
	}
	s := fmt.Sprintf("data-split-brain:%s    metadata-split-brain:%s    Choices:%s", yesNo(data), yesNo(meta), strings.Join(choices, ","))
	return append([]byte(s), 0), 0
}

// brickByID finds the brick a value names: VOL-client-N, a NUL allowed
// at its end (setfattr -v passes one for a quoted string).
func (n *node) brickByID(v []byte) (int, bool) {
	id := strings.TrimRight(string(v), "\x00")
	for i, b := range n.m.vol.ReplicaSets()[0] {
		if b.ID == id {
			return i, true
		}
	}
	return -1, false
}

// choiceTimeout is cluster.split-brain-choice-timeout (minutes).
func (m *Volume) choiceTimeout() time.Duration {
	if mins, err := strconv.Atoi(m.vol.Option("cluster.split-brain-choice-timeout", "")); err == nil && mins > 0 {
		return time.Duration(mins) * time.Minute
	}
	return defaultChoiceTimeout
}

// setSplitBrainChoice makes reads of the file come from the copy value
// names until the choice times out; "none" takes the choice back. A file
// in neither data nor metadata split-brain refuses a choice, as GlusterFS
// does.
func (n *node) setSplitBrainChoice(value []byte) syscall.Errno {
	if strings.TrimRight(string(value), "\x00") == "none" {
		n.choiceMu.Lock()
		n.choice = nil
		n.choiceMu.Unlock()
		n.forgetCached()
		return 0
	}
	i, ok := n.brickByID(value)
	if !ok {
		return syscall.EINVAL
	}
	data, meta, c, errno := n.splitBrains()
	if errno != 0 {
		return errno
	}
	if !data && !meta || !c.replies[i].Exists {
		return syscall.EINVAL
	}
	n.choiceMu.Lock()
	n.choice = &choice{brick: i, expires: time.Now().Add(n.m.choiceTimeout())}
	n.choiceMu.Unlock()
	n.forgetCached()
	return 0
}

// chosen is the brick a person chose to read the file from, or -1.
func (n *node) chosen() int {
	n.choiceMu.Lock()
	defer n.choiceMu.Unlock()
	if n.choice == nil || time.Now().After(n.choice.expires) {
		n.choice = nil
		return -1
	}
	return n.choice.brick
}

// finalizeSplitBrain resolves the file's split-brain with the copy value
// names as the source, as afrkit heal VOL split-brain source-brick does:
// the other copies are kept in the keep store and the resolution goes
// into the volume's history, so it can be undone.
func (n *node) finalizeSplitBrain(ctx context.Context, value []byte) syscall.Errno {
	i, ok := n.brickByID(value)
	if !ok {
		return syscall.EINVAL
	}
	if n.m.opts.HistoryPath == "" {
		// Nowhere to record what would be replaced: refuse rather than
		// lose the record.
		return syscall.ENOTSUP
	}
	data, meta, _, errno := n.splitBrains()
	if errno != 0 {
		return errno
	}
	if !data && !meta {
		return syscall.EINVAL
	}
	done, errno := n.m.enter()
	if errno != 0 {
		return errno
	}
	defer done()
	n.data.Lock()
	defer n.data.Unlock()
	n.endSession()
	e, err := heal.NewEngine(n.m.vol, heal.EngineOptions{History: &heal.History{Path: n.m.opts.HistoryPath}})
	if err != nil {
		n.m.logf("%s: split-brain finalize: %v", n.path(), err)
		return syscall.EIO
	}
	defer e.Close()
	out, err := e.SplitBrain(uninterrupted(ctx), heal.Target{Path: n.path()}, heal.SplitBrainOp{Op: afr.OpSourceBrick, Brick: i})
	if err != nil || !out.Healed {
		n.m.logf("%s: split-brain finalize with %s: %v %v", n.path(), strings.TrimRight(string(value), "\x00"), out.Lines, err)
		return syscall.EIO
	}
	n.m.logf("%s: %s", n.path(), strings.Join(out.Lines, " "))
	n.choiceMu.Lock()
	n.choice = nil
	n.choiceMu.Unlock()
	n.forgetCached()
	return 0
}

// forgetCached makes the kernel drop what it cached of the file's
// attributes and content: the copy it is read from changed.
func (n *node) forgetCached() {
	// ENOENT: the kernel had nothing cached.
	_ = n.NotifyContent(0, 0)
}
