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
		os.Exit(int(Main(os.Args[1:], SystemIO())))
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
