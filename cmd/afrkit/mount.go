package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/heal"
	"github.com/afrkit/afrkit/mount"
)

// MountOptions are the inputs of `mount VOL DIR`.
type MountOptions struct {
	F      *Factory
	Volume string
	Dir    string
	// Foreground serves in this process until unmounted (systemd);
	// otherwise afrkit mount returns once a background process serves.
	Foreground bool
	// Options are mount(8)'s -o options, which fstab passes.
	Options string
	// Debug logs every FUSE request.
	Debug bool
	// readyFD is the descriptor a background server reports on.
	readyFD int
}

const mountLong = `Mount a volume with FUSE at DIR: every change goes to each brick that is up
through AFR's write transaction, leaving the changelog that heal info, heal and
GlusterFS itself read; reads come from a copy no other blames.

afrkit mount returns once the mount serves, and the mount runs on in the
background, as mount -t glusterfs does; its log is LOG_DIR/mount-VOL.log in the
state directory. -f keeps it in the foreground (for systemd); it stops when
the mount is unmounted, or on SIGINT or SIGTERM, which unmount it.

A GlusterFS volume can be mounted while it is stopped (no brick process runs):
a rescue when glusterd cannot start, written in GlusterFS's own format.

A brick whose disk fails (EIO, ENOSPC, EDQUOT, EROFS, or its file system gone
from under it) is taken down: writes go on to the others while the quorum
allows, and they blame it; the mount lets go of it, so the disk can be
unmounted and repaired, and takes it back by itself once it is healthy.
While mounted, afrkit heal and the heal daemon heal the volume beside the
mount, under the locks every fop takes too; fsck --repair waits for afrkit
umount.

/etc/fstab: link the helper once, then use the type fuse.afrkit:
  ln -s "$(command -v afrkit)" /sbin/mount.fuse.afrkit
  VOL  /mnt/VOL  fuse.afrkit  defaults,_netdev  0 0`

// NewCmdMount builds `afrkit mount`.
func NewCmdMount(f *Factory, runF func(*MountOptions) error) *cobra.Command {
	opts := &MountOptions{F: f}
	cmd := &cobra.Command{
		Use:   "mount VOL DIR",
		Short: "Mount a volume with FUSE",
		Long:  mountLong,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usageError{fmt.Errorf("usage: afrkit mount VOL DIR")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Volume, opts.Dir = args[0], args[1]
			if runF != nil {
				return runF(opts)
			}
			return mountRun(opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.Foreground, "foreground", "f", false, "serve in this process until unmounted")
	cmd.Flags().StringVarP(&opts.Options, "options", "o", "", "mount options, as mount(8) and fstab give them")
	cmd.Flags().BoolVar(&opts.Debug, "debug", false, "log every FUSE request")
	cmd.Flags().IntVar(&opts.readyFD, "ready-fd", 0, "")
	cmd.Flags().MarkHidden("ready-fd")
	return cmd
}

// ignoredMountOptions are mount(8)'s generic options, which mean nothing
// to afrkit's server (mount(8) itself acts on some of them).
var ignoredMountOptions = map[string]bool{
	"defaults": true, "rw": true, "auto": true, "noauto": true, "_netdev": true, "nofail": true,
	"user": true, "nouser": true, "users": true, "exec": true, "noexec": true, "suid": true, "nosuid": true,
	"dev": true, "nodev": true, "atime": true, "noatime": true, "relatime": true, "async": true,
}

// parseMountOptions checks -o: debug turns on request logging; ro is
// refused (a read-only mount is not there yet); x-* options belong to
// other tools.
func parseMountOptions(opts *MountOptions) error {
	for _, o := range strings.Split(opts.Options, ",") {
		switch {
		case o == "" || ignoredMountOptions[o] || strings.HasPrefix(o, "x-"):
		case o == "debug":
			opts.Debug = true
		case o == "ro":
			return usageError{errors.New("mount option ro: afrkit mounts read-write only")}
		default:
			return usageError{fmt.Errorf("unknown mount option %q", o)}
		}
	}
	return nil
}

func mountRun(opts *MountOptions) error {
	if err := parseMountOptions(opts); err != nil {
		return err
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return err
	}
	opts.Dir = dir
	if st, err := os.Stat(dir); err != nil {
		return fmt.Errorf("mount point: %w", err)
	} else if !st.IsDir() {
		return fmt.Errorf("mount point %s is not a directory", dir)
	}
	v, err := opts.F.lookupBricks(opts.Volume)
	if err != nil {
		return err
	}
	for _, b := range v.Bricks {
		if b.Local && volume.Overlap(dir, b.Path) {
			// Mounted over a brick the mount would hide the brick from
			// itself; inside one, its own files would become the volume's.
			return fmt.Errorf("mount point %s overlaps brick %s of volume %s: mount it elsewhere", dir, b, v.Name)
		}
	}
	if v.Source == volume.SourceGlusterd {
		if err := v.CheckOffline(procDir); err != nil {
			return err
		}
	}
	if !opts.Foreground {
		return mountInBackground(opts)
	}
	return serveMount(opts, v)
}

// mountLogPath is where a background mount of vol logs.
func mountLogPath(stateDir, vol string) string {
	return filepath.Join(stateDir, "log", "mount-"+vol+".log")
}

// mountInBackground starts this program again as the mount's server, in a
// session of its own with its output in the log, and returns once the
// server says the mount serves, or with the error that stopped it.
func mountInBackground(opts *MountOptions) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	logPath := mountLogPath(opts.F.StateDir, opts.Volume)
	if err := os.MkdirAll(filepath.Dir(logPath), 0o700); err != nil {
		return err
	}
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logFile.Close()
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	args := []string{"--state-dir", opts.F.StateDir, "--glusterd-dir", opts.F.GlusterdDir,
		"mount", "--foreground", "--ready-fd", "3", opts.Volume, opts.Dir}
	if opts.Debug {
		args = append(args, "--debug")
	}
	cmd := exec.Command(self, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return err
	}
	w.Close()
	// The server writes "ready", or its error, then closes the pipe.
	msg, _ := io.ReadAll(bufio.NewReader(r))
	if strings.TrimSpace(string(msg)) == "ready" {
		return cmd.Process.Release()
	}
	werr := cmd.Wait()
	if len(msg) > 0 {
		return errors.New(strings.TrimSpace(string(msg)))
	}
	return fmt.Errorf("the mount's server stopped (%v): see %s", werr, logPath)
}

// serveMount mounts v and serves it until it is unmounted, or a signal
// unmounts it.
func serveMount(opts *MountOptions, v *volume.Volume) error {
	var ready *os.File
	if opts.readyFD > 0 {
		ready = os.NewFile(uintptr(opts.readyFD), "ready")
	}
	report := func(msg string) {
		if ready != nil {
			fmt.Fprintln(ready, msg)
			ready.Close()
			ready = nil
		}
	}
	logger := log.New(opts.F.IO.ErrOut, "", log.LstdFlags)
	m, err := mount.Open(v, mount.Options{Log: logger, HistoryPath: heal.HistoryPath(opts.F.StateDir, v.Name)})
	if err != nil {
		report(err.Error())
		return err
	}
	defer m.Close()
	srv, err := m.Serve(opts.Dir, opts.Debug)
	if err != nil {
		report(err.Error())
		return err
	}
	logger.Printf("volume %s mounted at %s", v.Name, opts.Dir)
	report("ready")
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	go func() {
		s, ok := <-sig
		if !ok {
			return
		}
		logger.Printf("%v: unmounting %s", s, opts.Dir)
		if err := srv.Unmount(); err != nil {
			logger.Printf("unmount %s: %v (busy: afrkit umount -l %s, or close what uses it)", opts.Dir, err, opts.Dir)
		}
	}()
	srv.Wait()
	logger.Printf("volume %s unmounted from %s", v.Name, opts.Dir)
	return nil
}

// NewCmdUmount builds `afrkit umount`.
func NewCmdUmount(f *Factory) *cobra.Command {
	var lazy bool
	cmd := &cobra.Command{
		Use:   "umount DIR",
		Short: "Unmount a volume mounted with afrkit mount",
		Long: `Unmount the volume at DIR. The mount writes every open file's pending post-op
as the files are closed, so no dirty mark is left behind; the server process
then exits. A busy mount (a process has a file open or its working directory
in it) is refused, unless -l detaches it now and finishes when it is free.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{fmt.Errorf("usage: afrkit umount DIR")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return umount(args[0], lazy)
		},
	}
	cmd.Flags().BoolVarP(&lazy, "lazy", "l", false, "detach now, finish when no longer busy")
	return cmd
}

// umount unmounts dir: as root with umount(2), otherwise through
// fusermount, which may unmount a FUSE mount of the user's.
func umount(dir string, lazy bool) error {
	if os.Geteuid() == 0 {
		flags := 0
		if lazy {
			flags = unix.MNT_DETACH
		}
		if err := unix.Unmount(dir, flags); err != nil {
			return fmt.Errorf("umount %s: %w", dir, err)
		}
		return nil
	}
	for _, prog := range []string{"fusermount3", "fusermount"} {
		path, err := exec.LookPath(prog)
		if err != nil {
			continue
		}
		args := []string{"-u", dir}
		if lazy {
			args = []string{"-u", "-z", dir}
		}
		if out, err := exec.Command(path, args...).CombinedOutput(); err != nil {
			return fmt.Errorf("%s -u %s: %w: %s", prog, dir, err, strings.TrimSpace(string(out)))
		}
		return nil
	}
	return errors.New("umount as a user needs fusermount3 (Debian package fuse3)")
}

// mountHelperArgs turns mount(8)'s call of a mount helper,
// "mount.fuse.afrkit VOL DIR [-sfnv] [-N NS] [-o OPTS] [-t TYPE]", into
// afrkit's "mount VOL DIR -o OPTS". -f (fake) mounts nothing; -s, -n and
// -v, and the type, say nothing afrkit needs.
func mountHelperArgs(args []string) ([]string, bool) {
	var pos []string
	out := []string{"mount"}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-o" && i+1 < len(args):
			out = append(out, "-o", args[i+1])
			i++
		case (a == "-t" || a == "-N") && i+1 < len(args):
			i++
		case a == "-f":
			return nil, false
		case strings.HasPrefix(a, "-"):
		default:
			pos = append(pos, a)
		}
	}
	return append(out, pos...), true
}
