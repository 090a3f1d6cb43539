package heal

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/index"
)

// closeCounted is a brick read through its directory, standing for one on
// another host, that counts its closes.
type closeCounted struct {
	BrickReader
	closes *atomic.Int32
}

func (c closeCounted) Close() error { c.closes.Add(1); return nil }

// TestReuseRemoteOpensEachBrickOnce: looks through reused options open
// each brick of another host once, read it after their sets are closed,
// try again a brick that failed to open, and let go of each once.
func TestReuseRemoteOpensEachBrickOnce(t *testing.T) {
	v := &volume.Volume{Name: "v", Replica: 2, XattrNS: brick.DefaultNS()}
	for i := range 2 {
		dir := filepath.Join(t.TempDir(), "b")
		if err := os.MkdirAll(filepath.Join(dir, "d"), 0o755); err != nil {
			t.Fatal(err)
		}
		v.Bricks = append(v.Bricks, volume.Brick{Host: "elsewhere", Path: dir, ID: "v-client-" + string(rune('0'+i))})
	}
	var opens [2]int
	var closes [2]atomic.Int32
	fail := true
	reused, release := ReuseRemote(OpenOptions{Remote: func(v *volume.Volume, i int) (RemoteBrick, error) {
		opens[i]++
		if i == 1 && fail {
			fail = false
			return nil, errors.New("brick elsewhere is not connected")
		}
		b, err := brick.Open(v.Bricks[i].Path, v.XattrNS)
		if err != nil {
			return nil, err
		}
		return closeCounted{localBrick{brick.LocalReader(b, nil), index.OpenNS(b.Root, b.NS)}, &closes[i]}, nil
	}})
	for look := range 3 {
		sets := OpenReplicaSets(v, reused)
		rs := sets[0]
		for i := range 2 {
			if look == 0 && i == 1 {
				if rs.Err[1] == nil {
					t.Fatal("the first look read a brick whose open failed")
				}
				continue
			}
			if names, err := rs.Read[i].ReadDir("/"); err != nil || !slices.Equal(names, []string{"d"}) {
				t.Errorf("look %d, brick %d: ReadDir(/) = %v, %v", look, i, names, err)
			}
		}
		rs.Close()
	}
	if opens != [2]int{1, 2} || closes[0].Load() != 0 || closes[1].Load() != 0 {
		t.Fatalf("after three looks: opened %v, closed %d and %d; want each once (the failed one twice), none closed", opens, closes[0].Load(), closes[1].Load())
	}
	release()
	if closes[0].Load() != 1 || closes[1].Load() != 1 {
		t.Errorf("release closed %d and %d; want each once", closes[0].Load(), closes[1].Load())
	}
}
