package heal

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/progress"
)

// StatusState is what `heal status` keeps between two looks at a volume,
// in afrkit's state directory (never on a brick): the classified entries
// and the backlog's samples, from which the rate, the ETA and what was
// healed since the first look come.
type StatusState struct {
	Cache  *StatusCache
	Series progress.Series
}

// StatusStatePath is where the state of volume vol's status is kept:
// path+".cache" holds the classified entries, path+".json" the samples.
func StatusStatePath(stateDir, vol string) string {
	return filepath.Join(stateDir, "status", vol)
}

// statusSamples is the JSON file of the samples.
type statusSamples struct {
	Samples []progress.Sample `json:"samples"`
	Done    int64             `json:"done"`
	Since   time.Time         `json:"since"`
}

// cacheMagic starts a cache file; its last byte is the format's version.
// A file of another version is not read: the look starts afresh.
const cacheMagic = "afrkit-status-cache\x02"

// cacheRecord is one entry of a cache file: gfid, status, exists, the
// time it was classified in Unix nanoseconds, the kinds it waits for (a
// bit each) and the bytes its data heal copies.
const cacheRecord = 16 + 1 + 1 + 8 + 1 + 8

// LoadStatusState reads the state kept at path. A state that is missing,
// torn or of another format is not an error: the look starts afresh (the
// state only saves work), and the error says why, for a log.
func LoadStatusState(path string) (*StatusState, error) {
	st := &StatusState{Cache: NewStatusCache()}
	var why error
	if data, err := os.ReadFile(path + ".json"); err == nil {
		var s statusSamples
		if err := json.Unmarshal(data, &s); err != nil {
			why = fmt.Errorf("%s.json: %w", path, err)
		} else {
			st.Series.Restore(s.Samples, s.Done, s.Since)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		why = err
	}
	f, err := os.Open(path + ".cache")
	if errors.Is(err, fs.ErrNotExist) {
		return st, why
	}
	if err != nil {
		return st, err
	}
	defer f.Close()
	if err := st.Cache.read(bufio.NewReader(f)); err != nil {
		st.Cache = NewStatusCache()
		return st, fmt.Errorf("%s.cache: %w", path, err)
	}
	return st, why
}

func (c *StatusCache) read(r io.Reader) error {
	head := make([]byte, len(cacheMagic)+8)
	if _, err := io.ReadFull(r, head); err != nil {
		return fmt.Errorf("no header: %w", err)
	}
	if string(head[:len(cacheMagic)]) != cacheMagic {
		return errors.New("not a status cache of this version")
	}
	n := binary.LittleEndian.Uint64(head[len(cacheMagic):])
	if n <= 1<<26 { // a size that is no more than a hint
		c.m = make(map[afr.GFID]cachedStatus, n)
	}
	rec := make([]byte, cacheRecord)
	for i := uint64(0); i < n; i++ {
		if _, err := io.ReadFull(r, rec); err != nil {
			return fmt.Errorf("record %d of %d: %w", i+1, n, err)
		}
		var g afr.GFID
		copy(g[:], rec)
		st := afr.HealStatus(rec[16])
		kinds, bytes := rec[26], int64(binary.LittleEndian.Uint64(rec[27:]))
		if st < afr.NoHeal || st > afr.PossiblyHealingPending || rec[17] > 1 || kinds >= 1<<len(afr.Kinds) || bytes < 0 {
			return fmt.Errorf("record %d: status %d, exists %d, kinds %d, bytes %d: not a status", i+1, rec[16], rec[17], kinds, bytes)
		}
		c.m[g] = cachedStatus{status: st, exists: rec[17] == 1, known: true, at: time.Unix(0, int64(binary.LittleEndian.Uint64(rec[18:]))),
			kinds: kinds, bytes: bytes}
	}
	return nil
}

// Save writes the state to path, each file whole or not at all (a new
// file renamed over the old), so that a look killed while saving leaves
// the previous state.
func (st *StatusState) Save(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("save the status state: %w", err)
	}
	e := st.Series.Estimate()
	data, err := json.Marshal(statusSamples{Samples: st.Series.Samples(), Done: e.Done, Since: e.Since})
	if err != nil {
		return err
	}
	if err := replaceFile(path+".json", func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
		return err
	}
	if !st.Cache.dirty {
		// Nothing learned or forgotten since the file was read: a look at
		// a backlog known whole writes no million records again.
		if _, err := os.Stat(path + ".cache"); err == nil {
			return nil
		}
	}
	if err := replaceFile(path+".cache", st.Cache.write); err != nil {
		return err
	}
	st.Cache.dirty = false
	return nil
}

func (c *StatusCache) write(w io.Writer) error {
	head := make([]byte, len(cacheMagic)+8)
	copy(head, cacheMagic)
	binary.LittleEndian.PutUint64(head[len(cacheMagic):], uint64(len(c.m)))
	if _, err := w.Write(head); err != nil {
		return err
	}
	rec := make([]byte, cacheRecord)
	for g, cs := range c.m {
		copy(rec, g[:])
		rec[16] = byte(cs.status)
		rec[17] = 0
		if cs.exists {
			rec[17] = 1
		}
		binary.LittleEndian.PutUint64(rec[18:], uint64(cs.at.UnixNano()))
		rec[26] = cs.kinds
		binary.LittleEndian.PutUint64(rec[27:], uint64(cs.bytes))
		if _, err := w.Write(rec); err != nil {
			return err
		}
	}
	return nil
}

// replaceFile writes path anew through a temporary file beside it.
func replaceFile(path string, fill func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	w := bufio.NewWriter(f)
	err = fill(w)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	return nil
}
