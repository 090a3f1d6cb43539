package content

import (
	"bytes"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// tabWidth is the distance between the tab stops Escape expands to, a
// terminal's default.
const tabWidth = 8

// Escape makes one line of file content safe to write to a terminal: it
// spells every control character, bidirectional formatting character,
// line or paragraph separator and byte that is not UTF-8 as an escape
// (\r, \x1b, \u202e, \xff), and expands each tab to spaces up to the next
// multiple of 8 columns from the start of line (counting a rune as one
// column, which wide runes are not). A newline is a control character
// here too: split content into lines before escaping it.
func Escape(line string) string {
	if !needsEscape(line) {
		return line
	}
	var b strings.Builder
	b.Grow(len(line) + 8)
	col := 0
	for i := 0; i < len(line); {
		r, size := utf8.DecodeRuneInString(line[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			col += writeEscape(&b, `\x`+hex2(line[i]))
		case r == '\t':
			n := tabWidth - col%tabWidth
			b.WriteString(strings.Repeat(" ", n))
			col += n
		case unsafeRune(r):
			col += writeEscape(&b, escapeRune(r))
		default:
			b.WriteRune(r)
			col++
		}
		i += size
	}
	return b.String()
}

func writeEscape(b *strings.Builder, s string) int {
	b.WriteString(s)
	return len(s)
}

// needsEscape reports whether Escape would change line, so that the
// common clean line is returned without a copy.
func needsEscape(line string) bool {
	for i := 0; i < len(line); {
		c := line[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(line[i:])
		if r == utf8.RuneError && size == 1 || unsafeRune(r) {
			return true
		}
		i += size
	}
	return false
}

// unsafeRune reports whether r must not reach a terminal as it is:
// control characters (C0, DEL and C1, which some terminals take as the
// start of a control sequence), the bidirectional formatting characters
// that reorder how a line is shown, and the line and paragraph
// separators that some terminals break lines at.
func unsafeRune(r rune) bool {
	return unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Bidi_Control, r) ||
		r == '\u2028' || r == '\u2029'
}

// escapeRune spells r the way Go source would.
func escapeRune(r rune) string {
	switch r {
	case '\a':
		return `\a`
	case '\b':
		return `\b`
	case '\f':
		return `\f`
	case '\n':
		return `\n`
	case '\r':
		return `\r`
	case '\v':
		return `\v`
	}
	if r < utf8.RuneSelf {
		return `\x` + hex2(byte(r))
	}
	s := strconv.FormatInt(int64(r), 16)
	return `\u` + strings.Repeat("0", 4-len(s)) + s
}

func hex2(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&0xf]})
}

// Preview is the first maxLines lines of data (every line when maxLines
// is 0 or less), each escaped as Escape does, without its newline. A
// final newline does not start another line; empty data has none.
func Preview(data []byte, maxLines int) []string {
	var out []string
	for len(data) > 0 && (maxLines <= 0 || len(out) < maxLines) {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		out = append(out, Escape(string(line)))
	}
	return out
}
