package heald

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// SocketPath is where the daemon's control socket is: /run/afrkit for
// root, a directory of the user's under the temporary directory for
// anyone else.
func SocketPath() string {
	if os.Geteuid() == 0 {
		return "/run/afrkit/heald.sock"
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("afrkit-heald-%d.sock", os.Geteuid()))
}

// request is one line a client sends.
type request struct {
	Op     string `json:"op"` // "status" or "heal"
	Volume string `json:"volume,omitempty"`
}

// response is the line the daemon answers.
type response struct {
	PID     int           `json:"pid"`
	Volumes []VolumeStats `json:"volumes,omitempty"`
	Round   *Round        `json:"round,omitempty"`
	Error   string        `json:"error,omitempty"`
	// NotServed: the daemon does not heal the volume (ErrNotServed).
	NotServed bool `json:"not_served,omitempty"`
}

// Listen makes the control socket at path, readable and writable by its
// owner only, in a directory only the owner can enter. A socket file left
// by a daemon that died is replaced; one a live daemon answers on is not.
func Listen(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("control socket %s: another heal daemon answers there", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	old := unix.Umask(0o077)
	l, err := net.Listen("unix", path)
	unix.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	return l, nil
}

// Serve answers the control socket's clients until ctx ends. Only root
// and the daemon's own user are answered: a heal request makes the
// daemon write to every brick.
func (d *Daemon) Serve(ctx context.Context, l net.Listener) {
	go func() {
		<-ctx.Done()
		l.Close()
	}()
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go d.answer(ctx, c)
	}
}

func (d *Daemon) answer(ctx context.Context, c net.Conn) {
	defer c.Close()
	enc := json.NewEncoder(c)
	resp := response{PID: os.Getpid()}
	if err := allowed(c); err != nil {
		resp.Error = err.Error()
		enc.Encode(resp)
		return
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(c).ReadBytes('\n')
	if err != nil {
		return
	}
	c.SetReadDeadline(time.Time{})
	var req request
	if err := json.Unmarshal(line, &req); err != nil {
		resp.Error = "not a request: " + err.Error()
		enc.Encode(resp)
		return
	}
	switch req.Op {
	case "status":
		resp.Volumes = d.stats.Snapshot()
	case "heal":
		r, err := d.Heal(ctx, req.Volume)
		if err != nil {
			resp.Error, resp.NotServed = err.Error(), errors.Is(err, ErrNotServed)
		} else {
			resp.Round = &r
		}
	default:
		resp.Error = fmt.Sprintf("unknown op %q: want status or heal", req.Op)
	}
	enc.Encode(resp)
}

// allowed checks the peer's credentials: root, or the daemon's user.
func allowed(c net.Conn) error {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return errors.New("not a unix socket")
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return err
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return err
	}
	if cerr != nil {
		return fmt.Errorf("peer credentials: %w", cerr)
	}
	if cred.Uid != 0 && int(cred.Uid) != os.Geteuid() {
		return fmt.Errorf("uid %d may not use the heal daemon's socket", cred.Uid)
	}
	return nil
}

// ErrNoDaemon is returned by a client when no daemon answers.
var ErrNoDaemon = errors.New("no heal daemon answers")

// Client talks to a running daemon through its control socket.
type Client struct{ Path string }

func (cl Client) call(ctx context.Context, req request) (response, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", cl.Path)
	if err != nil {
		return response{}, fmt.Errorf("%w at %s: %v", ErrNoDaemon, cl.Path, err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	line, _ := json.Marshal(req)
	if _, err := c.Write(append(line, '\n')); err != nil {
		return response{}, fmt.Errorf("heal daemon at %s: %w", cl.Path, err)
	}
	var resp response
	if err := json.NewDecoder(c).Decode(&resp); err != nil {
		if ctx.Err() != nil {
			return response{}, ctx.Err()
		}
		return response{}, fmt.Errorf("heal daemon at %s: %w", cl.Path, err)
	}
	if resp.NotServed {
		return resp, fmt.Errorf("%w: %s", ErrNotServed, resp.Error)
	}
	if resp.Error != "" {
		return resp, fmt.Errorf("heal daemon (pid %d): %s", resp.PID, resp.Error)
	}
	return resp, nil
}

// Heal asks the daemon for a round on vol and waits for it: the round
// and the daemon's pid.
func (cl Client) Heal(ctx context.Context, vol string) (Round, int, error) {
	resp, err := cl.call(ctx, request{Op: "heal", Volume: vol})
	if err != nil {
		return Round{}, resp.PID, err
	}
	if resp.Round == nil {
		return Round{}, resp.PID, fmt.Errorf("heal daemon (pid %d): no round in the answer", resp.PID)
	}
	return *resp.Round, resp.PID, nil
}

// Status is every volume's stats as the daemon has them, and its pid.
func (cl Client) Status(ctx context.Context) ([]VolumeStats, int, error) {
	resp, err := cl.call(ctx, request{Op: "status"})
	return resp.Volumes, resp.PID, err
}
