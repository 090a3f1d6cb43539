package heal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/zeebo/blake3"
	"golang.org/x/sys/unix"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/brick/volume"
)

// healData copies the source's content to every sink.
func (h *entryHeal) healData(kv afr.KindVerdict) error {
	src := kv.Source
	size := h.replies[src].Size
	if src == h.rs.Arbiter && size == 0 {
		for i, sink := range kv.Sinks {
			if sink && h.replies[i].Size != 0 {
				// afr never makes the arbiter a data source; a path that
				// did would empty the data bricks.
				return fmt.Errorf("%s: the arbiter %s holds no data to heal %s from", h.path, h.label(src), h.label(i))
			}
		}
	}
	for i, sink := range kv.Sinks {
		if !sink {
			continue
		}
		if i == h.rs.Arbiter {
			if err := h.healArbiterData(src, i); err != nil {
				return err
			}
			continue
		}
		algo := h.e.algorithm(size, h.replies[i].Size)
		a := Action{What: "data", Source: h.label(src), Sinks: []string{h.label(i)}, Bytes: size,
			Detail: fmt.Sprintf("%s copy of %d bytes", algo, size)}
		if h.e.opts.DryRun {
			if err := h.act(a, nil); err != nil {
				return err
			}
			continue
		}
		h.changed = true
		n, resumed, err := h.e.copyData(h.ctx, h.rs.Open[src], h.abs[src], h.rs.Open[i], h.abs[i], size, algo, h.path, sinkUnchanged(h.replies[i]))
		if err != nil {
			return fmt.Errorf("%s → %s: %w", h.label(src), h.label(i), err)
		}
		if !h.metadataHeals(i) {
			if err := h.copyTimes(src, i); err != nil {
				return err
			}
		}
		a.Bytes, a.ResumedAt = n, resumed
		a.Detail = fmt.Sprintf("%s heal wrote %d of %d bytes", algo, n, size)
		if resumed > 0 {
			a.Detail += fmt.Sprintf(", resumed at %d", resumed)
		}
		a.Set, a.GFID, a.Path = h.rs.Index, h.gfid, h.path
		h.e.record(a)
	}
	return nil
}

// healArbiterData is the data heal of the arbiter, sink i: it holds no
// data, so nothing is copied or truncated (GlusterFS's arbiter translator
// swallows both) and the sink takes the source's times alone
// (afr_selfheal_data_do leaves the arbiter out; afr_selfheal_restore_time
// does not).
func (h *entryHeal) healArbiterData(src, i int) error {
	a := Action{What: "data", Source: h.label(src), Sinks: []string{h.label(i)},
		Detail: fmt.Sprintf("%s is the arbiter and holds no data: it takes %s's times alone", h.label(i), h.label(src))}
	if h.e.opts.DryRun {
		return h.act(a, nil)
	}
	h.changed = true
	if !h.metadataHeals(i) {
		if err := h.copyTimes(src, i); err != nil {
			return err
		}
	}
	a.Set, a.GFID, a.Path = h.rs.Index, h.gfid, h.path
	h.e.record(a)
	return nil
}

// algorithm picks full or diff like afr_data_self_heal_type_get.
func (e *Engine) algorithm(srcSize, sinkSize int64) string {
	switch e.opts.Algorithm {
	case AlgorithmFull, AlgorithmDiff:
		return e.opts.Algorithm
	}
	if srcSize > 0 || sinkSize > 0 {
		return AlgorithmDiff
	}
	return AlgorithmFull
}

// copyData makes the file at dstPath equal to the first size bytes of the
// file at srcPath, in place, block by block, and returns the bytes written.
// Holes in the source stay holes (SEEK_DATA/SEEK_HOLE); with diff, blocks
// whose blake3 hashes match are not written. Nothing is made durable here:
// the caller syncs before it clears the counters that blame the sink.
//
// Where the sink holds no data (all of it after full's truncate, and
// beyond its old end with diff: a sink just created by entry heal is
// empty) there is nothing to compare, so the source's data is copied by
// copy_file_range, in the kernel, without being read into user space or
// hashed; read and write remain for filesystems that cannot.
//
// It stops between two blocks when ctx ends, keeps to the engine's
// MaxRate, and reports how far it is (Progress.Transfers). On afrkit's
// volumes a file larger than ResumeEvery is marked as it goes, and a copy
// stopped part way resumes at its last mark (resume.go) when sinkOK (the
// sink's counters allow it); resumed is where it began, 0 from the start.
func (e *Engine) copyData(ctx context.Context, sb *brick.Brick, srcPath string, db *brick.Brick, dstPath string, size int64, algo, name string, sinkOK bool) (written, resumed int64, err error) {
	src, err := sb.OpenFile(srcPath, os.O_RDONLY)
	if err != nil {
		return 0, 0, err
	}
	defer src.Close()
	dst, err := db.OpenFile(dstPath, os.O_RDWR)
	if err != nil {
		return 0, 0, err
	}
	defer dst.Close()
	var mark *resumePoint
	if e.Vol.Source == volume.SourceAfrkit && size > e.opts.ResumeEvery {
		if mark, resumed, err = openResume(src, dst, sb.Root, db.Key(brick.KeyHealResume), size, e.opts.ResumeEvery, algo == AlgorithmFull, sinkOK, e.step, name); err != nil {
			return 0, 0, err
		}
	}
	if resumed > 0 {
		// What lies beyond the mark decides, not what this run asked for:
		// only a copy begun on an emptied sink may go on as full (old data
		// of the sink where the source has holes or zeros would stay).
		algo = AlgorithmDiff
		if mark.fresh() {
			algo = AlgorithmFull
		}
	}
	if algo == AlgorithmFull && resumed == 0 {
		e.step("truncate " + name)
		if err := dst.Truncate(0); err != nil {
			return 0, 0, err
		}
	}
	fi, err := dst.Stat()
	if err != nil {
		return 0, resumed, err
	}
	// The sink may hold data below sinkEnd only: the truncate below
	// extends it with a hole. A full copy that resumes finds beyond the
	// mark only what it copied itself, the source's data where the source
	// has data and holes where it has holes: it copies on from there.
	sinkEnd := min(fi.Size(), size)
	if algo == AlgorithmFull && resumed > 0 {
		sinkEnd = resumed
	}
	e.step("truncate " + name)
	if err := dst.Truncate(size); err != nil {
		return 0, resumed, err
	}
	written, err = e.copyBlocks(ctx, src, dst, resumed, sinkEnd, size, algo, name, mark)
	if err != nil {
		return written, resumed, err
	}
	if mark != nil {
		if err := mark.done(); err != nil {
			return written, resumed, err
		}
	}
	return written, resumed, nil
}

// copyBlocks is copyData's loop, from start: see there. mark, when set, is
// told how far the copy has come.
func (e *Engine) copyBlocks(ctx context.Context, src, dst *os.File, start, sinkEnd, size int64, algo, name string, mark *resumePoint) (int64, error) {
	// A small file needs a buffer of its own size, not a whole block:
	// allocating 1 MiB per file dominated healing many small files.
	bs := max(min(e.opts.BlockSize, size), 1)
	var buf, dbuf []byte
	useCopyRange := true
	var written int64
	// [off, dataEnd) is known to be data in the source.
	var dataEnd int64
	t := e.transfers.start(name, size)
	defer e.transfers.end(t)
	for off := start; off < size; {
		if err := ctx.Err(); err != nil {
			return written, err
		}
		t.done.Store(off)
		e.progressSometimes(name)
		if mark != nil {
			if err := mark.reached(off); err != nil {
				return written, err
			}
		}
		if off >= dataEnd {
			data, err := brick.SeekData(src, off)
			if err != nil {
				return written, err
			}
			if data < 0 || data >= size {
				data = size
			}
			if data > off {
				// [off, data) is a hole in the source. A fresh (full) sink is
				// all hole after the truncate; an old one may hold data there.
				if algo == AlgorithmDiff && off < sinkEnd {
					if err := e.punch(dst, off, min(data, sinkEnd), name); err != nil {
						return written, err
					}
				}
				off = data
				continue
			}
			if dataEnd, err = brick.HoleAfter(src, off, size); err != nil {
				return written, err
			}
		}
		if err := e.throttle(ctx, min(bs, dataEnd-off)); err != nil {
			return written, err
		}
		if off >= sinkEnd && useCopyRange {
			n, err := e.copyRange(src, dst, off, min(bs, dataEnd-off), name)
			if err == nil && n == 0 {
				// The source ended early; the sink reads zeros from here
				// as the source did.
				break
			}
			if err == nil {
				written += n
				off += n
				continue
			}
			if !brick.CopyRangeUnsupported(err) {
				return written, err
			}
			useCopyRange = false
		}
		n := min(bs, size-off)
		if buf == nil {
			buf = make([]byte, bs)
		}
		if _, err := src.ReadAt(buf[:n], off); err != nil && !errors.Is(err, io.EOF) {
			return written, err
		}
		if algo == AlgorithmDiff && off < sinkEnd {
			if dbuf == nil {
				dbuf = make([]byte, bs)
			}
			m, err := dst.ReadAt(dbuf[:n], off)
			if err != nil && !errors.Is(err, io.EOF) {
				return written, err
			}
			if int64(m) == n && blake3.Sum256(buf[:n]) == blake3.Sum256(dbuf[:n]) {
				off += n
				continue
			}
		} else if brick.AllZero(buf[:n]) {
			// The sink reads zeros there already (a hole); writing them
			// would only allocate blocks.
			off += n
			continue
		}
		e.step("write block " + name)
		if _, err := dst.WriteAt(buf[:n], off); err != nil {
			return written, err
		}
		written += n
		e.bytes.Add(n)
		off += n
	}
	return written, nil
}

// copyRange copies up to n bytes at off from src to the same offset of dst
// with copy_file_range, and returns how many it copied: 0 at the source's
// end.
func (e *Engine) copyRange(src, dst *os.File, off, n int64, name string) (int64, error) {
	e.step("copy block " + name)
	roff, woff := off, off
	var done int64
	for done < n {
		m, err := unix.CopyFileRange(int(src.Fd()), &roff, int(dst.Fd()), &woff, int(n-done), 0)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			if done > 0 {
				// Count what was copied; the caller goes on from there.
				break
			}
			return 0, err
		}
		if m == 0 {
			break
		}
		done += int64(m)
		e.bytes.Add(int64(m))
	}
	return done, nil
}

// punch makes [off, end) of dst a hole where it holds data.
func (e *Engine) punch(dst *os.File, off, end int64, name string) error {
	data, err := brick.SeekData(dst, off)
	if err != nil {
		return err
	}
	if data < 0 || data >= end {
		return nil
	}
	e.step("punch hole " + name)
	err = unix.Fallocate(int(dst.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, data, end-data)
	if errors.Is(err, unix.EOPNOTSUPP) {
		// No hole punching here: write the zeros instead.
		zero := make([]byte, min(end-data, 1<<20))
		for o := data; o < end; o += int64(len(zero)) {
			n := min(int64(len(zero)), end-o)
			if _, err := dst.WriteAt(zero[:n], o); err != nil {
				return err
			}
		}
		return nil
	}
	return err
}

// metadataHeals reports whether this entry's metadata heal is to run on
// sink i after its data heal: it sets the times last (setMetadata), so the
// data heal need not set them first. Should the metadata heal fail, its
// counters stay and the next heal sets them.
func (h *entryHeal) metadataHeals(i int) bool {
	kv := h.metadata
	return kv.NeedsHeal && kv.Source >= 0 && !kv.SplitBrain && i < len(kv.Sinks) && kv.Sinks[i]
}

// copyTimes gives sink i the source's times: atime and mtime on the inode,
// and the mdata xattr GlusterFS reports them from. The mdata is written
// only when the sink's differs: a copy entry heal created has the
// source's already, and each xattr write is a journalled change to the
// inode (or its xattr block).
func (h *entryHeal) copyTimes(src, i int) error {
	sb, db := h.rs.Open[src], h.rs.Open[i]
	var st syscall.Stat_t
	if err := sb.Lstat(h.abs[src], &st); err != nil {
		return fmt.Errorf("%s: stat %s: %w", h.label(src), h.path, err)
	}
	if m, ok, err := sb.ReadMdata(h.abs[src], h.path); err != nil {
		return err
	} else if ok {
		if cur, has, err := db.ReadMdata(h.abs[i], h.path); err != nil || !has || cur != m {
			h.e.step("mdata " + h.path)
			if err := db.SetMdata(h.abs[i], h.path, m); err != nil {
				return err
			}
		}
	}
	h.e.step("utimes " + h.path)
	if err := db.Utimes(h.abs[i], st.Atim.Nano(), st.Mtim.Nano()); err != nil {
		return fmt.Errorf("%s: set times of %s: %w", h.label(i), h.path, err)
	}
	return nil
}
