package volume_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/fixtures"
	"github.com/afrkit/afrkit/index"
)

func newCatalog(t *testing.T) (*volume.Catalog, string) {
	t.Helper()
	dir := t.TempDir()
	return &volume.Catalog{
		Registry: &volume.Registry{Dir: filepath.Join(dir, "state")},
		Glusterd: &volume.Glusterd{Dir: filepath.Join(dir, "glusterd")},
	}, dir
}

func create(cat *volume.Catalog, name string, replica int, force bool, dirs ...string) (*volume.Volume, error) {
	return cat.Registry.Create(volume.CreateOptions{Name: name, Replica: replica, Dirs: dirs, Force: force, XattrNS: brick.DefaultNS(), Host: "h"}, cat)
}

func TestCreateStampsBricks(t *testing.T) {
	cat, dir := newCatalog(t)
	b0, b1 := filepath.Join(dir, "b0"), filepath.Join(dir, "b1")
	v, err := create(cat, "media", 2, false, b0, b1)
	if err != nil {
		t.Fatal(err)
	}
	if v.Type != "Replicate" || len(v.Bricks) != 2 || v.Bricks[1].ID != "media-client-1" {
		t.Fatalf("volume %+v", v)
	}
	for _, d := range []string{b0, b1} {
		b, err := brick.Open(d, v.XattrNS)
		if err != nil {
			t.Fatal(err)
		}
		id, _ := brick.ParseGFID(v.ID)
		if err := b.Check(id); err != nil {
			t.Errorf("brick %s: %v", d, err)
		}
		if _, err := os.Stat(filepath.Join(index.Open(d).Dir, "xattrop")); err != nil {
			t.Errorf("brick %s has no index: %v", d, err)
		}
	}
	got, err := cat.Lookup("media")
	if err != nil || got.ID != v.ID || got.Source != volume.SourceAfrkit {
		t.Fatalf("Lookup = %+v, %v", got, err)
	}
	if ents, err := cat.List(); err != nil || len(ents) != 1 || ents[0].Name != "media" {
		t.Fatalf("List = %v, %v", ents, err)
	}
}

func TestCreateRefuses(t *testing.T) {
	cat, dir := newCatalog(t)
	b0, b1, b2 := filepath.Join(dir, "b0"), filepath.Join(dir, "b1"), filepath.Join(dir, "b2")
	if _, err := create(cat, "one", 2, false, b0, b1); err != nil {
		t.Fatal(err)
	}
	full := filepath.Join(dir, "full")
	if err := os.MkdirAll(full, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(full, "precious"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		replica int
		dirs    []string
		want    string
	}{
		{"one", 2, []string{b2, filepath.Join(dir, "b3")}, "already exists"},
		{"two", 2, []string{b1, b2}, "already belongs to volume"},
		{"two", 2, []string{b2, b2}, "overlaps"},
		{"two", 2, []string{b2, filepath.Join(b2, "inner")}, "overlaps"},
		{"two", 2, []string{b2, full}, "not empty"},
		{"two", 3, []string{b2, full}, "do not make replica sets"},
		{"two", 1, []string{b2}, "at least 2"},
		{"bad/name", 2, []string{b2, filepath.Join(dir, "b4")}, "only letters"},
	}
	for _, c := range cases {
		_, err := create(cat, c.name, c.replica, false, c.dirs...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("create %s replica %d %v: err = %v, want %q", c.name, c.replica, c.dirs, err, c.want)
		}
	}
	if _, err := create(cat, "two", 2, false, b1, b2); !errors.Is(err, brick.ErrForeignBrick) {
		t.Errorf("foreign brick: err = %v, want ErrForeignBrick", err)
	}
	// Nothing was written by the refused attempts.
	if _, err := os.Stat(filepath.Join(b2, brick.GlusterDir)); !os.IsNotExist(err) {
		t.Errorf("a refused create left %s/.glusterfs behind", b2)
	}
	if data, err := os.ReadFile(filepath.Join(full, "precious")); err != nil || string(data) != "x" {
		t.Errorf("a refused create touched the user's file: %q, %v", data, err)
	}
	// --force takes a non-empty directory and leaves its files alone.
	if _, err := create(cat, "two", 2, true, b2, full); err != nil {
		t.Fatalf("create --force: %v", err)
	}
	if data, err := os.ReadFile(filepath.Join(full, "precious")); err != nil || string(data) != "x" {
		t.Errorf("create --force touched the user's file: %q, %v", data, err)
	}
}

// The glusterd files below were copied from a real GlusterFS 10.3.
func TestLoadGlusterdVolume(t *testing.T) {
	v, err := volume.LoadGlusterdVolumeDir(glusterdCopy(t, "pending-brick-down"), "fxpend", "e72b3d20-b966-409d-8823-0f575d0c7343")
	if err != nil {
		t.Fatal(err)
	}
	if v.Type != "Replicate" || v.Replica != 3 || len(v.Bricks) != 3 || v.Source != volume.SourceGlusterd || v.XattrNS != "trusted" {
		t.Fatalf("volume %+v", v)
	}
	for i, want := range []string{"vm:/srv/glab/fxpend/b1", "vm:/srv/glab/fxpend/b2", "vm:/srv/glab/fxpend/b3"} {
		if v.Bricks[i].String() != want || v.Bricks[i].ID != "fxpend-client-"+string(rune('0'+i)) || !v.Bricks[i].Local {
			t.Errorf("brick %d = %+v, want %s", i, v.Bricks[i], want)
		}
	}
	if v.QuorumType() != "none" || v.FavoriteChildPolicy() != "none" || v.Option("cluster.granular-entry-heal", "") != "on" {
		t.Errorf("options %v", v.Options)
	}
	if got := v.BrickLabels(); strings.Join(got, ",") != "b1,b2,b3" {
		t.Errorf("labels %v", got)
	}
}

func TestLoadGlusterdDistributedReplicate(t *testing.T) {
	v, err := volume.LoadGlusterdVolumeDir(glusterdCopy(t, "distrep-2x2"), "fxdr", "")
	if err != nil {
		t.Fatal(err)
	}
	if v.Type != "Distributed-Replicate" || len(v.ReplicaSets()) != 2 || v.ReplicaSets()[1][0].ID != v.Name+"-client-2" {
		t.Fatalf("volume %+v, sets %v", v, v.ReplicaSets())
	}
}

func TestGlusterdMissingVolume(t *testing.T) {
	g := &volume.Glusterd{Dir: t.TempDir()}
	if _, err := g.Load("nope"); !errors.Is(err, volume.ErrNotFound) {
		t.Fatalf("err = %v, want volume.ErrNotFound", err)
	}
	if _, err := g.Load("../etc"); err == nil {
		t.Fatal("a volume name with a path in it was accepted")
	}
}

// glusterdCopy copies a real GlusterFS 10.3 volume definition kept in
// fixtures/gluster into a temp dir.
func glusterdCopy(t *testing.T, scenario string) string {
	t.Helper()
	dst := t.TempDir()
	if err := fixtures.CopyGlusterdVolume(filepath.Join("../../fixtures/gluster/testdata", scenario, "glusterd"), dst); err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestGlusterdBrickRefStaysInBricks: a brick reference in glusterd's info
// that climbs out of bricks/ (FuzzGlusterdVolume found one) is refused, and
// a FIFO where a brick file should be is not opened for reading (it would
// block).
func TestGlusterdBrickRefStaysInBricks(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "bricks"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "outside"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "bricks", "h:-fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"../outside", "h:-fifo"} {
		info := "type=2\ncount=1\nreplica_count=1\nbrick-0=" + ref + "\n"
		if err := os.WriteFile(filepath.Join(dir, "info"), []byte(info), 0o644); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			_, err := volume.LoadGlusterdVolumeDir(dir, "fz", "uuid")
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil {
				t.Errorf("brick-0=%s loaded", ref)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("brick-0=%s: loading blocked on a FIFO", ref)
		}
	}
}

// TestLockExcludesASecondHolder: the heal lock keeps a second afrkit off
// the bricks until the first releases it, and takes it without creating
// anything on a brick (it once created .glusterfs/afrkit/heal.lock, so a
// refused command changed the brick).
func TestLockExcludesASecondHolder(t *testing.T) {
	cat, dir := newCatalog(t)
	b0, b1 := filepath.Join(dir, "b0"), filepath.Join(dir, "b1")
	v, err := create(cat, "media", 2, false, b0, b1)
	if err != nil {
		t.Fatal(err)
	}
	names := func() string {
		var out []string
		for _, b := range []string{b0, b1} {
			filepath.WalkDir(b, func(p string, _ os.DirEntry, err error) error {
				out = append(out, p)
				return err
			})
		}
		return strings.Join(out, "\n")
	}
	before := names()
	release, err := v.Lock()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Lock(); err == nil || !errors.Is(err, volume.ErrInUse) {
		t.Errorf("a second Lock while the first is held: %v", err)
	}
	release()
	again, err := v.Lock()
	if err != nil {
		t.Fatalf("Lock after the release: %v", err)
	}
	again()
	if after := names(); after != before {
		t.Errorf("taking the lock created entries on the bricks:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}
