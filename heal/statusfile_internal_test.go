package heal

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/afrkit/afrkit/afr"
)

// BenchmarkStatusStateOfAMillion saves and loads the state of a look at a
// backlog of a million classified entries: what heal status pays on top
// of the listing for a brick that large.
func BenchmarkStatusStateOfAMillion(b *testing.B) {
	st := &StatusState{Cache: NewStatusCache()}
	now := time.Now()
	for i := 0; i < 1_000_000; i++ {
		var g afr.GFID
		g[0], g[1], g[2], g[15] = byte(i), byte(i>>8), byte(i>>16), 1
		st.Cache.m[g] = cachedStatus{status: afr.HealPending, exists: true, at: now}
	}
	path := filepath.Join(b.TempDir(), "status", "v")
	for b.Loop() {
		st.Cache.dirty = true // as after a look that learned something
		if err := st.Save(path); err != nil {
			b.Fatal(err)
		}
		got, err := LoadStatusState(path)
		if err != nil || got.Cache.Len() != st.Cache.Len() {
			b.Fatalf("loaded %d entries, %v", got.Cache.Len(), err)
		}
	}
}
