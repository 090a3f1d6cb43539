package volume

import (
	"bytes"
	"errors"
	"fmt"
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

// Lock takes afrkit's heal lock on every local brick of v, so that two
// afrkit processes never heal the same bricks at once: a flock on the
// brick root's own descriptor, which creates nothing on the brick (a
// refused command leaves every brick as it found it). glusterfsd never
// flocks a brick root. The returned function releases it.
func (v *Volume) Lock() (func(), error) {
	var dirs []Brick
	for _, b := range v.Bricks {
		if b.Local {
			dirs = append(dirs, b)
		}
	}
	return v.lockBricks(dirs)
}

// ErrInUse is returned when another afrkit process holds a brick's lock.
var ErrInUse = errors.New("in use by another afrkit process")

// LockBrick takes afrkit's lock on brick b of v alone: a mount holds it
// on each brick it serves, and lets go of a brick that fails.
func (v *Volume) LockBrick(b Brick) (func(), error) {
	return v.lockBricks([]Brick{b})
}

// lockBricks takes afrkit's lock on the given bricks of v: every afrkit
// process that writes a brick (heal, fsck --repair, a mount) holds it,
// so none writes behind another's back.
func (v *Volume) lockBricks(bricks []Brick) (func(), error) {
	var files []*os.File
	release := func() {
		for _, f := range files {
			f.Close() // closing drops the flock
		}
	}
	for _, b := range bricks {
		bb := brick.Beneath(b.Path)
		f, err := bb.OpenDir(bb.Root)
		// The lock is the directory's descriptor; the Brick's own must
		// not hold the brick's file system past the lock.
		bb.Close()
		if err != nil {
			release()
			return nil, fmt.Errorf("volume %s: lock brick %s: %w", v.Name, b, err)
		}
		files = append(files, f)
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			release()
			return nil, fmt.Errorf("volume %s: brick %s is %w (a heal, an fsck --repair or a mount of the volume): %w", v.Name, b, ErrInUse, err)
		}
	}
	return release, nil
}
