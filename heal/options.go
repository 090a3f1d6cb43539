package heal

import (
	"fmt"

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
	forced, err := v.BoolOption("cluster.metadata-splitbrain-forced-heal", false)
	if err != nil {
		return opts, err
	}
	opts.MetadataSplitBrainForcedHeal = forced
	granular, err := v.BoolOption("cluster.granular-entry-heal", true)
	if err != nil {
		return opts, err
	}
	opts.GranularEntryHeal = granular
	return opts, nil
}
