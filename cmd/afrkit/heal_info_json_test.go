package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/fixtures"
	"github.com/afrkit/afrkit/index"
)

// infoJSON is the --json document as a script would read it.
type infoJSON struct {
	Volume string `json:"volume"`
	Mode   string `json:"mode"`
	Bricks []struct {
		Name       string            `json:"name"`
		HostUUID   *string           `json:"host_uuid"`
		ReplicaSet int               `json:"replica_set"`
		Connected  bool              `json:"connected"`
		Entries    []json.RawMessage `json:"entries,omitempty"`
		Status     string            `json:"status"`
		Counts     *jsonCounts       `json:"counts"`
	} `json:"bricks"`
}

// decodeInfoJSON parses the output strictly: an unknown field in afrkit's
// output that the schema here does not know fails the test.
func decodeInfoJSON(t *testing.T, out string) infoJSON {
	t.Helper()
	var doc infoJSON
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("--json output does not parse: %v\n%s", err, out)
	}
	for _, b := range doc.Bricks {
		for _, raw := range b.Entries {
			var e jsonEntry
			d := json.NewDecoder(strings.NewReader(string(raw)))
			d.DisallowUnknownFields()
			if err := d.Decode(&e); err != nil {
				t.Fatalf("entry %s: %v", raw, err)
			}
		}
	}
	return doc
}

// canonicalJSON sorts each brick's entries (they come in index readdir
// order, which differs between filesystems) and indents the document.
func canonicalJSON(t *testing.T, out string) string {
	t.Helper()
	doc := decodeInfoJSON(t, out)
	for _, b := range doc.Bricks {
		sort.Slice(b.Entries, func(i, j int) bool { return string(b.Entries[i]) < string(b.Entries[j]) })
	}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(data) + "\n"
}

// TestHealInfoJSON pins the JSON of every GlusterFS fixture, and checks that
// it says what the text says: the same counts as the summary, and per
// brick the same gfids as the listing.
func TestHealInfoJSON(t *testing.T) {
	forEachGlusterFixture(t, func(t *testing.T, g *glusterFixture) {
		out := g.healInfo(t, "", "--json")
		assertGolden(t, canonicalJSON(t, out))
		doc := decodeInfoJSON(t, out)
		summary := blocks(g.healInfo(t, "summary"))
		listing := byGFID(blocks(g.healInfo(t, "")), func(_, p string) string { return "path " + p })
		if len(doc.Bricks) != len(summary) {
			t.Fatalf("JSON has %d bricks, the summary %d", len(doc.Bricks), len(summary))
		}
		for i, b := range doc.Bricks {
			if !strings.HasPrefix(summary[i], "Brick "+b.Name+"\n") {
				t.Errorf("brick %d is %s in JSON, but the summary says %q", i, b.Name, strings.SplitN(summary[i], "\n", 2)[0])
			}
			if b.Counts == nil {
				if b.Connected || !strings.Contains(summary[i], "Total Number of entries: -") {
					t.Errorf("%s: counts null, connected %v", b.Name, b.Connected)
				}
				continue
			}
			c := b.Counts
			want := "Total Number of entries: " + itoa(c.Total) + "\nNumber of entries in heal pending: " + itoa(c.HealPending) +
				"\nNumber of entries in split-brain: " + itoa(c.SplitBrain)
			if !strings.Contains(summary[i], want) {
				t.Errorf("%s: JSON counts %+v, summary:\n%s", b.Name, *c, summary[i])
			}
			listed := 0
			for _, raw := range b.Entries {
				var e jsonEntry
				_ = json.Unmarshal(raw, &e)
				if e.Status == "stale" {
					continue
				}
				listed++
				name := "gfid:" + e.GFID
				if e.Path != nil {
					name = "path " + *e.Path
				}
				if !strings.Contains(listing, name) {
					t.Errorf("%s: JSON lists %s (%s), the text does not", b.Name, name, e.GFID)
				}
				if (len(e.SplitBrain) > 0 || e.TypeMismatch) != strings.HasPrefix(e.Status, "split-brain") {
					t.Errorf("%s: %s has status %s but split_brain %v", b.Name, e.GFID, e.Status, e.SplitBrain)
				}
			}
			if listed != c.Total {
				t.Errorf("%s: %d entries listed, counts say %d", b.Name, listed, c.Total)
			}
		}
	})
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestHealInfoJSONModes pins split-brain and summary, which list fewer
// entries and none at all.
func TestHealInfoJSONModes(t *testing.T) {
	g := glusterScenario(t, "data-split-brain")
	for _, mode := range []string{"split-brain", "summary"} {
		t.Run(mode, func(t *testing.T) { assertGolden(t, canonicalJSON(t, g.healInfo(t, mode, "--json"))) })
	}
}

// TestHealInfoJSONStale adds stale index entries (a gfid no brick has, a
// name that is no gfid, a file whose counters are all zero) to a brick:
// the text and XML do not count them, as GlusterFS would not, and the JSON
// reports each as stale with its reason. Nothing is removed: heal info
// never writes.
func TestHealInfoJSONStale(t *testing.T) {
	g := glusterScenario(t, "pending-brick-down")
	before := g.healInfo(t, "")
	b1 := filepath.Join(g.root, "b1")
	ix := index.Open(b1)
	gone := brick.NewGFID()
	if err := ix.Add(index.Xattrop, gone); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ix.Dir, "xattrop", "not-a-gfid"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := brick.Open(b1, brick.NSTrusted)
	if err != nil {
		t.Fatal(err)
	}
	clean, err := b.GFIDOf("/dir1/keep") // written while every brick was up: no counters
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.Add(index.Dirty, clean); err != nil {
		t.Fatal(err)
	}
	if after := g.healInfo(t, ""); after != before {
		t.Errorf("stale index entries changed the text output:\n%s\nwas:\n%s", after, before)
	}
	doc := decodeInfoJSON(t, g.healInfo(t, "", "--json"))
	reasons := map[string]string{}
	for _, raw := range doc.Bricks[0].Entries {
		var e jsonEntry
		_ = json.Unmarshal(raw, &e)
		if e.Status == "stale" {
			reasons[e.Index+" "+e.GFID] = e.Reason
		}
	}
	want := map[string]string{
		"xattrop " + gone.String(): "no brick has this gfid",
		"xattrop not-a-gfid":       "not a gfid",
		"dirty " + clean.String():  "nothing to heal: every counter is zero and the copies agree",
	}
	if len(reasons) != len(want) {
		t.Errorf("stale entries %v, want %v", reasons, want)
	}
	for k, v := range want {
		if reasons[k] != v {
			t.Errorf("stale %s: reason %q, want %q", k, reasons[k], v)
		}
	}
	if c := doc.Bricks[0].Counts; c == nil || c.Stale != 3 {
		t.Errorf("brick 1 counts %+v, want 3 stale", c)
	}
	for _, p := range []string{filepath.Join(ix.Dir, "xattrop", "not-a-gfid"), filepath.Join(ix.Dir, "dirty", clean.String())} {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("heal info removed %s: %v", p, err)
		}
	}
}

// TestHealInfoNeverWrites runs every read-only command on bricks with
// pending heals, split-brains and stale index entries and checks that not
// a byte, xattr or timestamp of the bricks changed.
func TestHealInfoNeverWrites(t *testing.T) {
	for _, scenario := range []string{"data-split-brain", "gfid-mismatch"} {
		g := glusterScenario(t, scenario)
		if err := index.Open(filepath.Join(g.root, "b1")).Add(index.Xattrop, brick.NewGFID()); err != nil {
			t.Fatal(err)
		}
		before := fixtures.Snapshot(t, g.root)
		for _, args := range [][]string{
			{"info"}, {"info", "split-brain"}, {"info", "summary"},
			{"info", "--xml"}, {"info", "--json"}, {"info", "summary", "--json"},
			{"explain", "/"}, {"explain", "/sb-file"}, {"explain", "/rootfile"},
		} {
			run(t, g.env, append([]string{"heal", g.vol}, args...)...)
		}
		if after := fixtures.Snapshot(t, g.root); after != before {
			t.Errorf("%s: heal info changed the bricks", scenario)
		}
	}
}
