package tui_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/fixtures"
	"github.com/afrkit/afrkit/fixtures/golden"
	"github.com/afrkit/afrkit/tui"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current screens")

// source is the TUI's source over the volumes fixtures registered in dir.
func source(dir string) tui.Source {
	c := &volume.Catalog{Registry: &volume.Registry{Dir: filepath.Join(dir, "state")}, Glusterd: &volume.Glusterd{Dir: filepath.Join(dir, "no-glusterd")}}
	return tui.Source{Catalog: c, Open: c.Lookup, ProcDir: "/proc", StateDir: filepath.Join(dir, "state"), LookBudget: time.Second}
}

// screen drives a TUI like a terminal of width x height would: the size,
// then each key, running every load the model starts to its end (as the
// program would, one at a time). It returns the screen after each step
// named in shots.
type screen struct {
	t *testing.T
	m tea.Model
}

func start(t *testing.T, src tui.Source, vol string, width, height int) *screen {
	t.Helper()
	r := lipgloss.NewRenderer(os.Stdout)
	r.SetColorProfile(termenv.Ascii) // the screens as NO_COLOR draws them
	s := &screen{t: t, m: tui.New(src, vol, r)}
	s.send(tea.WindowSizeMsg{Width: width, Height: height})
	s.run(s.m.Init())
	return s
}

// send hands msg to the model and runs what it starts.
func (s *screen) send(msg tea.Msg) {
	var cmd tea.Cmd
	s.m, cmd = s.m.Update(msg)
	s.run(cmd)
}

func (s *screen) run(cmd tea.Cmd) {
	for cmd != nil {
		msg := cmd()
		if batch, ok := msg.(tea.BatchMsg); ok {
			for _, c := range batch {
				s.run(c)
			}
			return
		}
		if msg == nil {
			return
		}
		if _, quit := msg.(tea.QuitMsg); quit {
			return
		}
		s.m, cmd = s.m.Update(msg)
	}
}

// keys types each key in turn.
func (s *screen) keys(keys ...string) {
	for _, k := range keys {
		var msg tea.KeyMsg
		switch k {
		case "enter":
			msg = tea.KeyMsg{Type: tea.KeyEnter}
		case "esc":
			msg = tea.KeyMsg{Type: tea.KeyEsc}
		case "tab":
			msg = tea.KeyMsg{Type: tea.KeyTab}
		case "down":
			msg = tea.KeyMsg{Type: tea.KeyDown}
		case "up":
			msg = tea.KeyMsg{Type: tea.KeyUp}
		default:
			msg = tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
		}
		s.send(msg)
	}
}

var (
	// A gfid or a time the screen's edge cuts is replaced too.
	uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{1,4}(-[0-9a-f]{0,12})*`)
	idRE   = regexp.MustCompile(`\d{8}(-\d{6}(-[0-9a-f]{0,6})?|(-\d{0,5})?…)`) // a history record's, whole or cut at the screen's edge
	timeRE = regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:[\d:.]*`)
)

// view is the screen with what changes from run to run replaced: the
// test's directory, gfids and times. Each line is padded to the width, so
// the golden shows the screen's edges.
func (s *screen) view(dir string) string {
	v := s.m.View()
	v = strings.ReplaceAll(v, dir, "$DIR")
	v = idRE.ReplaceAllString(v, "$$ID")
	v = uuidRE.ReplaceAllString(v, "$$GFID")
	v = timeRE.ReplaceAllString(v, "$$TIME")
	return v
}

// goldenScreens compares the screens with testdata/NAME.golden.
func goldenScreens(t *testing.T, name, got string) {
	t.Helper()
	golden.Check(t, name, got, *update)
}

// geometry is a terminal's size.
type geometry struct{ width, height int }

func (g geometry) String() string { return fmt.Sprintf("%dx%d", g.width, g.height) }

// sizes are the terminals every screen is drawn for: the smallest the
// TUI supports, and a large one.
var sizes = []geometry{{80, 24}, {120, 40}}

// start is a TUI of this size on src, opening vol ("": the picker), whose
// screens are taken with dir replaced.
func (g geometry) start(t *testing.T, src tui.Source, vol, dir string) *shots {
	return &shots{s: start(t, src, vol, g.width, g.height), d: dir, width: g.width, height: g.height}
}

// shots is the screens of one session, each under its title.
type shots struct {
	b             strings.Builder
	s             *screen
	d             string
	width, height int
}

func (sh *shots) take(title string) {
	v := sh.s.view(sh.d)
	lines := strings.Split(v, "\n")
	sh.b.WriteString("=== " + title + "\n")
	if len(lines) != sh.height {
		sh.s.t.Errorf("%s: %d lines on a screen of %d", title, len(lines), sh.height)
	}
	for _, l := range lines {
		if lipgloss.Width(l) > sh.width {
			sh.s.t.Errorf("%s: a line wider than the screen's %d columns: %q", title, sh.width, l)
		}
		sh.b.WriteString("|" + l + strings.Repeat(" ", max(sh.width-lipgloss.Width(l), 0)) + "|\n")
	}
}

// TestScreens: the picker, a volume's list (all, one kind, a search) and
// an entry's copies side by side, for a data split-brain and a gfid
// split-brain, at 80x24 and 120x40.
func TestScreens(t *testing.T) {
	for _, state := range []string{"data-split-brain", "gfid-mismatch"} {
		for _, size := range [][2]int{{80, 24}, {120, 40}} {
			geometry := fmt.Sprintf("%dx%d", size[0], size[1])
			t.Run(state+"/"+geometry, func(t *testing.T) {
				dir := fixedDir(t, "afrkit-tui-"+state+"-"+geometry)
				if _, err := fixtures.Build(dir, state, 2); err != nil {
					t.Fatal(err)
				}
				s := start(t, source(dir), "", size[0], size[1])
				sh := &shots{s: s, d: dir, width: size[0], height: size[1]}
				sh.take("the picker")
				s.keys("enter")
				sh.take("enter: the volume's entries")
				s.keys("tab")
				sh.take("tab: split-brains only")
				// Tab goes round the kinds, back to all of them.
				for i := 0; i < 8 && strings.Contains(s.view(dir), "· showing"); i++ {
					s.keys("tab")
				}
				s.keys("/", "h", "e", "enter")
				sh.take("tab back to all, then / he: paths holding he")
				s.keys("esc")
				// The first split-brain entry.
				for i := 0; i < 10; i++ {
					if strings.Contains(s.view(dir), "> split-brain") {
						break
					}
					s.keys("down")
				}
				s.keys("enter")
				sh.take("enter on the split-brain: its copies")
				s.keys("d")
				sh.take("d: the content of the copies compared")
				s.keys("b")
				sh.take("b: with the blake3 of each")
				s.keys("esc")
				if state == "gfid-mismatch" {
					// The directory waits for its names: s says so. The
					// name that is two files is the next entry.
					s.keys("s")
					sh.take("s on the directory: nothing to choose")
					s.keys("esc", "down", "enter")
					sh.take("esc, down, enter: the name that is two files")
				}
				s.keys("s")
				sh.take("s: the ways to resolve it")
				s.keys("down", "enter")
				sh.take("down, enter: the second way's plan")
				hello := func(b string) string {
					data, _ := os.ReadFile(filepath.Join(dir, b, "hello.txt"))
					return string(data)
				}
				b0Before := hello("b0")
				s.keys("y")
				sh.take("y: done")
				if state == "data-split-brain" && (hello("b1") == "" || hello("b0") != hello("b1")) {
					t.Errorf("after keeping b1's copy: b0 holds %q, b1 %q", hello("b0"), hello("b1"))
				}
				s.keys("enter")
				sh.take("enter: the entries, listed again")
				s.keys("h")
				sh.take("h: the history")
				s.keys("enter")
				sh.take("enter: the undo's plan")
				s.keys("y")
				sh.take("y: undone")
				if state == "data-split-brain" && hello("b0") != b0Before {
					t.Errorf("after the undo: b0 holds %q, want its own copy %q back", hello("b0"), b0Before)
				}
				s.keys("enter", "esc")
				sh.take("enter, esc: the entries again, the split-brain back")
				s.keys("esc")
				sh.take("esc: the picker again")
				goldenScreens(t, "screens-"+state+"-"+geometry, sh.b.String())

			})
		}
	}
}

// TestStaleTempScreens: a stale rsync temp file is listed after heal
// info's entries (fsck finds it), shown with what fsck says, and renamed
// to its final name with r (the plan, then y); where the final name holds
// other content, both versions are shown and nothing is offered to run.
func TestStaleTempScreens(t *testing.T) {
	for _, clash := range []bool{false, true} {
		for _, size := range sizes {
			name := "free"
			if clash {
				name = "clash"
			}
			name += "-" + size.String()
			t.Run(name, func(t *testing.T) {
				testStaleTempScreens(t, name, clash, size)
			})
		}
	}
}

func testStaleTempScreens(t *testing.T, name string, clash bool, size geometry) {
	dir := fixedDir(t, "afrkit-tui-stale-"+name)
	v, err := fixtures.Build(dir, "stale-temp", 2)
	if err != nil {
		t.Fatal(err)
	}
	if clash {
		if err := v.WriteFile("/player.json", []byte(`{"name":"someone else"}`+"\n")); err != nil {
			t.Fatal(err)
		}
	}
	sh := size.start(t, source(dir), "fx", dir)
	s := sh.s
	sh.take("the list, the temp file found by fsck")
	s.keys("enter")
	sh.take("enter: what fsck found")
	if clash {
		s.keys("d")
		sh.take("d: the two versions compared")
		s.keys("esc")
	}
	s.keys("r")
	if clash {
		sh.take("r: which version keeps the name")
		s.keys("down", "enter")
		sh.take("down, enter: the plan of keeping /player.json's")
		s.keys("esc", "r", "enter")
		sh.take("esc, r, enter: the plan of keeping the temp file's")
		s.keys("y")
		sh.take("y: done")
		s.keys("enter")
		sh.take("enter: the entries, listed again")
		for i, b := range v.Bricks {
			final, _ := b.Abs("/player.json")
			if got, err := os.ReadFile(final); err != nil || string(got) != `{"name":"player"}`+"\n" {
				t.Errorf("b%d: /player.json after keeping the temp file's version: %q, %v", i, got, err)
			}
			kept, _ := filepath.Glob(filepath.Join(b.KeptDir(), "*", "player.json"))
			if len(kept) != 1 {
				t.Errorf("b%d: the final name's version is not in the quarantine: %v", i, kept)
			}
		}
	} else {
		sh.take("r: the rename's plan")
	}
	if !clash {
		s.keys("y")
		sh.take("y: renamed")
		s.keys("enter")
		sh.take("enter: the entries, listed again")
		for i, b := range v.Bricks {
			final, _ := b.Abs("/player.json")
			temp, _ := b.Abs(fixtures.StaleTempPath)
			if _, err := os.Stat(final); err != nil {
				t.Errorf("b%d: no /player.json after the rename: %v", i, err)
			}
			if _, err := os.Lstat(temp); !os.IsNotExist(err) {
				t.Errorf("b%d: the temp file is still there: %v", i, err)
			}
		}
	}
	goldenScreens(t, "stale-"+name, sh.b.String())
}

// TestHealAllScreens: H heals every entry: the plan first (a dry run),
// then y; the split-brain is left for a choice, the rest healed.
func TestHealAllScreens(t *testing.T) {
	for _, size := range sizes {
		t.Run(size.String(), func(t *testing.T) { testHealAllScreens(t, size) })
	}
}

func testHealAllScreens(t *testing.T, size geometry) {
	dir := fixedDir(t, "afrkit-tui-healall-"+size.String())
	v, err := fixtures.Build(dir, "data-split-brain", 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.WriteFile("/new.txt", []byte("made while b1 was down\n"), 1); err != nil {
		t.Fatal(err)
	}
	sh := size.start(t, source(dir), "fx", dir)
	s := sh.s
	sh.take("the list: a split-brain, and what b1 missed")
	s.keys("H")
	sh.take("H: the plan")
	s.keys("y")
	sh.take("y: healed, the split-brain left")
	s.keys("enter")
	sh.take("enter: the entries, listed again")
	goldenScreens(t, "healall-"+size.String(), sh.b.String())
	if got, err := os.ReadFile(filepath.Join(dir, "b1", "new.txt")); err != nil || string(got) != "made while b1 was down\n" {
		t.Errorf("b1's /new.txt after the heal: %q, %v", got, err)
	}
}

// TestMarkedScreens: two split-brains marked with space are resolved by
// one choice (b1's copy of each): the plan of both, then y.
func TestMarkedScreens(t *testing.T) {
	for _, size := range sizes {
		t.Run(size.String(), func(t *testing.T) { testMarkedScreens(t, size) })
	}
}

func testMarkedScreens(t *testing.T, size geometry) {
	dir := fixedDir(t, "afrkit-tui-marked-"+size.String())
	v, err := fixtures.Build(dir, "data-split-brain", 2)
	if err != nil {
		t.Fatal(err)
	}
	// A second data split-brain: each brick missed the other's write.
	if err := v.WriteFile("/two.txt", []byte("both\n")); err != nil {
		t.Fatal(err)
	}
	if err := v.Overwrite("/two.txt", []byte("b0's, while b1 was down\n"), 1); err != nil {
		t.Fatal(err)
	}
	if err := v.Overwrite("/two.txt", []byte("b1's, while b0 was down\n"), 0); err != nil {
		t.Fatal(err)
	}
	sh := size.start(t, source(dir), "fx", dir)
	s := sh.s
	sh.take("two split-brains")
	s.keys(" ", " ")
	sh.take("space, space: both marked")
	s.keys("s")
	sh.take("s: one choice for both")
	s.keys("down", "enter")
	sh.take("down, enter: the plan of both")
	s.keys("y")
	sh.take("y: both resolved")
	s.keys("enter")
	sh.take("enter: the entries, listed again")
	goldenScreens(t, "marked-"+size.String(), sh.b.String())
	for _, p := range []string{"hello.txt", "two.txt"} {
		b0, _ := os.ReadFile(filepath.Join(dir, "b0", p))
		b1, _ := os.ReadFile(filepath.Join(dir, "b1", p))
		if len(b1) == 0 || string(b0) != string(b1) {
			t.Errorf("/%s after keeping b1's copy of each: b0 %q, b1 %q", p, b0, b1)
		}
	}
}

// fixedDir is an empty directory whose name is the same every run,
// whatever TMPDIR says, removed when the test ends: where a long line is
// cut at the screen's edge depends on the length of the paths on it, and
// a t.TempDir's name varies in length.
func fixedDir(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join("/tmp", name)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// TestHealEntryScreens: H on an entry's view heals that entry alone (the
// plan first, then y); the other entry b1 missed stays listed.
func TestHealEntryScreens(t *testing.T) {
	for _, size := range sizes {
		t.Run(size.String(), func(t *testing.T) { testHealEntryScreens(t, size) })
	}
}

func testHealEntryScreens(t *testing.T, size geometry) {
	dir := fixedDir(t, "afrkit-tui-healentry-"+size.String())
	v, err := fixtures.Healthy(dir, "fx", 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/new.txt", "/other.txt"} {
		if err := v.WriteFile(p, []byte("made while b1 was down: "+p+"\n"), 1); err != nil {
			t.Fatal(err)
		}
	}
	sh := size.start(t, source(dir), "fx", dir)
	s := sh.s
	sh.take("the list: two files b1 missed")
	s.keys("/", "n", "e", "w", "enter", "enter")
	sh.take("/new, enter: its copies")
	s.keys("H")
	sh.take("H: the plan")
	if _, err := os.Stat(filepath.Join(dir, "b1", "new.txt")); err == nil {
		t.Errorf("the plan made b1's /new.txt")
	}
	s.keys("y")
	sh.take("y: healed")
	s.keys("enter", "esc")
	sh.take("enter, esc: the entries, listed again")
	goldenScreens(t, "healentry-"+size.String(), sh.b.String())
	if got, err := os.ReadFile(filepath.Join(dir, "b1", "new.txt")); err != nil || string(got) != "made while b1 was down: /new.txt\n" {
		t.Errorf("b1's /new.txt after its heal: %q, %v", got, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "b1", "other.txt")); err == nil {
		t.Errorf("b1's /other.txt was healed too")
	}
}

// TestContentScreens: d on an entry compares its copies' content: a line
// diff of text (c goes round the pairs of three bricks), hex around the
// first difference of binary copies, the lone copy of a file the others
// miss; and whatever escape sequences a client wrote reach the screen
// spelt out, never raw.
func TestContentScreens(t *testing.T) {
	for _, size := range sizes {
		t.Run(size.String(), func(t *testing.T) { testContentScreens(t, size) })
	}
}

func testContentScreens(t *testing.T, size geometry) {
	dir := fixedDir(t, "afrkit-tui-content-"+size.String())
	v, err := fixtures.Healthy(dir, "fx", 3)
	if err != nil {
		t.Fatal(err)
	}
	// Each brick's own version, written while the other two were down.
	versions := func(p string, data [3][]byte) {
		t.Helper()
		if err := v.WriteFile(p, data[0]); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			var down []int
			for j := range 3 {
				if j != i {
					down = append(down, j)
				}
			}
			if err := v.Overwrite(p, data[i], down...); err != nil {
				t.Fatal(err)
			}
		}
	}
	versions("/text.txt", [3][]byte{
		[]byte("one\ntwo\nthree\n"),
		[]byte("one\n2\nthree\n"),
		[]byte("one\ntwo\nthree\x1b]0;pwned\x07\x1b[2J\rfour"),
	})
	bin := func(b byte) []byte {
		data := make([]byte, 100)
		for i := range data {
			data[i] = byte(i)
		}
		data[70] = b
		return data
	}
	versions("/blob.bin", [3][]byte{bin(0), bin(0xff), bin(0xff)})
	if err := v.WriteFile("/lone.txt", []byte("only b0 has me\n"), 1, 2); err != nil {
		t.Fatal(err)
	}
	sh := size.start(t, source(dir), "fx", dir)
	s := sh.s
	open := func(path string) {
		s.keys("/")
		s.keys(strings.Split(path, "")...)
		s.keys("enter", "enter", "d")
	}
	open("text.txt")
	sh.take("/text.txt, d: b0 against b1")
	s.keys("c")
	sh.take("c: b0 against b2, whose escape sequences are spelt out")
	s.keys("c", "c")
	sh.take("c, c: round to b0 against b1")
	s.keys("esc", "esc", "esc")
	open("blob.bin")
	sh.take("/blob.bin, d: hex where they differ")
	s.keys("esc", "esc", "esc")
	open("lone.txt")
	sh.take("/lone.txt, d: the one copy")
	goldenScreens(t, "content-"+size.String(), sh.b.String())
	if strings.ContainsAny(sh.b.String(), "\x1b\x07\r") {
		t.Errorf("a control character a client wrote reached the screen")
	}
}

// TestDistributedScreens: a GlusterFS-made 2x2 volume (stopped): the
// picker, the entries of both replica sets, the data split-brain of one
// of them and its choices, at 80x24 and 120x40.
func TestDistributedScreens(t *testing.T) {
	for _, size := range sizes {
		t.Run(size.String(), func(t *testing.T) { testDistributedScreens(t, size) })
	}
}

func testDistributedScreens(t *testing.T, size geometry) {
	dir := fixedDir(t, "afrkit-tui-2x2-"+size.String())
	glusterd := filepath.Join(dir, "glusterd")
	sc, err := fixtures.UnpackGlusterScenario("../fixtures/gluster/testdata/distrep-2x2", filepath.Join(dir, "bricks"), glusterd)
	if err != nil {
		t.Fatal(err)
	}
	c := &volume.Catalog{Registry: &volume.Registry{Dir: filepath.Join(dir, "state")}, Glusterd: &volume.Glusterd{Dir: glusterd}}
	src := tui.Source{Catalog: c, Open: c.Lookup, ProcDir: "/proc", StateDir: filepath.Join(dir, "state"), LookBudget: time.Second}
	sh := size.start(t, src, "", dir)
	s := sh.s
	sh.take("the picker: a GlusterFS volume, stopped")
	s.keys("enter")
	sh.take("enter: the entries of both replica sets")
	s.keys("/", "s", "b", "-", "enter", "enter")
	sh.take("/sb-, enter: the split-brain, in one replica set")
	s.keys("s")
	sh.take("s: its choices")
	s.keys("esc", "esc", "esc")
	sh.take("esc, esc, esc: the list again")
	goldenScreens(t, "2x2-"+size.String(), strings.ReplaceAll(sh.b.String(), sc.Volume, "$VOL"))
}

// TestOneKindScreens: a file in data and metadata split-brain is resolved
// a kind at a time from the TUI: b1's content, then b0's mode.
func TestOneKindScreens(t *testing.T) {
	for _, size := range sizes {
		t.Run(size.String(), func(t *testing.T) { testOneKindScreens(t, size) })
	}
}

func testOneKindScreens(t *testing.T, size geometry) {
	dir := fixedDir(t, "afrkit-tui-onekind-"+size.String())
	if _, err := fixtures.Build(dir, "data-and-metadata-split-brain", 2); err != nil {
		t.Fatal(err)
	}
	sh := size.start(t, source(dir), "fx", dir)
	s := sh.s
	s.keys("enter", "s")
	sh.take("enter, s: whole copies, or one kind at a time")
	for !strings.Contains(s.view(dir), "> keep b1's data only") {
		s.keys("down")
	}
	s.keys("enter")
	sh.take("keep b1's data only: the plan")
	s.keys("y")
	sh.take("y: done, the metadata split-brain left")
	s.keys("enter", "enter", "s")
	sh.take("enter, enter, s: the metadata's choices")
	s.keys("enter", "y")
	sh.take("enter, y: b0's metadata kept")
	s.keys("enter")
	sh.take("enter: nothing left")
	goldenScreens(t, "onekind-"+size.String(), sh.b.String())
	if err := fixtures.BothFromB1AndB0(dir, 2); err != nil {
		t.Error(err)
	}
}

// TestUnexplainedScreens: copies that differ with no counter to say why
// (b1's written behind AFR's back) are listed as unexplained, after
// fsck's crawl, with what fsck found above the copies, and their content
// compared.
func TestUnexplainedScreens(t *testing.T) {
	for _, size := range sizes {
		t.Run(size.String(), func(t *testing.T) { testUnexplainedScreens(t, size) })
	}
}

func testUnexplainedScreens(t *testing.T, size geometry) {
	dir := fixedDir(t, "afrkit-tui-unexplained-"+size.String())
	v, err := fixtures.Healthy(dir, "fx", 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.WriteFile("/quiet.txt", []byte("as written\n")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "b1", "quiet.txt"), []byte("as written, then changed on b1 alone\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sh := size.start(t, source(dir), "fx", dir)
	s := sh.s
	sh.take("the list: one unexplained difference")
	s.keys("enter")
	sh.take("enter: what fsck found, and the copies")
	s.keys("d")
	sh.take("d: their content")
	s.keys("esc", "s")
	sh.take("esc, s: keep one brick's copy")
	s.keys("enter")
	sh.take("enter: the plan of keeping b0's")
	s.keys("y", "enter")
	sh.take("y, enter: nothing left")
	goldenScreens(t, "unexplained-"+size.String(), sh.b.String())
	if got, _ := os.ReadFile(filepath.Join(dir, "b1", "quiet.txt")); string(got) != "as written\n" {
		t.Errorf("b1 after keeping b0's copy: %q", got)
	}
}
