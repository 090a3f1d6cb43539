package fsck

import (
	"context"
	"sync"
)

// runPool runs work on each of the first tasks and on every task work
// pushes, with n workers, until none is left or one fails. The queue is
// last in, first out, so a tree is walked depth first and the queue holds
// a path's worth of siblings, not a level's worth of the tree.
func runPool[T any](ctx context.Context, n int, first []T, work func(t T, push func(T)) error) error {
	p := &pool[T]{queue: first}
	p.cond = sync.NewCond(&p.mu)
	push := func(t T) {
		p.mu.Lock()
		p.queue = append(p.queue, t)
		p.mu.Unlock()
		p.cond.Signal()
	}
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				t, ok := p.take()
				if !ok {
					return
				}
				err := ctx.Err()
				if err == nil {
					err = work(t, push)
				}
				p.done(err)
			}
		}()
	}
	wg.Wait()
	return p.err
}

type pool[T any] struct {
	mu    sync.Mutex
	cond  *sync.Cond
	queue []T
	busy  int
	err   error
}

// take waits for a task; it returns false once the queue is empty with no
// worker busy (nothing more can come), or after a failure.
func (p *pool[T]) take() (T, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.queue) == 0 && p.busy > 0 && p.err == nil {
		p.cond.Wait()
	}
	var zero T
	if p.err != nil || len(p.queue) == 0 {
		p.cond.Broadcast()
		return zero, false
	}
	t := p.queue[len(p.queue)-1]
	p.queue = p.queue[:len(p.queue)-1]
	p.busy++
	return t, true
}

func (p *pool[T]) done(err error) {
	p.mu.Lock()
	p.busy--
	if err != nil && p.err == nil {
		p.err = err
	}
	p.mu.Unlock()
	p.cond.Broadcast()
}
