// Package progress turns observations of a backlog over time into what an
// operator asks of a heal: how fast it falls, when it will be done, and
// how much was done since the first look. It is pure: callers observe,
// this package only counts.
package progress

import (
	"math"
	"time"
)

// Sample is one observation of a backlog: how many items were left at a
// moment.
type Sample struct {
	At        time.Time `json:"at"`
	Remaining int64     `json:"remaining"`
}

// Estimate is what a series of samples says.
type Estimate struct {
	// Rate is how many items the backlog loses per second over the
	// window, 0 when it is not falling.
	Rate float64
	// ETA is the time the rest would take at Rate; Known says whether
	// there is one: the backlog must have fallen over at least MinSpan.
	ETA   time.Duration
	Known bool
	// Span is the time the rate was measured over.
	Span time.Duration
	// Done is every fall of the backlog since the first sample, summed:
	// items that left it (new items that arrived meanwhile are not
	// subtracted, so Done never goes down).
	Done int64
	// Since is the first sample's time.
	Since time.Time
}

// Series keeps the samples of one backlog, at most Max of them, oldest
// first, and estimates from those within Window of the newest. A Series is
// not safe for concurrent use.
type Series struct {
	// Window is how far back the rate looks: long enough to smooth a heal
	// that works in bursts, short enough to follow a change of pace.
	Window time.Duration
	// MinSpan is how long the backlog must have been watched, within the
	// window, before an ETA is given.
	MinSpan time.Duration
	// Max bounds the samples kept (the oldest go first); the sum of falls
	// before them is kept in done.
	Max int

	samples []Sample
	done    int64
	since   time.Time
}

// Defaults for a Series whose fields are zero.
const (
	DefaultWindow  = 60 * time.Second
	DefaultMinSpan = 3 * time.Second
	DefaultMax     = 256
)

// Add records s. A sample older than the newest is ignored: clocks that
// step back must not make a heal look faster.
func (s *Series) Add(x Sample) {
	if n := len(s.samples); n > 0 {
		last := s.samples[n-1]
		if x.At.Before(last.At) {
			return
		}
		if fell := last.Remaining - x.Remaining; fell > 0 {
			s.done += fell
		}
	} else {
		s.since = x.At
	}
	s.samples = append(s.samples, x)
	if max := s.max(); len(s.samples) > max {
		s.samples = append(s.samples[:0], s.samples[len(s.samples)-max:]...)
	}
}

// Samples are the samples kept, oldest first.
func (s *Series) Samples() []Sample { return s.samples }

// Restore sets the series to samples (as Samples returned them) with done
// items healed since since: a series saved by an earlier process.
func (s *Series) Restore(samples []Sample, done int64, since time.Time) {
	s.samples, s.done, s.since = nil, done, since
	for _, x := range samples {
		if n := len(s.samples); n > 0 && x.At.Before(s.samples[n-1].At) {
			continue
		}
		s.samples = append(s.samples, x)
	}
	if len(s.samples) > 0 && (s.since.IsZero() || s.samples[0].At.Before(s.since)) {
		s.since = s.samples[0].At
	}
}

func (s *Series) max() int {
	if s.Max > 0 {
		return s.Max
	}
	return DefaultMax
}

// Estimate is the rate and the time left from the samples within the
// window of the newest: the slope of a least-squares line through them,
// so one burst or one pause does not swing it as much as the last two
// samples would.
func (s *Series) Estimate() Estimate {
	e := Estimate{Done: s.done, Since: s.since}
	n := len(s.samples)
	if n < 2 {
		return e
	}
	window, minSpan := s.Window, s.MinSpan
	if window <= 0 {
		window = DefaultWindow
	}
	if minSpan <= 0 {
		minSpan = DefaultMinSpan
	}
	last := s.samples[n-1]
	first := n - 1
	for first > 0 && last.At.Sub(s.samples[first-1].At) <= window {
		first--
	}
	// A backlog that sat still before the heal began (a daemon not yet
	// woken, a brick not yet back) would drag the line flat: the rate is
	// measured from the last sample before the backlog began to move.
	for first < n-2 && s.samples[first+1].Remaining == s.samples[first].Remaining {
		first++
	}
	in := s.samples[first:]
	e.Span = last.At.Sub(in[0].At)
	if len(in) < 2 || e.Span <= 0 {
		return e
	}
	// Least squares over (seconds since the first, remaining).
	var sx, sy, sxx, sxy float64
	for _, x := range in {
		t := x.At.Sub(in[0].At).Seconds()
		y := float64(x.Remaining)
		sx, sy, sxx, sxy = sx+t, sy+y, sxx+t*t, sxy+t*y
	}
	k := float64(len(in))
	den := k*sxx - sx*sx
	if den <= 0 {
		return e
	}
	slope := (k*sxy - sx*sy) / den
	// A flat backlog sampled at uneven times leaves a slope of rounding
	// noise: less than one item in a thousand seconds is no fall.
	if !(slope < -1e-3) {
		return e
	}
	e.Rate = -slope
	if last.Remaining == 0 {
		e.Known = true
		return e
	}
	if e.Span < minSpan {
		return e
	}
	secs := float64(last.Remaining) / e.Rate
	if secs > float64(math.MaxInt64/int64(time.Second)) {
		return e
	}
	e.ETA = time.Duration(secs * float64(time.Second)).Round(time.Second)
	e.Known = true
	return e
}
