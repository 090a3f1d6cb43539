package remote

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkg/xattr"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/brick/readertest"
	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/fixtures/glustertest"
	"github.com/afrkit/afrkit/gfapi"
	"github.com/afrkit/afrkit/index"
)

const clientVolfile = `volume v-client-0
    type protocol/client
    option password secret-0
    option username user-0
    option transport-type tcp
    option remote-subvolume /bricks/b1
    option remote-host server1
    option ping-timeout 42
end-volume

volume v-client-1
    type protocol/client
    option remote-subvolume /bricks/b2
    option remote-host server2
end-volume

volume v-replicate-0
    type cluster/replicate
    subvolumes v-client-0 v-client-1
end-volume
`

func TestBrickVolfileIsTheBricksClientAlone(t *testing.T) {
	got, err := brickVolfile([]byte(clientVolfile), "v-client-0", "server1", "/bricks/b1", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := `volume v-client-0
    type protocol/client
    option password secret-0
    option username user-0
    option transport-type tcp
    option remote-subvolume /bricks/b1
    option remote-host server1
    option ping-timeout 42
end-volume
`
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	for _, c := range []struct{ client, host, path, err string }{
		{"v-client-1", "server2", "/bricks/other", "stale volfile"},
		{"v-client-9", "server1", "/bricks/b1", "has no v-client-9"},
		{"v-replicate-0", "", "", "not a protocol/client"},
	} {
		if _, err := brickVolfile([]byte(clientVolfile), c.client, c.host, c.path, nil); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s at %s:%s: %v, want an error saying %q", c.client, c.host, c.path, err, c.err)
		}
	}
	if _, err := parseVolfile([]byte("volume a\n  type x\n")); err == nil {
		t.Error("a stanza without end-volume parsed")
	}
	if _, err := parseVolfile([]byte("option a b\n")); err == nil {
		t.Error("an option outside a stanza parsed")
	}
}

// requireLib loads libgfapi or skips, unless the GlusterFS tests must run.
func requireLib(t *testing.T) *gfapi.Lib {
	t.Helper()
	lib, err := gfapi.Load()
	if err != nil {
		if os.Getenv("AFRKIT_REQUIRE_GLUSTER") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return lib
}

// gfid reads a copy's gfid from its brick directory.
func gfid(t *testing.T, brickDir, p string) afr.GFID {
	t.Helper()
	v, err := xattr.LGet(filepath.Join(brickDir, p), "trusted.gfid")
	if err != nil {
		t.Fatal(err)
	}
	g, err := brick.DecodeGFID(v)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestReadersAgreeOnAGlusterFSBrick runs the brick.Reader contract against
// both readers of every brick of a started replica-3 GlusterFS volume,
// damaged through its FUSE mount by writes while the third brick was down:
// the brick directory read on this host, and the same brick read over the
// network through its brick process. Each meets what the writes left, and
// the two answer alike.
func TestReadersAgreeOnAGlusterFSBrick(t *testing.T) {
	c := glustertest.Require(t)
	lib := requireLib(t)
	gv := c.CreateReplica(3, "cluster.quorum-type", "none")
	gv.Start()
	gv.MountFUSE()
	if err := os.Mkdir(gv.Path("d"), 0o755); err != nil {
		t.Fatal(err)
	}
	gv.WriteFile("d/a", "first\n")
	gv.WriteFile("keep", "kept\n")
	if err := xattr.Set(gv.Path("keep"), "user.colour", []byte("blue")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", gv.Path("l")); err != nil {
		t.Fatal(err)
	}
	// Names with ':', which GlusterFS's gfidtopath also puts between
	// the names of a file's hard links: "/x:/y:z" is one path.
	gv.WriteFile("a:b", "colon\n")
	if err := os.Mkdir(gv.Path("x:"), 0o755); err != nil {
		t.Fatal(err)
	}
	gv.WriteFile("x:/y:z", "colons\n")
	gv.KillBrick(2)
	gv.WriteFile("d/a", "first, then more while b3 was down\n")
	gv.WriteFile("d/new", "made while b3 was down\n")
	gv.Revive()

	v, err := (&volume.Glusterd{Dir: c.Dir}).Load(gv.Name)
	if err != nil {
		t.Fatal(err)
	}
	keys := volume.PendingKeys(v.Bricks)
	b0 := gv.Bricks[0]
	g := func(p string) afr.GFID { return gfid(t, b0, p) }
	up := func(bi int) readertest.Want {
		return readertest.Want{
			Keys: keys,
			Copies: []readertest.Copy{
				{Path: "/d", GFID: g("d"), Type: afr.TypeDirectory, Blamed: []int{2}},
				{Path: "/d/a", GFID: g("d/a"), Type: afr.TypeRegular, Size: int64(len("first, then more while b3 was down\n")), Content: "first, then more while b3 was down\n", Blamed: []int{2}},
				{Path: "/d/new", GFID: g("d/new"), Type: afr.TypeRegular, Size: int64(len("made while b3 was down\n")), Blamed: []int{2}},
				{Path: "/keep", GFID: g("keep"), Type: afr.TypeRegular, Size: 5, Xattrs: map[string]string{"user.colour": "blue"}},
				{Path: "/l", GFID: g("l"), Type: afr.TypeSymlink},
				{Path: "/a:b", GFID: g("a:b"), Type: afr.TypeRegular, Size: 6},
				{Path: "/x:", GFID: g("x:"), Type: afr.TypeDirectory},
				{Path: "/x:/y:z", GFID: g("x:/y:z"), Type: afr.TypeRegular, Size: 7},
			},
			Absent:  []string{"/absent", "/d/absent"},
			Dirs:    map[string][]string{"/": {"a:b", "d", "keep", "l", "x:"}, "/d": {"a", "new"}, "/x:": {"y:z"}},
			Indexed: map[index.Subdir][]afr.GFID{index.Xattrop: {g("d"), g("d/a"), g("d/new")}},
		}
	}
	down := readertest.Want{
		Keys: keys,
		Copies: []readertest.Copy{
			{Path: "/d", GFID: g("d"), Type: afr.TypeDirectory},
			{Path: "/d/a", GFID: g("d/a"), Type: afr.TypeRegular, Size: int64(len("first\n")), Content: "first\n"},
			{Path: "/keep", GFID: g("keep"), Type: afr.TypeRegular, Size: 5, Xattrs: map[string]string{"user.colour": "blue"}},
			{Path: "/a:b", GFID: g("a:b"), Type: afr.TypeRegular, Size: 6},
			{Path: "/x:", GFID: g("x:"), Type: afr.TypeDirectory},
			{Path: "/x:/y:z", GFID: g("x:/y:z"), Type: afr.TypeRegular, Size: 7},
		},
		Absent: []string{"/d/new"},
		Dirs:   map[string][]string{"/": {"a:b", "d", "keep", "l", "x:"}, "/d": {"a"}, "/x:": {"y:z"}},
	}

	for i := range v.Bricks {
		want := down
		if i < 2 {
			want = up(i)
		}
		lb, err := brick.Open(v.Bricks[i].Path, brick.NSTrusted)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { lb.Close() })
		local := brick.LocalReader(lb, brick.NewDirCache(16))
		localIndex := index.Open(v.Bricks[i].Path)
		rb, err := Open(lib, Config{GlusterdDir: c.Dir, Volume: v, Brick: i})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rb.Close() })
		if got := rb.String(); got != v.Bricks[i].String() {
			t.Errorf("remote brick %d is named %s, want %s", i, got, v.Bricks[i])
		}
		name := "b" + string(rune('1'+i))
		t.Run(name+"/local", func(t *testing.T) { readertest.Run(t, local, localIndex, want) })
		t.Run(name+"/remote", func(t *testing.T) { readertest.Run(t, rb, rb, want) })
		t.Run(name+"/same", func(t *testing.T) { readertest.Same(t, local, rb, localIndex, rb, want) })
	}

	// A brick process that has met no name since it started has no path
	// in its inode table: PathOf reads gfidtopath, whose ':' also joins
	// the paths of a file's hard links.
	gv.KillBrick(2)
	gv.Revive()
	rb, err := Open(lib, Config{GlusterdDir: c.Dir, Volume: v, Brick: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer rb.Close()
	for _, p := range []string{"/a:b", "/x:/y:z"} {
		if got, err := rb.PathOf(g(p[1:])); got != p || err != nil {
			t.Errorf("PathOf(%s) on a brick just started = %q, %v", p, got, err)
		}
	}
}

func TestOpenOfADownBrickSaysSo(t *testing.T) {
	c := glustertest.Require(t)
	lib := requireLib(t)
	gv := c.CreateReplica(2, "cluster.quorum-type", "none")
	gv.Start()
	gv.MountFUSE()
	gv.KillBrick(1)
	v, err := (&volume.Glusterd{Dir: c.Dir}).Load(gv.Name)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(lib, Config{GlusterdDir: c.Dir, Volume: v, Brick: 1})
	if err == nil || !strings.Contains(err.Error(), v.Bricks[1].String()+" is not connected") {
		t.Errorf("Open of a killed brick: %v, want it named as not connected", err)
	}
}
