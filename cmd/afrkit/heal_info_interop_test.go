package main

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/afrkit/afrkit/fixtures/glustertest"
)

// TestHealInfoAgreesWithLiveGlusterFS damages a fresh GlusterFS replica-2
// volume through its FUSE mount (writes while a brick is down, then a data
// split-brain by writing with each brick down in turn) and compares afrkit's
// heal info, read from glusterd's own directory and the live bricks, with
// GlusterFS's heal info on the same volume: the same bricks, gfids, statuses
// and counters in all three modes, and the same paths wherever GlusterFS
// printed a path.
func TestHealInfoAgreesWithLiveGlusterFS(t *testing.T) {
	c := glustertest.Require(t)
	v := c.CreateReplica(2, "cluster.quorum-type", "none")
	v.Start()
	v.MountFUSE()
	v.Revive() // waits until the client sees both bricks

	if err := os.Mkdir(v.Path("d"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"d/a", "keep", "sb", "meta"} {
		v.WriteFile(p, "written with both bricks up\n")
	}

	v.KillBrick(1)
	v.WriteFile("d/a", "appended while b2 was down\n")
	v.WriteFile("d/new", "created while b2 was down\n")
	v.WriteFile("sb", "b1's version\n")
	if err := os.Chmod(v.Path("meta"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(v.Path("newdir/inner"), 0o755); err != nil {
		t.Fatal(err)
	}
	v.Revive()
	v.KillBrick(0)
	v.WriteFile("sb", "b2's longer version of the file\n")
	v.Revive()

	env := testEnv{dir: t.TempDir(), glusterd: "/var/lib/glusterd"}
	env.state = filepath.Join(env.dir, "state")
	healInfoAgrees(t, env, v, 6, "/sb")

	// What the JSON says of the split-brain file agrees with the above.
	code, out, errOut := run(t, env, "heal", v.Name, "info", "split-brain", "--json")
	if code != ExitOK {
		t.Fatalf("--json: exit %d: %s", code, errOut)
	}
	doc := decodeInfoJSON(t, out)
	for _, b := range doc.Bricks {
		if len(b.Entries) != 1 {
			t.Errorf("%s: %d split-brain entries in JSON, want 1 (/sb)", b.Name, len(b.Entries))
			continue
		}
		var e jsonEntry
		_ = json.Unmarshal(b.Entries[0], &e)
		if e.Path == nil || *e.Path != "/sb" || strings.Join(e.SplitBrain, ",") != "data" || len(e.Blame) != 2 {
			t.Errorf("%s: JSON says %s", b.Name, b.Entries[0])
		}
	}
}

// healInfoAgrees compares afrkit's heal info of v, read with env's glusterd
// directory, with GlusterFS's in all three modes, in XML: the same bricks,
// statuses, gfids and counts, and the same path wherever GlusterFS printed
// one. GlusterFS must list at least minEntries entries, splitBrain among
// them in split-brain (when not ""): the damage the test meant to make.
func healInfoAgrees(t *testing.T, env testEnv, v *glustertest.Volume, minEntries int, splitBrain string) {
	t.Helper()
	for _, mode := range []string{"", "split-brain", "summary"} {
		var args []string
		if mode != "" {
			args = append(args, mode)
		}
		theirs, err := v.HealInfo(append(args, "--xml")...)
		if err != nil {
			t.Fatal(err)
		}
		code, ours, errOut := run(t, env, append(append([]string{"heal", v.Name, "info"}, args...), "--xml")...)
		if code != ExitOK {
			t.Fatalf("afrkit heal info %s: exit %d: %s", mode, code, errOut)
		}
		got, _ := json.MarshalIndent(parseReport(t, []byte(ours)), "", " ")
		exp, _ := json.MarshalIndent(parseReport(t, []byte(theirs)), "", " ")
		if string(got) != string(exp) {
			t.Errorf("heal info %s --xml differs\n--- afrkit ---\n%s\n--- GlusterFS ---\n%s", mode, got, exp)
		}
		if mode == "" {
			ourPaths, theirPaths := xmlPaths(t, ours), xmlPaths(t, theirs)
			printed := 0
			for gfid, p := range theirPaths {
				if strings.HasPrefix(p, "<gfid:") {
					continue
				}
				printed++
				if ourPaths[gfid] != p {
					t.Errorf("gfid %s: GlusterFS prints %s, afrkit %q", gfid, p, ourPaths[gfid])
				}
			}
			if len(theirPaths) < minEntries || printed == 0 || splitBrain != "" && !strings.Contains(theirs, ">"+splitBrain+"<") {
				t.Errorf("GlusterFS lists too little (%d entries, %d paths) for the damage done:\n%s", len(theirPaths), printed, theirs)
			}
		}
	}
}

// xmlPaths maps each gfid of a heal info XML to the name printed for it.
func xmlPaths(t *testing.T, doc string) map[string]string {
	t.Helper()
	var r struct {
		Files []struct {
			GFID string `xml:"gfid,attr"`
			Name string `xml:",chardata"`
		} `xml:"healInfo>bricks>brick>file"`
	}
	if err := xml.Unmarshal([]byte(doc), &r); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range r.Files {
		out[f.GFID] = f.Name
	}
	return out
}
