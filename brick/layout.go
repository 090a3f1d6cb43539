package brick

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"

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
	if err := os.MkdirAll(b.GlusterPath(), 0o700); err != nil {
		return b.errorf("create", GlusterDir, err)
	}
	for i := 0; i < 256; i++ {
		d := b.GlusterPath(fmt.Sprintf("%02x", i))
		if err := os.Mkdir(d, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return b.errorf("create", d, err)
		}
	}
	for _, d := range []string{"landfill", "unlink"} {
		if err := os.MkdirAll(b.GlusterPath(d), 0o700); err != nil {
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
	fi, err := os.Stat(b.GlusterPath())
	if errors.Is(err, fs.ErrNotExist) {
		return b.errorf("check", GlusterDir, ErrNotBrick)
	}
	if err != nil {
		return b.errorf("check", GlusterDir, err)
	}
	if !fi.IsDir() {
		return b.errorf("check", GlusterDir, ErrNotBrick)
	}
	if want.IsZero() {
		return nil
	}
	return b.CheckVolumeID(want)
}
