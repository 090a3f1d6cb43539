package mount

import (
	"fmt"
	"os"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// Kernel caching: the kernel keeps names and attributes for a second, as
// GlusterFS's FUSE client does (entry-timeout, attribute-timeout), and a
// name's absence for a second too (GlusterFS's negative-timeout, 0 by
// default). Without it every create looked its name up on every brick
// two or three times over (stat, then open's own lookup) before making
// it. A name only another process makes while the volume is mounted (a
// heal restoring an entry no readable copy lists) shows within a second,
// as a name another process removes goes within a second. The page cache
// keeps file content between opens only while the file is unchanged.
//
// No writeback cache, as GlusterFS's kernel-writeback-cache is off by
// default: with it the kernel acknowledges a write before the mount sees
// it, so a brick that fails the write later is blamed for bytes the
// application was told were written, and the write's error reaches no
// one (it would come back at fsync at best). Each write reaches every
// brick before write(2) returns.
const (
	entryTimeout    = time.Second
	attrTimeout     = time.Second
	negativeTimeout = time.Second
)

// Serve mounts the volume at dir and serves it until the server is
// unmounted (Server.Unmount, fusermount -u, umount). debug logs every
// FUSE request.
func (m *Volume) Serve(dir string, debug bool) (*fuse.Server, error) {
	entry, attr, negative := entryTimeout, attrTimeout, negativeTimeout
	opts := &gofs.Options{
		EntryTimeout:    &entry,
		AttrTimeout:     &attr,
		NegativeTimeout: &negative,
		RootStableAttr:  &gofs.StableAttr{Ino: 1, Mode: syscall.S_IFDIR},
		MountOptions: fuse.MountOptions{
			FsName: m.vol.Name,
			Name:   "afrkit",
			// The kernel checks permissions against the attributes, as
			// for a local file system: afrkit itself runs as root.
			Options:    []string{"default_permissions"},
			AllowOther: os.Geteuid() == 0,
			MaxWrite:   1 << 20,
			Debug:      debug,
		},
	}
	srv, err := gofs.Mount(dir, m.Root(), opts)
	if err != nil {
		return nil, fmt.Errorf("mount %s at %s: %w", m.vol.Name, dir, err)
	}
	return srv, nil
}
