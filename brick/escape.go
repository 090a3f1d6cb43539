package brick

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// EscapeName makes a name (or path) that a client chose safe to print on
// a line of text, as ls -b does: a backslash becomes \\, a newline \n, a
// tab \t, and any other control character or byte that is not UTF-8 the
// octal \ooo of each byte. A name with a newline could otherwise print
// lines such as "Number of entries: 0" into a report that scripts parse.
// Names without such characters are returned unchanged.
func EscapeName(s string) string {
	if !needsEscape(s) {
		return s
	}
	var sb strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\\':
			sb.WriteString(`\\`)
		case r == '\n':
			sb.WriteString(`\n`)
		case r == '\t':
			sb.WriteString(`\t`)
		case r == utf8.RuneError && n <= 1, !unicode.IsPrint(r) && r != ' ':
			for _, c := range []byte(s[i : i+n]) {
				sb.WriteString(`\` + strconv.FormatUint(uint64(c)|0o1000, 8)[1:])
			}
		default:
			sb.WriteString(s[i : i+n])
		}
		i += n
	}
	return sb.String()
}

func needsEscape(s string) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == '\\' || (r == utf8.RuneError && n <= 1) || (!unicode.IsPrint(r) && r != ' ') {
			return true
		}
		i += n
	}
	return false
}
