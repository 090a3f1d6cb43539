package volume

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// Glusterd reads volume definitions from glusterd's working directory. It
// never writes there.
type Glusterd struct {
	// Dir is glusterd's working directory, normally /var/lib/glusterd.
	Dir string
}

// readKV parses glusterd's "key=value" store format, keeping key order.
// Only a regular file is read: O_NONBLOCK keeps a FIFO in its place from
// blocking the open that finds out.
func readKV(path string) (map[string]string, []string, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return nil, nil, err
	} else if !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%s is not a regular file (%s)", path, fi.Mode().Type())
	}
	kv := map[string]string{}
	var order []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok || k == "" {
			continue
		}
		if _, dup := kv[k]; !dup {
			order = append(order, k)
		}
		kv[k] = v
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	return kv, order, nil
}

// localUUID returns this node's glusterd uuid (glusterd.info), or "".
func (g *Glusterd) localUUID() string {
	kv, _, err := readKV(filepath.Join(g.Dir, "glusterd.info"))
	if err != nil {
		return ""
	}
	return kv["UUID"]
}

// Load reads glusterd's definition of the named volume.
func (g *Glusterd) Load(name string) (*Volume, error) {
	if err := ValidName(name); err != nil {
		return nil, err
	}
	v, err := LoadGlusterdVolumeDir(filepath.Join(g.Dir, "vols", name), name, g.localUUID())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("volume %s in %s: %w", name, g.Dir, ErrNotFound)
	}
	return v, err
}

// LoadGlusterdVolumeDir reads a copy of glusterd's vols/<VOL> directory (its
// info file and bricks/). Bricks whose peer uuid equals localUUID are
// marked Local.
func LoadGlusterdVolumeDir(dir, name, localUUID string) (*Volume, error) {
	info, _, err := readKV(filepath.Join(dir, "info"))
	if err != nil {
		return nil, fmt.Errorf("glusterd volume %s: %w", name, err)
	}
	count, _ := strconv.Atoi(info["count"])
	replica, _ := strconv.Atoi(info["replica_count"])
	arbiter, _ := strconv.Atoi(info["arbiter_count"])
	disperse, _ := strconv.Atoi(info["disperse_count"])
	if replica <= 0 {
		replica = 1
	}
	v := &Volume{
		Name:    name,
		ID:      info["volume-id"],
		Replica: replica,
		Arbiter: arbiter,
		Source:  SourceGlusterd,
		XattrNS: "trusted",
		Options: map[string]string{},
	}
	switch info["status"] {
	case "1":
		v.Status = "Started"
	case "2":
		v.Status = "Stopped"
	default:
		v.Status = "Created"
	}
	for i := 0; ; i++ {
		ref, ok := info["brick-"+strconv.Itoa(i)]
		if !ok {
			break
		}
		b, err := loadGlusterdBrick(dir, ref)
		if err != nil {
			return nil, fmt.Errorf("glusterd volume %s: brick-%d: %w", name, i, err)
		}
		b.Local = localUUID != "" && b.localUUID == localUUID
		if b.ID == "" {
			b.ID = fmt.Sprintf("%s-client-%d", name, i)
		}
		v.Bricks = append(v.Bricks, b.Brick)
	}
	if count != 0 && count != len(v.Bricks) {
		return nil, fmt.Errorf("glusterd volume %s: info says count=%d but lists %d bricks", name, count, len(v.Bricks))
	}
	if len(v.Bricks)%replica != 0 {
		return nil, fmt.Errorf("glusterd volume %s: %d bricks do not divide into replica sets of %d", name, len(v.Bricks), replica)
	}
	v.Type = typeName(len(v.Bricks)/replica, replica, disperse > 0)
	for k, val := range info {
		// Options are the dotted keys (cluster.quorum-type, ...); the rest
		// is glusterd's own bookkeeping.
		if strings.Contains(k, ".") && !strings.HasPrefix(k, "brick-") {
			v.Options[k] = val
		}
	}
	return v, nil
}

type glusterdBrick struct {
	Brick
	localUUID string
}

// loadBrick reads bricks/<ref>, where ref is "host:-path-with-dashes".
func loadGlusterdBrick(volDir, ref string) (glusterdBrick, error) {
	// ref names a file of bricks/: a ref that climbs out of it (found by
	// FuzzGlusterdVolume) would read whatever it names, a FIFO included.
	if ref == "" || ref == "." || ref == ".." || strings.ContainsAny(ref, "/\x00") {
		return glusterdBrick{}, fmt.Errorf("brick reference %q is not a file name in bricks/", ref)
	}
	kv, _, err := readKV(filepath.Join(volDir, "bricks", ref))
	if err != nil {
		return glusterdBrick{}, err
	}
	if kv["hostname"] == "" || kv["path"] == "" {
		return glusterdBrick{}, fmt.Errorf("bricks/%s lacks hostname or path", ref)
	}
	return glusterdBrick{
		Brick:     Brick{Host: kv["hostname"], Path: kv["path"], ID: kv["brick-id"], PeerUUID: kv["uuid"]},
		localUUID: kv["uuid"],
	}, nil
}

// List returns the names of glusterd's volumes, sorted.
func (g *Glusterd) List() ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(g.Dir, "vols"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("glusterd %s: %w", g.Dir, err)
	}
	var names []string
	for _, e := range ents {
		if _, err := os.Stat(filepath.Join(g.Dir, "vols", e.Name(), "info")); err == nil && ValidName(e.Name()) == nil {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}
