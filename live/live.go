// Package live changes a started GlusterFS volume as a client does:
// through the volume's own client graph, fetched from glusterd and run by
// libgfapi, so that DHT and AFR make every change on every brick, under
// their own locks. afrkit never writes a brick that a brick process serves
// behind GlusterFS's back; this is how it changes such a volume.
package live

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"syscall"

	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/gfapi"
	"github.com/afrkit/afrkit/rsynctemp"
)

// AFR's virtual xattrs for resolving a split-brain from a client
// (afr_handle_split_brain_commands): set on a file, each names the AFR
// child (VOL-client-N) whose copy is chosen.
const (
	keyChoice   = "replica.split-brain-choice"
	keyFinalize = "replica.split-brain-heal-finalize"
)

// Volume is a started volume's client graph. It is safe for concurrent
// use.
type Volume struct {
	v  *volume.Volume
	fs *gfapi.FS
}

// Purpose says what a Volume's graph is for, which sets AFR's client-side
// heals: a lookup through a client whose heals are on heals what it finds.
type Purpose int

const (
	// ForChanges renames and removes files and looks at them, and heals
	// nothing as it does: every client-side heal is off, so that a plan
	// (or a dry run, or a refusal) changes nothing.
	ForChanges Purpose = iota
	// ForSplitBrainHeal resolves split-brains (Finalize): the heal options
	// glfsheal sets for a split-brain heal (glfsh_set_heal_options). AFR
	// heals only the kinds whose client-side heal is on, which a volume
	// whose self-heal daemon heals has off, and a heal that finalize starts
	// must finish before it answers.
	ForSplitBrainHeal
)

func (p Purpose) options() []gfapi.XlatorOption {
	heal := "off"
	if p == ForSplitBrainHeal {
		heal = "on"
	}
	return []gfapi.XlatorOption{
		{Xlator: "*-replicate-*", Key: "background-self-heal-count", Value: "0"},
		{Xlator: "*-replicate-*", Key: "halo-enabled", Value: "off"},
		{Xlator: "*-replicate-*", Key: "data-self-heal", Value: heal},
		{Xlator: "*-replicate-*", Key: "metadata-self-heal", Value: heal},
		{Xlator: "*-replicate-*", Key: "entry-self-heal", Value: heal},
	}
}

// Open brings up v's client graph for purpose, fetched from the glusterd
// at socket (a unix socket on this host: glusterd gives it the volume's
// trusted volfile, as it does glfsheal).
func Open(lib *gfapi.Lib, v *volume.Volume, socket string, purpose Purpose) (*Volume, error) {
	fs, err := lib.Init(gfapi.Config{
		Volume: v.Name, Servers: []gfapi.Server{{Transport: gfapi.Unix, Host: socket}}, LogLevel: gfapi.LogError,
		Options: purpose.options(),
	})
	if err != nil {
		return nil, fmt.Errorf("volume %s through its client graph: %w", v.Name, err)
	}
	return &Volume{v: v, fs: fs}, nil
}

// Close lets go of the graph, in the background (see remote.Brick.Close).
func (lv *Volume) Close() { go lv.fs.Close() }

// Finalize (on a graph opened ForSplitBrainHeal) asks AFR to heal the file at path from the copy of the brick
// whose AFR child is client (VOL-client-N): what `setfattr -n
// replica.split-brain-heal-finalize -v VOL-client-N FILE` does on a
// GlusterFS mount. AFR heals the data and metadata split-brains of the
// file from that copy before the call returns. AFR reports a heal that
// failed in the reply's xdata, which libgfapi drops: the caller checks.
func (lv *Volume) Finalize(path, client string) error {
	if err := lv.fs.Lsetxattr(path, keyFinalize, []byte(client), 0); err != nil {
		return fmt.Errorf("heal %s from %s through GlusterFS: %w", path, client, err)
	}
	return nil
}

// RenameNoReplace gives the regular file at oldPath the name newPath on
// the volume, as a client does, so that DHT and AFR make the change on
// every brick: a hard link at newPath, then oldPath unlinked. The link
// never replaces: where newPath exists (or appears meanwhile) it fails
// with an error wrapping syscall.EEXIST and changes nothing, where a
// rename would have replaced that file.
func (lv *Volume) RenameNoReplace(oldPath, newPath string) error {
	if err := lv.fs.Link(oldPath, newPath); err != nil {
		return fmt.Errorf("rename %s to %s on %s: %w", oldPath, newPath, lv.v.Name, err)
	}
	if err := lv.fs.Unlink(oldPath); err != nil {
		return fmt.Errorf("rename %s to %s on %s: linked, but the old name stays: %w", oldPath, newPath, lv.v.Name, err)
	}
	return nil
}

// Lstat is the file at path as a client sees it.
func (lv *Volume) Lstat(path string) (syscall.Stat_t, error) { return lv.fs.Lstat(path) }

// StaleAction is what a stale temp file's rename does.
type StaleAction int

const (
	// RenameStale gives the temp file its final name, which is free.
	RenameStale StaleAction = iota
	// RemoveSameStale removes the temp file: the final name holds the
	// same content, byte for byte, so nothing is lost.
	RemoveSameStale
)

func (a StaleAction) String() string {
	if a == RemoveSameStale {
		return "remove"
	}
	return "rename"
}

// StalePlan is what renaming one stale rsync temp file does on the volume.
type StalePlan struct {
	Temp, Final string
	Action      StaleAction
}

func (p StalePlan) String() string {
	if p.Action == RemoveSameStale {
		return fmt.Sprintf("remove %s: %s holds the same content", p.Temp, p.Final)
	}
	return fmt.Sprintf("rename %s to %s", p.Temp, p.Final)
}

// ErrClash is a stale temp file whose final name holds other content: a
// person chooses which version keeps the name.
var ErrClash = errors.New("the final name holds other content")

// PlanStale plans the rename of the stale temp file at temp (an rsync
// temp name, .NAME.XXXXXX) to its final name, looking at both as a client
// does. It fails with ErrClash where the final name holds other content.
func (lv *Volume) PlanStale(temp string) (StalePlan, error) {
	dir, name := path.Split(temp)
	final, ok := rsynctemp.Final(name)
	if !ok {
		return StalePlan{}, fmt.Errorf("%s is not named as an rsync temp file (.NAME.XXXXXX)", temp)
	}
	p := StalePlan{Temp: temp, Final: path.Join(dir, final)}
	st, err := lv.fs.Lstat(temp)
	if err != nil {
		return p, err
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return p, fmt.Errorf("%s is not a regular file", temp)
	}
	fst, err := lv.fs.Lstat(p.Final)
	if errors.Is(err, syscall.ENOENT) {
		return p, nil
	}
	if err != nil {
		return p, err
	}
	if fst.Mode&syscall.S_IFMT != syscall.S_IFREG || fst.Size != st.Size {
		return p, fmt.Errorf("%s: %w", p.Final, ErrClash)
	}
	same, err := lv.sameContent(temp, p.Final, st.Size)
	if err != nil {
		return p, err
	}
	if !same {
		return p, fmt.Errorf("%s: %w", p.Final, ErrClash)
	}
	p.Action = RemoveSameStale
	return p, nil
}

// sameContent compares two files of size bytes through the volume.
func (lv *Volume) sameContent(a, b string, size int64) (bool, error) {
	fa, err := lv.fs.Open(a, os.O_RDONLY)
	if err != nil {
		return false, err
	}
	defer fa.Close()
	fb, err := lv.fs.Open(b, os.O_RDONLY)
	if err != nil {
		return false, err
	}
	defer fb.Close()
	ba, bb := make([]byte, 1<<20), make([]byte, 1<<20)
	for off := int64(0); off < size; off += int64(len(ba)) {
		na, erra := fa.ReadAt(ba, off)
		nb, errb := fb.ReadAt(bb, off)
		if erra != nil && erra != io.EOF {
			return false, erra
		}
		if errb != nil && errb != io.EOF {
			return false, errb
		}
		if !bytes.Equal(ba[:na], bb[:nb]) {
			return false, nil
		}
		if na < len(ba) {
			break
		}
	}
	return true, nil
}

// DoStale carries out a plan, through GlusterFS. A rename never replaces
// (RenameNoReplace): a final name that appeared since the plan stops it.
// A removal compares the contents again first.
func (lv *Volume) DoStale(p StalePlan) error {
	if p.Action == RenameStale {
		return lv.RenameNoReplace(p.Temp, p.Final)
	}
	again, err := lv.PlanStale(p.Temp)
	if err != nil {
		return err
	}
	if again.Action != RemoveSameStale {
		return fmt.Errorf("%s changed since it was planned", p.Final)
	}
	if err := lv.fs.Unlink(p.Temp); err != nil {
		return fmt.Errorf("remove %s on %s: %w", p.Temp, lv.v.Name, err)
	}
	return nil
}
