package heal

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzHistoryRead feeds the history log with hostile or torn lines: Read
// may report them, never panic.
func FuzzHistoryRead(f *testing.F) {
	f.Add(`{"id":"1","kind":"data","kept":[{"brick":"b0","path":"/k"}]}` + "\n")
	f.Add(`{"id":"1"` + "\n" + `{"id":"2"}` + "\n")
	f.Add("\x00\xff\n\n")
	f.Fuzz(func(t *testing.T, log string) {
		p := filepath.Join(t.TempDir(), "history.jsonl")
		if err := os.WriteFile(p, []byte(log), 0o600); err != nil {
			t.Fatal(err)
		}
		h := &History{Path: p}
		_, _ = h.Read()
		_, _ = h.Find("1")
	})
}
