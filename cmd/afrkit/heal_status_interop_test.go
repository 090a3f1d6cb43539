package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/afrkit/afrkit/fixtures/glustertest"
)

// TestHealWaitFollowsGlusterFSsDaemon follows a live GlusterFS volume's
// own self-heal daemon with afrkit: a brick misses hundreds of writes,
// status sees the backlog, the daemon is turned on, and wait follows the
// count down until GlusterFS's heal info is empty.
func TestHealWaitFollowsGlusterFSsDaemon(t *testing.T) {
	c := glustertest.Require(t)
	v := c.CreateReplica(2, "cluster.quorum-type", "none")
	v.Start()
	v.MountFUSE()
	v.Revive()
	v.KillBrick(1)
	const files = 600
	for i := 0; i < files; i++ {
		v.WriteFile(fmt.Sprintf("f%03d", i), "written while b2 was down\n")
	}
	v.Revive()

	env := testEnv{dir: t.TempDir(), glusterd: "/var/lib/glusterd"}
	env.state = filepath.Join(env.dir, "state")
	code, out, errOut := run(t, env, "heal", v.Name, "status", "--json")
	if code != ExitOK {
		t.Fatalf("status: exit %d: %s", code, errOut)
	}
	var st statusJSON
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatal(err)
	}
	// Every file and the root, on the brick that stayed up.
	if st.State != "pending" || st.Entries != files+1 || st.SplitBrain != 0 || st.Bricks[0].Entries != files+1 || st.Bricks[1].Entries != 0 {
		t.Fatalf("before GlusterFS heals: %s", out)
	}

	if _, err := c.Gluster("volume", "set", v.Name, "cluster.self-heal-daemon", "on"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Gluster("volume", "heal", v.Name); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = run(t, env, "heal", v.Name, "wait", "--interval", "200ms", "--timeout", "5m")
	t.Logf("wait:\n%s%s", out, errOut)
	if code != ExitOK {
		t.Fatalf("wait: exit %d", code)
	}
	glusterHealEmpty(t, v)
	// Lines come as the count changes: it fell, from the backlog to 0.
	var left []int
	for _, m := range regexp.MustCompile(`(?m)^(\d+) entries left`).FindAllStringSubmatch(errOut, -1) {
		n, _ := strconv.Atoi(m[1])
		left = append(left, n)
	}
	if len(left) < 2 || left[0] == 0 || left[len(left)-1] != 0 {
		t.Fatalf("wait saw %v entries left, want a falling count that ends at 0", left)
	}
	code, out, _ = run(t, env, "heal", v.Name, "status", "--json")
	if err := json.Unmarshal([]byte(out), &st); err != nil || code != ExitOK {
		t.Fatal(code, err)
	}
	if st.State != "healthy" || st.Healed < files || st.Entries != 0 {
		t.Fatalf("after GlusterFS healed: %s", out)
	}
}
