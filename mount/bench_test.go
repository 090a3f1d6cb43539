package mount_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/afrkit/afrkit/mount"
)

// The per-fop benchmarks run each fop through the mount and on the bare
// directory that holds its bricks, in one invocation: compare the two
// (ns/op) as a ratio. Run them on a disk, not a tmpfs (TMPDIR=/var/tmp):
//
//	go test -run '^$' -bench . ./mount/
//
// bench/mount.sh measures whole workloads against GlusterFS.

// targets are where each benchmark runs: the mount, and a bare
// directory on the same disk.
func targets(b *testing.B) map[string]string {
	_, _, mnt := mounted(b, mount.Options{})
	return map[string]string{"mount": mnt, "bare": b.TempDir()}
}

// BenchmarkSmallFile is one 4 KiB file made: create, write, close.
func BenchmarkSmallFile(b *testing.B) {
	data := make([]byte, 4096)
	for name, dir := range targets(b) {
		b.Run(name, func(b *testing.B) {
			d, err := os.MkdirTemp(dir, "small")
			if err != nil {
				b.Fatal(err)
			}
			for i := 0; b.Loop(); i++ {
				if err := os.WriteFile(filepath.Join(d, fmt.Sprintf("f%d", i)), data, 0o644); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// files makes n empty files in a new directory of dir.
func files(b *testing.B, dir string, n int) []string {
	d, err := os.MkdirTemp(dir, "files")
	if err != nil {
		b.Fatal(err)
	}
	out := make([]string, n)
	for i := range out {
		out[i] = filepath.Join(d, fmt.Sprintf("f%d", i))
		if err := os.WriteFile(out[i], nil, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return out
}

// BenchmarkMetadata is what tar does to each file it makes after
// writing it: chown, chmod, and set its times, each one fop.
func BenchmarkMetadata(b *testing.B) {
	for name, dir := range targets(b) {
		b.Run(name, func(b *testing.B) {
			fs := files(b, dir, 100)
			t := time.Unix(1700000000, 0)
			for i := 0; b.Loop(); i++ {
				p := fs[i%len(fs)]
				if err := os.Lchown(p, 0, 0); err != nil {
					b.Fatal(err)
				}
				if err := os.Chmod(p, 0o600|os.FileMode(i%2)); err != nil {
					b.Fatal(err)
				}
				if err := os.Chtimes(p, t, t.Add(time.Duration(i))); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStat is one name looked up and stat'ed past the kernel's
// caches: each file is stat'ed once per pass over the directory, and
// the pass takes longer than the attribute timeout only on the mount's
// first pass, so this measures the lookup of a name the kernel knows.
func BenchmarkLookup(b *testing.B) {
	for name, dir := range targets(b) {
		b.Run(name, func(b *testing.B) {
			fs := files(b, dir, 100)
			var st os.FileInfo
			var err error
			for i := 0; b.Loop(); i++ {
				// A new name each time: a negative lookup, as a create's.
				if st, err = os.Lstat(fs[i%len(fs)] + fmt.Sprintf(".%d", i)); err == nil {
					b.Fatal(st.Name(), " exists")
				}
			}
		})
	}
}
