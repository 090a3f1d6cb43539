package main

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/fixtures"
)

// glusterFixture is a GlusterFS fixture unpacked for afrkit to read.
type glusterFixture struct {
	env testEnv
	vol string
	// dir holds GlusterFS's own outputs for the scenario.
	dir string
	// root holds the unpacked bricks; brickRoot is where GlusterFS had
	// them (/srv/glab/<VOL>).
	root, brickRoot string
}

// healInfo runs `afrkit heal VOL info [mode] [extra...]` and returns its
// output with the unpacked brick root written back as GlusterFS's.
func (g *glusterFixture) healInfo(t *testing.T, mode string, extra ...string) string {
	t.Helper()
	args := []string{"heal", g.vol, "info"}
	if mode != "" {
		args = append(args, mode)
	}
	args = append(args, extra...)
	code, out, errOut := run(t, g.env, args...)
	if code != ExitOK {
		t.Fatalf("%v: exit %d: %s", args, code, errOut)
	}
	return strings.ReplaceAll(out, g.root, g.brickRoot)
}

// forEachGlusterFixture runs fn in a subtest for every GlusterFS fixture.
func forEachGlusterFixture(t *testing.T, fn func(t *testing.T, g *glusterFixture)) {
	t.Helper()
	metas, _ := filepath.Glob("../../fixtures/gluster/testdata/*/meta.json")
	if len(metas) == 0 {
		t.Fatal("no GlusterFS fixtures")
	}
	for _, mp := range metas {
		scenario := filepath.Base(filepath.Dir(mp))
		t.Run(scenario, func(t *testing.T) { fn(t, glusterScenario(t, scenario)) })
	}
}

// glusterScenario unpacks a GlusterFS fixture into a private glusterd
// directory whose bricks point at the unpacked copies.
func glusterScenario(t *testing.T, scenario string) *glusterFixture {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("AFRKIT_REQUIRE_ROOT") != "" {
			t.Fatal("AFRKIT_REQUIRE_ROOT is set but the tests are not running as root")
		}
		t.Skip("skipping: GlusterFS bricks carry trusted.* xattrs, which need root")
	}
	env := newEnv(t)
	dir := filepath.Join("../../fixtures/gluster/testdata", scenario)
	sc, err := fixtures.UnpackGlusterScenario(dir, filepath.Join(env.dir, "bricks"), env.glusterd)
	if err != nil {
		t.Fatal(err)
	}
	return &glusterFixture{env: env, vol: sc.Volume, dir: dir, root: sc.Root, brickRoot: sc.BrickRoot}
}

// blocks splits heal info text into per-brick blocks with the entry lines
// sorted, since both GlusterFS and afrkit print entries in index readdir
// order, which no one controls.
func blocks(text string) []string {
	var out []string
	for _, b := range strings.Split(strings.TrimSpace(text), "\n\n") {
		lines := strings.Split(b, "\n")
		var head, ents, tail []string
		for i, l := range lines {
			switch {
			case i == 0:
				head = append(head, l)
			case strings.HasPrefix(l, "Status:") || strings.HasPrefix(l, "Number of") || strings.HasPrefix(l, "Total Number"):
				tail = append(tail, l)
			default:
				ents = append(ents, l)
			}
		}
		sort.Strings(ents)
		out = append(out, strings.Join(append(append(head, ents...), tail...), "\n"))
	}
	return out
}

// gfidPaths maps every gfid to the path GlusterFS printed for it anywhere.
func gfidPaths(t *testing.T, xmlPath string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(xmlPath)
	if err != nil {
		t.Fatal(err)
	}
	var hi struct {
		Files []struct {
			GFID string `xml:"gfid,attr"`
			Path string `xml:",chardata"`
		} `xml:"healInfo>bricks>brick>file"`
	}
	if err := xml.Unmarshal(data, &hi); err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, f := range hi.Files {
		if !strings.HasPrefix(f.Path, "<gfid:") {
			m[f.GFID] = f.Path
		}
	}
	return m
}

// TestHealInfoMatchesGlusterFS runs afrkit heal info (plain, split-brain,
// summary) on every GlusterFS fixture and compares it line for line with
// what GlusterFS printed for the same bricks: brick lines, suffixes, status
// and count lines exactly. Entry order is ignored (both print in index
// readdir order, which no one controls), and each entry is compared by its
// gfid, because GlusterFS prints <gfid:X> wherever its brick process has not
// seen the name since it started while afrkit resolves every name some brick
// can. That the paths themselves agree wherever GlusterFS printed one is
// checked by fixtures/gluster's agreement test.
func TestHealInfoMatchesGlusterFS(t *testing.T) {
	forEachGlusterFixture(t, func(t *testing.T, g *glusterFixture) {
		pathToGFID := map[string]string{}
		for gfid, p := range gfidPaths(t, filepath.Join(g.dir, "heal-info.xml")) {
			pathToGFID[p] = gfid
		}
		// afrkit names an entry by the path any brick resolves; a
		// gfid-mismatched name resolves differently per brick, so the
		// path is read back on the brick of the block it is listed in.
		ourGFID := func(brickLine, p string) string {
			b, err := brick.Open(filepath.Join(g.root, filepath.Base(brickLine)), brick.NSTrusted)
			if err == nil {
				if gfid, err := b.GFIDOf(p); err == nil {
					return gfid.String()
				}
			}
			return "unresolvable " + p
		}
		for mode, file := range map[string]string{"": "heal-info.txt", "split-brain": "heal-info-split-brain.txt", "summary": "heal-info-summary.txt"} {
			wantRaw, err := os.ReadFile(filepath.Join(g.dir, file))
			if err != nil {
				t.Fatal(err)
			}
			got := byGFID(blocks(g.healInfo(t, mode)), ourGFID)
			want := byGFID(blocks(string(wantRaw)), func(_, p string) string {
				if g, ok := pathToGFID[p]; ok {
					return g
				}
				return "unknown to GlusterFS " + p
			})
			if got != want {
				t.Errorf("afrkit heal %s info %s differs from GlusterFS\n--- afrkit ---\n%s\n--- GlusterFS ---\n%s", g.vol, mode, got, want)
			}
		}
	})
}

// byGFID rewrites every entry line "NAME SUFFIX" of sorted blocks to
// "gfid:X SUFFIX", resolving paths with gfidOf, and re-sorts the entries.
func byGFID(blocks []string, gfidOf func(brickLine, path string) string) string {
	// The suffix alternatives are end-anchored and tried longest first, so
	// a wrong suffix leaves the line unmatched (and compared verbatim)
	// instead of being read as a name followed by " ".
	entryRe := regexp.MustCompile(`^(<gfid:([0-9a-f-]{36})>|(/.*?))( - Is in split-brain| |)$`)
	var out []string
	for _, b := range blocks {
		lines := strings.Split(b, "\n")
		var ents []string
		var rest []string
		for i, l := range lines {
			m := entryRe.FindStringSubmatch(l)
			if i == 0 || m == nil {
				rest = append(rest, l)
				continue
			}
			g := m[2]
			if g == "" {
				g = gfidOf(lines[0], m[3])
			}
			ents = append(ents, "gfid:"+g+m[4])
		}
		sort.Strings(ents)
		out = append(out, strings.Join(append(rest[:1:1], append(ents, rest[1:]...)...), "\n"))
	}
	return strings.Join(out, "\n\n")
}

// xmlBrick is everything GlusterFS's heal info XML says about a brick.
type xmlBrick struct {
	HostUUID string   `xml:"hostUuid,attr"`
	Name     string   `xml:"name"`
	GFIDs    []string `xml:"-"` // filled from Files below
	Files    []struct {
		GFID string `xml:"gfid,attr"`
	} `xml:"file"`
	Status      string `xml:"status"`
	Entries     string `xml:"numberOfEntries"`
	Total       string `xml:"totalNumberOfEntries"`
	HealPending string `xml:"numberOfEntriesInHealPending"`
	SplitBrain  string `xml:"numberOfEntriesInSplitBrain"`
	Healing     string `xml:"numberOfEntriesPossiblyHealing"`
}

type glusterXML struct {
	Bricks   []xmlBrick `xml:"healInfo>bricks>brick"`
	OpRet    string     `xml:"opRet"`
	OpErrno  string     `xml:"opErrno"`
	OpErrstr *string    `xml:"opErrstr"`
}

func parseReport(t *testing.T, data []byte) glusterXML {
	t.Helper()
	var r glusterXML
	if err := xml.Unmarshal(data, &r); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	for i := range r.Bricks {
		b := &r.Bricks[i]
		for _, f := range b.Files {
			b.GFIDs = append(b.GFIDs, f.GFID)
		}
		b.Files = nil
		sort.Strings(b.GFIDs)
	}
	return r
}

// TestHealInfoXMLMatchesGlusterFS compares afrkit's --xml with GlusterFS's
// for every fixture and mode: the same bricks, host uuids, gfids, statuses
// and counters, and the same envelope.
func TestHealInfoXMLMatchesGlusterFS(t *testing.T) {
	forEachGlusterFixture(t, func(t *testing.T, g *glusterFixture) {
		for mode, file := range map[string]string{"": "heal-info.xml", "split-brain": "heal-info-split-brain.xml", "summary": "heal-info-summary.xml"} {
			wantRaw, err := os.ReadFile(filepath.Join(g.dir, file))
			if err != nil {
				t.Fatal(err)
			}
			got := parseReport(t, []byte(g.healInfo(t, mode, "--xml")))
			want := parseReport(t, wantRaw)
			gj, _ := json.MarshalIndent(got, "", " ")
			wj, _ := json.MarshalIndent(want, "", " ")
			if string(gj) != string(wj) {
				t.Errorf("afrkit heal %s info %s --xml differs from GlusterFS\n--- afrkit ---\n%s\n--- GlusterFS ---\n%s", g.vol, mode, gj, wj)
			}
		}
	})
}
