package content

import (
	"fmt"
	"strings"
)

// HexRow is how many bytes a row of Hex shows.
const HexRow = 16

// Hex dumps data as hexdump -C does, up to rows rows from the row that
// holds offset start (rounded down to a multiple of HexRow, so that
// dumps of two copies around the same offset line up row for row):
//
//	00000000  7f 45 4c 46 02 01 01 00  00 00 00 00 00 00 00 00  |.ELF............|
//
// Offsets count from the start of data, which is the start of the file
// for a copy read from its beginning. The text column shows printable
// ASCII and a dot for every other byte, so no row holds a control
// character. A start outside data, or rows of 0 or less, give nil.
func Hex(data []byte, start int64, rows int) []string {
	if start < 0 || start >= int64(len(data)) || rows <= 0 {
		return nil
	}
	var out []string
	for off := start - start%HexRow; off < int64(len(data)) && len(out) < rows; off += HexRow {
		out = append(out, hexRow(off, data[off:min(off+HexRow, int64(len(data)))]))
	}
	return out
}

func hexRow(off int64, row []byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%08x  ", off)
	for i := range HexRow {
		if i < len(row) {
			fmt.Fprintf(&b, "%02x ", row[i])
		} else {
			b.WriteString("   ")
		}
		if i == HexRow/2-1 {
			b.WriteByte(' ')
		}
	}
	b.WriteString(" |")
	for _, c := range row {
		if c < 0x20 || c > 0x7e {
			c = '.'
		}
		b.WriteByte(c)
	}
	b.WriteByte('|')
	return b.String()
}

// Difference is where two copies' bytes first differ.
type Difference struct {
	// Same is set when the copies are byte for byte equal.
	Same bool
	// Offset is the first offset at which they differ: the length of the
	// shorter when one is a prefix of the other. It is the length of
	// both when they are the same.
	Offset int64
	// Prefix is set when they differ only in that one goes on after the
	// other ends.
	Prefix bool
}

// FirstDifference compares a and b byte for byte. They are what was read
// of two copies: when one was cut short by a read limit, equal bytes say
// nothing of what follows (compare sizes and hashes for that).
func FirstDifference(a, b []byte) Difference {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return Difference{Offset: int64(i)}
		}
	}
	if len(a) == len(b) {
		return Difference{Same: true, Offset: int64(n)}
	}
	return Difference{Offset: int64(n), Prefix: true}
}
