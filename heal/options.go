package heal

import (
	"fmt"
	"strings"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick/volume"
)

// Options are the volume's options that change afr's decisions.
func Options(v *volume.Volume) (afr.Options, error) {
	opts := afr.Options{QuorumCount: afr.QuorumCount(v.Replica, v.QuorumType(), v.QuorumCount())}
	p, err := afr.ParsePolicy(v.FavoriteChildPolicy())
	if err != nil {
		return opts, fmt.Errorf("volume %s: cluster.favorite-child-policy: %w", v.Name, err)
	}
	opts.FavoriteChild = p
	forced, err := parseBool(v.Option("cluster.metadata-splitbrain-forced-heal", "off"))
	if err != nil {
		return opts, fmt.Errorf("volume %s: cluster.metadata-splitbrain-forced-heal: %w", v.Name, err)
	}
	opts.MetadataSplitBrainForcedHeal = forced
	granular, err := parseBool(v.Option("cluster.granular-entry-heal", "on"))
	if err != nil {
		return opts, fmt.Errorf("volume %s: cluster.granular-entry-heal: %w", v.Name, err)
	}
	opts.GranularEntryHeal = granular
	return opts, nil
}

// parseBool accepts the spellings of gf_string2boolean.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "1", "on", "yes", "true", "enable":
		return true, nil
	case "0", "off", "no", "false", "disable":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean", s)
}
