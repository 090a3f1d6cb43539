package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/afrkit/afrkit/fixtures"
)

// envRunMain makes the test binary run afrkit's Main instead of the tests,
// so that a test can signal a real afrkit process.
const envRunMain = "AFRKIT_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(envRunMain) != "" {
		args, ok := mainArgs(os.Args)
		if !ok {
			os.Exit(0)
		}
		os.Exit(int(Main(args, SystemIO())))
	}
	os.Exit(m.Run())
}

// TestHealStopsOnSignal: SIGINT or SIGTERM stops a heal at the next safe
// point with a message and exit status 130; what it healed stays healed,
// and the next heal finishes the rest.
func TestHealStopsOnSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			v, err := fixtures.Healthy(dir, "fx", 2)
			mustDo(t, err)
			const files = 1000
			for i := 0; i < files; i++ {
				mustDo(t, v.WriteFile(fmt.Sprintf("/f%04d", i), []byte("made while b1 was down\n"), 1))
			}
			env := volEnv(dir)
			cmd := exec.Command(os.Args[0], "--state-dir", env.state, "--glusterd-dir", env.glusterd, "heal", "fx")
			cmd.Env = append(os.Environ(), envRunMain+"=1")
			var out, errOut bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errOut
			mustDo(t, cmd.Start())
			// Signal once the heal has begun to write b1.
			deadline := time.Now().Add(time.Minute)
			for time.Now().Before(deadline) {
				if _, err := os.Lstat(filepath.Join(v.Bricks[1].Root, "f0000")); err == nil {
					break
				}
				time.Sleep(time.Millisecond)
			}
			mustDo(t, cmd.Process.Signal(sig))
			err = cmd.Wait()
			code := cmd.ProcessState.ExitCode()
			if code == 0 {
				t.Skipf("the heal finished before %v reached it", sig)
			}
			if code != int(ExitInterrupted) || !strings.Contains(errOut.String(), "interrupted; what was healed so far is committed") {
				t.Fatalf("heal after %v: %v, exit %d\n%s%s", sig, err, code, out.String(), errOut.String())
			}
			healed := 0
			for i := 0; i < files; i++ {
				if got, err := os.ReadFile(filepath.Join(v.Bricks[1].Root, fmt.Sprintf("f%04d", i))); err == nil && len(got) > 0 {
					healed++
				}
			}
			t.Logf("%v stopped the heal with %d of %d files' data copied", sig, healed, files)
			if code, out, errOut := run(t, env, "heal", "fx"); code != ExitOK {
				t.Fatalf("the heal after the interrupted one: exit %d\n%s%s", code, out, errOut)
			}
			if code, out, _ := run(t, env, "heal", "fx", "info", "summary"); code != ExitOK || strings.Count(out, "Total Number of entries: 0") != 2 {
				t.Errorf("after the second heal (exit %d):\n%s", code, out)
			}
			for i := 0; i < files; i += 97 {
				got, err := os.ReadFile(filepath.Join(v.Bricks[1].Root, fmt.Sprintf("f%04d", i)))
				if err != nil || string(got) != "made while b1 was down\n" {
					t.Errorf("b1's /f%04d: %q, %v", i, got, err)
				}
			}
		})
	}
}

// signalMidway starts afrkit with args, sends sig once begun reports the
// work has begun, and returns the exit code and output. ok is false when
// the command finished before the signal reached it.
func signalMidway(t *testing.T, env testEnv, sig syscall.Signal, begun func() bool, args ...string) (code int, out, errOut string, ok bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"--state-dir", env.state, "--glusterd-dir", env.glusterd}, args...)...)
	cmd.Env = append(os.Environ(), envRunMain+"=1")
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	mustDo(t, cmd.Start())
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) && !begun() {
		time.Sleep(time.Millisecond)
	}
	mustDo(t, cmd.Process.Signal(sig))
	_ = cmd.Wait()
	code = cmd.ProcessState.ExitCode()
	return code, o.String(), e.String(), code != 0
}

// TestSplitBrainAndFsckStopOnSignal: SIGTERM stops source-brick without a
// file between two entries, and fsck --rename-stale between two fixes,
// each with exit status 130 and a message; what they did stays done, and
// running them again finishes the rest.
func TestSplitBrainAndFsckStopOnSignal(t *testing.T) {
	const files = 400
	t.Run("split-brain", func(t *testing.T) {
		dir := t.TempDir()
		v, err := fixtures.Healthy(dir, "fx", 2)
		mustDo(t, err)
		for i := 0; i < files; i++ {
			p := fmt.Sprintf("/sb%04d", i)
			mustDo(t, v.WriteFile(p, []byte("both\n")))
			mustDo(t, v.Overwrite(p, []byte("b0's\n"), 1))
			mustDo(t, v.Overwrite(p, []byte("b1's version\n"), 0))
		}
		env := volEnv(dir)
		kept := filepath.Join(v.Bricks[1].Root, ".glusterfs", "afrkit", "kept")
		code, out, errOut, ok := signalMidway(t, env, syscall.SIGTERM, func() bool { _, err := os.Stat(kept); return err == nil },
			"heal", "fx", "split-brain", "source-brick", "b0")
		if !ok {
			t.Skip("the command finished before the signal reached it")
		}
		if code != int(ExitInterrupted) || !strings.Contains(errOut, "interrupted; what was resolved is committed") || !strings.Contains(out, "Number of healed entries: ") {
			t.Fatalf("source-brick after SIGTERM: exit %d\n%s%s", code, out, errOut)
		}
		if code, out, errOut := run(t, env, "heal", "fx", "split-brain", "source-brick", "b0"); code != ExitOK {
			t.Fatalf("source-brick again: exit %d\n%s%s", code, out, errOut)
		}
		if code, out, _ := run(t, env, "heal", "fx", "info", "summary"); code != ExitOK || strings.Count(out, "Total Number of entries: 0") != 2 {
			t.Errorf("after the second run (exit %d):\n%s", code, out)
		}
		for i := 0; i < files; i += 37 {
			for _, b := range v.Bricks {
				if got, err := os.ReadFile(filepath.Join(b.Root, fmt.Sprintf("sb%04d", i))); err != nil || string(got) != "b0's\n" {
					t.Errorf("%s's /sb%04d: %q, %v", b.Root, i, got, err)
				}
			}
		}
	})
	t.Run("fsck", func(t *testing.T) {
		dir := t.TempDir()
		v, err := fixtures.Healthy(dir, "fx", 2)
		mustDo(t, err)
		for i := 0; i < files; i++ {
			mustDo(t, v.WriteFile(fmt.Sprintf("/.f%04d.json.AbvgGY", i), []byte("an interrupted rsync's\n")))
		}
		env := volEnv(dir)
		renamed := filepath.Join(v.Bricks[0].Root, "f0000.json")
		code, out, errOut, ok := signalMidway(t, env, syscall.SIGTERM, func() bool { _, err := os.Lstat(renamed); return err == nil },
			"fsck", "fx", "--rename-stale")
		if !ok {
			t.Skip("fsck finished before the signal reached it")
		}
		if code != int(ExitInterrupted) || !strings.Contains(errOut, "fsck fx: interrupted; what was repaired is kept") || !strings.Contains(out, "Repaired before the interruption (") {
			t.Fatalf("fsck --rename-stale after SIGTERM: exit %d\n%s%s", code, out, errOut)
		}
		if code, out, errOut := run(t, env, "fsck", "fx", "--rename-stale"); code != ExitFsckRepaired {
			t.Fatalf("fsck --rename-stale again: exit %d\n%s%s", code, out, errOut)
		}
		if code, out, errOut := run(t, env, "fsck", "fx"); code != ExitFsckClean {
			t.Fatalf("fsck after both: exit %d\n%s%s", code, out, errOut)
		}
		for i := 0; i < files; i += 37 {
			for _, b := range v.Bricks {
				if got, err := os.ReadFile(filepath.Join(b.Root, fmt.Sprintf("f%04d.json", i))); err != nil || string(got) != "an interrupted rsync's\n" {
					t.Errorf("%s's /f%04d.json: %q, %v", b.Root, i, got, err)
				}
			}
		}
	})
}
