// Package glustercli runs GlusterFS's own gluster command against one
// glusterd, for what only glusterd does: starting the heal of GlusterFS's
// self-heal daemons, on every server of the pool. glusterd's management
// protocol has one client that GlusterFS keeps in step with it, the gluster
// command, installed wherever glusterd is; afrkit uses it rather than a
// second implementation of that protocol.
package glustercli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// ErrNotInstalled is returned when the gluster command is not found.
var ErrNotInstalled = errors.New("GlusterFS's gluster command is not installed (Debian: apt-get install glusterfs-cli; RPM: glusterfs-cli)")

// CLI is the gluster command pointed at one glusterd.
type CLI struct {
	// Socket is glusterd's unix socket (gluster --glusterd-sock); empty:
	// the command's default.
	Socket string
	// Path is the gluster command; empty: "gluster", found on $PATH.
	Path string
	// BusyFor is how long a command refused because glusterd runs another
	// transaction (it runs one at a time, pool-wide) is tried again.
	BusyFor time.Duration
}

// Error is a command that glusterd refused or failed, in its own words.
type Error struct {
	// Program is the command: gluster or glfsheal.
	Program string
	Args    []string
	// Message is what the command printed, its lines joined.
	Message string
	Err     error
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s %s: %s", e.Program, strings.Join(e.Args, " "), e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Run runs the command in script mode (no question is asked) and returns
// what it printed on stdout. A refusal for another transaction under way
// is tried again every half second for BusyFor.
func (c CLI) Run(ctx context.Context, args ...string) (string, error) {
	path := c.Path
	if path == "" {
		path = "gluster"
	}
	full := []string{"--mode=script"}
	if c.Socket != "" {
		full = append(full, "--glusterd-sock="+c.Socket)
	}
	full = append(full, args...)
	deadline := time.Now().Add(c.BusyFor)
	for {
		out, err := run(ctx, path, full, ErrNotInstalled)
		var gerr *Error
		if !errors.As(err, &gerr) {
			return out, err
		}
		gerr.Args = args
		if !busy(gerr.Message) || !time.Now().Before(deadline) {
			return out, err
		}
		select {
		case <-ctx.Done():
			return out, fmt.Errorf("gluster %s: %w", strings.Join(args, " "), ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// run runs a GlusterFS program and returns its stdout; one that fails is
// an *Error with what it printed, one that is not there missing.
func run(ctx context.Context, path string, args []string, missing error) (string, error) {
	cmd := exec.CommandContext(ctx, path, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) { // not on $PATH; not at path
		return "", fmt.Errorf("%s: %w", path, missing)
	}
	if err == nil {
		return out.String(), nil
	}
	if ctx.Err() != nil {
		return out.String(), fmt.Errorf("%s: %w", filepath.Base(path), ctx.Err())
	}
	return out.String(), &Error{Program: filepath.Base(path), Args: args, Message: oneLine(out.String() + "\n" + errb.String()), Err: err}
}

// busy reports whether glusterd refused a command for another transaction
// under way, which a later try gets past.
func busy(msg string) bool {
	for _, s := range []string{"Another transaction", "Locking failed on", "try again after some time"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// oneLine joins the non-empty lines of what the command printed.
func oneLine(s string) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, " ")
}

// Sweep is what a heal asks the self-heal daemons to look at.
type Sweep int

const (
	// Index heals what the bricks' indexes list (gluster volume heal VOL).
	Index Sweep = iota
	// Full crawls every brick and heals what differs, listed or not
	// (gluster volume heal VOL full).
	Full
)

func (s Sweep) String() string {
	if s == Full {
		return "full"
	}
	return "index"
}

// Args are the gluster command's arguments that start the sweep on vol.
func (s Sweep) Args(vol string) []string {
	if s == Full {
		return []string{"volume", "heal", vol, "full"}
	}
	return []string{"volume", "heal", vol}
}

// Heal asks glusterd to have the self-heal daemons of every server that
// holds a brick of vol start the sweep, and returns glusterd's answer. It
// returns once the daemons took the request, not once they healed: the
// bricks' indexes say how far they are. glusterd refuses when the volume's
// self-heal daemon is off or a brick is down; the Error says so in
// glusterd's words.
func (c CLI) Heal(ctx context.Context, vol string, s Sweep) (string, error) {
	out, err := c.Run(ctx, s.Args(vol)...)
	return oneLine(out), err
}

// ErrNoGlfsheal is returned when GlusterFS's glfsheal is not found.
var ErrNoGlfsheal = errors.New("GlusterFS's glfsheal is not installed (Debian and RPM: glusterfs-server)")

// glfshealPaths are where GlusterFS's packages install glfsheal (its
// libexecdir): Debian's multiarch directories, then RPM's.
var glfshealPaths = []string{"/usr/lib/*/glusterfs/glfsheal", "/usr/libexec/glusterfs/glfsheal", "/usr/lib/glusterfs/glfsheal"}

// Glfsheal is GlusterFS's glfsheal, the program that `gluster volume heal
// VOL info` and `... split-brain` run, run against one glusterd: the
// gluster command runs it against the default socket alone, and afrkit
// passes the one it was given (glusterd-sock), as GlusterFS's tests do for
// a pool of several glusterds.
type Glfsheal struct {
	// Path is the program; empty: found where GlusterFS's packages put it.
	Path string
	// Socket is glusterd's unix socket; empty: glfsheal's default.
	Socket string
}

func (g Glfsheal) path() string {
	if g.Path != "" {
		return g.Path
	}
	for _, pattern := range glfshealPaths {
		if found, _ := filepath.Glob(pattern); len(found) > 0 {
			return found[0]
		}
	}
	return "glfsheal"
}

// SourceBrick has GlusterFS's AFR resolve the split-brain of file (a path
// from the volume's root) from brick's copy (host:/path), as `gluster
// volume heal VOL split-brain source-brick BRICK FILE` does: of any kind,
// the gfid split-brains that a client's finalize cannot resolve included.
// It returns glfsheal's answer ("GFID split-brain resolved for file
// FILE", "Healed FILE."); a failure is an *Error in its words.
func (g Glfsheal) SourceBrick(ctx context.Context, vol, brick, file string) (string, error) {
	args := []string{vol, "source-brick", brick, file, "--nolog"}
	if g.Socket != "" {
		args = append(args, "glusterd-sock", g.Socket)
	}
	out, err := run(ctx, g.path(), args, ErrNoGlfsheal)
	return oneLine(out), err
}
