package main

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/heal"
	"github.com/afrkit/afrkit/heald"
)

// settable are the options `afrkit volume set` accepts, each with a check of
// its value: the ones that change what afrkit's heal decides or does.
var settable = map[string]option{
	"cluster.favorite-child-policy":           oneOf("none", "size", "ctime", "mtime", "majority"),
	"cluster.data-self-heal-algorithm":        oneOf("full", "diff"),
	"cluster.quorum-type":                     oneOf("none", "auto", "fixed"),
	"cluster.quorum-count":                    {check: func(s string) error { _, err := fmt.Sscanf(s, "%d", new(int)); return err }},
	"cluster.metadata-splitbrain-forced-heal": oneOf("on", "off"),
	// The heal daemon's (afrkit heald), with GlusterFS's names and ranges.
	"cluster.self-heal-daemon": oneOf("on", "off"),
	"cluster.shd-max-threads":  intIn(1, 64),
	"cluster.heal-timeout":     intIn(5, 1<<31-1),
	heald.MaxRateOption:        {check: func(s string) error { _, err := heald.ParseRate(s); return err }},
}

// intIn is an option that takes a whole number from lo to hi.
func intIn(lo, hi int) option {
	return option{check: func(s string) error {
		n, err := strconv.Atoi(s)
		if err != nil || n < lo || n > hi {
			return fmt.Errorf("want a whole number from %d to %d", lo, hi)
		}
		return nil
	}}
}

// option is one settable option: its check, and for an option that takes
// one of a fixed set, the set (which completion offers).
type option struct {
	values []string
	check  func(string) error
}

func oneOf(values ...string) option {
	return option{values: values, check: func(s string) error {
		for _, v := range values {
			if s == v {
				return nil
			}
		}
		return fmt.Errorf("want one of %s", strings.Join(values, ", "))
	}}
}

// NewCmdVolumeSet builds `afrkit volume set VOL KEY VALUE`.
func NewCmdVolumeSet(f *Factory) *cobra.Command {
	var keys []string
	for k := range settable {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return &cobra.Command{
		Use:   "set VOL KEY VALUE",
		Short: "Set an option of an afrkit volume",
		Long:  "Set an option of one of afrkit's own volumes (GlusterFS volumes are set with\n'gluster volume set'). The options are:\n\n  " + strings.Join(keys, "\n  ") + "\n",
		Args:  cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			return volumeSetRun(f, args[0], args[1], args[2])
		},
	}
}

func volumeSetRun(f *Factory, name, key, value string) error {
	opt, ok := settable[key]
	if !ok {
		return usageError{fmt.Errorf("volume set: afrkit does not know option %q (see 'afrkit volume set --help')", key)}
	}
	if err := opt.check(value); err != nil {
		return usageError{fmt.Errorf("volume set %s %s: %w", key, value, err)}
	}
	reg := &volume.Registry{Dir: f.StateDir}
	v, err := reg.Load(name)
	if errors.Is(err, volume.ErrNotFound) {
		if _, gerr := f.Catalog().Lookup(name); gerr == nil {
			return fmt.Errorf("volume %s is a GlusterFS volume: set its options with 'gluster volume set %s %s %s'", name, name, key, value)
		}
	}
	if err != nil {
		return err
	}
	if v.Options == nil {
		v.Options = map[string]string{}
	}
	v.Options[key] = value
	if _, err := heal.Options(v); err != nil {
		return err
	}
	if err := v.Validate(); err != nil {
		return usageError{fmt.Errorf("volume set %s %s %s: %w", name, key, value, err)}
	}
	if err := reg.Save(v); err != nil {
		return err
	}
	fmt.Fprintf(f.IO.Out, "volume set: success\n")
	return nil
}
