package heald_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/fixtures"
	"github.com/afrkit/afrkit/heal"
	"github.com/afrkit/afrkit/heald"
)

// running starts a daemon over the volumes registered under dir, with
// short intervals, until the test ends. It serves its control socket at
// the returned path.
func running(t *testing.T, dir string, opts heald.Options) (*heald.Daemon, string) {
	t.Helper()
	opts.Catalog = &volume.Catalog{Registry: &volume.Registry{Dir: filepath.Join(dir, "state")}, Glusterd: &volume.Glusterd{Dir: filepath.Join(dir, "no-glusterd")}}
	opts.StateDir = filepath.Join(dir, "state")
	opts.Log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	for _, d := range []*time.Duration{&opts.Probe, &opts.Settle, &opts.Sample} {
		if *d == 0 {
			*d = 100 * time.Millisecond
		}
	}
	if opts.Retry == 0 {
		opts.Retry = 300 * time.Millisecond
	}
	d := heald.New(opts)
	ctx, cancel := context.WithCancel(context.Background())
	sock := filepath.Join(t.TempDir(), "heald.sock")
	l, err := heald.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	go d.Serve(ctx, l)
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
	})
	return d, sock
}

// testWriter sends the daemon's log to the test's.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// left is what heal info would list on every brick of v, summed.
func left(t *testing.T, v *volume.Volume) int {
	t.Helper()
	b, err := heal.ScanVolume(context.Background(), v, heal.NewStatusCache(), heal.BacklogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return b.Left()
}

// eventually fails the test unless cond holds within d.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("AFRKIT_REQUIRE_ROOT") != "" {
			t.Fatal("AFRKIT_REQUIRE_ROOT is set, but this test needs root (trusted.* xattrs)")
		}
		t.Skip("needs root: trusted.* xattrs")
	}
}

func TestDaemonHealsWhatABrickMissed(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir()
	v, err := fixtures.Healthy(dir, "hd", 3)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := running(t, dir, heald.Options{})
	want := map[string][]byte{}
	for i := 0; i < 20; i++ {
		p := fmt.Sprintf("/f%02d", i)
		want[p] = []byte(strings.Repeat(p, 100))
		// b2 misses it: b0 and b1 blame it, and the xattrop index wakes
		// the daemon.
		if err := v.WriteFile(p, want[p], 2); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 20*time.Second, "the daemon heals the 20 files", func() bool { return left(t, v.V) == 0 })
	for p, data := range want {
		if got, err := os.ReadFile(filepath.Join(v.Bricks[2].Root, p)); err != nil || !bytes.Equal(got, data) {
			t.Errorf("b2's %s: %q, %v", p, got, err)
		}
	}
	// The round is counted once it ends, a moment after its last heal
	// lands on the brick.
	eventually(t, 20*time.Second, "the stats count the 20 data heals", func() bool {
		st := d.Stats().Snapshot()
		return len(st) == 1 && st[0].Entries["data"] >= 20 && st[0].Rounds > 0
	})
}

func TestDaemonHealsABrickThatComesBack(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir()
	v, err := fixtures.Healthy(dir, "hd", 3)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := running(t, dir, heald.Options{})
	gone := v.Bricks[1].Root + ".gone"
	if err := os.Rename(v.Bricks[1].Root, gone); err != nil {
		t.Fatal(err)
	}
	brick1 := v.V.Bricks[1].String()
	eventually(t, 10*time.Second, "the daemon sees b1 down", func() bool {
		st := d.Stats().Snapshot()
		return len(st) == 1 && !st[0].BrickUp[brick1]
	})
	// Written while b1 is gone: the daemon's rounds cannot heal it.
	if err := v.WriteFile("/while-b1-was-gone", []byte("b1 missed this\n"), 1); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if n := left(t, v.V); n == 0 {
		t.Fatal("nothing left to heal while b1 is gone")
	}
	if err := os.Rename(gone, v.Bricks[1].Root); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the daemon heals b1 once it is back", func() bool { return left(t, v.V) == 0 })
	if got, err := os.ReadFile(filepath.Join(v.Bricks[1].Root, "while-b1-was-gone")); err != nil || string(got) != "b1 missed this\n" {
		t.Errorf("b1's copy: %q, %v", got, err)
	}
}

func TestHealThroughTheControlSocket(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir()
	v, err := fixtures.Build(dir, "data-split-brain", 2)
	if err != nil {
		t.Fatal(err)
	}
	// The sweep and the index do not wake it: only the request does.
	_, sock := running(t, dir, heald.Options{Settle: time.Hour, Sweep: time.Hour, Retry: time.Hour})
	cl := heald.Client{Path: sock}
	r, pid, err := cl.Heal(context.Background(), "fx")
	if err != nil || pid != os.Getpid() {
		t.Fatalf("heal: pid %d, %v", pid, err)
	}
	if len(r.Left) != 1 || !r.Left[0].SplitBrain || r.Left[0].Path != fixtures.HelloPath || r.Why != "requested" {
		t.Fatalf("round %+v, want the split-brain left", r)
	}
	if _, _, err := cl.Heal(context.Background(), "nosuch"); err == nil || !strings.Contains(err.Error(), heald.ErrNotServed.Error()) {
		t.Errorf("a volume the daemon does not know: %v", err)
	}
	v.V.Options["cluster.self-heal-daemon"] = "off"
	if err := (&volume.Registry{Dir: filepath.Join(dir, "state")}).Save(v.V); err != nil {
		t.Fatal(err)
	}
	if _, _, err := cl.Heal(context.Background(), "fx"); err == nil || !strings.Contains(err.Error(), "cluster.self-heal-daemon is off") {
		t.Errorf("a volume whose daemon is off: %v", err)
	}
	if _, _, err := (heald.Client{Path: filepath.Join(dir, "none.sock")}).Heal(context.Background(), "fx"); err == nil || !strings.Contains(err.Error(), heald.ErrNoDaemon.Error()) {
		t.Errorf("no daemon: %v", err)
	}
	if _, err := heald.Listen(sock); err == nil {
		t.Error("a second daemon listened on the socket of a live one")
	}
}

func TestMetricsPassPromtool(t *testing.T) {
	requireRoot(t)
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("AFRKIT_REQUIRE_ROOT") != "" {
			t.Fatal("AFRKIT_REQUIRE_ROOT is set, but promtool (Debian's prometheus) is not installed")
		}
		t.Skip("needs promtool")
	}
	dir := t.TempDir()
	v, err := fixtures.Build(dir, "data-split-brain", 2)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := running(t, dir, heald.Options{})
	if err := v.WriteFile("/pending", []byte("b1 missed this\n"), 1); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(heald.NewCollector(d))
	var text string
	eventually(t, 20*time.Second, "the metrics show the heal done and the split-brain left", func() bool {
		text = expose(t, reg)
		return strings.Contains(text, `afrkit_healed_entries_total{kind="data",volume="fx"} 1`) &&
			strings.Contains(text, `afrkit_heal_split_brain_entries{brick="localhost:`+dir+`/b0",volume="fx"} 1`)
	})
	for _, want := range []string{"afrkit_brick_up{", "afrkit_heal_pending_entries{", "afrkit_heal_pending_kind_entries{", "afrkit_heal_pending_bytes{", "afrkit_heal_last_sweep_timestamp_seconds{", "afrkit_heal_rounds_total{", "afrkit_heal_rate_entries_per_second{"} {
		if !strings.Contains(text, want) {
			t.Errorf("no %s in:\n%s", want, text)
		}
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s\n%s", err, out, text)
	}
}

// expose is the registry's text exposition, as a scrape gets it.
func expose(t *testing.T, reg *prometheus.Registry) string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}
