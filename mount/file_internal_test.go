package mount

import (
	"os"
	"testing"
)

// TestReadsNeverMoveToABlamedCopy: when the copy a file is read from
// fails, reads move to another copy that was readable when the file was
// opened, never to one that was blamed (stale), even if it is open.
func TestReadsNeverMoveToABlamedCopy(t *testing.T) {
	var fds []*os.File
	for i := 0; i < 3; i++ {
		f, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		fds = append(fds, f)
	}
	f := &file{fds: fds, readFrom: 0, readable: []bool{true, false, true}}
	if got := f.otherSource(0); got != 2 {
		t.Errorf("reads move from copy 0 to copy %d, want 2 (copy 1 is blamed)", got)
	}
	f.readable = []bool{true, false, false}
	if got := f.otherSource(0); got != -1 {
		t.Errorf("with no other readable copy, reads move to %d, want -1 (EIO)", got)
	}
}
