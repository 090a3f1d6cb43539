package tui_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pkg/xattr"

	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/fixtures/glustertest"
	"github.com/afrkit/afrkit/tui"
)

// TestStartedGlusterFSVolumeIsReadOnly: a started GlusterFS volume, whose
// second brick missed a write, is listed from its bricks, says it is
// read-only, and a heal from the TUI is planned but refused, changing
// nothing: GlusterFS serves it.
func TestStartedGlusterFSVolumeIsReadOnly(t *testing.T) {
	c := glustertest.Require(t)
	v := c.CreateReplica(2)
	v.Start()
	v.MountFUSE()
	v.WriteFile("/f.txt", "both\n")
	v.KillBrick(1)
	v.WriteFile("/f.txt", "written while the second brick was down\n")
	// GlusterFS's client writes its post-op (dirty back to 0) up to a
	// second later: unmounted, it has.
	v.Unmount()
	// The file's copies, content and xattrs: GlusterFS's own brick
	// process writes elsewhere on the brick (its health check).
	copies := func() string {
		var b strings.Builder
		for _, root := range v.Bricks {
			p := filepath.Join(root, "f.txt")
			data, _ := os.ReadFile(p)
			b.WriteString(root + ": " + string(data))
			names, _ := xattr.LList(p)
			slices.Sort(names)
			for _, n := range names {
				val, _ := xattr.LGet(p, n)
				fmt.Fprintf(&b, "  %s=%x\n", n, val)
			}
		}
		return b.String()
	}
	before := copies()

	cat := &volume.Catalog{Registry: &volume.Registry{Dir: t.TempDir()}, Glusterd: &volume.Glusterd{Dir: "/var/lib/glusterd"}}
	src := tui.Source{Catalog: cat, Open: cat.Lookup, ProcDir: "/proc", StateDir: t.TempDir(), LookBudget: time.Second}
	for _, size := range sizes {
		sh := size.start(t, src, v.Name, filepath.Dir(v.Bricks[0]))
		s := sh.s
		sh.take("the list: read-only, GlusterFS serves it")
		screen := s.m.View()
		for _, want := range []string{"read-only, GlusterFS serves it", "/f.txt"} {
			if !strings.Contains(screen, want) {
				t.Errorf("the list lacks %q:\n%s", want, screen)
			}
		}
		s.keys("H")
		sh.take("H: the plan, and GlusterFS's command")
		if screen = s.m.View(); !strings.Contains(screen, "The plan") || !strings.Contains(screen, "gluster volume heal "+v.Name) {
			t.Fatalf("H shows no plan, or no gluster command:\n%s", screen)
		}
		s.keys("y")
		sh.take("y: nothing runs")
		if after := copies(); after != before {
			t.Errorf("y changed the copies of a started volume:\nbefore %s\nafter %s", before, after)
		}
		s.keys("esc", "/", "f", ".", "t", "enter", "enter", "s")
		sh.take("/f.t, enter, s: nothing to choose")
		s.keys("esc", "esc", "esc")
		goldenScreens(t, "started-glusterfs-"+size.String(), strings.NewReplacer(v.Name, "afrkit-VOLUMEID", c.Host+":", "HOST:").Replace(sh.b.String()))
	}
}
