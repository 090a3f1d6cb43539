// Package content compares the copies of one file that the bricks of a
// replica set hold, for the TUI's content view: what kind of content a
// copy is (KindOf), a line diff of two text copies (Diff), a preview of a
// lone text copy (Preview), and hex dumps of binary copies around their
// first difference (FirstDifference, Hex).
//
// The package is pure: bytes in, values out. It never reads a brick;
// heal.ReadCopies does that.
//
// # Terminal safety
//
// A file's content is written by the volume's clients, whom afrkit does
// not trust. Written raw to a terminal, an ESC byte starts a control
// sequence that can move the cursor, retitle the window, or on some
// terminals write files or answer back as if typed; a CR overwrites the
// start of a line so that a diff hides what it shows. So every string
// this package returns is safe to write to a terminal as it is: control
// characters (C0, DEL, C1), Unicode's bidirectional formatting
// characters (which reorder what a line appears to say) and bytes that
// are not UTF-8 are spelt as escapes (\x1b, \r, \u202e, \xff), and tabs
// are expanded to spaces (see Escape). A literal backslash is left as it
// is: a file that holds the four characters \x1b shows them exactly as an
// escaped ESC byte is shown, which can confuse a reader but never a
// terminal.
package content
