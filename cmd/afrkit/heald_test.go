package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/afrkit/afrkit/fixtures"
	"github.com/afrkit/afrkit/heald"
)

// startHeald runs afrkit heald in this process over env's volumes until
// the test ends, healing when it starts and when asked only (its other
// wake-ups are an hour away), with the data heal capped at maxRate ("" for
// none). It returns the control socket once the daemon serves.
func startHeald(t *testing.T, env testEnv, maxRate string) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "heald.sock")
	daemonIO, _, _ := TestIO()
	ready := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- healdRun(ctx, &HealdOptions{F: &Factory{IO: daemonIO, StateDir: env.state, GlusterdDir: env.glusterd},
			Socket: sock, LogFormat: "text", MaxRate: maxRate, Probe: time.Hour, Settle: time.Hour, Sample: time.Hour, HealTimeout: time.Hour, ready: ready})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("heald: %v", err)
		}
	})
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("heald: %v", err)
	}
	return sock
}

// TestHealHandsOffToTheDaemon: with afrkit heald running, afrkit heal VOL
// asks the daemon and prints its round: the split-brain it leaves, then
// the same resolved once a favorite-child policy is set. --no-daemon, and
// a volume whose daemon is switched off, heal in the command's process.
func TestHealHandsOffToTheDaemon(t *testing.T) {
	dir := t.TempDir()
	v, err := fixtures.Build(dir, "data-split-brain", 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.WriteFile("/docs/new.txt", []byte("made while b1 was down\n"), 1); err != nil {
		t.Fatal(err)
	}
	env := volEnv(dir)
	sock := startHeald(t, env, "")
	// The daemon's first round, at its start, heals what it can.
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, _, err := heald.Client{Path: sock}.Status(context.Background())
		if err == nil && len(st) == 1 && st[0].Rounds > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the daemon's first round did not end: %v %v", st, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	tr := &transcript{t: t, env: env}
	step := tr.step
	step(ExitError, "heal", "fx", "--heald-socket", sock)
	step(ExitOK, "heal", "fx", "status", "--heald-socket", sock)
	step(ExitOK, "volume", "set", "fx", "cluster.favorite-child-policy", "size")
	step(ExitOK, "heal", "fx", "--heald-socket", sock)
	step(ExitOK, "heal", "fx", "--no-daemon", "--heald-socket", sock)
	step(ExitOK, "volume", "set", "fx", "cluster.self-heal-daemon", "off")
	step(ExitOK, "heal", "fx", "--heald-socket", sock)
	step(ExitUsage, "volume", "set", "fx", "cluster.shd-max-threads", "0")
	step(ExitOK, "volume", "set", "fx", "cluster.heal-timeout", "60")
	got := strings.ReplaceAll(tr.String(), sock, "$SOCK")
	got = regexp.MustCompile(`pid \d+`).ReplaceAllLiteralString(scrub(got, dir), "pid $PID")
	got = regexp.MustCompile(`round \d+s ago`).ReplaceAllLiteralString(scrubStatus(got), "round $AGO")
	assertGolden(t, got)
}

// TestSystemdUnitStartsTheDaemon checks that the unit file's command line
// is one afrkit heald accepts: its flags parse and their values pass.
func TestSystemdUnitStartsTheDaemon(t *testing.T) {
	unit, err := os.ReadFile("../../contrib/systemd/afrkit-heald.service")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^ExecStart=/usr/local/bin/afrkit (.*)$`).FindSubmatch(unit)
	if m == nil {
		t.Fatal("no ExecStart running /usr/local/bin/afrkit")
	}
	args := strings.Fields(string(m[1]))
	if args[0] != "heald" {
		t.Fatalf("ExecStart runs afrkit %s", args[0])
	}
	io, _, _ := TestIO()
	cmd := NewCmdHeald(&Factory{IO: io})
	if err := cmd.ParseFlags(args[1:]); err != nil {
		t.Fatalf("afrkit heald %v: %v", args[1:], err)
	}
	if f := cmd.Flags().Lookup("log-format"); f.Value.String() != "json" {
		t.Errorf("--log-format %s", f.Value)
	}
	if f := cmd.Flags().Lookup("metrics-addr"); f.Value.String() != "127.0.0.1:9713" {
		t.Errorf("--metrics-addr %s", f.Value)
	}
}

// TestHealdServesMetrics: afrkit heald --metrics-addr serves Prometheus's
// text exposition at /metrics over HTTP, with the volume's figures.
func TestHealdServesMetrics(t *testing.T) {
	dir := t.TempDir()
	if _, err := fixtures.Build(dir, "pending-data", 2); err != nil {
		t.Fatal(err)
	}
	env := volEnv(dir)
	daemonIO, _, _ := TestIO()
	// The daemon logs while the test reads its log.
	logs := &lockedBuffer{}
	daemonIO.ErrOut = logs
	ready := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- healdRun(ctx, &HealdOptions{F: &Factory{IO: daemonIO, StateDir: env.state, GlusterdDir: env.glusterd},
			Socket: filepath.Join(t.TempDir(), "heald.sock"), LogFormat: "json", MetricsAddr: "127.0.0.1:0",
			Probe: time.Hour, Settle: time.Hour, Sample: 50 * time.Millisecond, HealTimeout: time.Hour, ready: ready})
	}()
	defer func() {
		cancel()
		mustDo(t, <-done)
	}()
	<-ready
	var line struct{ Msg, Addr string }
	for _, l := range strings.Split(logs.String(), "\n") {
		if json.Unmarshal([]byte(l), &line) == nil && line.Msg == "metrics" {
			break
		}
	}
	if line.Addr == "" {
		t.Fatalf("no metrics address in the log:\n%s", logs)
	}
	var body string
	// The heal is counted when it ends, the pending count at the next
	// sample of the backlog (every 50 ms here): both are waited for.
	healed := `afrkit_healed_entries_total{kind="data",volume="fx"} 1`
	pending := `afrkit_heal_pending_entries{brick="localhost:` + dir + `/b0",volume="fx"} 0`
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(body, healed) || !strings.Contains(body, pending) {
		if time.Now().After(deadline) {
			t.Fatalf("GET /metrics never showed the data heal (%s) and b0's pending count falling to 0 (%s):\n%s", healed, pending, body)
		}
		resp, err := http.Get("http://" + line.Addr + "/metrics")
		mustDo(t, err)
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		mustDo(t, err)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
			t.Fatalf("GET /metrics: %s, %s", resp.Status, resp.Header.Get("Content-Type"))
		}
		body = string(b)
		time.Sleep(50 * time.Millisecond)
	}
}

// lockedBuffer is a log one goroutine writes while another reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
