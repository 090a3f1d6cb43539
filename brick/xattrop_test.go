package brick

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"

	"github.com/afrkit/afrkit/afr"
)

// envAddChild makes the test binary a child that adds to a counter and
// exits, for the cross-process half of TestAddChangelogIsAtomic.
const envAddChild = "AFRKIT_TEST_ADD_CHANGELOG"

// TestAddChangelogIsAtomic: goroutines and another process add to one
// counter at once, as the mount, heal and fsck will; no update is lost.
// A read-modify-write without the lock loses some within a few thousand
// adds.
func TestAddChangelogIsAtomic(t *testing.T) {
	if root := os.Getenv(envAddChild); root != "" {
		t.Skip("the child's work runs in TestAddChangelogChild")
	}
	b := newBrick(t)
	mustCreate(t, b, NewEntry{Path: "/f", Type: afr.TypeRegular, Mode: 0o644, GFID: NewGFID()})
	abs, err := b.Abs("/f")
	if err != nil {
		t.Fatal(err)
	}
	const goroutines, each = 8, 250
	child := exec.Command(os.Args[0], "-test.run=^TestAddChangelogChild$", "-test.count=1")
	child.Env = append(os.Environ(), envAddChild+"="+b.Root, "AFRKIT_TEST_ADDS="+strconv.Itoa(each*2))
	var childOut bytes.Buffer
	child.Stdout, child.Stderr = &childOut, &childOut
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if _, err := b.AddChangelog(abs, "/f", "afr.fx-client-1", afr.Changelog{1, 0, 0}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := child.Wait(); err != nil {
		t.Fatalf("child: %v\n%s", err, childOut.String())
	}
	got, err := b.ReadChangelog(abs, "/f", "afr.fx-client-1")
	if err != nil {
		t.Fatal(err)
	}
	if want := int32(goroutines*each + each*2); got[afr.Data] != want {
		t.Errorf("data counter %d after %d adds: %d updates lost", got[afr.Data], want, want-got[afr.Data])
	}
}

// TestAddChangelogChild is the other process of TestAddChangelogIsAtomic.
func TestAddChangelogChild(t *testing.T) {
	root := os.Getenv(envAddChild)
	if root == "" {
		t.Skip("run by TestAddChangelogIsAtomic")
	}
	n, _ := strconv.Atoi(os.Getenv("AFRKIT_TEST_ADDS"))
	b, err := Open(root, DefaultNS())
	if err != nil {
		t.Fatal(err)
	}
	abs, err := b.Abs("/f")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if _, err := b.AddChangelog(abs, "/f", "afr.fx-client-1", afr.Changelog{1, 0, 0}); err != nil {
			t.Fatal(err)
		}
	}
}
