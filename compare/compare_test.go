package compare

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var hashes = regexp.MustCompile(`content \(blake3\) [0-9a-f]+ on the master, [0-9a-f]+ on the slave`)

func sortLines(s string) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	slices.Sort(l)
	return strings.Join(l, "\n")
}

// tree writes files (path → content; a content of "->x" makes a symlink
// to x, a path ending in / a directory) under a new directory.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, c := range files {
		abs := filepath.Join(root, p)
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(abs, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		if target, ok := strings.CutPrefix(c, "->"); ok {
			err = os.Symlink(target, abs)
		} else {
			err = os.WriteFile(abs, []byte(c), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func compareDirs(t *testing.T, master, slave string, jobs int) Report {
	t.Helper()
	m, err := OpenDir(master)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s, err := OpenDir(slave)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rep, err := Compare(context.Background(), m, s, Options{Jobs: jobs})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func lines(r Report) string {
	var b strings.Builder
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "%s %s", f.Kind, f.Path)
		if f.Temp != "" {
			fmt.Fprintf(&b, " <- %s", f.Temp)
		}
		if f.Detail != "" {
			fmt.Fprintf(&b, ": %s", f.Detail)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestGeoReplicaDamage plants what a geo-replica's operator found (files
// on the slave under rsync's temp names, with the master's content) and
// the differences around it, and expects exactly those reported.
func TestGeoReplicaDamage(t *testing.T) {
	master := tree(t, map[string]string{
		"player.json":     `{"name": "ada"}`,
		"d/current_year":  "2026\n",
		"d/data.csv":      "a,b\n1,2\n",
		"d/missing":       "not on the slave\n",
		"d/changed":       "version 1\n",
		"d/grown":         "short\n",
		"d/same":          "the same on both\n",
		"d/link":          "->same",
		"only-master/":    "",
		"only-master/f":   "x",
		"deep/a/b/c/file": "deep\n",
		"d/both":          "x",
		"d/.both.Qw3rTy":  "x",
	})
	slave := tree(t, map[string]string{
		"d/.both.Qw3rTy":          "x",
		".player.json.AbvgGY":     `{"name": "ada"}`,
		"d/.current_year.ij2fOq":  "2026\n",
		"d/.data.csv.Xy12Zq":      "a,b\n1,3\n",
		"d/changed":               "version 2\n",
		"d/grown":                 "short, and then longer\n",
		"d/same":                  "the same on both\n",
		"d/link":                  "->changed",
		"d/extra":                 "only on the slave\n",
		"deep/a/b/c/file":         "deep\n",
		"deep/a/b/c/.file.b4c5d6": "deep\n",
	})
	for _, jobs := range []int{1, 4} {
		got := lines(compareDirs(t, master, slave, jobs))
		want := `temp-name /d/current_year <- /d/.current_year.ij2fOq
only-on-slave /d/.data.csv.Xy12Zq: an rsync temp name of /d/data.csv, whose content it does not hold (XX)
differs /d/changed: XX
only-on-slave /d/extra
differs /d/grown: 6 bytes on the master, 23 on the slave
differs /d/link: target "same" on the master, "changed" on the slave
only-on-master /d/both
only-on-master /d/data.csv
only-on-master /d/missing
only-on-slave /deep/a/b/c/.file.b4c5d6
only-on-master /only-master
temp-name /player.json <- /.player.json.AbvgGY
`
		// Hashes vary with nothing but content; the test names them XX.
		got = hashes.ReplaceAllString(got, "XX")
		if sortLines(got) != sortLines(want) {
			t.Errorf("jobs %d: got\n%s\nwant\n%s", jobs, got, want)
		}
	}
}
