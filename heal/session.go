package heal

import (
	"github.com/afrkit/afrkit/brick/volume"
)

// SessionOptions say how Open starts a heal session.
type SessionOptions struct {
	Engine EngineOptions
	// StateDir is afrkit's state directory: the volume's history (the
	// audit log of resolutions) is kept there, unless Engine.History is
	// set.
	StateDir string
	// ProcDir is where brick processes are looked for (/proc).
	ProcDir string
	// Unmounted is for a writer that takes none of AFR's locks (undo): it
	// is refused while the volume is mounted. A heal and a split-brain
	// resolution take AFR's locks on what they change, and run beside the
	// mount.
	Unmounted bool
}

// Open starts a heal session on v: unless this is a dry run, it checks
// that no brick process serves v's bricks (volume.CheckOffline) and takes
// the heal lock, so that no other heal, daemon's round or fsck --repair
// writes them meanwhile; then it builds the engine. The engine's Close
// lets go of the lock. Every writer of afrkit's (the heal command, the
// split-brain commands, undo, the daemon) opens its session here.
func Open(v *volume.Volume, o SessionOptions) (*Engine, error) {
	release := func() {}
	if !o.Engine.DryRun {
		var err error
		if release, err = LockForWriting(v, o.ProcDir, o.Unmounted); err != nil {
			return nil, err
		}
	}
	if o.Engine.History == nil {
		o.Engine.History = &History{Path: HistoryPath(o.StateDir, v.Name)}
	}
	e, err := NewEngine(v, o.Engine)
	if err != nil {
		release()
		return nil, err
	}
	e.release = release
	return e, nil
}

// LockForWriting is what every writer of afrkit's does before it writes
// v: it checks that no brick process serves v's bricks
// (volume.CheckOffline), then takes the heal lock, and with unmounted the
// mount lock too (a writer that takes no AFR locks: undo, fsck's repairs).
// The function returned lets go of the locks.
func LockForWriting(v *volume.Volume, procDir string, unmounted bool) (func(), error) {
	if err := v.CheckOffline(procDir); err != nil {
		return nil, err
	}
	if unmounted {
		return v.LockUnmounted()
	}
	return v.Lock()
}
