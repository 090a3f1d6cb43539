package heald

import (
	"math"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/afrkit/afrkit/afr"
)

// Collector exposes the daemon's Stats to Prometheus, read at each
// scrape: no metric is kept anywhere else.
type Collector struct {
	stats *Stats

	pending, splitBrain, unclassified, brickUp *prometheus.Desc
	pendingKind, pendingBytes                  *prometheus.Desc
	healedEntries, healedBytes, rounds         *prometheus.Desc
	rate, eta, lastSweep, healing              *prometheus.Desc
}

// NewCollector is the collector of d's stats; register it on a registry.
func NewCollector(d *Daemon) *Collector {
	vb := []string{"volume", "brick"}
	v := []string{"volume"}
	return &Collector{
		stats:   d.stats,
		pending: prometheus.NewDesc("afrkit_heal_pending_entries", "Entries the brick's heal index lists that are not in split-brain (heal info's count), as of the last look.", vb, nil),
		pendingKind: prometheus.NewDesc("afrkit_heal_pending_kind_entries", "Of the pending entries, those that wait for a heal of this kind (data, metadata, entry): an entry may wait for several.",
			[]string{"volume", "brick", "kind"}, nil),
		pendingBytes:  prometheus.NewDesc("afrkit_heal_pending_bytes", "The most the data heals of the pending entries copy: the size of each one's largest copy.", vb, nil),
		splitBrain:    prometheus.NewDesc("afrkit_heal_split_brain_entries", "Entries the brick's heal index lists in split-brain: they wait for a person.", vb, nil),
		unclassified:  prometheus.NewDesc("afrkit_heal_unclassified_entries", "Index entries of the brick whose status is not known yet (counted as pending by heal status).", vb, nil),
		brickUp:       prometheus.NewDesc("afrkit_brick_up", "1 when the brick of this host opens (its root there, with the volume's id), 0 when not.", vb, nil),
		healedEntries: prometheus.NewDesc("afrkit_healed_entries_total", "Entries the daemon healed, by kind (data, metadata, entry).", []string{"volume", "kind"}, nil),
		healedBytes:   prometheus.NewDesc("afrkit_healed_bytes_total", "Bytes of data the daemon's heals wrote to sinks.", v, nil),
		rounds:        prometheus.NewDesc("afrkit_heal_rounds_total", "Heal rounds the daemon ran.", v, nil),
		rate:          prometheus.NewDesc("afrkit_heal_rate_entries_per_second", "How fast the volume's backlog falls, over the last minute of looks (0 when it does not).", v, nil),
		eta:           prometheus.NewDesc("afrkit_heal_eta_seconds", "Time left at the current rate; absent when there is no estimate.", v, nil),
		lastSweep:     prometheus.NewDesc("afrkit_heal_last_sweep_timestamp_seconds", "When the volume's indexes were last looked at whole.", v, nil),
		healing:       prometheus.NewDesc("afrkit_heal_in_progress", "1 while a heal round of the daemon runs on the volume.", v, nil),
	}
}

// Describe sends every metric's description.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.pending, c.pendingKind, c.pendingBytes, c.splitBrain, c.unclassified, c.brickUp, c.healedEntries, c.healedBytes, c.rounds, c.rate, c.eta, c.lastSweep, c.healing} {
		ch <- d
	}
}

// Collect sends the metrics of a snapshot of the stats. Called by the
// registry, from any goroutine.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, v := range c.stats.Snapshot() {
		for _, b := range v.Backlog.Bricks {
			if !b.Connected() {
				continue
			}
			name := b.Brick.String()
			ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(b.Pending), v.Name, name)
			for k, kind := range afr.Kinds {
				ch <- prometheus.MustNewConstMetric(c.pendingKind, prometheus.GaugeValue, float64(b.Kinds[k]), v.Name, name, kind.String())
			}
			ch <- prometheus.MustNewConstMetric(c.pendingBytes, prometheus.GaugeValue, float64(b.Bytes), v.Name, name)
			ch <- prometheus.MustNewConstMetric(c.splitBrain, prometheus.GaugeValue, float64(b.SplitBrain), v.Name, name)
			ch <- prometheus.MustNewConstMetric(c.unclassified, prometheus.GaugeValue, float64(b.Unclassified), v.Name, name)
		}
		for brick, up := range v.BrickUp {
			ch <- prometheus.MustNewConstMetric(c.brickUp, prometheus.GaugeValue, b2f(up), v.Name, brick)
		}
		if v.HealedHere {
			for _, kind := range []string{"data", "metadata", "entry"} {
				ch <- prometheus.MustNewConstMetric(c.healedEntries, prometheus.CounterValue, float64(v.Entries[kind]), v.Name, kind)
			}
			ch <- prometheus.MustNewConstMetric(c.healedBytes, prometheus.CounterValue, float64(v.Bytes), v.Name)
			ch <- prometheus.MustNewConstMetric(c.rounds, prometheus.CounterValue, float64(v.Rounds), v.Name)
			ch <- prometheus.MustNewConstMetric(c.healing, prometheus.GaugeValue, b2f(v.Healing), v.Name)
		}
		if !v.Backlog.At.IsZero() {
			ch <- prometheus.MustNewConstMetric(c.rate, prometheus.GaugeValue, v.Estimate.Rate, v.Name)
			if v.Estimate.Known && !math.IsInf(v.Estimate.ETA.Seconds(), 0) {
				ch <- prometheus.MustNewConstMetric(c.eta, prometheus.GaugeValue, v.Estimate.ETA.Seconds(), v.Name)
			}
		}
		if !v.LastSweep.IsZero() {
			ch <- prometheus.MustNewConstMetric(c.lastSweep, prometheus.GaugeValue, float64(v.LastSweep.UnixNano())/1e9, v.Name)
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
