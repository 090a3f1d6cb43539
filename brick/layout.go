package brick

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"syscall"

	"github.com/afrkit/afrkit/afr"
)

// Init lays out a new brick the way glusterd and posix init do: the volume-id
// on the root, the root gfid and its "../../.." handle, and the 256
// first-level handle directories (mode 0700). The index directories belong to
// package index. Init is idempotent on a brick of the same volume and refuses
// a brick of another one.
func (b *Brick) Init(volumeID afr.GFID) error {
	if err := b.CheckVolumeID(volumeID); err != nil && !errors.Is(err, ErrNoVolumeID) {
		return err
	}
	if err := b.setXattr(b.Root, KeyVolumeID, volumeID[:], false); err != nil {
		return b.errorf("write "+b.key(KeyVolumeID), "/", err)
	}
	if err := b.MkdirAll(b.GlusterPath(), 0o700); err != nil {
		return b.errorf("create", GlusterDir, err)
	}
	for i := 0; i < 256; i++ {
		d := b.GlusterPath(fmt.Sprintf("%02x", i))
		if err := b.EnsureDir(d, 0o700); err != nil {
			return b.errorf("create", d, err)
		}
	}
	for _, d := range []string{"landfill", "unlink"} {
		if err := b.MkdirAll(b.GlusterPath(d), 0o700); err != nil {
			return b.errorf("create", b.GlusterPath(d), err)
		}
	}
	if err := b.setGFIDAbs(b.Root, "/", RootGFID); err != nil {
		return err
	}
	return b.SymlinkDirHandle(RootGFID, afr.GFID{}, "")
}

// VolumeID reads the brick's trusted.glusterfs.volume-id.
func (b *Brick) VolumeID() (afr.GFID, error) {
	v, err := b.getXattr(b.Root, KeyVolumeID)
	if errors.Is(err, ErrNoAttr) {
		return afr.GFID{}, b.errorf("read "+b.key(KeyVolumeID), "/", ErrNoVolumeID)
	}
	if err != nil {
		return afr.GFID{}, b.errorf("read "+b.key(KeyVolumeID), "/", err)
	}
	g, err := DecodeGFID(v)
	if err != nil {
		return afr.GFID{}, b.errorf("read "+b.key(KeyVolumeID), "/", err)
	}
	return g, nil
}

// CheckVolumeID verifies that the brick belongs to the volume with id want,
// as posix init does before it serves a brick.
func (b *Brick) CheckVolumeID(want afr.GFID) error {
	got, err := b.VolumeID()
	if err != nil {
		return err
	}
	if !bytes.Equal(got[:], want[:]) {
		return b.errorf("check volume-id", "/", fmt.Errorf("%w: brick has %s, volume is %s", ErrForeignBrick, got, want))
	}
	return nil
}

// Check verifies that the brick has a .glusterfs directory and, when want is
// not zero, the volume's id. It is what every command runs before it trusts
// a brick.
func (b *Brick) Check(want afr.GFID) error {
	var st syscall.Stat_t
	err := b.Lstat(b.GlusterPath(), &st)
	if errors.Is(err, fs.ErrNotExist) {
		return b.errorf("check", GlusterDir, ErrNotBrick)
	}
	if err != nil {
		return b.errorf("check", GlusterDir, err)
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFDIR {
		// A symlink here would send every handle and index beyond the brick.
		return b.errorf("check", GlusterDir, fmt.Errorf("%w: it is a %s", ErrNotBrick, modeTypeName(st.Mode)))
	}
	if err := b.checkAfrkitDir(); err != nil {
		return err
	}
	if want.IsZero() {
		return nil
	}
	return b.CheckVolumeID(want)
}

// checkAfrkitDir refuses a brick whose .glusterfs/afrkit is anything but a
// directory: afrkit writes its lock, kept copies and quarantine there, and
// something planted in its place (a symlink out of the brick) must stop
// every command with a message, not redirect its writes.
func (b *Brick) checkAfrkitDir() error {
	var st syscall.Stat_t
	err := b.Lstat(b.GlusterPath(AfrkitDir), &st)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return b.errorf("check", GlusterDir+"/"+AfrkitDir, err)
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFDIR {
		return b.errorf("check", GlusterDir+"/"+AfrkitDir, fmt.Errorf("%w: it is a %s, planted where afrkit keeps its own files; remove it", ErrSymlinkInPath, modeTypeName(st.Mode)))
	}
	return nil
}
