package heal_test

import (
	"errors"
	"testing"

	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/fixtures"
	"github.com/afrkit/afrkit/heal"
)

// TestSessionHoldsTheHealLockUntilClosed: one heal session at a time
// writes a volume; a dry run takes no lock, and Close lets the next in.
func TestSessionHoldsTheHealLockUntilClosed(t *testing.T) {
	dir := t.TempDir()
	v, err := fixtures.Healthy(dir, "fx", 2)
	if err != nil {
		t.Fatal(err)
	}
	opts := heal.SessionOptions{StateDir: dir, ProcDir: "/proc"}
	first, err := heal.Open(v.V, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := heal.Open(v.V, opts); !errors.Is(err, volume.ErrInUse) {
		t.Fatalf("a second session while the first is open: %v, want %v", err, volume.ErrInUse)
	}
	dry := opts
	dry.Engine.DryRun = true
	plan, err := heal.Open(v.V, dry)
	if err != nil {
		t.Fatalf("a dry run beside a session: %v", err)
	}
	plan.Close()
	first.Close()
	next, err := heal.Open(v.V, opts)
	if err != nil {
		t.Fatalf("a session after the first closed: %v", err)
	}
	next.Close()
}
