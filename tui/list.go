package tui

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/afrkit/afrkit/afr"
)

// entryList is a volume's entries as the list shows them, by group. It
// keeps them in two unlinked temporary files, not in memory: a record of
// fixed size per entry (its gfid, replica set, status and where its path
// is), and the paths. The screen reads back the few rows it shows, so a
// list of a million entries costs the TUI no more memory than one of ten.
// What fsck's crawl finds (stale temp files, unexplained differences) is
// few, and fsck holds it anyway: those groups are kept as they are.
//
// An entryList is used by one goroutine at a time: the program's event
// loop, which runs Update and View.
type entryList struct {
	groups [GroupUnexplained]*rowFile
	paths  *appendFile
	// held are the groups from GroupUnexplained on.
	held [groups - GroupUnexplained][]Entry
	// err is the first error reading or writing the files: the list then
	// shows what it could, and the screen says why.
	err error
}

// sortMax bounds the groups sorted by path once whole: sorting reads a
// group into memory. A larger group keeps the indexes' order, as heal
// info prints it.
const sortMax = 10_000

// record is an entry as its rowFile keeps it.
type record struct {
	gfid   afr.GFID
	set    uint16
	status afr.HealStatus
	group  Group
	// off and n locate the path in the paths file; for an entry of a held
	// group (a search's hit), off is its index in the group.
	off int64
	n   uint32
}

// recordSize is a record's bytes: gfid 16, set 2, status 1, group 1,
// path offset 8, path length 4.
const recordSize = 32

func (r record) put(b []byte) {
	copy(b[:16], r.gfid[:])
	binary.LittleEndian.PutUint16(b[16:], r.set)
	b[18], b[19] = byte(r.status), byte(r.group)
	binary.LittleEndian.PutUint64(b[20:], uint64(r.off))
	binary.LittleEndian.PutUint32(b[28:], r.n)
}

func getRecord(b []byte) record {
	var r record
	copy(r.gfid[:], b[:16])
	r.set = binary.LittleEndian.Uint16(b[16:])
	r.status, r.group = afr.HealStatus(b[18]), Group(b[19])
	r.off = int64(binary.LittleEndian.Uint64(b[20:]))
	r.n = binary.LittleEndian.Uint32(b[28:])
	return r
}

// appendFile is an unlinked temporary file written at its end, through a
// buffer that any read flushes first.
type appendFile struct {
	f    *os.File
	size int64 // written, buffer included
	buf  []byte
}

// listDir is where the list's files go: TMPDIR when set, or else
// /var/tmp, which is on a disk where /tmp may be a tmpfs, in memory.
func listDir() string {
	if d := os.Getenv("TMPDIR"); d != "" {
		return d
	}
	if unix.Access("/var/tmp", unix.W_OK) == nil {
		return "/var/tmp"
	}
	return os.TempDir()
}

func newAppendFile() (*appendFile, error) {
	f, err := os.CreateTemp(listDir(), "afrkit-tui-list-*")
	if err != nil {
		return nil, fmt.Errorf("the entry list's file: %w", err)
	}
	// Unlinked at once: nothing is left behind, whatever ends the TUI.
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, fmt.Errorf("the entry list's file: %w", err)
	}
	return &appendFile{f: f}, nil
}

// flushAt is how many buffered bytes are written in one go.
const flushAt = 64 << 10

func (a *appendFile) write(p []byte) error {
	a.buf = append(a.buf, p...)
	a.size += int64(len(p))
	if len(a.buf) >= flushAt {
		return a.flush()
	}
	return nil
}

func (a *appendFile) flush() error {
	if len(a.buf) == 0 {
		return nil
	}
	_, err := a.f.WriteAt(a.buf, a.size-int64(len(a.buf)))
	a.buf = a.buf[:0]
	if err != nil {
		return fmt.Errorf("the entry list's file: %w", err)
	}
	return nil
}

func (a *appendFile) readAt(p []byte, off int64) error {
	if err := a.flush(); err != nil {
		return err
	}
	if _, err := a.f.ReadAt(p, off); err != nil {
		return fmt.Errorf("the entry list's file: %w", err)
	}
	return nil
}

// truncate empties the file.
func (a *appendFile) truncate() error {
	a.buf, a.size = a.buf[:0], 0
	if err := a.f.Truncate(0); err != nil {
		return fmt.Errorf("the entry list's file: %w", err)
	}
	return nil
}

func (a *appendFile) close() {
	if a != nil {
		a.f.Close()
	}
}

// rowFile is a sequence of records in an appendFile.
type rowFile struct {
	appendFile
}

func newRowFile() (*rowFile, error) {
	a, err := newAppendFile()
	if err != nil {
		return nil, err
	}
	return &rowFile{*a}, nil
}

func (r *rowFile) close() {
	if r != nil {
		r.f.Close()
	}
}

func (r *rowFile) len() int {
	if r == nil {
		return 0
	}
	return int(r.size / recordSize)
}

func (r *rowFile) add(rec record) error {
	var b [recordSize]byte
	rec.put(b[:])
	return r.write(b[:])
}

func (r *rowFile) at(k int) (record, error) {
	var b [recordSize]byte
	if err := r.readAt(b[:], int64(k)*recordSize); err != nil {
		return record{}, err
	}
	return getRecord(b[:]), nil
}

// each calls fn with every record in order, read through a buffer.
func (r *rowFile) each(fn func(k int, rec record) bool) error {
	if err := r.flush(); err != nil {
		return err
	}
	br := bufio.NewReaderSize(io.NewSectionReader(r.f, 0, r.size), 256<<10)
	var b [recordSize]byte
	for k := range r.len() {
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return fmt.Errorf("the entry list's file: %w", err)
		}
		if !fn(k, getRecord(b[:])) {
			return nil
		}
	}
	return nil
}

func newEntryList() (*entryList, error) {
	l := &entryList{}
	var err error
	if l.paths, err = newAppendFile(); err != nil {
		return nil, err
	}
	for g := range l.groups {
		if l.groups[g], err = newRowFile(); err != nil {
			l.close()
			return nil, err
		}
	}
	return l, nil
}

func (l *entryList) close() {
	if l == nil {
		return
	}
	l.paths.close()
	for _, g := range l.groups {
		if g != nil {
			g.close()
		}
	}
}

// add appends entries to their groups.
func (l *entryList) add(entries []Entry) {
	for _, e := range entries {
		g := group(e)
		if g >= GroupUnexplained {
			l.held[g-GroupUnexplained] = append(l.held[g-GroupUnexplained], e)
			continue
		}
		rec := record{gfid: e.GFID, set: uint16(e.Set), status: e.Status, group: g, off: l.paths.size, n: uint32(len(e.Path))}
		if err := l.paths.write([]byte(e.Path)); err != nil {
			l.fail(err)
			return
		}
		if err := l.groups[g].add(rec); err != nil {
			l.fail(err)
			return
		}
	}
}

func (l *entryList) fail(err error) {
	if l.err == nil {
		l.err = err
	}
}

// len is how many entries group g holds.
func (l *entryList) len(g Group) int {
	if l == nil {
		return 0
	}
	if g >= GroupUnexplained {
		return len(l.held[g-GroupUnexplained])
	}
	return l.groups[g].len()
}

// total is how many entries the list holds.
func (l *entryList) total() int {
	n := 0
	for g := Group(0); g < groups; g++ {
		n += l.len(g)
	}
	return n
}

// at is the k-th entry of group g.
func (l *entryList) at(g Group, k int) Entry {
	if g >= GroupUnexplained {
		return l.held[g-GroupUnexplained][k]
	}
	rec, err := l.groups[g].at(k)
	if err != nil {
		l.fail(err)
		return Entry{Path: "?"}
	}
	return l.entry(rec)
}

// entry is the entry a record keeps.
func (l *entryList) entry(rec record) Entry {
	if rec.group >= GroupUnexplained {
		return l.held[rec.group-GroupUnexplained][rec.off]
	}
	path := make([]byte, rec.n)
	if err := l.paths.readAt(path, rec.off); err != nil {
		l.fail(err)
		return Entry{Path: "?"}
	}
	return Entry{Set: int(rec.set), GFID: rec.gfid, Path: string(path), Status: rec.status}
}

// found are the entries of fsck's crawl the list holds.
func (l *entryList) found() []Entry {
	if l == nil {
		return nil
	}
	var out []Entry
	for _, h := range l.held {
		out = append(out, h...)
	}
	return out
}

// replaceFound puts found, fsck's crawl's, in place of those the list
// holds, each group by path.
func (l *entryList) replaceFound(found []Entry) {
	l.held = [len(l.held)][]Entry{}
	l.add(found)
	l.sortHeld()
}

func (l *entryList) sortHeld() {
	for _, h := range l.held {
		slices.SortStableFunc(h, func(a, b Entry) int { return strings.Compare(a.Path, b.Path) })
	}
}

// sortByPath orders each group of up to sortMax entries by path (the
// indexes list gfids in no order a person reads).
func (l *entryList) sortByPath() {
	l.sortHeld()
	for g := range l.groups {
		rf := l.groups[g]
		if rf.len() < 2 || rf.len() > sortMax {
			continue
		}
		type row struct {
			rec  record
			path string
		}
		rows := make([]row, 0, rf.len())
		err := rf.each(func(_ int, rec record) bool {
			rows = append(rows, row{rec: rec, path: l.entry(rec).Path})
			return true
		})
		if err != nil {
			l.fail(err)
			return
		}
		slices.SortStableFunc(rows, func(a, b row) int { return cmp.Compare(a.path, b.path) })
		if err := rf.truncate(); err != nil {
			l.fail(err)
			return
		}
		for _, r := range rows {
			if err := rf.add(r.rec); err != nil {
				l.fail(err)
				return
			}
		}
	}
}

// search is the entries of the groups filter lets through (groups: all)
// whose path holds q, in group order, as records in a file of their own.
func (l *entryList) search(q string, filter Group) *rowFile {
	hits, err := newRowFile()
	if err != nil {
		l.fail(err)
		return nil
	}
	for g := Group(0); g < groups; g++ {
		if filter != groups && filter != g {
			continue
		}
		if g >= GroupUnexplained {
			for k, e := range l.held[g-GroupUnexplained] {
				if strings.Contains(e.Path, q) {
					if err := hits.add(record{group: g, off: int64(k)}); err != nil {
						l.fail(err)
						return hits
					}
				}
			}
			continue
		}
		var werr error
		err := l.groups[g].each(func(_ int, rec record) bool {
			if strings.Contains(l.entry(rec).Path, q) {
				werr = hits.add(rec)
			}
			return werr == nil
		})
		if err = cmp.Or(err, werr); err != nil {
			l.fail(err)
			return hits
		}
	}
	return hits
}
