package heald_test

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/afrkit/afrkit/fixtures"
	"github.com/afrkit/afrkit/fixtures/loopdisk"
	"github.com/afrkit/afrkit/heald"
	"github.com/afrkit/afrkit/mount"
)

// TestDaemonHealsAMountedVolumeWhoseDiskFailed: b2's ext4 fails under a
// mounted volume (it goes read-only, as a dying disk does), the mount
// takes it down and writes go on to b0 and b1; the operator unmounts the
// disk, checks it and mounts it back; the mount takes b2 back, and the
// daemon, running all along, heals what b2 missed with no command typed.
func TestDaemonHealsAMountedVolumeWhoseDiskFailed(t *testing.T) {
	requireRoot(t)
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skip("needs /dev/fuse")
	}
	root := t.TempDir()
	disk := loopdisk.New(t, filepath.Join(root, "b2"), 64, "errors=remount-ro")
	v, err := fixtures.Healthy(root, "dying", 3)
	if err != nil {
		t.Fatal(err)
	}
	// The fixture's own descriptors would hold b2's disk: the mount and
	// the daemon open what they need.
	v.Close()
	d, _ := running(t, root, heald.Options{})
	events := make(chan mount.Event, 16)
	m, err := mount.Open(v.V, mount.Options{ProbeInterval: 50 * time.Millisecond, Events: func(e mount.Event) { events <- e }})
	if err != nil {
		t.Fatal(err)
	}
	mnt := t.TempDir()
	srv, err := m.Serve(mnt, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Unmount(); err != nil {
			t.Errorf("unmount: %v", err)
		}
		m.Close()
	})
	await := func(up bool) {
		t.Helper()
		timeout := time.After(30 * time.Second)
		for {
			select {
			case e := <-events:
				if e.Brick == 2 && e.Up == up {
					return
				}
			case <-timeout:
				t.Fatalf("the mount never saw b2 %s", map[bool]string{true: "up", false: "down"}[up])
			}
		}
	}

	want := map[string][]byte{}
	for k := 0; k < 30; k++ {
		if k == 10 {
			disk.Fail()
		}
		name := fmt.Sprintf("f%02d", k)
		data := make([]byte, 32<<10)
		rand.Read(data)
		f, err := os.Create(filepath.Join(mnt, name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(data); err != nil {
			t.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		want[name] = data
	}
	await(false)
	disk.Umount()
	disk.Check()
	disk.Mount()
	await(true)

	eventually(t, 60*time.Second, "the daemon heals b2", func() bool { return left(t, v.V) == 0 })
	for name, data := range want {
		if got, err := os.ReadFile(filepath.Join(disk.Dir, name)); err != nil || !bytes.Equal(got, data) {
			t.Errorf("b2's %s after the daemon's heal: %d bytes, %v", name, len(got), err)
		}
	}
	// The round is counted once it ends, after its last heal lands.
	eventually(t, 20*time.Second, "the daemon's stats count the files it healed", func() bool {
		st := d.Stats().Snapshot()
		return len(st) == 1 && st[0].Entries["data"] >= 20
	})
}
