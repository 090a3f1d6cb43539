package volume

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/afrkit/afrkit/brick"
)

// BrickProcess is a running process that serves one of a volume's bricks.
type BrickProcess struct {
	Brick Brick
	PID   int
	Cmd   string
}

// BrickProcesses lists the GlusterFS brick processes (glusterfsd) on this
// host that serve a brick of v, found from /proc: afrkit must not write to
// a brick that a brick process is writing to at the same time. procDir is
// normally "/proc".
func (v *Volume) BrickProcesses(procDir string) ([]BrickProcess, error) {
	ents, err := os.ReadDir(procDir)
	if err != nil {
		return nil, fmt.Errorf("volume %s: list processes: %w", v.Name, err)
	}
	var out []BrickProcess
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(procDir, e.Name(), "cmdline"))
		if err != nil {
			continue // gone, or not ours to read
		}
		args := strings.Split(string(bytes.TrimRight(raw, "\x00")), "\x00")
		if len(args) == 0 || !strings.HasPrefix(filepath.Base(args[0]), "glusterfs") {
			continue
		}
		brickPath := flagValue(args, "--brick-name")
		if brickPath == "" {
			continue
		}
		for _, b := range v.Bricks {
			if b.Local && samePath(b.Path, brickPath) {
				out = append(out, BrickProcess{Brick: b, PID: pid, Cmd: filepath.Base(args[0])})
			}
		}
	}
	return out, nil
}

// StartedGlusterFS reports whether v is a GlusterFS volume glusterd calls
// started: its brick processes serve its bricks on other hosts, which
// afrkit reads over the network.
func (v *Volume) StartedGlusterFS() bool {
	return v.Source == SourceGlusterd && v.Status == "Started"
}

// ServedByGlusterFS reports whether afrkit must change v as a client,
// through GlusterFS, rather than write its bricks: a started GlusterFS
// volume with a brick on another host (whose process afrkit cannot see)
// or a brick process running here (found in procDir). A volume glusterd
// calls started whose bricks are all here and unserved (its glusterd down,
// or a copy of its definition) is written offline.
func (v *Volume) ServedByGlusterFS(procDir string) (bool, error) {
	if !v.StartedGlusterFS() {
		return false, nil
	}
	for _, b := range v.Bricks {
		if !b.Local {
			return true, nil
		}
	}
	procs, err := v.BrickProcesses(procDir)
	return len(procs) > 0, err
}

func flagValue(args []string, name string) string {
	for i, a := range args {
		if a == name && i+1 < len(args) {
			return args[i+1]
		}
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
	}
	return ""
}

func samePath(a, b string) bool {
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}

// ErrBrickBusy is returned when a brick afrkit would write to is served by
// a running process.
var ErrBrickBusy = errors.New("volume: a brick process is running")

// CheckOffline refuses when any brick of v is served by a running brick
// process, naming each process and brick.
func (v *Volume) CheckOffline(procDir string) error {
	procs, err := v.BrickProcesses(procDir)
	if err != nil {
		return err
	}
	if len(procs) == 0 {
		return nil
	}
	var lines []string
	for _, p := range procs {
		lines = append(lines, fmt.Sprintf("  brick %s is served by %s (pid %d)", p.Brick, p.Cmd, p.PID))
	}
	return fmt.Errorf("%w: volume %s must be offline for afrkit to write to its bricks:\n%s\nstop it first (gluster volume stop %s)",
		ErrBrickBusy, v.Name, strings.Join(lines, "\n"), v.Name)
}

// afrkit's process locks are flocks on a brick's directories, which
// create nothing on the brick (a refused command leaves every brick as it
// found it), and which glusterfsd never takes:
//
//   - the heal lock, on the brick root: one afrkit process at a time heals
//     or repairs a brick (heal, split-brain resolution, fsck --repair);
//   - the mount lock, on the brick's .glusterfs: one mount at a time
//     serves it.
//
// A heal and a mount share the brick, each fop and each entry heal under
// AFR's locks (package lock). Writers that take no such locks hold both.
type processLock int

const (
	healLock processLock = iota
	mountLock
)

func (l processLock) dir(b *brick.Brick) string {
	if l == mountLock {
		return b.GlusterPath()
	}
	return b.Root
}

func (l processLock) holders() string {
	if l == mountLock {
		return "mounted by another afrkit process (afrkit umount it first)"
	}
	return "in use by another afrkit process (a heal, the heal daemon's round, a split-brain resolution or an fsck --repair)"
}

// ErrInUse is returned when another afrkit process holds a brick's lock.
var ErrInUse = errors.New("in use by another afrkit process")

// inUseError says which brick is held and by what kind of process; it
// is ErrInUse to errors.Is.
type inUseError struct{ msg string }

func (e inUseError) Error() string        { return e.msg }
func (e inUseError) Is(target error) bool { return target == ErrInUse }

// Lock takes the heal lock on every local brick of v: no other afrkit
// process heals or repairs them until the returned function releases it.
// A mount may still write them (see LockUnmounted).
func (v *Volume) Lock() (func(), error) {
	return v.lockBricks(v.localBricks(), healLock)
}

// LockUnmounted takes the heal lock and the mount lock on every local
// brick of v, for writers that take none of AFR's locks (undo, and fsck's
// repairs when no mount runs): they must not run while the volume is
// mounted.
func (v *Volume) LockUnmounted() (func(), error) {
	return v.lockUnmounted(v.localBricks())
}

func (v *Volume) lockUnmounted(bricks []Brick) (func(), error) {
	releaseHeal, err := v.lockBricks(bricks, healLock)
	if err != nil {
		return nil, err
	}
	releaseMount, err := v.lockBricks(bricks, mountLock)
	if err != nil {
		releaseHeal()
		return nil, err
	}
	return func() { releaseMount(); releaseHeal() }, nil
}

// Mounted reports whether an afrkit mount serves a local brick of v: its
// mount lock is held. The answer can be stale the moment it is given: a
// writer that must not run beside a mount takes LockUnmounted instead.
func (v *Volume) Mounted() (bool, error) {
	release, err := v.lockBricks(v.localBricks(), mountLock)
	if errors.Is(err, ErrInUse) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	release()
	return false, nil
}

// LockMount takes the mount lock on brick b of v alone: a mount holds it
// on each brick it serves, and lets go of a brick that fails.
func (v *Volume) LockMount(b Brick) (func(), error) {
	return v.lockBricks([]Brick{b}, mountLock)
}

func (v *Volume) localBricks() []Brick {
	var bricks []Brick
	for _, b := range v.Bricks {
		if b.Local {
			bricks = append(bricks, b)
		}
	}
	return bricks
}

// lockBricks takes the process lock l on the given bricks of v.
func (v *Volume) lockBricks(bricks []Brick, l processLock) (func(), error) {
	var files []*os.File
	release := func() {
		for _, f := range files {
			f.Close() // closing drops the flock
		}
	}
	for _, b := range bricks {
		bb := brick.Beneath(b.Path)
		f, err := bb.OpenDir(l.dir(bb))
		// The lock is the directory's descriptor; the Brick's own must
		// not hold the brick's file system past the lock.
		bb.Close()
		if errors.Is(err, fs.ErrNotExist) {
			// No .glusterfs: not a brick any mount could serve (an
			// emptied disk), so none holds it. No brick root: a brick
			// that is down (its disk gone), which no heal writes: the
			// others heal between themselves, as GlusterFS's do.
			continue
		}
		if err != nil {
			release()
			return nil, fmt.Errorf("volume %s: lock brick %s: %w", v.Name, b, err)
		}
		files = append(files, f)
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			release()
			// EWOULDBLOCK says nothing the message does not.
			return nil, inUseError{fmt.Sprintf("volume %s: brick %s is %s", v.Name, b, l.holders())}
		}
	}
	return release, nil
}
