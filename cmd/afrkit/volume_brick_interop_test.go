package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkg/xattr"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/fixtures/glustertest"
)

// TestResetBrickAgreesWithGlusterFS puts a new empty disk into a GlusterFS
// volume with GlusterFS's own reset-brick, and checks that the marks it
// leaves are the ones afrkit's reset-brick writes (afr.EmptyBrickMarks on
// the other brick's root, entry dirty on the new one), and that afrkit's
// heal full of the stopped volume fills the new brick so that GlusterFS,
// started again, has nothing to heal and serves every file. afrkit's own
// reset-brick refuses a GlusterFS volume and points to GlusterFS's.
func TestResetBrickAgreesWithGlusterFS(t *testing.T) {
	c := glustertest.Require(t)
	v := c.CreateReplica(2)
	v.Start()
	v.MountFUSE()
	if err := os.MkdirAll(v.Path("d/e"), 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"top": "at the root\n", "d/e/deep": "two levels down\n"}
	for p, data := range files {
		v.WriteFile(p, data)
	}
	if err := os.Link(v.Path("top"), v.Path("d/top.link")); err != nil {
		t.Fatal(err)
	}
	v.Unmount()
	v.ResetBrickEmpty(1)

	key := "trusted.afr." + v.Name + "-client-1"
	got, err := xattr.LGet(v.Bricks[0], key)
	if err != nil {
		t.Fatalf("GlusterFS's reset-brick left no %s on the other brick's root: %v", key, err)
	}
	if want := brick.EncodeChangelog(afr.EmptyBrickMarks(true)); string(got) != string(want) {
		t.Errorf("GlusterFS blames the new brick with %x; afrkit writes %x", got, want)
	}
	dirty, err := xattr.LGet(v.Bricks[1], "trusted.afr.dirty")
	if want := brick.EncodeChangelog(afr.NewBrickDirty()); err != nil || string(dirty) != string(want) {
		t.Errorf("the new brick's root: trusted.afr.dirty %x (%v); afrkit writes %x", dirty, err, want)
	}
	v.Stop()

	env := testEnv{dir: t.TempDir(), glusterd: "/var/lib/glusterd"}
	env.state = filepath.Join(env.dir, "state")
	code, _, errOut := run(t, env, "volume", "reset-brick", v.Name, v.Bricks[1])
	if code != ExitError || !strings.Contains(errOut, "gluster volume reset-brick") {
		t.Errorf("afrkit's reset-brick on a GlusterFS volume: exit %d: %s", code, errOut)
	}
	code, out, errOut := run(t, env, "heal", v.Name, "full")
	if code != ExitOK {
		t.Fatalf("heal full: exit %d\n%s%s", code, out, errOut)
	}

	v.Start()
	v.MountFUSE()
	v.Revive()
	glusterHealEmpty(t, v)
	for p, want := range files {
		if got, err := os.ReadFile(filepath.Join(v.Bricks[1], p)); err != nil || string(got) != want {
			t.Errorf("%s on the new brick: %q, %v", p, got, err)
		}
		if got, err := os.ReadFile(v.Path(p)); err != nil || string(got) != want {
			t.Errorf("%s through the mount: %q, %v", p, got, err)
		}
	}
	gfidsAgree(t, v, "top", "d", "d/e", "d/e/deep", "d/top.link")
}
