package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeTree writes files (path → content) under root.
func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		abs := filepath.Join(root, p)
		mustDo(t, os.MkdirAll(filepath.Dir(abs), 0o755))
		mustDo(t, os.WriteFile(abs, []byte(c), 0o644))
	}
}

// TestCompareDirectories: the geo-replica operator's damage planted in two
// plain directories (files on the slave under rsync's temp names with the
// master's content, a temp name with other content, a missing file, a
// changed one): compare reports exactly those, as text and as JSON, and
// exits 1; two equal trees agree, exit 0.
func TestCompareDirectories(t *testing.T) {
	dir := t.TempDir()
	master, slave := filepath.Join(dir, "master"), filepath.Join(dir, "slave")
	writeTree(t, master, map[string]string{
		"player.json":            `{"name": "ada"}` + "\n",
		"saves/current_year_bkp": "2026\n",
		"saves/data.csv":         "a,b\n1,2\n",
		"saves/missing":          "not on the slave\n",
		"saves/changed":          "version 1\n",
		"saves/same":             "the same on both\n",
	})
	writeTree(t, slave, map[string]string{
		".player.json.AbvgGY":            `{"name": "ada"}` + "\n",
		"saves/.current_year_bkp.ij2fOq": "2026\n",
		"saves/.data.csv.Xy12Zq":         "a,b\n1,3\n",
		"saves/changed":                  "version 2\n",
		"saves/same":                     "the same on both\n",
	})
	env := volEnv(dir)
	tr := &transcript{t: t, env: env}
	tr.step(ExitError, "compare", master, slave)
	tr.step(ExitError, "compare", master, slave, "--json", "--jobs", "1")
	tr.step(ExitOK, "compare", master, master)
	tr.step(ExitError, "compare", master, filepath.Join(dir, "nowhere"))
	tr.step(ExitError, "compare", "nosuchvolume", slave)
	tr.step(ExitUsage, "compare", master)
	tr.step(ExitUsage, "compare", master, slave, "--dry-run")

	// The renames: planned, then made; what else differs stays.
	tr.step(ExitError, "compare", master, slave, "--fix-names", "--dry-run")
	if _, err := os.Stat(filepath.Join(slave, ".player.json.AbvgGY")); err != nil {
		t.Fatalf("the dry run renamed: %v", err)
	}
	tr.step(ExitError, "compare", master, slave, "--fix-names")
	for p, want := range map[string]string{"player.json": `{"name": "ada"}` + "\n", "saves/current_year_bkp": "2026\n", "saves/.data.csv.Xy12Zq": "a,b\n1,3\n"} {
		if got, err := os.ReadFile(filepath.Join(slave, p)); err != nil || string(got) != want {
			t.Errorf("slave's %s after --fix-names: %q, %v", p, got, err)
		}
	}
	tr.step(ExitError, "compare", master, slave)
	assertGolden(t, strings.ReplaceAll(tr.String(), dir, "$DIR"))
}
