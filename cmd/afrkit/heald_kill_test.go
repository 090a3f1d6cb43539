package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pkg/xattr"

	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/fixtures"
	"github.com/afrkit/afrkit/fixtures/crashtest"
	"github.com/afrkit/afrkit/heal"
	"github.com/afrkit/afrkit/heald"
	"github.com/afrkit/afrkit/mount"
)

// TestHealDaemonSurvivesKill9: b2 misses a mixed workload written through
// the mount (small files, a big file, renames, deletes); once it is back,
// the heal daemon is killed with SIGKILL at random moments of its heal
// while a client goes on writing through the mount, and heal status is
// looked at all along. Then one daemon runs to the end: heal info is
// empty, every file reads what the client wrote last, and every brick
// holds the same names and contents. heal status never showed a negative
// count, nor a healed count going down.
func TestHealDaemonSurvivesKill9(t *testing.T) {
	requireMount(t)
	small, big, moves, kills := 2000, 1<<30, 200, crashtest.Kills(100)
	if crashtest.UnderRace() || testing.Short() {
		small, big, moves = 300, 64<<20, 30
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d: %d small files, a %d MiB file, %d renames and deletes, %d kills", seed, small, big>>20, moves, kills)
	rng := rand.New(rand.NewPCG(seed, 1))

	dir := t.TempDir()
	v, err := fixtures.Healthy(dir, "kd", 3)
	mustDo(t, err)
	v.Close()
	env := volEnv(dir)
	b2 := v.V.Bricks[2].Path
	mustDo(t, os.Rename(b2, b2+".away"))
	m, err := mount.Open(v.V, mount.Options{ProbeInterval: 50 * time.Millisecond})
	mustDo(t, err)
	mnt := t.TempDir()
	srv, err := m.Serve(mnt, false)
	mustDo(t, err)
	t.Cleanup(func() {
		if err := srv.Unmount(); err != nil {
			t.Errorf("unmount: %v", err)
		}
		m.Close()
	})

	// What each name must hold at the end; a name absent must be absent.
	want := map[string][]byte{}
	var wantMu sync.Mutex
	put := func(name string, data []byte) {
		mustDo(t, os.WriteFile(filepath.Join(mnt, name), data, 0o644))
		wantMu.Lock()
		want[name] = data
		wantMu.Unlock()
	}
	mustDo(t, os.Mkdir(filepath.Join(mnt, "d"), 0o755))
	for i := 0; i < small; i++ {
		put(fmt.Sprintf("d/s%04d", i), []byte(strings.Repeat(fmt.Sprintf("small %d;", i), 1+i%50)))
	}
	bigData := make([]byte, big)
	for i := range bigData {
		bigData[i] = byte(i*7 + i>>12)
	}
	put("big", bigData)
	for i := 0; i < moves; i++ {
		from, to := fmt.Sprintf("d/s%04d", i), fmt.Sprintf("d/moved%04d", i)
		mustDo(t, os.Rename(filepath.Join(mnt, from), filepath.Join(mnt, to)))
		want[to] = want[from]
		delete(want, from)
		gone := fmt.Sprintf("d/s%04d", small-1-i)
		mustDo(t, os.Remove(filepath.Join(mnt, gone)))
		delete(want, gone)
	}
	mustDo(t, os.Rename(b2+".away", b2))

	// A client writes on through the mount, to old files and new ones.
	ctx, stopClient := context.WithCancel(context.Background())
	var client sync.WaitGroup
	client.Add(1)
	go func() {
		defer client.Done()
		for k := 0; ctx.Err() == nil; k++ {
			name := fmt.Sprintf("d/s%04d", moves+k%(small-2*moves))
			if k%3 == 0 {
				name = fmt.Sprintf("d/new%04d", k)
			}
			put(name, []byte(fmt.Sprintf("client write %d to %s\n", k, name)))
			time.Sleep(5 * time.Millisecond)
		}
	}()

	// heal status, looked at all along.
	var looks []statusJSON
	statusDone := make(chan struct{})
	go func() {
		defer close(statusDone)
		for ctx.Err() == nil {
			code, out, _ := run(t, env, "heal", "kd", "status", "--json", "--heald-socket", filepath.Join(dir, "no.sock"))
			var st statusJSON
			if code == ExitOK && json.Unmarshal([]byte(out), &st) == nil {
				looks = append(looks, st)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}()

	sock := filepath.Join(t.TempDir(), "heald.sock")
	var killedLogs bytes.Buffer // what the killed daemons logged
	daemon := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "--state-dir", env.state, "--glusterd-dir", env.glusterd, "heald",
			"--socket", sock, "--probe", "100ms", "--settle", "100ms", "--sample", "1h", "--io-class", "best-effort")
		cmd.Env = append(os.Environ(), envRunMain+"=1")
		var logs bytes.Buffer
		cmd.Stdout, cmd.Stderr = &logs, &logs
		mustDo(t, cmd.Start())
		return cmd
	}
	for k := 0; k < kills; k++ {
		cmd := daemon()
		time.Sleep(time.Duration(20+rng.IntN(400)) * time.Millisecond)
		mustDo(t, cmd.Process.Signal(syscall.SIGKILL))
		_ = cmd.Wait()
		killedLogs.Write(cmd.Stdout.(*bytes.Buffer).Bytes())
	}
	t.Logf("the killed daemons resumed a data heal from its mark %d times", strings.Count(killedLogs.String(), "data heal resumed"))
	stopClient()
	client.Wait()
	<-statusDone

	cmd := daemon()
	deadline := time.Now().Add(5 * time.Minute)
	// It answers on its socket once its signal handler is in place.
	for {
		if _, _, err := (heald.Client{Path: sock}).Status(context.Background()); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the last daemon never answered on its socket")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for left(t, v.V) > 0 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the last daemon did not heal everything in 5 minutes:\n%s", cmd.Stdout)
		}
		time.Sleep(100 * time.Millisecond)
	}
	mustDo(t, cmd.Process.Signal(syscall.SIGTERM))
	if err := cmd.Wait(); err != nil {
		t.Errorf("the daemon stopped by SIGTERM: %v\n%s", err, cmd.Stdout)
	}

	for name, data := range want {
		if got, err := os.ReadFile(filepath.Join(mnt, name)); err != nil || !bytes.Equal(got, data) {
			t.Errorf("%s through the mount: %d bytes, %v; want the %d bytes written last", name, len(got), err, len(data))
		}
	}
	trees := make([]string, 3)
	for i := range trees {
		trees[i] = brickTree(t, v.V.Bricks[i].Path)
	}
	if trees[0] != trees[1] || trees[0] != trees[2] {
		t.Errorf("the bricks differ after the heal: b0 and b2:\n%s", fixtures.LineDiff(trees[0], trees[2]))
	}
	for name, data := range want {
		if got, err := os.ReadFile(filepath.Join(b2, name)); err != nil || !bytes.Equal(got, data) {
			t.Errorf("b2's %s: %d bytes, %v", name, len(got), err)
		}
	}

	if len(looks) < 2 {
		t.Fatalf("heal status answered %d times", len(looks))
	}
	for i, st := range looks {
		if st.Entries < 0 || st.SplitBrain < 0 || st.Unclassified < 0 || st.Healed < 0 || st.Rate < 0 || (st.ETASeconds != nil && *st.ETASeconds < 0) {
			t.Errorf("look %d shows a negative figure: %+v", i, st)
		}
		if i > 0 && st.Healed < looks[i-1].Healed {
			t.Errorf("look %d: healed went down from %d to %d", i, looks[i-1].Healed, st.Healed)
		}
	}
	if first, last := looks[0], looks[len(looks)-1]; last.Healed == 0 || first.Entries == last.Entries && first.Healed == last.Healed {
		t.Errorf("heal status froze: first %+v, last %+v", first, last)
	}
}

// left is what heal info lists on every brick of v, summed.
func left(t *testing.T, v *volume.Volume) int {
	t.Helper()
	b, err := heal.ScanVolume(context.Background(), v, heal.NewStatusCache(), heal.BacklogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return b.Left()
}

// brickTree lists what a brick serves, a line per name outside
// .glusterfs: type, mode, gfid and a hash of the content (files are
// hashed as they are read: the big one is a gigabyte).
func brickTree(t *testing.T, root string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == ".glusterfs" {
			return filepath.SkipDir
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		gfid, _ := xattr.LGet(p, "trusted.gfid")
		fmt.Fprintf(&b, "%s %v %x", rel, info.Mode(), gfid)
		if info.Mode().IsRegular() {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			h := sha256.New()
			_, err = io.Copy(h, f)
			f.Close()
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, " %d %x", info.Size(), h.Sum(nil))
		}
		b.WriteString("\n")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
