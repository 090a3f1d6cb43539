package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/fixtures/glustertest"
	"github.com/afrkit/afrkit/glustercli"
)

// The tests below run on a pool of three glusterds on this machine
// (glustertest.RequirePool, as GlusterFS's tests/cluster.rc), a stand-in
// for three servers: afrkit runs "on" the first, reading that peer's
// glusterd directory, so its bricks are local and the others' are read
// over the network through libgfapi. They share one pool: starting one
// stops the default glusterd, which the other interop tests wait for.
func TestOnAPoolOfThreeServers(t *testing.T) {
	pool := glustertest.RequirePool(t, 3)
	env := testEnv{dir: t.TempDir(), glusterd: pool.Peers[0].GlusterdDir}
	env.state = filepath.Join(env.dir, "state")

	t.Run("replica 3, one brick per server", func(t *testing.T) {
		v := pool.CreateReplica(3, "cluster.quorum-type", "none")
		v.Start()
		v.MountFUSE()
		if err := os.Mkdir(v.Path("d"), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"d/a", "keep", "sb", "meta"} {
			v.WriteFile(p, "written with every brick up\n")
		}
		// The third server goes down: the first two blame its brick.
		v.KillBrick(2)
		v.WriteFile("d/a", "appended while the third server was down\n")
		v.WriteFile("d/new", "created while the third server was down\n")
		if err := os.Chmod(v.Path("meta"), 0o600); err != nil {
			t.Fatal(err)
		}
		v.Revive()
		splitBrainSB(v)

		healInfoAgrees(t, env, v, 5, "/sb")

		// status counts what GlusterFS's summary counts, every brick read.
		theirs, err := v.HealInfo("summary", "--xml")
		if err != nil {
			t.Fatal(err)
		}
		total, splitBrain := 0, 0
		for _, b := range parseReport(t, []byte(theirs)).Bricks {
			n, _ := strconv.Atoi(b.Total)
			sb, _ := strconv.Atoi(b.SplitBrain)
			total, splitBrain = total+n, splitBrain+sb
		}
		code, out, errOut := run(t, env, "heal", v.Name, "status", "--json")
		if code != ExitOK {
			t.Fatalf("status: exit %d: %s", code, errOut)
		}
		var st struct {
			Entries    int `json:"entries"`
			SplitBrain int `json:"split_brain"`
			BricksDown int `json:"bricks_down"`
		}
		if err := json.Unmarshal([]byte(out), &st); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if st.Entries != total || st.SplitBrain != splitBrain || st.BricksDown != 0 || total == 0 {
			t.Errorf("status: %d entries, %d in split-brain, %d bricks down; GlusterFS's summary counts %d and %d, every brick up\n%s", st.Entries, st.SplitBrain, st.BricksDown, total, splitBrain, out)
		}

		// explain reads every brick, the remote ones over the network.
		code, out, errOut = run(t, env, "heal", v.Name, "explain", "/sb", "--json")
		if code != ExitOK {
			t.Fatalf("explain: exit %d: %s", code, errOut)
		}
		var doc struct {
			Sets []struct {
				Copies []struct {
					Brick  string `json:"brick"`
					Exists bool   `json:"present"`
					Size   int64  `json:"size"`
				} `json:"copies"`
				Verdict struct {
					Data struct {
						SplitBrain bool `json:"split_brain"`
					} `json:"data"`
				} `json:"verdict"`
			} `json:"replica_sets"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		exs := doc.Sets
		if len(exs) != 1 || len(exs[0].Copies) != 3 {
			t.Fatalf("explain /sb --json: %s", out)
		}
		sizes := ""
		for _, c := range exs[0].Copies {
			sizes += fmt.Sprintf("%s=%v/%d ", c.Brick, c.Exists, c.Size)
		}
		first, others := int64(len("the first server's version\n")), int64(len("the second and third servers' version\n"))
		want := fmt.Sprintf("%s=true/%d %s=true/%d %s=true/%d ", v.Brick(0), first, v.Brick(1), others, v.Brick(2), others)
		if sizes != want || !exs[0].Verdict.Data.SplitBrain {
			t.Errorf("explain /sb: copies %s, data split-brain %v; want %s and a split-brain\n%s", sizes, exs[0].Verdict.Data.SplitBrain, want, out)
		}
	})

	t.Run("a split-brain resolved through GlusterFS", func(t *testing.T) {
		v := pool.CreateReplica(3, "cluster.quorum-type", "none")
		v.Start()
		v.MountFUSE()
		v.WriteFile("sb", "written with every brick up\n")
		splitBrainSB(v)
		splitBrains := func() int { return liveSplitBrainCount(t, v) }
		if n := splitBrains(); n == 0 {
			t.Fatal("GlusterFS lists no split-brain: the scenario did not make one")
		}

		// The dry run says what it would do, and does nothing.
		code, out, errOut := run(t, env, "--glusterd-sock", pool.Peers[0].Socket, "heal", v.Name, "split-brain", "source-brick", v.Brick(1), "/sb", "--dry-run")
		if code != ExitOK || !strings.Contains(out, "Dry run: nothing was changed") || !strings.Contains(out, "replica.split-brain-heal-finalize -v "+v.Name+"-client-1 /sb") {
			t.Fatalf("dry run: exit %d\n%s%s", code, out, errOut)
		}
		if n := splitBrains(); n == 0 {
			t.Fatal("the dry run resolved the split-brain")
		}

		code, out, errOut = run(t, env, "--glusterd-sock", pool.Peers[0].Socket, "heal", v.Name, "split-brain", "source-brick", v.Brick(1), "/sb")
		// Bricks are labelled as heal info's JSON labels them: by their
		// directory's name where those differ.
		label := func(i int) string { return filepath.Base(v.Bricks[i]) }
		if code != ExitOK || !strings.HasPrefix(out, "Healed /sb from "+label(1)+" through GlusterFS (data)\n") {
			t.Fatalf("source-brick: exit %d\n%s%s", code, out, errOut)
		}
		// GlusterFS lists nothing, its mount reads the chosen copy, and the
		// first server's copy is kept, byte for byte, with its record.
		if n := splitBrains(); n != 0 {
			t.Errorf("GlusterFS still lists %d split-brain entries", n)
		}
		if got, err := os.ReadFile(v.Path("sb")); err != nil || string(got) != "the second and third servers' version\n" {
			t.Errorf("the mount reads %q, %v", got, err)
		}
		recs := historyRecords(t, env, v.Name)
		if len(recs) != 1 || !recs[0].Live || len(recs[0].Kept) != 2 {
			t.Fatalf("history: %+v", recs)
		}
		for _, k := range recs[0].Kept {
			want := "the second and third servers' version\n"
			if k.Brick == label(0) {
				want = "the first server's version\n"
			}
			if got, err := os.ReadFile(k.Path); err != nil || string(got) != want {
				t.Errorf("%s's kept copy %s holds %q, %v; want %q", k.Brick, k.Path, got, err, want)
			}
		}
		// Undo, which writes the bricks, needs the volume stopped; even
		// then it does not undo what GlusterFS did, and says where the
		// copies are.
		v.Stop()
		code, _, errOut = run(t, env, "heal", v.Name, "undo", recs[0].ID)
		if code != ExitError || !strings.Contains(errOut, "afrkit does not put its losers back") {
			t.Errorf("undo of a resolution GlusterFS made: exit %d: %s", code, errOut)
		}
	})

	t.Run("every split-brain of a brick resolved through GlusterFS", func(t *testing.T) {
		v := pool.CreateReplica(3, "cluster.quorum-type", "none")
		v.Start()
		v.MountFUSE()
		if err := os.Mkdir(v.Path("d"), 0o755); err != nil {
			t.Fatal(err)
		}
		names := []string{"one", "d/two"}
		for _, n := range names {
			v.WriteFile(n, "written with every brick up\n")
		}
		splitBrain(v, names...)
		splitBrains := func() int { return liveSplitBrainCount(t, v) }
		if n := splitBrains(); n == 0 {
			t.Fatal("GlusterFS lists no split-brain: the scenario did not make one")
		}
		sbArgs := func(extra ...string) []string {
			return append([]string{"--glusterd-sock", pool.Peers[0].Socket, "heal", v.Name, "split-brain", "source-brick", v.Brick(1)}, extra...)
		}
		code, out, errOut := run(t, env, sbArgs("--dry-run")...)
		if code != ExitOK || !strings.HasPrefix(out, "Dry run: nothing was changed.") || !strings.HasSuffix(out, "Number of entries that would be healed: 2\n") ||
			!strings.Contains(out, "setfattr -n replica.split-brain-heal-finalize -v "+v.Name+"-client-1 /one\n") || !strings.Contains(out, "-client-1 /d/two\n") {
			t.Fatalf("dry run: exit %d\n%s%s", code, out, errOut)
		}
		if n := splitBrains(); n == 0 {
			t.Fatal("the dry run resolved the split-brains")
		}
		code, out, errOut = run(t, env, sbArgs()...)
		if code != ExitOK || !strings.HasSuffix(out, "Number of healed entries: 2\n") || !strings.Contains(out, "Healed /one from ") || !strings.Contains(out, "Healed /d/two from ") {
			t.Fatalf("source-brick: exit %d\n%s%s", code, out, errOut)
		}
		if n := splitBrains(); n != 0 {
			t.Errorf("GlusterFS still lists %d split-brain entries", n)
		}
		for _, n := range names {
			if got, err := os.ReadFile(v.Path(n)); err != nil || string(got) != "the second and third servers' version\n" {
				t.Errorf("the mount reads %s as %q, %v", n, got, err)
			}
		}
		var paths []string
		for _, r := range historyRecords(t, env, v.Name) {
			if r.Live {
				paths = append(paths, r.Path)
			}
		}
		slices.Sort(paths)
		if strings.Join(paths, " ") != "/d/two /one" {
			t.Errorf("history records the live resolutions of %v; want /d/two and /one", paths)
		}
	})

	t.Run("a gfid split-brain resolved through GlusterFS", func(t *testing.T) {
		v := pool.CreateReplica(3, "cluster.quorum-type", "none")
		v.Start()
		v.MountFUSE()
		// /g made twice, by two sides that could not see each other: two
		// files of one name, with different gfids.
		v.KillBrick(1)
		v.KillBrick(2)
		v.WriteFile("g", "the first server's g\n")
		v.WriteFile("h", "the first server's h\n")
		v.Revive()
		v.KillBrick(0)
		time.Sleep(1500 * time.Millisecond) // the kernel forgets the names it knew (entry-timeout)
		v.WriteFile("g", "the second and third servers' g\n")
		v.WriteFile("h", "the second and third servers' h\n")
		v.Revive()
		gfidOf := func(i int, p string) afr.GFID {
			t.Helper()
			b, err := brick.Open(v.Bricks[i], brick.NSTrusted)
			if err != nil {
				t.Fatal(err)
			}
			g, err := b.GFIDOf(p)
			if err != nil {
				t.Fatal(err)
			}
			return g
		}
		gfidOn := func(i int) afr.GFID { return gfidOf(i, "/g") }
		if gfidOn(0) == gfidOn(1) || gfidOn(1) != gfidOn(2) {
			t.Fatalf("gfids %s %s %s: the scenario made no gfid split-brain", gfidOn(0), gfidOn(1), gfidOn(2))
		}
		winner := gfidOn(1)
		sbArgs := func(extra ...string) []string {
			return append([]string{"--glusterd-sock", pool.Peers[0].Socket, "heal", v.Name, "split-brain", "source-brick", v.Brick(1), "/g"}, extra...)
		}
		code, out, errOut := run(t, env, sbArgs("--dry-run")...)
		if code != ExitOK || !strings.Contains(out, "gfid split-brain of /g: keep ") || !strings.Contains(out, "then GlusterFS resolves it: gluster volume heal "+v.Name+" split-brain source-brick "+v.Brick(1)+" /g\n") {
			t.Fatalf("dry run: exit %d\n%s%s", code, out, errOut)
		}
		if gfidOn(0) == winner {
			t.Fatal("the dry run resolved the gfid split-brain")
		}
		code, out, errOut = run(t, env, sbArgs()...)
		label := func(i int) string { return filepath.Base(v.Bricks[i]) }
		if code != ExitOK || !strings.HasPrefix(out, "Healed /g from "+label(1)+" through GlusterFS (gfid)\n") {
			t.Fatalf("source-brick: exit %d\n%s%s", code, out, errOut)
		}
		for i := range v.Bricks {
			if g := gfidOn(i); g != winner {
				t.Errorf("brick %d's /g has gfid %s, want the second server's %s", i, g, winner)
			}
		}
		time.Sleep(1500 * time.Millisecond)
		if got, err := os.ReadFile(v.Path("g")); err != nil || string(got) != "the second and third servers' g\n" {
			t.Errorf("the mount reads %q, %v", got, err)
		}
		// The first server's file, which GlusterFS removed, is kept (with
		// the third server's copy of the winner, which glfsheal heals
		// from the second's).
		recs := historyRecords(t, env, v.Name)
		if len(recs) != 1 || recs[0].Kind != "gfid" || !recs[0].Live || len(recs[0].Kept) != 2 {
			t.Fatalf("history: %+v", recs)
		}
		if kept := keptContent(t, recs[0]); kept[label(0)] != "the first server's g\n" {
			t.Errorf("kept copies %q: want the first server's g kept from %s", kept, label(0))
		}

		// Without a file: GlusterFS lists the parent; the name that
		// stops its merge, /h, is what is resolved.
		code, out, errOut = run(t, env, "--glusterd-sock", pool.Peers[0].Socket, "heal", v.Name, "split-brain", "source-brick", v.Brick(1))
		if code != ExitOK || !strings.Contains(out, "Healed /h from "+label(1)+" through GlusterFS (gfid)\n") || !strings.HasSuffix(out, "Number of healed entries: 1\n") {
			t.Fatalf("source-brick without a file: exit %d\n%s%s", code, out, errOut)
		}
		if g0, g1 := gfidOf(0, "/h"), gfidOf(1, "/h"); g0 != g1 {
			t.Errorf("/h still has gfids %s and %s", g0, g1)
		}
	})

	t.Run("stale temp files renamed through GlusterFS", func(t *testing.T) {
		v := pool.CreateReplica(3, "cluster.quorum-type", "none")
		v.Start()
		v.MountFUSE()
		player := `{"name":"player","level":3}` + "\n"
		v.WriteFile(".player.json.AbvgGY", player) // the final name is free
		v.WriteFile(".same.txt.Qw3rTy", "same\n")  // the final name holds the same
		v.WriteFile("same.txt", "same\n")
		v.WriteFile(".other.txt.Zx9Vb2", "the temp file's\n") // the final name holds other content
		v.WriteFile("other.txt", "the final name's\n")
		sock := pool.Peers[0].Socket
		fsckArgs := func(extra ...string) []string {
			return append([]string{"--glusterd-sock", sock, "fsck", v.Name, "--rename-stale-path", "/.player.json.AbvgGY", "--rename-stale-path", "/.same.txt.Qw3rTy"}, extra...)
		}

		code, out, errOut := run(t, env, fsckArgs("--dry-run")...)
		if code != ExitFsckClean || out != "Dry run: nothing was changed. GlusterFS serves "+v.Name+"; through it, afrkit would:\n  rename /.player.json.AbvgGY to /player.json\n  remove /.same.txt.Qw3rTy: /same.txt holds the same content\n" {
			t.Fatalf("dry run: exit %d\n%s%s", code, out, errOut)
		}
		if _, err := os.Stat(v.Path(".player.json.AbvgGY")); err != nil {
			t.Fatalf("the dry run changed the volume: %v", err)
		}
		// A clash refuses the whole command, before anything changes.
		code, _, errOut = run(t, env, append(fsckArgs(), "--rename-stale-path", "/.other.txt.Zx9Vb2")...)
		if code != ExitFsckProblems || !strings.Contains(errOut, "the final name holds other content; nothing was changed") {
			t.Fatalf("a clash: exit %d: %s", code, errOut)
		}
		if _, err := os.Stat(v.Path(".player.json.AbvgGY")); err != nil {
			t.Fatalf("a refused command changed the volume: %v", err)
		}

		code, out, errOut = run(t, env, fsckArgs()...)
		if code != ExitFsckRepaired || !strings.Contains(out, "Rename /.player.json.AbvgGY to /player.json through GlusterFS") || !strings.Contains(out, "Remove /.same.txt.Qw3rTy: /same.txt holds the same content through GlusterFS") {
			t.Fatalf("renames: exit %d\n%s%s", code, out, errOut)
		}
		// The mount sees the final names, every brick has them (GlusterFS
		// made the change on each), and GlusterFS lists nothing to heal.
		// Another client (afrkit) made the change: the mount's kernel keeps
		// names it looked up for a second (GlusterFS's entry-timeout).
		time.Sleep(1500 * time.Millisecond)
		if got, err := os.ReadFile(v.Path("player.json")); err != nil || string(got) != player {
			t.Errorf("player.json through the mount: %q, %v", got, err)
		}
		for _, gone := range []string{".player.json.AbvgGY", ".same.txt.Qw3rTy"} {
			if _, err := os.Lstat(v.Path(gone)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s is still there: %v", gone, err)
			}
		}
		for i := range v.Bricks {
			if got, err := os.ReadFile(filepath.Join(v.Bricks[i], "player.json")); err != nil || string(got) != player {
				t.Errorf("brick %d's player.json: %q, %v", i, got, err)
			}
		}
		if out, err := v.HealInfo("--xml"); err != nil || strings.Contains(out, "<file") {
			t.Errorf("GlusterFS's heal info after the renames lists: %v\n%s", err, out)
		}
	})

	t.Run("GlusterFS's own heal, started by afrkit", func(t *testing.T) {
		v := pool.CreateReplica(3, "cluster.quorum-type", "none") // the self-heal daemon off
		v.Start()
		v.MountFUSE()
		if err := os.Mkdir(v.Path("d"), 0o755); err != nil {
			t.Fatal(err)
		}
		v.WriteFile("x", "listed in no index\n")
		sock := pool.Peers[0].Socket
		heal := func(args ...string) (ExitCode, string, string) {
			return run(t, env, append([]string{"--glusterd-sock", sock, "heal", v.Name}, args...)...)
		}

		// With GlusterFS's self-heal daemon off, afrkit refuses: it never
		// heals a started volume's bricks behind GlusterFS's back.
		code, _, errOut := heal()
		if code != ExitError || !strings.Contains(errOut, "its self-heal daemon is off (cluster.self-heal-daemon)") || !strings.Contains(errOut, "nothing was changed") {
			t.Fatalf("heal with the self-heal daemon off: exit %d: %s", code, errOut)
		}
		if _, err := pool.Gluster("volume", "set", v.Name, "cluster.self-heal-daemon", "on"); err != nil {
			t.Fatal(err)
		}

		// The third server goes down: the plan names it, and glusterd
		// refuses the heal until it is back.
		v.KillBrick(2)
		for i := range 20 {
			v.WriteFile(fmt.Sprintf("d/f%d", i), "written while the third server was down\n")
		}
		code, out, errOut := heal("--dry-run")
		wantPlan := "Dry run: nothing was changed. GlusterFS serves " + v.Name + "; afrkit would:\n" +
			"  ask glusterd (" + sock + ") to have GlusterFS's self-heal daemons heal what the bricks' indexes list (gluster volume heal " + v.Name + ")\n" +
			"  wait until nothing healable is left: 42 entries listed, 0 of them in split-brain, which wait for a person\n" +
			"  (brick " + v.Brick(2) + " is down: glusterd refuses to heal until it is back)\n"
		if code != ExitOK || out != wantPlan {
			t.Fatalf("dry run: exit %d\n%s%s\nwant\n%s", code, out, errOut, wantPlan)
		}
		code, _, errOut = heal()
		if code != ExitError || !strings.Contains(errOut, "GlusterFS did not start its heal (brick "+v.Brick(2)+" is down): gluster volume heal "+v.Name+": ") {
			t.Fatalf("heal with a brick down: exit %d: %s", code, errOut)
		}

		// Back: afrkit has GlusterFS heal, and returns once it has.
		v.Revive()
		code, out, errOut = heal()
		if code != ExitOK || !strings.HasSuffix(out, "heal "+v.Name+": nothing left to heal\n") {
			t.Fatalf("heal: exit %d\n%s%s", code, out, errOut)
		}
		if out, err := v.HealInfo("--xml"); err != nil || strings.Contains(out, "<file") {
			t.Errorf("GlusterFS's heal info after afrkit heal returned lists: %v\n%s", err, out)
		}

		// A copy lost with no index to say so (gone from the third
		// server's disk while its brick was down) comes back only with
		// a full heal, GlusterFS's crawl.
		v.KillBrick(2)
		third, err := brick.Open(v.Bricks[2], brick.NSTrusted)
		if err != nil {
			t.Fatal(err)
		}
		g, err := third.GFIDOf("/x")
		if err != nil {
			t.Fatal(err)
		}
		lost := filepath.Join(v.Bricks[2], "x")
		for _, p := range []string{lost, third.HandlePath(g)} {
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
		}
		v.Revive()
		code, out, errOut = heal("full", "--dry-run")
		if code != ExitOK || !strings.Contains(out, "crawl every brick and heal what differs (gluster volume heal "+v.Name+" full)\n") {
			t.Fatalf("full --dry-run: exit %d\n%s%s", code, out, errOut)
		}
		code, out, errOut = heal("full")
		if code != ExitOK || out != "GlusterFS's self-heal daemons crawl every brick of "+v.Name+" (gluster volume heal "+v.Name+" full); afrkit heal "+v.Name+" wait follows what they find\n" {
			t.Fatalf("full: exit %d\n%s%s", code, out, errOut)
		}
		deadline := time.Now().Add(time.Minute)
		for {
			got, err := os.ReadFile(lost)
			if err == nil && string(got) == "listed in no index\n" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("a minute after the full heal, the third brick's x: %q, %v", got, err)
			}
			time.Sleep(time.Second)
		}
	})

	t.Run("a favorite-child-policy's split-brains kept before GlusterFS heals them", func(t *testing.T) {
		v := pool.CreateReplica(3, "cluster.quorum-type", "none") // the self-heal daemon off
		v.Start()
		v.MountFUSE()
		v.WriteFile("sb", "written with every brick up\n")
		// /sb written on each side while the other was down, and the
		// symlink /l made on each: a data split-brain, and a gfid one.
		v.KillBrick(1)
		v.KillBrick(2)
		v.WriteFile("sb", "the first server's version\n")
		if err := os.Symlink("first", v.Path("l")); err != nil {
			t.Fatal(err)
		}
		v.Revive()
		v.KillBrick(0)
		time.Sleep(1500 * time.Millisecond) // the kernel forgets the names it knew (entry-timeout)
		v.WriteFile("sb", "the second and third servers' version\n")
		if err := os.Symlink("second", v.Path("l")); err != nil {
			t.Fatal(err)
		}
		v.Revive()
		// The daemon first, with no policy yet: its crawl on connecting
		// finds a split-brain it leaves alone. The policy then waits for
		// its next crawl (cluster.heal-timeout) or for afrkit.
		for _, kv := range [][2]string{{"cluster.self-heal-daemon", "on"}, {"cluster.favorite-child-policy", "mtime"}} {
			if _, err := pool.Gluster("volume", "set", v.Name, kv[0], kv[1]); err != nil {
				t.Fatal(err)
			}
			time.Sleep(3 * time.Second)
		}
		if n := liveSplitBrainCount(t, v); n == 0 {
			t.Fatal("GlusterFS lists no split-brain before afrkit ran: its daemon resolved it, and the scenario tests nothing")
		}
		heal := func(args ...string) (ExitCode, string, string) {
			return run(t, env, append([]string{"--glusterd-sock", pool.Peers[0].Socket, "heal", v.Name}, args...)...)
		}
		label := func(i int) string { return filepath.Base(v.Bricks[i]) }

		// The policy would have the daemon remove the first server's
		// /l, a symlink whose target afrkit does not keep: refused,
		// changing nothing.
		before := liveSplitBrainCount(t, v)
		code, out, errOut := heal()
		if code != ExitError || !strings.Contains(errOut, "GlusterFS's self-heal daemon would resolve these split-brains by the volume's cluster.favorite-child-policy mtime and replace the other copies without keeping them, and afrkit cannot keep them first:\n  /l: a symlink in gfid split-brain") ||
			!strings.Contains(errOut, "nothing was changed") || out != "" {
			t.Fatalf("heal with a symlink's gfid split-brain: exit %d\n%s%s", code, out, errOut)
		}
		if n := liveSplitBrainCount(t, v); n != before {
			t.Fatalf("the refusal changed GlusterFS's split-brains from %d to %d", before, n)
		}
		if recs := historyRecords(t, env, v.Name); len(recs) != 0 {
			t.Fatalf("the refusal recorded %+v", recs)
		}
		// The operator settles /l with GlusterFS's own command.
		if _, err := (glustercli.Glfsheal{Socket: pool.Peers[0].Socket}).SourceBrick(context.Background(), v.Name, v.Brick(1), "/l"); err != nil {
			t.Fatal(err)
		}

		// The newest copy wins, as the daemon's policy says; the dry run
		// plans to keep the others first, and changes nothing.
		code, out, errOut = heal("--dry-run")
		if code != ExitOK || !strings.Contains(out, "  data split-brain of /sb: keep "+label(1)+"'s copy (favorite-child-policy mtime, as GlusterFS's self-heal daemon would)\n") ||
			!strings.Contains(out, "  keep the copies of "+label(0)+", "+label(2)+" in ") {
			t.Fatalf("dry run: exit %d\n%s%s", code, out, errOut)
		}
		if n := liveSplitBrainCount(t, v); n == 0 {
			t.Fatal("the dry run resolved the split-brain")
		}

		code, out, errOut = heal()
		if code != ExitOK || !strings.HasPrefix(out, "Healed /sb from "+label(1)+" through GlusterFS (data)\n") {
			t.Fatalf("heal: exit %d\n%s%s", code, out, errOut)
		}
		if n := liveSplitBrainCount(t, v); n != 0 {
			t.Errorf("GlusterFS still lists %d split-brain entries", n)
		}
		if got, err := os.ReadFile(v.Path("sb")); err != nil || string(got) != "the second and third servers' version\n" {
			t.Errorf("the mount reads %q, %v", got, err)
		}
		// The first server's version, which the daemon would have
		// overwritten unkept, is kept with its record.
		recs := historyRecords(t, env, v.Name)
		if len(recs) != 1 || !recs[0].Live || recs[0].How != "favorite-child-policy mtime through GlusterFS" {
			t.Fatalf("history: %+v", recs)
		}
		if kept := keptContent(t, recs[0]); kept[label(0)] != "the first server's version\n" {
			t.Errorf("kept copies %q: want the first server's version kept from %s", kept, label(0))
		}
	})

	t.Run("fsck compares every server's copies", func(t *testing.T) {
		v := pool.CreateReplica(3, "cluster.quorum-type", "none")
		v.Start()
		v.MountFUSE()
		v.WriteFile("same", "the same on every server\n")
		v.WriteFile("longer", "written through GlusterFS\n")
		v.WriteFile("swapped", "written through GlusterFS\n")
		v.WriteFile("sb", "written with every brick up\n")
		splitBrainSB(v)
		// Behind GlusterFS's back, on the other servers' disks: a copy
		// made longer, and one whose bytes changed but not its size.
		for p, content := range map[int][2]string{1: {"longer", "written through GlusterFS, and then more\n"}, 2: {"swapped", "WRITTEN through GlusterFS\n"}} {
			if err := os.WriteFile(filepath.Join(v.Bricks[p], content[0]), []byte(content[1]), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		type finding struct {
			Class, Path, Detail string
		}
		fsckJSON := func(args ...string) (ExitCode, map[string]finding, []string) {
			t.Helper()
			code, out, errOut := run(t, env, append([]string{"fsck", v.Name, "--json"}, args...)...)
			var doc struct {
				Bricks   []string  `json:"bricks"`
				Remote   []string  `json:"remote_bricks"`
				Findings []finding `json:"findings"`
			}
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("fsck: exit %d: %v\n%s%s", code, err, out, errOut)
			}
			byPath := map[string]finding{}
			for _, f := range doc.Findings {
				if f.Class == "split-brain" || f.Class == "silent-difference" {
					byPath[f.Path] = f
				}
			}
			if len(doc.Bricks) != 3 {
				t.Errorf("fsck checked %v; want the three bricks", doc.Bricks)
			}
			return code, byPath, doc.Remote
		}
		label := func(i int) string { return filepath.Base(v.Bricks[i]) }
		code, found, remote := fsckJSON()
		if code != ExitFsckProblems || strings.Join(remote, " ") != label(1)+" "+label(2) {
			t.Errorf("fsck: exit %d, read over the network: %v", code, remote)
		}
		if f := found["/sb"]; f.Class != "split-brain" {
			t.Errorf("/sb: %+v; want the split-brain its copies' counters make", f)
		}
		wantSize := fmt.Sprintf("size %d on %s, %d on %s, %d on %s", 26, label(0), 41, label(1), 26, label(2))
		if f := found["/longer"]; f.Class != "silent-difference" || !strings.Contains(f.Detail, wantSize) {
			t.Errorf("/longer: %+v; want a silent difference of %s", f, wantSize)
		}
		if f, ok := found["/swapped"]; ok {
			t.Errorf("/swapped without --deep: %+v; sizes alone do not differ", f)
		}
		if f, ok := found["/same"]; ok {
			t.Errorf("/same: %+v", f)
		}
		// --deep reads the content, over the network for the other
		// servers' copies.
		_, found, _ = fsckJSON("--deep")
		if f := found["/swapped"]; f.Class != "silent-difference" || !strings.Contains(f.Detail, "content (blake3)") {
			t.Errorf("/swapped with --deep: %+v; want a content difference", f)
		}
	})

	t.Run("without libgfapi", func(t *testing.T) {
		v := pool.CreateReplica(3, "cluster.quorum-type", "none")
		v.Start()
		v.MountFUSE()
		v.KillBrick(2)
		v.WriteFile("f", "written while the third server was down\n")
		v.Revive()
		t.Setenv("AFRKIT_LIBGFAPI", "/nonexistent/libgfapi.so.0")
		code, out, errOut := run(t, env, "heal", v.Name, "info")
		if code != ExitOK {
			t.Fatalf("heal info without libgfapi: exit %d: %s", code, errOut)
		}
		// This server's brick is read from its directory; the others are
		// not connected, and stderr says what to install. The index lists
		// / and /f in its directory's order, which varies.
		want := "Brick " + v.Brick(0) + "\n/ \n/f \nStatus: Connected\nNumber of entries: 2\n\n" +
			"Brick " + v.Brick(1) + "\nStatus: Transport endpoint is not connected\nNumber of entries: -\n\n" +
			"Brick " + v.Brick(2) + "\nStatus: Transport endpoint is not connected\nNumber of entries: -\n\n"
		if strings.Replace(out, "/f \n/ \n", "/ \n/f \n", 1) != want {
			t.Errorf("heal info without libgfapi:\n%s\nwant\n%s", out, want)
		}
		if strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "libgfapi is not installed") || !strings.Contains(errOut, "install Debian's or Ubuntu's libgfapi0") {
			t.Errorf("stderr should say once what to install:\n%s", errOut)
		}
	})

	t.Run("2x3 distributed-replicate, a server down", func(t *testing.T) {
		v := pool.CreateDistReplica(2, 3, "cluster.quorum-type", "none")
		v.Start()
		v.MountFUSE()
		for i := range 12 {
			v.WriteFile(fmt.Sprintf("f%02d", i), "before\n")
		}
		// The third server holds the third brick of each set.
		v.KillBrick(2)
		v.KillBrick(5)
		for i := range 12 {
			v.WriteFile(fmt.Sprintf("f%02d", i), "after the third server went down\n")
		}
		v.Revive()
		healInfoAgrees(t, env, v, 12, "")
	})

	t.Run("a server down while afrkit reads", func(t *testing.T) {
		v := pool.CreateReplica(3, "cluster.quorum-type", "none")
		v.Start()
		v.MountFUSE()
		v.KillBrick(1)
		v.WriteFile("f", "written while the second server was down\n")
		// The brick stays down: GlusterFS and afrkit both report it as
		// not connected.
		healInfoAgrees(t, env, v, 1, "")
		code, out, _ := run(t, env, "heal", v.Name, "info")
		if code != ExitOK || !strings.Contains(out, "Brick "+v.Brick(1)+"\nStatus: Transport endpoint is not connected\nNumber of entries: -\n") {
			t.Errorf("heal info with the second server's brick down: exit %d\n%s", code, out)
		}
		// fsck says which brick it could not read, and compares the others.
		code, out, errOut := run(t, env, "fsck", v.Name)
		if code != ExitOK || !strings.Contains(out, "Not read: "+filepath.Base(v.Bricks[1])+": brick "+v.Brick(1)+" is not connected") ||
			!strings.Contains(out, "Read over the network, and compared with the other copies of their replica sets (fsck on their own servers checks them within): "+filepath.Base(v.Bricks[2])+".\n") {
			t.Errorf("fsck with the second server's brick down: exit %d\n%s%s", code, out, errOut)
		}
	})
}

// historyRecord is what the pool tests read of a record of afrkit heal VOL
// history --json.
type historyRecord struct {
	ID   string `json:"id"`
	Path string `json:"path"`
	Kind string `json:"kind"`
	How  string `json:"how"`
	Live bool   `json:"live"`
	Kept []struct {
		Brick string `json:"brick"`
		Path  string `json:"path"`
	} `json:"kept"`
}

// historyRecords runs afrkit heal VOL history --json and returns its
// records.
func historyRecords(t *testing.T, env testEnv, vol string) []historyRecord {
	t.Helper()
	code, out, errOut := run(t, env, "heal", vol, "history", "--json")
	var hist struct {
		Records []historyRecord `json:"records"`
	}
	if err := json.Unmarshal([]byte(out), &hist); err != nil || code != ExitOK {
		t.Fatalf("history: exit %d, %v\n%s%s", code, err, out, errOut)
	}
	return hist.Records
}

// keptContent is what each copy a record kept holds, by brick label.
func keptContent(t *testing.T, rec historyRecord) map[string]string {
	t.Helper()
	kept := map[string]string{}
	for _, k := range rec.Kept {
		got, err := os.ReadFile(k.Path)
		if err != nil {
			t.Fatal(err)
		}
		kept[k.Brick] = string(got)
	}
	return kept
}

// liveSplitBrainCount is how many entries GlusterFS's heal info split-brain
// lists, over every brick.
func liveSplitBrainCount(t *testing.T, v *glustertest.Volume) int {
	t.Helper()
	out, err := v.HealInfo("split-brain", "--xml")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, b := range parseReport(t, []byte(out)).Bricks {
		n += len(b.GFIDs)
	}
	return n
}

// splitBrainSB puts /sb of a replica-3 volume in data split-brain: written
// on the first brick alone, then on the other two alone.
func splitBrainSB(v *glustertest.Volume) { splitBrain(v, "sb") }

// splitBrain puts each file named in data split-brain, as splitBrainSB.
func splitBrain(v *glustertest.Volume, names ...string) {
	v.KillBrick(1)
	v.KillBrick(2)
	for _, n := range names {
		v.WriteFile(n, "the first server's version\n")
	}
	v.Revive()
	v.KillBrick(0)
	for _, n := range names {
		v.WriteFile(n, "the second and third servers' version\n")
	}
	v.Revive()
}
