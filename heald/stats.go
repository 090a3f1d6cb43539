package heald

import (
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/afrkit/afrkit/heal"
	"github.com/afrkit/afrkit/progress"
)

// Stats are what the daemon did and sees, per volume: what its rounds
// healed, which bricks are up, and the backlog the sampler last saw.
// Safe for concurrent use; Snapshot copies.
type Stats struct {
	mu   sync.Mutex
	vols map[string]*VolumeStats
}

// VolumeStats is one volume's part.
type VolumeStats struct {
	Name string `json:"volume"`
	// HealedHere: the daemon heals this volume (a GlusterFS one it only
	// watches).
	HealedHere bool `json:"healed_here"`
	// BrickUp says, per brick, whether it opens.
	BrickUp map[string]bool `json:"brick_up"`
	Healing bool            `json:"healing"`
	Rounds  int64           `json:"rounds"`
	// Entries counts entries healed, by kind; Bytes the data written.
	Entries map[string]int64 `json:"entries_healed"`
	Bytes   int64            `json:"bytes_healed"`
	// LastRound is the last round's start, why and error (its Left is
	// counted, not kept).
	LastRound     time.Time `json:"last_round"`
	LastRoundWhy  string    `json:"last_round_why,omitempty"`
	LastRoundErr  string    `json:"last_round_error,omitempty"`
	LastRoundLeft int       `json:"last_round_left"`
	// LastSweep is when the index was last looked at whole (a round or
	// the sampler's look).
	LastSweep time.Time `json:"last_sweep"`
	// Backlog is the sampler's last look, Estimate its rate and ETA.
	Backlog  heal.Backlog      `json:"-"`
	Estimate progress.Estimate `json:"-"`
	series   progress.Series
	// Transfers are the data heals of the round under way, how far each
	// is; TransferEstimate estimates the bytes they have left to copy:
	// its rate in bytes per second, its ETA.
	Transfers        []heal.Transfer `json:"transfers,omitempty"`
	TransferEstimate Estimate        `json:"transfer_estimate"`
	// RoundEstimate is the round's pace in entries: those it healed
	// since it began, and those its passes listed that are left.
	RoundEstimate Estimate `json:"round_estimate"`
	// round is the round's entries left over its last seconds; written
	// its bytes written, negated (a series that falls as the round
	// writes: its rate is the round's bytes per second); lastRound when
	// they last took a sample.
	round, written progress.Series
	lastRound      time.Time
	bytes          progress.Series
	// bytesOf names the transfers bytes measures.
	bytesOf string
}

// roundWindow is how far back a round's pace is taken.
const roundWindow = 20 * time.Second

// Estimate is a progress.Estimate as the control socket sends it.
type Estimate struct {
	Rate       float64 `json:"rate_per_second"`
	ETASeconds float64 `json:"eta_seconds"`
	Known      bool    `json:"known"`
	// BytesRate is, for a round, the data it wrote per second.
	BytesRate float64 `json:"bytes_per_second,omitempty"`
}

func newStats() *Stats { return &Stats{vols: map[string]*VolumeStats{}} }

func (s *Stats) vol(name string) *VolumeStats {
	v := s.vols[name]
	if v == nil {
		v = &VolumeStats{Name: name, BrickUp: map[string]bool{}, Entries: map[string]int64{}}
		s.vols[name] = v
	}
	return v
}

func (s *Stats) forget(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.vols, name)
}

func (s *Stats) brickUp(vol, brick string, up bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.vol(vol)
	v.HealedHere = true
	v.BrickUp[brick] = up
}

func (s *Stats) healing(vol string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.vol(vol).Healing = on
}

func (s *Stats) round(r Round) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.vol(r.Volume)
	v.HealedHere = true
	v.Rounds++
	for k, n := range r.Healed {
		v.Entries[k] += int64(n)
	}
	v.Bytes += r.Bytes
	v.LastRound, v.LastRoundWhy, v.LastRoundErr, v.LastRoundLeft = r.Start, r.Why, r.Err, len(r.Left)
	if r.Err == "" {
		v.LastSweep = r.Start
	}
}

// progress records a round's progress: its data heals under way.
func (s *Stats) progress(vol string, p heal.Progress) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.vol(vol)
	v.Transfers = p.Transfers
	// A round's own count needs no look from outside. Its pace is taken
	// over its last seconds, not since it began: a round spends its first
	// seconds creating the names of what it fills in next, and an average
	// over those said a heal of small files would take half as long again.
	if now := time.Now(); now.Sub(v.lastRound) >= 100*time.Millisecond {
		if v.lastRound.IsZero() {
			v.round = progress.Series{MinSpan: time.Second, Window: roundWindow}
			v.written = progress.Series{MinSpan: time.Second, Window: roundWindow}
		}
		v.lastRound = now
		v.round.Add(progress.Sample{At: now, Remaining: int64(max(p.Total-p.Done, 0))})
		v.written.Add(progress.Sample{At: now, Remaining: -p.Bytes})
		e := v.round.Estimate()
		v.RoundEstimate = Estimate{Rate: e.Rate, ETASeconds: e.ETA.Seconds(), Known: e.Known, BytesRate: v.written.Estimate().Rate}
	}
	// The bytes left jump when a copy begins or ends: the rate is
	// measured over the copies under way now, afresh when they change.
	var left int64
	var key strings.Builder
	for _, t := range p.Transfers {
		left += t.Size - t.Done
		key.WriteString(t.Path + "\x00")
	}
	if key.String() != v.bytesOf {
		v.bytesOf, v.bytes = key.String(), progress.Series{MinSpan: time.Second, Window: 20 * time.Second}
	}
	if len(p.Transfers) == 0 {
		v.TransferEstimate = Estimate{}
		return
	}
	v.bytes.Add(progress.Sample{At: time.Now(), Remaining: left})
	e := v.bytes.Estimate()
	v.TransferEstimate = Estimate{Rate: e.Rate, ETASeconds: e.ETA.Seconds(), Known: e.Known}
}

// roundEnded forgets the round's transfers.
func (s *Stats) roundEnded(vol string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.vol(vol)
	v.Transfers, v.TransferEstimate, v.RoundEstimate, v.bytes, v.bytesOf = nil, Estimate{}, Estimate{}, progress.Series{}, ""
	v.round, v.written, v.lastRound = progress.Series{}, progress.Series{}, time.Time{}
}

// sample records a look at vol's backlog.
func (s *Stats) sample(vol string, b heal.Backlog) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.vol(vol)
	v.Backlog = b
	v.series.Add(b.Sample())
	v.Estimate = v.series.Estimate()
	if b.At.After(v.LastSweep) {
		v.LastSweep = b.At
	}
	for _, bb := range b.Bricks {
		if bb.Brick.Local {
			v.BrickUp[bb.Brick.String()] = bb.Connected()
		}
	}
}

// Snapshot is a copy of every volume's stats, by name.
func (s *Stats) Snapshot() []VolumeStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]VolumeStats, 0, len(s.vols))
	for _, name := range slices.Sorted(maps.Keys(s.vols)) {
		v := *s.vols[name]
		v.BrickUp, v.Entries = maps.Clone(v.BrickUp), maps.Clone(v.Entries)
		v.Backlog.Bricks = slices.Clone(v.Backlog.Bricks)
		v.Transfers = slices.Clone(v.Transfers)
		v.series, v.bytes = progress.Series{}, progress.Series{}
		out = append(out, v)
	}
	return out
}
