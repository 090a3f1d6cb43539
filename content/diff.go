package content

import (
	"fmt"
	"strings"

	udiff "github.com/aymanbagabas/go-udiff"
)

// Op is what a diff line does to the old copy to make the new one.
type Op int

const (
	// Equal is a line both copies hold: context around a change.
	Equal Op = iota
	// Delete is a line only the old copy holds.
	Delete
	// Insert is a line only the new copy holds.
	Insert
)

func (o Op) String() string {
	switch o {
	case Equal:
		return "equal"
	case Delete:
		return "delete"
	case Insert:
		return "insert"
	}
	return fmt.Sprintf("Op(%d)", int(o))
}

// Prefix is the mark a unified diff puts before a line of this Op.
func (o Op) Prefix() string {
	switch o {
	case Delete:
		return "-"
	case Insert:
		return "+"
	}
	return " "
}

// Line is one line of a diff.
type Line struct {
	Op Op
	// Text is the line without its newline, escaped as Escape does.
	Text string
	// OldNo and NewNo are the line's 1-based numbers in the old and new
	// copies; 0 in the copy that does not hold it.
	OldNo, NewNo int
	// NoNewline marks the last line of a copy that does not end in a
	// newline ("\ No newline at end of file"). A copy that gains or loses
	// its final newline shows its last line deleted and inserted, and
	// this is the only field in which the two differ.
	NoNewline bool
}

// Hunk is a run of changed lines with the context around them.
type Hunk struct {
	// OldStart and NewStart are the 1-based numbers of the hunk's first
	// line in each copy; OldLines and NewLines how many lines of each
	// copy it holds.
	OldStart, OldLines int
	NewStart, NewLines int
	Lines              []Line
}

// Header is the hunk's unified diff header, "@@ -3,4 +3,5 @@". As in GNU
// diff, a count of 1 is left out, and a copy the hunk holds no line of
// is numbered by the line before (0 for an empty copy).
func (h Hunk) Header() string {
	return fmt.Sprintf("@@ -%s +%s @@", rangeOf(h.OldStart, h.OldLines), rangeOf(h.NewStart, h.NewLines))
}

func rangeOf(start, n int) string {
	switch n {
	case 0:
		return fmt.Sprintf("%d,0", start-1)
	case 1:
		return fmt.Sprint(start)
	}
	return fmt.Sprintf("%d,%d", start, n)
}

// Diff is the line diff that turns the old copy a into the new copy b,
// as hunks with up to context lines of unchanged text around each change
// (none when context is negative). Equal copies have no hunks: Diff
// returns nil.
//
// The lines are compared as bytes, so that copies differing only in line
// endings or invalid UTF-8 differ here too; Line.Text is escaped only for
// display.
func Diff(a, b []byte, context int) []Hunk {
	context = max(context, 0)
	before, after := string(a), string(b)
	edits := udiff.Lines(before, after)
	if len(edits) == 0 {
		return nil
	}
	u, err := udiff.ToUnifiedDiff("a", "b", before, edits, context)
	if err != nil {
		// The edits are udiff's own, computed on before just above.
		panic(fmt.Sprintf("content: udiff rejected its own edits: %v", err))
	}
	hunks := make([]Hunk, 0, len(u.Hunks))
	for _, uh := range u.Hunks {
		h := Hunk{OldStart: uh.FromLine, NewStart: uh.ToLine, Lines: make([]Line, 0, len(uh.Lines))}
		oldNo, newNo := uh.FromLine, uh.ToLine
		for _, ul := range uh.Lines {
			text, hasNewline := strings.CutSuffix(ul.Content, "\n")
			l := Line{Text: Escape(text), NoNewline: !hasNewline}
			switch ul.Kind {
			case udiff.Delete:
				l.Op, l.OldNo = Delete, oldNo
				oldNo++
				h.OldLines++
			case udiff.Insert:
				l.Op, l.NewNo = Insert, newNo
				newNo++
				h.NewLines++
			default:
				l.Op, l.OldNo, l.NewNo = Equal, oldNo, newNo
				oldNo++
				newNo++
				h.OldLines++
				h.NewLines++
			}
			h.Lines = append(h.Lines, l)
		}
		hunks = append(hunks, h)
	}
	return hunks
}
