package mount_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/pkg/xattr"

	"github.com/afrkit/afrkit/fixtures"
	"github.com/afrkit/afrkit/heal"
	"github.com/afrkit/afrkit/mount"
)

// TestSplitBrainThroughTheMount: a file in data split-brain reads EIO
// through the mount; replica.split-brain-status says so in GlusterFS's
// words; replica.split-brain-choice reads the chosen copy until "none"
// takes it back; replica.split-brain-heal-finalize resolves it with the
// chosen copy as source, keeping the other and recording it in the
// volume's history, after which the file reads the winner.
func TestSplitBrainThroughTheMount(t *testing.T) {
	requireFUSE(t)
	dir := t.TempDir()
	v, err := fixtures.Healthy(dir, "sb", 2)
	if err != nil {
		t.Fatal(err)
	}
	p := fixtures.HelloPath
	if err := v.Overwrite(p, []byte("b0's version\n"), 1); err != nil {
		t.Fatal(err)
	}
	if err := v.Overwrite(p, []byte("b1's longer version\n"), 0); err != nil {
		t.Fatal(err)
	}
	history := heal.HistoryPath(filepath.Join(dir, "state"), "sb")
	m, err := mount.Open(v.V, mount.Options{HistoryPath: history})
	if err != nil {
		t.Fatal(err)
	}
	mnt := t.TempDir()
	srv, err := m.Serve(mnt, false)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		srv.Unmount()
		m.Close()
	}()
	f := filepath.Join(mnt, p)
	if _, err := os.ReadFile(f); !errors.Is(err, syscall.EIO) {
		t.Errorf("reading a file in data split-brain: %v, want EIO", err)
	}
	status := func() string {
		t.Helper()
		v, err := xattr.Get(f, "replica.split-brain-status")
		if err != nil {
			t.Fatalf("getfattr replica.split-brain-status: %v", err)
		}
		return string(v)
	}
	if got, want := status(), "data-split-brain:yes    metadata-split-brain:no    Choices:sb-client-0,sb-client-1\x00"; got != want {
		t.Errorf("split-brain status %q, want %q", got, want)
	}
	if got, want := func() string {
		v, _ := xattr.Get(filepath.Join(mnt, fixtures.ReadmePath), "replica.split-brain-status")
		return string(v)
	}(), "The file is not under data or metadata split-brain\x00"; got != want {
		t.Errorf("a healthy file's split-brain status %q, want %q", got, want)
	}

	if err := xattr.Set(f, "replica.split-brain-choice", []byte("sb-client-1")); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(f); err != nil || string(got) != "b1's longer version\n" {
		t.Errorf("read with sb-client-1 chosen: %q, %v", got, err)
	}
	if err := xattr.Set(f, "replica.split-brain-choice", []byte("none")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.ReadFile(f); !errors.Is(err, syscall.EIO) {
		t.Errorf("read after the choice was taken back: %v, want EIO", err)
	}
	if err := xattr.Set(f, "replica.split-brain-choice", []byte("sb-client-7")); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("choosing a brick the volume does not have: %v, want EINVAL", err)
	}

	if err := xattr.Set(f, "replica.split-brain-heal-finalize", []byte("sb-client-0")); err != nil {
		t.Fatalf("finalize with sb-client-0: %v", err)
	}
	if got, err := os.ReadFile(f); err != nil || string(got) != "b0's version\n" {
		t.Errorf("read after finalize: %q, %v", got, err)
	}
	if got := status(); !strings.HasPrefix(got, "The file is not under") {
		t.Errorf("status after finalize: %q", got)
	}
	records, err := (&heal.History{Path: history}).Read()
	if err != nil || len(records) != 1 {
		t.Fatalf("history after finalize: %d records, %v", len(records), err)
	}
	kept := false
	for _, k := range records[0].Kept {
		if b, err := os.ReadFile(k.Path); err == nil && string(b) == "b1's longer version\n" {
			kept = true
		}
	}
	if !kept {
		t.Errorf("the losing copy is not in the keep store: %+v", records[0])
	}
}
