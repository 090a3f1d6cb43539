package content

import (
	"bytes"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// Kind is what a copy's content looks like, which decides how the TUI
// shows it: lines for Text, a hex dump for Binary.
type Kind int

const (
	Empty Kind = iota
	Text
	Binary
)

func (k Kind) String() string {
	switch k {
	case Empty:
		return "empty"
	case Text:
		return "text"
	case Binary:
		return "binary"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// sniffLen is how much of the content KindOf looks at: enough to see a
// binary format's header and first structures, little enough that a
// megabyte copy costs nothing to classify (git looks at 8000 bytes).
const sniffLen = 8 << 10

// KindOf says whether data is Empty, Text or Binary, judging by its first
// 8 KiB. Text is valid UTF-8 with no NUL byte and few control characters
// other than tab, newline, carriage return and form feed: at most one
// byte in ten, so that a log with colour codes (an ESC every few dozen
// bytes) stays text, while a binary format that happens to be valid
// UTF-8 without NULs (rare: its lengths and flags are low bytes) does not.
//
// When data is longer than the prefix, a multi-byte rune cut by the end
// of the prefix is left out rather than counted as invalid UTF-8.
func KindOf(data []byte) Kind {
	if len(data) == 0 {
		return Empty
	}
	p := data
	if len(p) > sniffLen {
		p = trimCutRune(p[:sniffLen])
	}
	if bytes.IndexByte(p, 0) >= 0 || !utf8.Valid(p) {
		return Binary
	}
	controls := 0
	for _, r := range string(p) {
		switch r {
		case '\t', '\n', '\r', '\f':
		default:
			if unicode.Is(unicode.Cc, r) {
				controls++
			}
		}
	}
	if controls*10 > len(p) {
		return Binary
	}
	return Text
}

// trimCutRune drops the start of a multi-byte rune that the end of p cuts
// short. Bytes that cannot start a rune are left for utf8.Valid to judge.
func trimCutRune(p []byte) []byte {
	for i := len(p) - 1; i >= 0 && i >= len(p)-utf8.UTFMax+1; i-- {
		if utf8.RuneStart(p[i]) {
			if !utf8.FullRune(p[i:]) {
				return p[:i]
			}
			return p
		}
	}
	return p
}
