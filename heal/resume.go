package heal

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/pkg/xattr"
	"golang.org/x/sys/unix"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
)

// A large file's data heal that stops part way (the daemon killed, a
// signal, a brick gone) goes on from its last durable block the next time,
// where GlusterFS starts a VM image's heal over from zero. Every
// EngineOptions.ResumeEvery bytes the copy makes the sink's data durable (fdatasync) and
// then marks the sink (brick.KeyHealResume): how far it is, and which copy
// of the source it came from (brick, inode, size, ctime).
//
// The next heal of the entry resumes at the mark only while nothing can
// have changed the bytes below it:
//   - the source is the same inode of the same brick, with the same size
//     and ctime: any write, truncate or xattr change to it moves its ctime,
//     and no client can set a ctime;
//   - the sink blames nobody and is not dirty for data. A client's write
//     through the mount reaches the sink alone only while the source is
//     down, and then the sink blames the source; a write in flight leaves
//     it dirty;
//   - no split-brain resolution or undo came between: both take the marks
//     off the copies they change (forgetResume), since resolving is what
//     clears a sink's blame;
//   - the mark is on the sink's inode, so a sink removed and made again has
//     none.
//
// Otherwise the heal starts from zero, as before: a mark costs a faster
// heal when it holds, never a wrong one. Marks are written on afrkit's own
// volumes only; a GlusterFS brick gets nothing GlusterFS would not write.

// DefaultResumeEvery is how much of a data heal is copied between two
// marks. Each mark costs an fdatasync of the sink: 64 MiB keeps a 1 GiB
// image to 16, and a kill loses at most 64 MiB of copying.
const DefaultResumeEvery = 64 << 20

// resumeMark is what a sink's brick.KeyHealResume holds.
type resumeMark struct {
	// Off: the sink's bytes below it are the source's, durably.
	Off int64
	// Ino, Size and CtimeNs are the source's, when the copy began.
	Ino     uint64
	Size    int64
	CtimeNs int64
	// Fresh: the copy began on an emptied sink (a full heal), so beyond
	// Off the sink holds only what this copy wrote, the source's data
	// where it has data and holes elsewhere. Otherwise old data of the
	// sink may lie there, and only a diff may go on over it.
	Fresh bool
	// Source is the source brick's root.
	Source string
}

const resumeMarkVersion = "afrkit-resume-1"

// encode writes the mark as one line of text: it is read by people with
// getfattr too.
func (m resumeMark) encode() []byte {
	fresh := 0
	if m.Fresh {
		fresh = 1
	}
	return fmt.Appendf(nil, "%s off=%d ino=%d size=%d ctime=%d fresh=%d src=%s", resumeMarkVersion, m.Off, m.Ino, m.Size, m.CtimeNs, fresh, m.Source)
}

// parseResumeMark reads what encode wrote; anything else is an error.
func parseResumeMark(b []byte) (resumeMark, error) {
	var m resumeMark
	fields := strings.SplitN(string(b), " ", 7)
	if len(fields) != 7 || fields[0] != resumeMarkVersion {
		return m, fmt.Errorf("resume mark %q: not afrkit's", b)
	}
	ints := []struct {
		name string
		set  func(string) error
	}{
		{"off=", func(s string) (err error) { m.Off, err = strconv.ParseInt(s, 10, 64); return }},
		{"ino=", func(s string) (err error) { m.Ino, err = strconv.ParseUint(s, 10, 64); return }},
		{"size=", func(s string) (err error) { m.Size, err = strconv.ParseInt(s, 10, 64); return }},
		{"ctime=", func(s string) (err error) { m.CtimeNs, err = strconv.ParseInt(s, 10, 64); return }},
		{"fresh=", func(s string) error {
			if s != "0" && s != "1" {
				return errors.New("not 0 or 1")
			}
			m.Fresh = s == "1"
			return nil
		}},
	}
	for i, f := range ints {
		v, ok := strings.CutPrefix(fields[i+1], f.name)
		if !ok {
			return m, fmt.Errorf("resume mark %q: no %s", b, f.name)
		}
		if err := f.set(v); err != nil {
			return m, fmt.Errorf("resume mark %q: %s: %w", b, f.name, err)
		}
	}
	src, ok := strings.CutPrefix(fields[6], "src=")
	if !ok || src == "" {
		return m, fmt.Errorf("resume mark %q: no src=", b)
	}
	m.Source = src
	if m.Off < 0 || m.Off > m.Size {
		return m, fmt.Errorf("resume mark %q: offset outside the file", b)
	}
	return m, nil
}

// sinkUnchanged reports whether a sink's counters allow a resume: it
// blames nobody's data and is not dirty for data (see above).
func sinkUnchanged(r afr.Reply) bool {
	if r.Dirty[afr.Data] != 0 {
		return false
	}
	for _, c := range r.Pending {
		if c[afr.Data] != 0 {
			return false
		}
	}
	return true
}

// resumePoint keeps one data copy's mark on its sink. Not safe for
// concurrent use: one copy, one goroutine.
type resumePoint struct {
	dst *os.File
	key string
	// mark is the source as this copy found it; its Off is the last mark
	// made durable.
	mark  resumeMark
	every int64
	next  int64 // where the next mark is due
	// onSink: the sink holds a mark (ours, or one that was there).
	onSink bool
	step   func(string)
	name   string
}

// openResume reads the sink's mark and returns where the copy may start:
// the mark's offset when it describes this source and the sink may resume
// (sinkOK), 0 otherwise. A mark that cannot be read is not trusted, and is
// replaced by this copy's. fresh says whether this copy empties the sink
// first; a copy that resumes goes on as the mark says (fresh()).
func openResume(src, dst *os.File, source, key string, size, every int64, fresh, sinkOK bool, step func(string), name string) (*resumePoint, int64, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(src.Fd()), &st); err != nil {
		return nil, 0, fmt.Errorf("stat the source: %w", err)
	}
	p := &resumePoint{dst: dst, key: key, step: step, name: name, every: every, next: every,
		mark: resumeMark{Ino: st.Ino, Size: size, CtimeNs: st.Ctim.Nano(), Fresh: fresh, Source: source}}
	raw, err := xattr.FGet(dst, key)
	switch {
	case errors.Is(err, xattr.ENOATTR):
		return p, 0, nil
	case err != nil:
		return nil, 0, fmt.Errorf("read %s: %w", key, err)
	}
	p.onSink = true
	got, err := parseResumeMark(raw)
	if err != nil || !sinkOK || got.Source != p.mark.Source || got.Ino != p.mark.Ino ||
		got.Size != p.mark.Size || got.CtimeNs != p.mark.CtimeNs {
		return p, 0, nil
	}
	p.mark.Off, p.mark.Fresh = got.Off, got.Fresh
	p.next = got.Off + every
	return p, got.Off, nil
}

// fresh reports whether beyond the mark the sink holds only what the
// copies from the mark's source wrote (see resumeMark.Fresh).
func (p *resumePoint) fresh() bool { return p.mark.Fresh }

// reached is told that the sink's bytes below off are the source's. Every
// p.every bytes it makes them durable, then marks the sink.
func (p *resumePoint) reached(off int64) error {
	if off < p.next || off >= p.mark.Size {
		return nil
	}
	p.step("sync for resume " + p.name)
	if err := unix.Fdatasync(int(p.dst.Fd())); err != nil {
		return fmt.Errorf("sync %s: %w", p.name, err)
	}
	m := p.mark
	m.Off = off
	p.step("mark resume " + p.name)
	if err := xattr.FSet(p.dst, p.key, m.encode()); err != nil {
		return fmt.Errorf("set %s on %s: %w", p.key, p.name, err)
	}
	p.mark, p.onSink, p.next = m, true, off+p.every
	return nil
}

// done takes the mark off once the whole copy is made. Should the removal
// be lost in a crash, the mark left still holds (its bytes were durable).
func (p *resumePoint) done() error {
	if !p.onSink {
		return nil
	}
	p.step("unmark resume " + p.name)
	if err := xattr.FRemove(p.dst, p.key); err != nil && !errors.Is(err, xattr.ENOATTR) {
		return fmt.Errorf("remove %s from %s: %w", p.key, p.name, err)
	}
	p.onSink = false
	return nil
}

// forgetResume takes any resume mark off the copy at abs: a resolution or
// an undo is about to change what it holds, or what blames it.
func forgetResume(b *brick.Brick, abs, name string) error {
	if err := b.RemoveRawXattr(abs, name, b.Key(brick.KeyHealResume)); err != nil {
		return fmt.Errorf("%s: forget the resume mark of %s: %w", b.Root, name, err)
	}
	return nil
}
