package main

import (
	"github.com/spf13/cobra"
)

// DemoOptions are the inputs of `afrkit demo`.
type DemoOptions struct {
	F    *Factory
	Dir  string
	Keep bool
}

// NewCmdDemo builds `afrkit demo`.
func NewCmdDemo(f *Factory, runF func(*DemoOptions) error) *cobra.Command {
	opts := &DemoOptions{F: f}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Build a damaged demo volume and heal it before your eyes",
		Long: `Build a replica-2 afrkit volume in a temporary directory, damage it the way
a brick outage does (a pending heal, a data split-brain, a stale rsync temp
file), print what afrkit decides for every damaged entry and why, then heal
it: the pending entries by 'afrkit heal', the split-brain by latest-mtime,
and show heal info empty and where the losing copy was kept.

As root, a second volume follows whose brick b1 is a small ext4 file system
of its own on a loop device: files written through the engine fill it up, b1
fails them while b0 takes them and blames it, heal info lists what b1 missed,
the disk is grown (resize2fs) and a heal fills it in.

Nothing outside the temporary directory is touched; --dir and --keep leave the
volume behind for a closer look.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return demoRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Dir, "dir", "", "build the demo volume here instead of a temporary directory")
	cmd.Flags().BoolVar(&opts.Keep, "keep", false, "keep the demo volume afterwards")
	return cmd
}
