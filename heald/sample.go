package heald

import (
	"context"
	"time"

	"github.com/afrkit/afrkit/heal"
)

// DefaultSample is how often the sampler looks at every volume's backlog.
const DefaultSample = 10 * time.Second

// sampleBudget bounds one look at one volume (see heal.ScanBacklog).
const sampleBudget = 500 * time.Millisecond

// sampler looks at the backlog of every volume of the catalog, afrkit's
// and GlusterFS's, every interval, lock-free as heal info does: the
// figures of Stats and the metrics. Each volume's classified entries are
// kept between looks, in memory.
func (d *Daemon) sampler(ctx context.Context, every time.Duration) {
	caches := map[string]*heal.StatusCache{}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		list, err := d.opts.Catalog.List()
		if err != nil {
			d.opts.Log.Warn("list the volumes", "err", err)
		}
		seen := map[string]bool{}
		for _, e := range list {
			if ctx.Err() != nil {
				return
			}
			seen[e.Name] = true
			d.sampleOne(ctx, e.Name, caches)
		}
		for name := range caches {
			if !seen[name] {
				delete(caches, name)
				d.stats.forget(name)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (d *Daemon) sampleOne(ctx context.Context, name string, caches map[string]*heal.StatusCache) {
	v, err := d.opts.Catalog.Lookup(name)
	if err != nil {
		d.opts.Log.Warn("load the volume", "volume", name, "err", err)
		return
	}
	afrOpts, err := heal.Options(v)
	if err != nil {
		d.opts.Log.Warn("the volume's options", "volume", name, "err", err)
		return
	}
	cache := caches[name]
	if cache == nil {
		cache = heal.NewStatusCache()
		caches[name] = cache
	}
	b, err := heal.ScanVolume(ctx, v, cache, heal.BacklogOptions{QuorumCount: afrOpts.QuorumCount, Budget: sampleBudget, MinClassify: sampleBudget / 4, Refresh: time.Minute})
	if err != nil {
		return
	}
	d.stats.sample(name, b)
}
