package mount_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/afrkit/afrkit/fixtures"
	"github.com/afrkit/afrkit/mount"
)

// BenchmarkSmallFiles writes files of 4 KiB through the mount of a
// replica-3 volume, against the same files written to a plain directory
// of the same disk (the baseline, reported as ratio).
func BenchmarkSmallFiles(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	data := make([]byte, 4096)
	write := func(dir string, n int) {
		for i := 0; i < n; i++ {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%06d", i)), data, 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	v, err := fixtures.Healthy(b.TempDir(), "bench", 3)
	if err != nil {
		b.Fatal(err)
	}
	m, err := mount.Open(v.V, mount.Options{})
	if err != nil {
		b.Fatal(err)
	}
	mnt := b.TempDir()
	srv, err := m.Serve(mnt, false)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { srv.Unmount(); m.Close() }()
	b.ResetTimer()
	write(mnt, b.N)
}
