package heal

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/afrkit/afrkit/brick"
)

// History is a volume's append-only audit log of resolutions: one JSON
// record per line, each written with a single append and fsynced before
// the change it records is made.
type History struct {
	Path string
	mu   sync.Mutex
}

// HistoryPath is where a volume's history lives in afrkit's state
// directory.
func HistoryPath(stateDir, vol string) string {
	return filepath.Join(stateDir, "history", vol+".jsonl")
}

// NewRecordID names a record made at now: the time, to the second, and
// three random bytes, so that ids sort by time and two made in one second
// differ.
func NewRecordID(now time.Time) string {
	g := brick.NewGFID()
	return now.UTC().Format("20060102-150405") + "-" + hex.EncodeToString(g[:3])
}

// RecordTime is a record's Time field for now.
func RecordTime(now time.Time) string { return now.UTC().Format("2006-01-02T15:04:05.000Z") }

// Record is one resolution: a split-brain resolved, a name removed by an
// entry heal, or an undo.
type Record struct {
	ID     string `json:"id"`
	Time   string `json:"time"`
	Volume string `json:"volume"`
	Set    int    `json:"replica_set"`
	Path   string `json:"path"`
	GFID   string `json:"gfid"`
	// Kind is data, metadata, gfid, removed or undo.
	Kind string `json:"kind"`
	// How is the policy or command: bigger-file, latest-mtime,
	// source-brick, majority, favorite-child-policy mtime, entry heal.
	How    string `json:"how"`
	Source string `json:"source,omitempty"`
	// SourceBlake3 is the hash of the winning content (data).
	SourceBlake3 string   `json:"source_blake3,omitempty"`
	Sinks        []string `json:"sinks,omitempty"`
	Kept         []Kept   `json:"kept,omitempty"`
	// Undoes is the record an undo restored.
	Undoes string `json:"undoes,omitempty"`
	// Renamed are the renames of an fsck repair (KindRepair), which its
	// undo renames back.
	Renamed []Renamed `json:"renamed,omitempty"`
	// Repairs are the findings an fsck repair repaired ("class brick
	// path: repair"). Its undo puts back what they moved and renamed
	// (Kept, Renamed); what they wrote in place (gfids, handles, index
	// entries: each the one right answer of its finding) stays.
	Repairs []string `json:"repairs,omitempty"`
	// Live is set for a resolution made through GlusterFS on a started
	// volume (ResolveLive): its losers are kept in the state directory,
	// and undo does not put them back.
	Live bool `json:"live,omitempty"`
}

// Renamed is one rename of an fsck repair, on one brick.
type Renamed struct {
	Brick     string `json:"brick"`
	BrickRoot string `json:"brick_root"`
	From      string `json:"from"`
	To        string `json:"to"`
}

// Kept is one losing copy, kept on its brick outside the volume.
type Kept struct {
	Brick string `json:"brick"`
	// BrickRoot is the brick directory the copy was on.
	BrickRoot string `json:"brick_root"`
	// Path is the kept copy (absent for a metadata resolution, where Meta
	// holds everything).
	Path string `json:"path,omitempty"`
	// Meta is the kept copy's metadata: mode, owner, times, every xattr.
	Meta   string `json:"meta"`
	Type   string `json:"type"`
	Size   int64  `json:"size"`
	Blake3 string `json:"blake3,omitempty"`
	// Moved is set when the copy itself was moved out of the volume (a
	// gfid split-brain loser, a removed name), not copied.
	Moved bool `json:"moved,omitempty"`
	// Source is set for the winner's record: only its counters were kept
	// (its copy did not change), and undo restores only those.
	Source bool `json:"source,omitempty"`
}

// Append writes r and makes it durable.
func (h *History) Append(r Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(h.Path), 0o755); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	line, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	f, err := os.OpenFile(h.Path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	// A write torn by a crash or a full disk leaves a last line without
	// its newline: the record starts on a line of its own, or it would be
	// glued to the torn one and lost with it.
	torn, err := endsTorn(f)
	if err != nil {
		f.Close()
		return fmt.Errorf("history: read %s: %w", h.Path, err)
	}
	buf := make([]byte, 0, len(line)+2)
	if torn {
		buf = append(buf, '\n')
	}
	buf = append(append(buf, line...), '\n')
	if _, err := f.Write(buf); err != nil {
		f.Close()
		return fmt.Errorf("history: write %s: %w", h.Path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("history: fsync %s: %w", h.Path, err)
	}
	return f.Close()
}

// endsTorn reports whether f is not empty and does not end with a newline.
func endsTorn(f *os.File) (bool, error) {
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 {
		return false, err
	}
	var last [1]byte
	if _, err := f.ReadAt(last[:], fi.Size()-1); err != nil {
		return false, err
	}
	return last[0] != '\n', nil
}

// Read returns every record, oldest first. A missing log is empty. A line
// that does not parse (a torn write) is skipped: ReadAll says which.
func (h *History) Read() ([]Record, error) {
	recs, _, err := h.ReadAll()
	return recs, err
}

// ReadAll is Read that also returns the numbers of the lines it skipped
// because they are not records, for a person to be told.
func (h *History) ReadAll() (recs []Record, skipped []int, err error) {
	f, err := os.Open(h.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("history: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for n := 1; sc.Scan(); n++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil || r.ID == "" {
			skipped = append(skipped, n)
			continue
		}
		recs = append(recs, r)
	}
	if err := sc.Err(); err != nil {
		return recs, skipped, fmt.Errorf("history: read %s: %w", h.Path, err)
	}
	return recs, skipped, nil
}

// Find returns the record with id.
func (h *History) Find(id string) (Record, error) {
	recs, err := h.Read()
	if err != nil {
		return Record{}, err
	}
	for _, r := range recs {
		if r.ID == id {
			return r, nil
		}
	}
	return Record{}, fmt.Errorf("history: no record %q in %s", id, h.Path)
}
