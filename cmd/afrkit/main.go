// Command afrkit is the self-healing and split-brain repair toolkit for
// replicated file storage in GlusterFS's AFR format.
package main

import (
	"os"
	"path/filepath"
)

func main() {
	args, ok := mainArgs(os.Args)
	if !ok {
		return
	}
	os.Exit(int(Main(args, SystemIO())))
}

// mainArgs is the command line Main runs: the arguments, or, called by
// mount(8) as the mount helper mount.fuse.afrkit (fstab's type
// fuse.afrkit), the mount command they ask for. ok is false for a call
// that asks for nothing (mount -f, a fake mount).
func mainArgs(argv []string) (args []string, ok bool) {
	switch filepath.Base(argv[0]) {
	case "mount.fuse.afrkit", "mount.afrkit":
		return mountHelperArgs(argv[1:])
	}
	return argv[1:], true
}
