package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Version is afrkit's release version.
const Version = "0.1.0-dev"

// NewCmdVersion prints the version, with the VCS revision when the binary
// was built from a checkout.
func NewCmdVersion(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print afrkit's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			rev := ""
			if bi, ok := debug.ReadBuildInfo(); ok {
				for _, s := range bi.Settings {
					if s.Key == "vcs.revision" && len(s.Value) >= 12 {
						rev = " (" + s.Value[:12] + ")"
					}
				}
			}
			_, err := fmt.Fprintf(f.IO.Out, "afrkit %s%s %s/%s\n", Version, rev, runtime.GOOS, runtime.GOARCH)
			return err
		},
	}
}
