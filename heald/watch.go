package heald

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/afrkit/afrkit/brick"
)

// watcher tells each volume's loop when an entry appears in the xattrop
// index of one of its bricks: one inotify descriptor for the daemon. A
// watch goes away by itself when its brick's file system is unmounted
// or the directory removed (IN_IGNORED), and the next probe that opens
// the brick watches it again. Safe for concurrent use.
type watcher struct {
	// f is the inotify descriptor, non-blocking, so that reads wait in
	// Go's poller and close wakes them.
	f   *os.File
	fd  int
	log *slog.Logger

	mu sync.Mutex
	// watched maps each watch descriptor to its volume, dirs each
	// watched directory to its descriptor.
	watched map[int32]string
	dirs    map[string]int32
	subs    map[string]chan struct{}
}

func newWatcher(log *slog.Logger) (*watcher, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("inotify: %w", err)
	}
	return &watcher{f: os.NewFile(uintptr(fd), "inotify"), fd: fd, log: log, watched: map[int32]string{}, dirs: map[string]int32{}, subs: map[string]chan struct{}{}}, nil
}

// close ends run and every watch.
func (w *watcher) close() { w.f.Close() }

// subscribe is the channel that receives (coalesced) a value when an
// index entry of volume vol appears.
func (w *watcher) subscribe(vol string) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	c := make(chan struct{}, 1)
	w.subs[vol] = c
	return c
}

func (w *watcher) unsubscribe(vol string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.subs, vol)
	for dir, wd := range w.dirs {
		if w.watched[wd] == vol {
			unix.InotifyRmWatch(w.fd, uint32(wd))
			delete(w.watched, wd)
			delete(w.dirs, dir)
		}
	}
}

// watch watches the xattrop index of the brick at root for volume vol,
// unless it is watched already.
func (w *watcher) watch(vol, root string) error {
	dir := filepath.Join(root, brick.GlusterDir, "indices", "xattrop")
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.dirs[dir]; ok {
		return nil
	}
	// IN_DONT_FOLLOW and IN_ONLYDIR: a client's symlink planted where
	// the index should be is not followed out of the brick.
	wd, err := unix.InotifyAddWatch(w.fd, dir, unix.IN_CREATE|unix.IN_MOVED_TO|unix.IN_DONT_FOLLOW|unix.IN_ONLYDIR)
	if err != nil {
		return fmt.Errorf("watch %s: %w", dir, err)
	}
	w.watched[int32(wd)], w.dirs[dir] = vol, int32(wd)
	return nil
}

// run reads events until the descriptor is closed (ctx's end is seen at
// the next event or the close).
func (w *watcher) run(ctx context.Context) {
	buf := make([]byte, 64<<10)
	for ctx.Err() == nil {
		n, err := w.f.Read(buf)
		if err != nil || n <= 0 {
			return
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			off += unix.SizeofInotifyEvent + int(ev.Len)
			w.deliver(ev.Wd, ev.Mask)
		}
	}
}

func (w *watcher) deliver(wd int32, mask uint32) {
	w.mu.Lock()
	defer w.mu.Unlock()
	vol, ok := w.watched[wd]
	if !ok {
		return
	}
	if mask&unix.IN_IGNORED != 0 {
		// The directory or its file system is gone: the brick's next
		// successful probe watches it again.
		delete(w.watched, wd)
		for dir, d := range w.dirs {
			if d == wd {
				delete(w.dirs, dir)
			}
		}
		return
	}
	if c := w.subs[vol]; c != nil {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}
