package content_test

import (
	"bytes"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"unicode"

	"github.com/afrkit/afrkit/content"
)

func TestKindOf(t *testing.T) {
	const prefix = 8 << 10
	long := func(head string, tail string) []byte {
		return []byte(strings.Repeat("a", prefix-len(head)) + head + tail)
	}
	tests := []struct {
		name string
		data []byte
		want content.Kind
	}{
		{"empty", nil, content.Empty},
		{"plain text", []byte("hello, world\n"), content.Text},
		{"utf-8 text", []byte("grüße, 世界\n"), content.Text},
		{"crlf, tabs and form feeds", []byte("a\tb\r\n\fpage two\r\n"), content.Text},
		{"colour codes", []byte("\x1b[31merror\x1b[0m: the disk is full, again, after all\n"), content.Text},
		{"a NUL byte", []byte("hello\x00world\n"), content.Binary},
		{"not utf-8", []byte("caf\xe9\n"), content.Binary},
		{"mostly control characters", []byte("\x01\x02\x03\x04hello\n"), content.Binary},
		{"one control character in ten bytes", []byte("\x01abcdefghi"), content.Text},
		{"two control characters in ten bytes", []byte("\x01\x01abcdefgh"), content.Binary},
		{"C1 control characters", []byte(strings.Repeat("\u009b", 8)), content.Binary},
		{"ELF header", []byte("\x7fELF\x02\x01\x01\x00"), content.Binary},
		// The prefix ends inside a rune: its first bytes are not invalid.
		{"two-byte rune cut by the prefix", long("\xc3", "\xa9 and more\n"), content.Text},
		{"four-byte rune cut after three bytes", long("\xf0\x9f\x98", "\x80 and more\n"), content.Text},
		// Only the prefix is judged.
		{"NUL after the prefix", long("", "\x00"), content.Text},
		// A bad byte at the prefix's end is not a cut rune.
		{"invalid byte ending the prefix", long("\xff", "more\n"), content.Binary},
		{"truncated rune at the very end of short data", []byte("caf\xc3"), content.Binary},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := content.KindOf(tt.data); got != tt.want {
				t.Errorf("KindOf = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain line", "plain line"},
		{"grüße 世界", "grüße 世界"},
		{"\x1b]0;pwned\x07\x1b[2J", `\x1b]0;pwned\a\x1b[2J`},
		{"good\rbad", `good\rbad`},
		{"csi \u009b2J", `csi \u009b2J`},
		{"abc\u202edcba", `abc\u202edcba`},
		{"sep\u2028arator", `sep\u2028arator`},
		{"nul\x00 del\x7f", `nul\x00 del\x7f`},
		{"bad \xff\xfe byte", `bad \xff\xfe byte`},
		{"a\tb", "a       b"},
		{"\tx", "        x"},
		{"1234567\tx", "1234567 x"},
		{"\x1b\tx", `\x1b    x`}, // the escape takes four columns
	}
	for _, tt := range tests {
		if got := content.Escape(tt.in); got != tt.want {
			t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPreview(t *testing.T) {
	data := []byte("one\ntwo\x1b[2J\r\n\tthree\n\nfive")
	want := []string{"one", `two\x1b[2J\r`, "        three", "", "five"}
	if got := content.Preview(data, 0); !reflect.DeepEqual(got, want) {
		t.Errorf("Preview(all) = %q, want %q", got, want)
	}
	if got := content.Preview(data, 2); !reflect.DeepEqual(got, want[:2]) {
		t.Errorf("Preview(2) = %q, want %q", got, want[:2])
	}
	if got := content.Preview([]byte("a\nb\n"), 10); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("a final newline starts no line: got %q", got)
	}
	if got := content.Preview(nil, 10); got != nil {
		t.Errorf("Preview(empty) = %q, want nil", got)
	}
}

func TestDiffSame(t *testing.T) {
	for _, data := range []string{"", "a\nb\n", "no newline"} {
		if h := content.Diff([]byte(data), []byte(data), 3); h != nil {
			t.Errorf("Diff(%q, itself) = %+v, want nil", data, h)
		}
	}
}

// TestDiff checks hunks against what GNU diff -U1 prints for the same
// copies:
//
//	@@ -2,3 +2,3 @@
//	 2
//	-3
//	+three
//	 4
//	@@ -11,2 +11,3 @@
//	 11
//	-12
//	+eleven and a half
//	+12
//	\ No newline at end of file
func TestDiff(t *testing.T) {
	a := []byte("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n")
	b := []byte("1\n2\nthree\n4\n5\n6\n7\n8\n9\n10\n11\neleven and a half\n12")
	eq := func(text string, o, n int) content.Line {
		return content.Line{Op: content.Equal, Text: text, OldNo: o, NewNo: n}
	}
	del := func(text string, o int) content.Line { return content.Line{Op: content.Delete, Text: text, OldNo: o} }
	ins := func(text string, n int) content.Line { return content.Line{Op: content.Insert, Text: text, NewNo: n} }
	last := ins("12", 13)
	last.NoNewline = true
	want := []content.Hunk{
		{OldStart: 2, OldLines: 3, NewStart: 2, NewLines: 3, Lines: []content.Line{
			eq("2", 2, 2), del("3", 3), ins("three", 3), eq("4", 4, 4),
		}},
		{OldStart: 11, OldLines: 2, NewStart: 11, NewLines: 3, Lines: []content.Line{
			eq("11", 11, 11), del("12", 12), ins("eleven and a half", 12), last,
		}},
	}
	got := content.Diff(a, b, 1)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Diff:\n got %+v\nwant %+v", got, want)
	}
	if h := got[0].Header(); h != "@@ -2,3 +2,3 @@" {
		t.Errorf("Header = %q", h)
	}
	// With three lines of context the hunks are six lines apart, and stay
	// two; with five they merge.
	if n := len(content.Diff(a, b, 3)); n != 2 {
		t.Errorf("context 3: %d hunks, want 2", n)
	}
	if n := len(content.Diff(a, b, 5)); n != 1 {
		t.Errorf("context 5: %d hunks, want 1", n)
	}
}

func TestDiffHeaderOfEmptyCopy(t *testing.T) {
	h := content.Diff(nil, []byte("1\n2\n"), 3)
	if len(h) != 1 || h[0].Header() != "@@ -0,0 +1,2 @@" {
		t.Fatalf("Diff(empty, two lines) = %+v", h)
	}
}

func TestDiffEscapesLines(t *testing.T) {
	h := content.Diff([]byte("same\nok\n"), []byte("same\n\x1b]52;c;cm0gLXJmIH4=\x07\r\n"), 3)
	var texts []string
	for _, l := range h[0].Lines {
		texts = append(texts, l.Op.Prefix()+l.Text)
	}
	want := []string{" same", "-ok", `+\x1b]52;c;cm0gLXJmIH4=\a\r`}
	if !reflect.DeepEqual(texts, want) {
		t.Errorf("lines %q, want %q", texts, want)
	}
}

func TestHex(t *testing.T) {
	data := []byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x1b[2J\r\x9b\xffhello, world\n")
	// hexdump -C of data.
	all := []string{
		"00000000  7f 45 4c 46 02 01 01 00  00 00 00 00 00 00 00 00  |.ELF............|",
		"00000010  1b 5b 32 4a 0d 9b ff 68  65 6c 6c 6f 2c 20 77 6f  |.[2J...hello, wo|",
		"00000020  72 6c 64 0a                                       |rld.|",
	}
	tests := []struct {
		start int64
		rows  int
		want  []string
	}{
		{0, 10, all},
		{0, 1, all[:1]},
		{0x13, 10, all[1:]}, // rounded down to its row
		{0x23, 1, all[2:]},
		{0x24, 1, nil}, // past the end
		{-1, 1, nil},
		{0, 0, nil},
	}
	for _, tt := range tests {
		if got := content.Hex(data, tt.start, tt.rows); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Hex(%#x, %d):\n got %q\nwant %q", tt.start, tt.rows, got, tt.want)
		}
	}
}

func TestFirstDifference(t *testing.T) {
	tests := []struct {
		a, b string
		want content.Difference
	}{
		{"", "", content.Difference{Same: true}},
		{"abc", "abc", content.Difference{Same: true, Offset: 3}},
		{"abcd", "abxd", content.Difference{Offset: 2}},
		{"xbc", "abc", content.Difference{Offset: 0}},
		{"abc", "abcdef", content.Difference{Offset: 3, Prefix: true}},
		{"abcdef", "abc", content.Difference{Offset: 3, Prefix: true}},
		{"", "a", content.Difference{Offset: 0, Prefix: true}},
	}
	for _, tt := range tests {
		if got := content.FirstDifference([]byte(tt.a), []byte(tt.b)); got != tt.want {
			t.Errorf("FirstDifference(%q, %q) = %+v, want %+v", tt.a, tt.b, got, tt.want)
		}
	}
}

// TestNothingReachesTheTerminal feeds random bytes, rich in control
// characters, ESC sequences and broken UTF-8, through every function
// that returns text, and checks no returned string holds a character a
// terminal would act on.
func TestNothingReachesTheTerminal(t *testing.T) {
	pieces := []string{"\x1b", "[2J", "\r", "\n", "\t", "\x07", "\x00", "\x7f", "\u009b", "\u202e", "\u2066",
		"\u2028", "\xff", "\xc3", "\xe2\x80", "a", "é", "世", " ", "\f", "\b"}
	rng := rand.New(rand.NewPCG(1, 2))
	random := func() []byte {
		var b bytes.Buffer
		for range rng.IntN(200) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		return b.Bytes()
	}
	check := func(what string, s string) {
		t.Helper()
		for i, r := range s {
			if r == unicode.ReplacementChar && strings.HasPrefix(s[i:], "\xef\xbf\xbd") {
				continue // U+FFFD as such is harmless
			}
			if r == unicode.ReplacementChar || unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Bidi_Control, r) ||
				r == '\u2028' || r == '\u2029' {
				t.Fatalf("%s returned %q, which holds %q", what, s, r)
			}
		}
	}
	for range 500 {
		a, b := random(), random()
		for _, l := range content.Preview(a, 0) {
			check("Preview", l)
		}
		for _, h := range content.Diff(a, b, 2) {
			check("Header", h.Header())
			for _, l := range h.Lines {
				check("Diff", l.Text)
			}
		}
		for _, row := range content.Hex(a, 0, 1000) {
			check("Hex", row)
		}
		check("Escape", content.Escape(string(a)))
	}
}
