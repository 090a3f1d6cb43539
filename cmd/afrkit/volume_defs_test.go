package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/pkg/xattr"
)

// TestBadDefinitions: definitions afrkit once accepted. A quorum-count
// above the replica count; registry files of {}, null and replica -1
// (printed as "1 x -1 = 2", and heal said nothing to do); one bad file hid
// every volume; a volume inside another volume's brick. Each is refused
// with the file and the field named, and the good volumes stay usable.
func TestBadDefinitions(t *testing.T) {
	env := newEnv(t)
	b0, b1 := filepath.Join(env.dir, "b0"), filepath.Join(env.dir, "b1")
	tr := &transcript{t: t, env: env}
	tr.step(ExitOK, "volume", "create", "good", "replica", "2", b0, b1)
	tr.step(ExitUsage, "volume", "set", "good", "cluster.quorum-count", "3")
	tr.step(ExitUsage, "volume", "set", "good", "cluster.quorum-count", "0")
	tr.step(ExitOK, "volume", "set", "good", "cluster.quorum-count", "2")
	// A volume inside another volume's brick, or around it.
	elsewhere := t.TempDir()
	tr.step(ExitError, "volume", "create", "inner", "replica", "2", filepath.Join(b0, "inner"), filepath.Join(env.dir, "c1"))
	tr.step(ExitError, "volume", "create", "outer", "replica", "2", "--force", env.dir, elsewhere)
	for _, d := range []string{filepath.Join(b0, "inner"), filepath.Join(env.dir, "c1")} {
		if _, err := os.Lstat(d); err == nil {
			t.Errorf("a refused create made %s", d)
		}
	}
	reg := filepath.Join(env.state, "volumes")
	good, err := os.ReadFile(filepath.Join(reg, "good.json"))
	mustDo(t, err)
	for name, body := range map[string]string{
		"empty":    "{}\n",
		"null":     "null\n",
		"negative": strings.ReplaceAll(strings.ReplaceAll(string(good), `"replica": 2`, `"replica": -1`), "good", "negative"),
	} {
		mustDo(t, os.WriteFile(filepath.Join(reg, name+".json"), []byte(body), 0o600))
	}
	tr.step(ExitError, "volume", "info")
	tr.step(ExitError, "heal", "negative", "info")
	tr.step(ExitError, "heal", "empty")
	tr.step(ExitOK, "heal", "good", "info", "summary")
	tr.step(ExitOK, "volume", "delete", "negative")
	tr.step(ExitOK, "volume", "delete", "good")
	tr.step(ExitOK, "volume", "list")
	assertGolden(t, strings.ReplaceAll(scrub(tr.String(), env.dir), elsewhere, "$ELSEWHERE"))
}

// TestCreateRollsBack: a create whose second brick cannot be stamped (a
// read-only filesystem) once left the first brick stamped with a volume
// that exists nowhere, and every later create on it was refused. Now the
// first brick is taken back, no definition is written, and the same
// create succeeds once the second brick is writable.
func TestCreateRollsBack(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: a read-only tmpfs")
	}
	env := newEnv(t)
	b0, b1 := filepath.Join(env.dir, "b0"), filepath.Join(env.dir, "b1")
	mustDo(t, os.Mkdir(b0, 0o755)) // an existing empty directory: only the stamp goes
	mustDo(t, os.Mkdir(b1, 0o755))
	if err := syscall.Mount("afrkit-ro", b1, "tmpfs", syscall.MS_RDONLY, ""); err != nil {
		t.Skipf("cannot mount a read-only tmpfs: %v", err)
	}
	mounted := true
	t.Cleanup(func() {
		if mounted {
			_ = syscall.Unmount(b1, syscall.MNT_DETACH)
		}
	})
	code, out, errOut := run(t, env, "volume", "create", "media", "replica", "2", b0, b1)
	if code == ExitOK {
		t.Fatalf("create on a read-only brick: exit 0\n%s", out)
	}
	names, _ := os.ReadDir(b0)
	keys, _ := xattr.LList(b0)
	if len(names) != 0 || len(keys) != 0 {
		t.Errorf("the failed create left %v and xattrs %v on b0:\n%s", names, keys, errOut)
	}
	if _, err := os.Lstat(filepath.Join(env.state, "volumes", "media.json")); err == nil {
		t.Errorf("the failed create left a definition")
	}
	mustDo(t, syscall.Unmount(b1, syscall.MNT_DETACH))
	mounted = false
	if code, out, errOut := run(t, env, "volume", "create", "media", "replica", "2", b0, b1); code != ExitOK {
		t.Fatalf("create once b1 is writable: exit %d\n%s%s", code, out, errOut)
	}
}
