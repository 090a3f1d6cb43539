package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestManPages writes the man pages as a packager would and reads back the
// header and NAME of a few; with SOURCE_DATE_EPOCH set, a second run gives
// the same bytes.
func TestManPages(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000") // 2023-11-14 22:13:20 UTC
	env := newEnv(t)
	dir := filepath.Join(t.TempDir(), "man8") // created by the command
	if code, _, errOut := run(t, env, "man", dir); code != ExitOK {
		t.Fatalf("man: exit %d: %s", code, errOut)
	}
	io, _, _ := TestIO()
	root := NewCmdRoot(io)
	for page, path := range map[string][]string{
		"afrkit.8":                    nil,
		"afrkit-heal.8":               {"heal"},
		"afrkit-volume-reset-brick.8": {"volume", "reset-brick"},
	} {
		cmd, _, err := root.Find(path)
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(filepath.Join(dir, page))
		if err != nil {
			t.Fatalf("man did not write %s: %v", page, err)
		}
		// md2man may escape hyphens (\-); read the page as man would.
		text := strings.ReplaceAll(string(data), `\-`, "-")
		name := strings.TrimSuffix(page, ".8")
		th := `.TH "` + strings.ToUpper(name) + `" "8" "Nov 2023" "afrkit" "afrkit Manual"`
		if !strings.Contains(text, "\n"+th+"\n") {
			t.Errorf("%s: no header %s:\n%s", page, th, pageHead(text))
		}
		_, afterName, _ := strings.Cut(text, ".SH NAME\n")
		if got, want := strings.TrimSpace(strings.SplitN(afterName, "\n.SH", 2)[0]), name+" - "+cmd.Short; got != want {
			t.Errorf("%s: NAME is %q, want %q", page, got, want)
		}
	}

	again := filepath.Join(t.TempDir(), "man8")
	if code, _, errOut := run(t, env, "man", again); code != ExitOK {
		t.Fatalf("man again: exit %d: %s", code, errOut)
	}
	pages, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pages {
		a, errA := os.ReadFile(filepath.Join(dir, p.Name()))
		b, errB := os.ReadFile(filepath.Join(again, p.Name()))
		if errA != nil || errB != nil || !bytes.Equal(a, b) {
			t.Errorf("%s differs between two runs with SOURCE_DATE_EPOCH set (%v, %v)", p.Name(), errA, errB)
		}
	}

	// A SOURCE_DATE_EPOCH that is not a number is refused, not ignored:
	// a package build would otherwise be silently unreproducible.
	t.Setenv("SOURCE_DATE_EPOCH", "yesterday")
	if code, _, errOut := run(t, env, "man", t.TempDir()); code != ExitError || !strings.Contains(errOut, `SOURCE_DATE_EPOCH "yesterday"`) {
		t.Errorf("man with SOURCE_DATE_EPOCH=yesterday: exit %d, %q", code, errOut)
	}
}

// TestManPagesDate: without SOURCE_DATE_EPOCH the header has the current
// date, in UTC.
func TestManPagesDate(t *testing.T) {
	dir := t.TempDir()
	io, _, _ := TestIO()
	now := time.Date(2001, time.February, 28, 23, 30, 0, 0, time.FixedZone("UTC-2", -2*3600)) // 1 March in UTC
	if err := manRun(NewCmdRoot(io), dir, "", now); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "afrkit-version.8"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"8" "Mar 2001" "afrkit"`) {
		t.Errorf("afrkit-version.8 header is not dated Mar 2001:\n%s", pageHead(string(data)))
	}
}

// pageHead is the start of a page, for a failure message.
func pageHead(s string) string {
	if len(s) > 300 {
		return s[:300]
	}
	return s
}
