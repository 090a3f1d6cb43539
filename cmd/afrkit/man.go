package main

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// manSection is the manual section of afrkit's pages: system administration,
// as afrkit repairs bricks that only their administrator can reach.
const manSection = "8"

// NewCmdMan builds `afrkit man DIR`, which packagers run to install the
// manual: one page per command, afrkit.8, afrkit-heal.8,
// afrkit-volume-reset-brick.8 and so on.
func NewCmdMan() *cobra.Command {
	return &cobra.Command{
		Use:   "man DIR",
		Short: "Write afrkit's man pages (section 8) into a directory",
		Long: `Write one man page per command into DIR (created if missing), in section 8:
afrkit.8, afrkit-heal.8, afrkit-volume-reset-brick.8 and so on.

The date in each page's header is that of SOURCE_DATE_EPOCH (seconds since
1970, UTC) when it is set, so that a package build gives the same pages
every time; otherwise today's.`,
		Example: "  afrkit man /usr/share/man/man8",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return manRun(cmd.Root(), args[0], os.Getenv("SOURCE_DATE_EPOCH"), time.Now())
		},
	}
}

// manRun writes the pages of root's tree into dir. epoch is
// SOURCE_DATE_EPOCH's value ("" when unset); now is the date otherwise.
func manRun(root *cobra.Command, dir, epoch string, now time.Time) error {
	date := now.UTC()
	if epoch != "" {
		// doc.GenManTree reads SOURCE_DATE_EPOCH too, but in local time
		// (the month could then depend on TZ) and with an error that does
		// not say which command failed: read it here instead.
		sec, err := strconv.ParseInt(epoch, 10, 64)
		if err != nil {
			return fmt.Errorf("man: SOURCE_DATE_EPOCH %q: want seconds since 1970: %w", epoch, err)
		}
		date = time.Unix(sec, 0).UTC()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("man: %w", err)
	}
	header := &doc.GenManHeader{
		Section: manSection,
		Date:    &date,
		Source:  "afrkit",
		Manual:  "afrkit Manual",
	}
	if err := doc.GenManTree(root, header, dir); err != nil {
		return fmt.Errorf("man: writing the pages into %s: %w", dir, err)
	}
	return nil
}
