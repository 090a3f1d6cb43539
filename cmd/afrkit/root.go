package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/brick/volume"
)

// ExitCode is the process exit status. The codes are documented in the root
// command's help (EXIT STATUS) and mapped from errors in one place, Main.
type ExitCode int

const (
	ExitOK    ExitCode = 0
	ExitError ExitCode = 1
	ExitUsage ExitCode = 2
	// ExitInterrupted is a heal stopped by SIGINT or SIGTERM at a safe
	// point (128 + SIGINT, as shells report it).
	ExitInterrupted ExitCode = 130
	// ExitTimedOut is a wait whose --timeout passed, as timeout(1) exits.
	ExitTimedOut ExitCode = 124
)

// usageError is a mistake in the command line.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// Factory holds what every command needs, filled from the global flags.
type Factory struct {
	IO          *IOStreams
	GlusterdDir string
	// GlusterdSocket is glusterd's unix socket, through which a started
	// volume's client graph is fetched.
	GlusterdSocket string
	StateDir       string
	XattrNS        string
}

// Catalog returns the volume catalog for the configured directories.
func (f *Factory) Catalog() *volume.Catalog {
	return &volume.Catalog{
		Registry: &volume.Registry{Dir: f.StateDir},
		Glusterd: &volume.Glusterd{Dir: f.GlusterdDir},
	}
}

// lookupBricks finds a volume whose bricks the command reads: one this
// process could not read correctly (trusted.* xattrs without root) is
// refused plainly, rather than shown as bricks that are down or empty.
func (f *Factory) lookupBricks(name string) (*volume.Volume, error) {
	v, err := f.Catalog().Lookup(name)
	if err != nil {
		return nil, err
	}
	if err := v.CheckPrivileges(os.Geteuid()); err != nil {
		return nil, err
	}
	return v, nil
}

// defaultStateDir is /var/lib/afrkit as root, the XDG state directory
// otherwise; AFRKIT_STATE_DIR overrides both.
func defaultStateDir() string {
	if d := os.Getenv("AFRKIT_STATE_DIR"); d != "" {
		return d
	}
	if os.Geteuid() == 0 {
		return "/var/lib/afrkit"
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "afrkit")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "afrkit-state")
	}
	return filepath.Join(home, ".local", "state", "afrkit")
}

const rootLong = `afrkit finds, explains and heals what replicas of a volume disagree on.

It works on afrkit's own volumes (N brick directories on one host) and on
GlusterFS replicate volumes, whose definitions it reads from glusterd's
directory and whose bricks it reads directly, in GlusterFS's AFR format.

EXIT STATUS
  0  success
  1  an error (the message says which brick, path and operation)
  2  a mistake in the command line
  124  heal VOL wait: the --timeout passed with entries left
  130  a heal stopped by SIGINT or SIGTERM (what it healed is kept; run it again)
  fsck has its own codes, as e2fsck: see 'afrkit fsck --help'.`

// NewCmdRoot builds the command tree.
func NewCmdRoot(io *IOStreams) *cobra.Command {
	f := &Factory{IO: io}
	root := &cobra.Command{
		Use:           "afrkit",
		Short:         "Self-healing and split-brain repair for replicated storage",
		Long:          rootLong,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(io.Out)
	root.SetErr(io.ErrOut)
	root.SetIn(io.In)
	pf := root.PersistentFlags()
	pf.StringVar(&f.GlusterdDir, "glusterd-dir", "/var/lib/glusterd", "glusterd's working directory, read for GlusterFS volume definitions")
	pf.StringVar(&f.GlusterdSocket, "glusterd-sock", "/var/run/glusterd.socket", "glusterd's unix socket, through which a started volume is changed as a client changes it")
	pf.StringVar(&f.StateDir, "state-dir", defaultStateDir(), "afrkit's own volume registry (env AFRKIT_STATE_DIR)")
	pf.StringVar(&f.XattrNS, "xattr-ns", brick.DefaultNS(), "xattr namespace for new afrkit volumes: trusted or user")
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if f.XattrNS != brick.NSTrusted && f.XattrNS != brick.NSUser {
			return usageError{fmt.Errorf("--xattr-ns must be %q or %q, not %q", brick.NSTrusted, brick.NSUser, f.XattrNS)}
		}
		return nil
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })

	root.AddGroup(
		&cobra.Group{ID: "volumes", Title: "Volumes:"},
		&cobra.Group{ID: "repair", Title: "Healing and repair:"},
		&cobra.Group{ID: "other", Title: "Other:"},
	)
	add := func(group string, cmds ...*cobra.Command) {
		for _, c := range cmds {
			c.GroupID = group
			root.AddCommand(c)
		}
	}
	add("volumes", NewCmdVolume(f))
	add("repair",
		NewCmdHeal(f, nil),
		NewCmdFsck(f, nil),
		NewCmdHeald(f),
		NewCmdTui(f),
		NewCmdCompare(f, nil),
	)
	add("other",
		NewCmdMount(f, nil),
		NewCmdUmount(f),
		NewCmdDemo(f, nil),
		NewCmdVersion(f),
		NewCmdMan(),
	)
	root.SetHelpCommandGroupID("other")
	root.SetCompletionCommandGroupID("other")
	addCompletions(root, f)
	return root
}

// Main runs afrkit with args and maps the outcome to an exit code.
func Main(args []string, io *IOStreams) ExitCode {
	root := NewCmdRoot(io)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, errReported) {
		return ExitError
	}
	var es exitStatus
	if errors.As(err, &es) {
		if es.err != nil {
			fmt.Fprintf(io.ErrOut, "afrkit: %v\n", es.err)
		}
		return es.code
	}
	fmt.Fprintf(io.ErrOut, "afrkit: %v\n", err)
	var ue usageError
	switch {
	case errors.As(err, &ue), isCobraUsageError(err):
		return ExitUsage
	}
	return ExitError
}

// isCobraUsageError recognises cobra's own argument errors, which are not
// typed.
func isCobraUsageError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "accepts ", "requires at least", "requires at most", "unknown flag", "unknown shorthand"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}
