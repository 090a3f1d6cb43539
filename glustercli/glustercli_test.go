package glustercli

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// script writes an executable standing in for gluster: the real one
// needs a glusterd, and its interplay with one is tested by every interop
// test (fixtures/glustertest drives glusterd through this package).
func script(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "gluster")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMissingCommandSaysWhatToInstall(t *testing.T) {
	_, err := CLI{Path: filepath.Join(t.TempDir(), "gluster")}.Run(context.Background(), "volume", "list")
	if !errors.Is(err, ErrNotInstalled) || !strings.Contains(err.Error(), "glusterfs-cli") {
		t.Fatalf("got %v; want ErrNotInstalled naming the package", err)
	}
}

func TestArgumentsAndRefusal(t *testing.T) {
	dir := t.TempDir()
	args := filepath.Join(dir, "args")
	p := script(t, `echo "$@" > `+args+`
echo "Launching heal operation to perform full self heal on volume v has been unsuccessful:" >&2
echo "Self-heal-daemon is disabled. Heal will not be triggered on volume v" >&2
exit 1
`)
	_, err := CLI{Path: p, Socket: "/run/gd.sock"}.Heal(context.Background(), "v", Full)
	var gerr *Error
	if !errors.As(err, &gerr) || gerr.Message != "Launching heal operation to perform full self heal on volume v has been unsuccessful: Self-heal-daemon is disabled. Heal will not be triggered on volume v" {
		t.Fatalf("got %v", err)
	}
	got, _ := os.ReadFile(args)
	if string(got) != "--mode=script --glusterd-sock=/run/gd.sock volume heal v full\n" {
		t.Errorf("the command ran with %q", got)
	}
}

// glusterd runs one transaction at a time, pool-wide: a command that
// comes during another is refused, and tried again.
func TestBusyIsTriedAgain(t *testing.T) {
	tries := filepath.Join(t.TempDir(), "tries")
	p := script(t, `echo x >> `+tries+`
if [ "$(wc -l < `+tries+`)" -lt 3 ]; then
  echo "Another transaction is in progress for v. Please try again after some time." >&2
  exit 1
fi
echo "Launching heal operation to perform index self heal on volume v has been successful"
`)
	out, err := CLI{Path: p, BusyFor: 10 * time.Second}.Heal(context.Background(), "v", Index)
	if err != nil || out != "Launching heal operation to perform index self heal on volume v has been successful" {
		t.Fatalf("got %q, %v", out, err)
	}
	_, err = CLI{Path: p}.Heal(context.Background(), "v", Index)
	if err != nil {
		t.Fatalf("a later command: %v", err)
	}
	if err := os.Remove(tries); err != nil {
		t.Fatal(err)
	}
	// Without BusyFor the refusal is the answer.
	_, err = CLI{Path: p}.Heal(context.Background(), "v", Index)
	if err == nil || !strings.Contains(err.Error(), "Another transaction is in progress") {
		t.Fatalf("got %v; want glusterd's refusal", err)
	}
}
