package fsck_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/fixtures"
	"github.com/afrkit/afrkit/fsck"
)

// The crash test re-runs this test binary as a child that repairs a volume
// and SIGKILLs itself just before its Nth change to a brick.
const (
	envCrashDir  = "AFRKIT_FSCK_CRASH_DIR"
	envCrashStep = "AFRKIT_FSCK_CRASH_STEP"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(envCrashDir); dir != "" {
		os.Exit(crashChild(dir))
	}
	os.Exit(m.Run())
}

// crashChild repairs the volume "fx" registered under dir/state. With
// envCrashStep=N it kills itself before change N; otherwise it prints the
// number of changes the repair made.
func crashChild(dir string) int {
	killAt, _ := strconv.Atoi(os.Getenv(envCrashStep))
	v, err := (&volume.Registry{Dir: filepath.Join(dir, "state")}).Load("fx")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	steps := 0
	_, done, _, err := fsck.Converge(func() (*fsck.Report, error) {
		return fsck.CheckVolume(context.Background(), v, fsck.Options{})
	}, fsck.RepairOptions{Repair: true, RenameStale: true, Step: func(string) {
		steps++
		if steps == killAt {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
	}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	for _, r := range done {
		if r.Err != "" {
			fmt.Fprintf(os.Stderr, "repair of %s %s: %s\n", r.Finding.Class, r.Finding.Path, r.Err)
			return 2
		}
	}
	fmt.Println(steps)
	return 0
}

func runChild(t *testing.T, dir string, killAt int) (string, bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envCrashDir+"="+dir, envCrashStep+"="+strconv.Itoa(killAt))
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return out.String(), true
		}
	}
	if err != nil {
		t.Fatalf("child: %v\n%s", err, errOut.String())
	}
	return out.String(), false
}

// volCopy copies the damaged template (cp -a keeps xattrs and hard links)
// to a fresh directory and registers the copy.
func volCopy(t *testing.T, template string, n int) (string, *fixtures.Vol) {
	t.Helper()
	dir := filepath.Join(filepath.Dir(template), fmt.Sprintf("run%d", n))
	if out, err := exec.Command("cp", "-a", template, dir).CombinedOutput(); err != nil {
		t.Fatalf("cp -a: %v: %s", err, out)
	}
	reg := &volume.Registry{Dir: filepath.Join(dir, "state")}
	vol, err := reg.Load("fx")
	if err != nil {
		t.Fatal(err)
	}
	for i := range vol.Bricks {
		vol.Bricks[i].Path = filepath.Join(dir, filepath.Base(vol.Bricks[i].Path))
	}
	if err := reg.Save(vol); err != nil {
		t.Fatal(err)
	}
	v, err := fixtures.Open(vol)
	if err != nil {
		t.Fatal(err)
	}
	return dir, v
}

func summary(rep *fsck.Report) []string {
	var out []string
	for _, f := range rep.Findings {
		out = append(out, string(f.Class)+" "+f.Brick+" "+f.Path)
	}
	slices.Sort(out)
	return out
}

// TestRepairCrashAnywhereConverges damages a volume every way at once,
// kills the repair before each of its changes, runs it again, and checks
// that it always ends where an uninterrupted repair ends: the same findings
// left for a person, and no content lost from the namespace and the
// quarantine together.
func TestRepairCrashAnywhereConverges(t *testing.T) {
	if testing.Short() {
		t.Skip("the crash test runs a repair per kill point")
	}
	template := filepath.Join(t.TempDir(), "template")
	v, err := fixtures.Healthy(template, "fx", 2)
	must(t, err)
	// The brick-root damages go last: the others find entries through
	// the root's gfid.
	var last []damage
	for _, d := range damages() {
		switch {
		case d.name == "volume-id foreign":
		case d.class == fsck.ClassVolumeID || d.class == fsck.ClassRootGFID:
			last = append(last, d)
		default:
			d.apply(t, v)
		}
	}
	for _, d := range last {
		d.apply(t, v)
	}
	var before []map[string]int
	for _, b := range v.Bricks {
		all := contents(t, b.Root, false)
		delete(all, fmt.Sprintf("%x", emptySum))
		before = append(before, all)
	}
	dir, cv := volCopy(t, template, 0)
	out, killed := runChild(t, dir, 0)
	if killed {
		t.Fatal("the counting run was killed")
	}
	total, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil {
		t.Fatalf("step count %q: %v", out, err)
	}
	want := summary(check(t, cv, fsck.Options{}))
	t.Logf("an uninterrupted repair makes %d changes and leaves %d findings for a person", total, len(want))
	if total < 30 {
		t.Fatalf("only %d changes: the scenario does not exercise the repair", total)
	}
	for n := 1; n <= total; n++ {
		dir, cv := volCopy(t, template, n)
		if _, killed := runChild(t, dir, n); !killed {
			t.Fatalf("change %d: the child was not killed", n)
		}
		if _, killed := runChild(t, dir, 0); killed {
			t.Fatalf("change %d: the re-run was killed", n)
		}
		if got := summary(check(t, cv, fsck.Options{})); !slices.Equal(got, want) {
			t.Fatalf("after a kill before change %d, fsck finds\n%s\nwant\n%s", n, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		for i, b := range cv.Bricks {
			after := kept(t, b)
			for h := range before[i] {
				if after[h] < 1 {
					t.Fatalf("after a kill before change %d: b%d lost content %s", n, i, h[:12])
				}
			}
		}
		os.RemoveAll(dir)
	}
}
