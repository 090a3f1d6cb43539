package engine_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/engine"
	"github.com/afrkit/afrkit/fixtures"
	"github.com/afrkit/afrkit/lock"
)

// withLocks gives s a lock table on each brick of v.
func withLocks(t *testing.T, v *fixtures.Vol, s *engine.Set) {
	t.Helper()
	for _, b := range v.Bricks {
		tb, err := lock.OnBrick(b)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(tb.Close)
		s.Locks = append(s.Locks, tb)
	}
}

// TestTransactionsTakeAFRsLocks: a transaction waits for the locks
// another owner (a heal) holds on what it changes: a data fop for the
// file's data lock, a metadata fop for its metadata range, an entry fop
// for the name in its parent; told to stop while it waits, it writes
// nothing on any brick. Locks on something else do not stop it. A data
// session tells its holder when someone waits for its lock.
func TestTransactionsTakeAFRsLocks(t *testing.T) {
	v, s := newSet(t, 2)
	withLocks(t, v, s)
	p := fixtures.HelloPath
	g, err := v.Bricks[0].GFIDOf(p)
	if err != nil {
		t.Fatal(err)
	}
	root := brick.RootGFID
	before := state(t, v, s, p)
	for _, c := range []struct {
		what string
		held lock.Key
		fop  func(ctx context.Context) error
	}{
		{"a write, with the file's data locked", lock.Whole(lock.Data, g), func(ctx context.Context) error {
			_, err := s.InodeOp(ctx, afr.Data, p, write("new"))
			return err
		}},
		{"a chmod, with the file's metadata locked", lock.Metadata(g), func(ctx context.Context) error {
			_, err := s.InodeOp(ctx, afr.Metadata, p, func(int, *brick.Brick, string) error { return nil })
			return err
		}},
		{"a create, with its name locked", lock.Name(lock.Data, root, "new.txt"), func(ctx context.Context) error {
			_, _, err := s.Create(ctx, brick.NewEntry{Path: "/new.txt", Type: afr.TypeRegular, Mode: 0o644}, nil)
			return err
		}},
		{"a create, with its directory's names locked", lock.Dir(lock.Data, root), func(ctx context.Context) error {
			_, _, err := s.Create(ctx, brick.NewEntry{Path: "/new.txt", Type: afr.TypeRegular, Mode: 0o644}, nil)
			return err
		}},
	} {
		t.Run(c.what, func(t *testing.T) {
			// The holder holds it on the second brick only: the
			// transaction has locked the first by then, and must give
			// it back.
			holder := s.Locks[1].Owner()
			defer holder.Release()
			if err := holder.Lock(context.Background(), c.held); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			if err := c.fop(ctx); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("fop under a held lock: %v, want it to wait until told to stop", err)
			}
			same(t, "the file after", state(t, v, s, p), before...)
			if _, err := v.Bricks[0].GFIDOf("/new.txt"); err == nil {
				t.Errorf("/new.txt made on b0 under a held lock")
			}
			o := s.Locks[0].Owner()
			if ok, _ := o.TryLock(c.held); !ok {
				t.Errorf("b0's lock kept after the fop gave up")
			}
			o.Release()
		})
	}
	t.Run("a write, with another file locked", func(t *testing.T) {
		holder := s.Locks[0].Owner()
		defer holder.Release()
		if err := holder.Lock(context.Background(), lock.Whole(lock.Data, root), lock.Name(lock.Data, root, "other")); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := s.InodeOp(ctx, afr.Data, p, write("new")); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a data session learns that a heal waits", func(t *testing.T) {
		d, err := s.BeginData(context.Background(), engine.Inode{Path: p, GFID: g})
		if err != nil {
			t.Fatal(err)
		}
		if d.Contended() {
			t.Error("contended before anyone waits")
		}
		waiter := s.Locks[0].Owner()
		defer waiter.Release()
		got := make(chan error, 1)
		go func() { got <- waiter.Lock(context.Background(), lock.Whole(lock.Data, g)) }()
		deadline := time.Now().Add(10 * time.Second)
		for !d.Contended() && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if !d.Contended() {
			t.Fatal("the session never learned of the waiter")
		}
		if _, err := d.End(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := <-got; err != nil {
			t.Fatalf("the waiter, after End: %v", err)
		}
	})
}
