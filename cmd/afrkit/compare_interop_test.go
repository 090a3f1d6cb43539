package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/afrkit/afrkit/fixtures/glustertest"
)

// TestCompareGlusterFSVolumes: a GlusterFS master and slave, the slave
// written as the geo-replica operator found it (files under rsync's temp
// names with the master's content, a temp name with other content, a
// missing file, a changed one): compare reports exactly those, and
// --fix-names renames exactly the first kind, through GlusterFS, leaving
// its heal info empty and the files readable under their names.
func TestCompareGlusterFSVolumes(t *testing.T) {
	c := glustertest.Require(t)
	master := c.CreateReplica(3, "cluster.quorum-type", "none")
	slave := c.CreateReplica(3, "cluster.quorum-type", "none")
	for _, v := range []*glustertest.Volume{master, slave} {
		v.Start()
		v.MountFUSE()
		if err := os.Mkdir(v.Path("saves"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for p, content := range map[string]string{
		"player.json": "{\"name\": \"ada\"}\n", "saves/current_year_bkp": "2026\n", "saves/data.csv": "a,b\n1,2\n",
		"saves/missing": "not on the slave\n", "saves/changed": "version 1\n", "saves/same": "the same on both\n",
	} {
		master.WriteFile(p, content)
	}
	for p, content := range map[string]string{
		".player.json.AbvgGY": "{\"name\": \"ada\"}\n", "saves/.current_year_bkp.ij2fOq": "2026\n", "saves/.data.csv.Xy12Zq": "a,b\n1,3\n",
		"saves/changed": "version 2\n", "saves/same": "the same on both\n",
	} {
		slave.WriteFile(p, content)
	}
	env := testEnv{dir: t.TempDir(), glusterd: "/var/lib/glusterd"}
	env.state = filepath.Join(env.dir, "state")

	findings := func() []string {
		t.Helper()
		code, out, errOut := run(t, env, "compare", master.Name, slave.Name, "--json")
		var doc compareJSON
		if err := json.Unmarshal([]byte(out), &doc); err != nil || code == ExitUsage {
			t.Fatalf("compare --json: exit %d, %v\n%s%s", code, err, out, errOut)
		}
		var got []string
		for _, f := range doc.Findings {
			got = append(got, f.Kind+" "+f.Path+" "+f.Temp)
		}
		slices.Sort(got)
		return got
	}
	want := []string{
		"differs /saves/changed ",
		"only-on-master /saves/data.csv ",
		"only-on-master /saves/missing ",
		"only-on-slave /saves/.data.csv.Xy12Zq ",
		"temp-name /player.json /.player.json.AbvgGY",
		"temp-name /saves/current_year_bkp /saves/.current_year_bkp.ij2fOq",
	}
	if got := findings(); !slices.Equal(got, want) {
		t.Fatalf("compare found\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	code, out, errOut := run(t, env, "compare", master.Name, slave.Name, "--fix-names")
	if code != ExitError || !strings.Contains(out, "Renaming on "+slave.Name) {
		t.Fatalf("--fix-names: exit %d\n%s%s", code, out, errOut)
	}
	if got := findings(); !slices.Equal(got, want[:4]) {
		t.Errorf("after --fix-names compare found\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want[:4], "\n"))
	}
	for p, content := range map[string]string{"player.json": "{\"name\": \"ada\"}\n", "saves/current_year_bkp": "2026\n", "saves/.data.csv.Xy12Zq": "a,b\n1,3\n"} {
		if got, err := os.ReadFile(slave.Path(p)); err != nil || string(got) != content {
			t.Errorf("the slave's %s through GlusterFS: %q, %v", p, got, err)
		}
	}
	time.Sleep(1500 * time.Millisecond) // the mount's kernel forgets the names it knew (entry-timeout)
	for _, p := range []string{".player.json.AbvgGY", "saves/.current_year_bkp.ij2fOq"} {
		if _, err := os.Lstat(slave.Path(p)); err == nil {
			t.Errorf("the slave still has %s", p)
		}
		for _, b := range slave.Bricks {
			if _, err := os.Lstat(filepath.Join(b, p)); err == nil {
				t.Errorf("brick %s still has %s", b, p)
			}
		}
	}
	glusterHealEmpty(t, slave)
	if recs := historyRecords(t, env, slave.Name); len(recs) != 2 {
		t.Errorf("the slave's history has %d records of the renames, want 2: %+v", len(recs), recs)
	}
}
