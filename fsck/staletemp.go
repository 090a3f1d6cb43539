package fsck

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"syscall"
	"time"

	"github.com/zeebo/blake3"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
)

// rsyncTempPattern is GlusterFS DHT's default cluster.rsync-hash-regex
// (dht_init_regex): rsync writes ".<name>.<random>" and renames it to <name>
// when the transfer ends, so a name of this shape whose <name> is absent was
// left behind by an interrupted transfer.
const rsyncTempPattern = `^\.(.+)\.[^.]+$`

// rsyncTempRe is compiled once; a *regexp.Regexp is safe for concurrent use
// and never changes.
var rsyncTempRe = regexp.MustCompile(rsyncTempPattern)

// StaleTempFinal returns the final name an rsync-style temp name would be
// renamed to, and whether name has that shape at all.
func StaleTempFinal(name string) (string, bool) {
	m := rsyncTempRe.FindStringSubmatch(name)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// isRsyncSuffix reports whether s is what rsync's mktemp template .XXXXXX
// makes: six letters and digits. GlusterFS's regex accepts any suffix, but
// dotfiles such as ".config.json" are not temp files.
func isRsyncSuffix(s string) bool {
	if len(s) != 6 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// checkStaleTemp reports name in directory p (of the replica set s) when
// it is an rsync temp file: whether its final name exists beside it, and
// whether it holds the same content.
func (c *checker) checkStaleTemp(s *setState, p, name string, names []string, dirs, copies []*copyInfo) {
	final, ok := StaleTempFinal(name)
	if !ok || !isRsyncSuffix(name[len(final)+2:]) {
		return
	}
	var tmp *copyInfo
	at := -1
	for i, ci := range copies {
		if ci != nil && ci.typ() == afr.TypeRegular {
			tmp, at = ci, i
			break
		}
	}
	if tmp == nil {
		return
	}
	tp, fp := brick.Join(p, name), brick.Join(p, final)
	f := Finding{Class: ClassStaleTemp, Brick: labels(s), Path: tp, GFID: gfidOf(tmp)}
	if _, found := slices.BinarySearch(names, final); !found {
		f.Detail = fmt.Sprintf("an rsync temp file of %s, which does not exist", fp)
		f.Repair = fmt.Sprintf("with --rename-stale: rename it to %s on every brick of the replica set", fp)
		c.add(f)
		return
	}
	d := dirs[at]
	finalAbs := filepath.Join(d.abs, final)
	tv, terr := version(tmp.abs, tp)
	fv, ferr := version(finalAbs, fp)
	switch {
	case terr != nil || ferr != nil:
		f.Detail = fmt.Sprintf("an rsync temp file of %s, which exists; their content could not be compared: %v", fp, errors.Join(terr, ferr))
		f.Manual = "compare the two by hand"
	case tv.Blake3 == fv.Blake3 && tv.Size == fv.Size:
		f.Detail = fmt.Sprintf("an rsync temp file of %s, which exists with the same content", fp)
		f.Repair = "with --rename-stale: move the temp file to quarantine"
	default:
		f.Detail = fmt.Sprintf("an rsync temp file of %s, which exists with other content", fp)
		f.Manual = "keep one version: rename the temp file over " + fp + ", or remove the temp file (--rename-stale leaves both)"
		f.Versions = []Version{tv, fv}
	}
	c.add(f)
}

// version describes the file at abs for a person to choose.
func version(abs, p string) (Version, error) {
	var st syscall.Stat_t
	if err := syscall.Lstat(abs, &st); err != nil {
		return Version{}, err
	}
	h, err := hashFile(abs)
	if err != nil {
		return Version{}, err
	}
	return Version{Path: p, Size: st.Size, Blake3: h,
		Mtime: time.Unix(st.Mtim.Sec, st.Mtim.Nsec).UTC().Format(time.RFC3339Nano)}, nil
}

// hashFile is the blake3 of a file's content.
func hashFile(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := blake3.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
