package volume

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzGlusterdVolume feeds glusterd's info and brick files with hostile
// content: afrkit reads them as root from a directory others may write.
// Loading may fail, never panic, and what loads can be described.
func FuzzGlusterdVolume(f *testing.F) {
	f.Add("type=2\ncount=2\nreplica_count=2\nvolume-id=00000000-0000-0000-0000-000000000002\nbrick-0=h:-b0\nbrick-1=h:-b1\n", "hostname=h\npath=/b0\n")
	f.Add("count=-1\nreplica_count=0\nbrick-0=\n", "")
	f.Add("count=3\nreplica_count=2\narbiter_count=5\nbrick-0=../../x\n", "path=\x00\n")
	f.Fuzz(func(t *testing.T, info, brickFile string) {
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "bricks"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "info"), []byte(info), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, n := range []string{"h:-b0", "h:-b1"} {
			if err := os.WriteFile(filepath.Join(dir, "bricks", n), []byte(brickFile), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		v, err := LoadGlusterdVolumeDir(dir, "fz", "uuid")
		if err != nil {
			return
		}
		_ = v.ReplicaSets()
		_ = v.BrickLabels()
	})
}

// FuzzRegistry feeds afrkit's own volume definitions with hostile JSON.
func FuzzRegistry(f *testing.F) {
	f.Add(`{"name":"fz","replica":2,"bricks":[{"path":"/b0"},{"path":"/b1"}]}`)
	f.Add(`{}`)
	f.Add(`null`)
	f.Add(`{"replica":-1,"bricks":[{"path":"/b0"}]}`)
	f.Fuzz(func(t *testing.T, def string) {
		r := &Registry{Dir: t.TempDir()}
		if err := os.MkdirAll(filepath.Join(r.Dir, "volumes"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(r.path("fz"), []byte(def), 0o644); err != nil {
			t.Fatal(err)
		}
		v, err := r.Load("fz")
		if err != nil {
			return
		}
		_ = v.ReplicaSets()
		_ = v.BrickLabels()
	})
}
