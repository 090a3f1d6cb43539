package progress

import (
	"math"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)

func at(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }

func TestASteadyHealGivesItsRateAndTheTimeLeft(t *testing.T) {
	var s Series
	// 1000 entries, 50 healed a second, sampled every second for 10 s.
	for i := 0; i <= 10; i++ {
		s.Add(Sample{At: at(float64(i)), Remaining: int64(1000 - 50*i)})
	}
	e := s.Estimate()
	if !e.Known || math.Abs(e.Rate-50) > 1e-9 || e.ETA != 10*time.Second {
		t.Fatalf("estimate %+v, want 50/s and 10s left", e)
	}
	if e.Done != 500 || !e.Since.Equal(t0) || e.Span != 10*time.Second {
		t.Fatalf("done %d since %v over %v, want 500 since %v over 10s", e.Done, e.Since, e.Span, t0)
	}
}

func TestBurstsAverageOverTheWindow(t *testing.T) {
	s := Series{Window: 20 * time.Second}
	// Early samples at another pace fall out of the window.
	s.Add(Sample{At: at(0), Remaining: 10000})
	s.Add(Sample{At: at(1), Remaining: 5000})
	// Then 100 every 2 s, in bursts: nothing for a second, 100 at once.
	rem := int64(5000)
	for sec := 2; sec <= 60; sec++ {
		if sec%2 == 0 {
			rem -= 100
		}
		s.Add(Sample{At: at(float64(sec)), Remaining: rem})
	}
	e := s.Estimate()
	if !e.Known || math.Abs(e.Rate-50) > 3 {
		t.Fatalf("rate %.1f/s (known %v), want about 50/s", e.Rate, e.Known)
	}
	// The window's first pause is not counted (an idle start), so the
	// span may be a second short of the window.
	if e.Span < 19*time.Second || e.Span > 20*time.Second {
		t.Fatalf("span %v, want the 20s window", e.Span)
	}
}

func TestNoEstimateUntilTheBacklogFallsLongEnough(t *testing.T) {
	var s Series
	if e := s.Estimate(); e.Known || e.Rate != 0 {
		t.Fatalf("no sample: %+v", e)
	}
	s.Add(Sample{At: at(0), Remaining: 100})
	s.Add(Sample{At: at(1), Remaining: 90})
	if e := s.Estimate(); e.Known || e.Rate != 10 {
		t.Fatalf("1 s of samples: %+v, want the rate but no ETA (MinSpan %v)", e, DefaultMinSpan)
	}
	// Rising: new entries come faster than they are healed.
	var r Series
	for i := 0; i < 10; i++ {
		r.Add(Sample{At: at(float64(i)), Remaining: int64(100 + 10*i)})
	}
	if e := r.Estimate(); e.Known || e.Rate != 0 || e.Done != 0 {
		t.Fatalf("a growing backlog: %+v, want no rate, no ETA, nothing done", e)
	}
	// Flat.
	var f Series
	for i := 0; i < 10; i++ {
		f.Add(Sample{At: at(float64(i)), Remaining: 7})
	}
	if e := f.Estimate(); e.Known || e.Rate != 0 {
		t.Fatalf("a flat backlog: %+v", e)
	}
	// Flat, sampled at uneven times, as a wait's looks are.
	var u Series
	for _, sec := range []float64{0, 0.1003, 0.2011, 0.3017, 0.40213, 1.7, 2.3001, 9.87} {
		u.Add(Sample{At: at(sec), Remaining: 6})
	}
	if e := u.Estimate(); e.Known || e.Rate != 0 {
		t.Fatalf("a flat backlog sampled unevenly: %+v", e)
	}
}

func TestAnEmptyBacklogIsDoneNow(t *testing.T) {
	var s Series
	s.Add(Sample{At: at(0), Remaining: 10})
	s.Add(Sample{At: at(0.5), Remaining: 0})
	if e := s.Estimate(); !e.Known || e.ETA != 0 || e.Done != 10 {
		t.Fatalf("%+v, want known, 0 left, 10 done", e)
	}
}

func TestDoneCountsFallsAndNeverGoesDown(t *testing.T) {
	var s Series
	for i, rem := range []int64{100, 80, 120, 90, 90, 150, 0} {
		s.Add(Sample{At: at(float64(i)), Remaining: rem})
	}
	// Falls: 20 + 30 + 150.
	if e := s.Estimate(); e.Done != 200 {
		t.Fatalf("done %d, want 200", e.Done)
	}
}

func TestAClockThatStepsBackIsIgnored(t *testing.T) {
	var s Series
	s.Add(Sample{At: at(10), Remaining: 100})
	s.Add(Sample{At: at(5), Remaining: 0})
	if got := len(s.Samples()); got != 1 {
		t.Fatalf("%d samples kept, want the older one dropped", got)
	}
	if e := s.Estimate(); e.Done != 0 {
		t.Fatalf("done %d from a sample in the past", e.Done)
	}
}

func TestMaxKeepsTheNewestAndTheTotal(t *testing.T) {
	s := Series{Max: 4}
	for i := 0; i < 10; i++ {
		s.Add(Sample{At: at(float64(i)), Remaining: int64(100 - 10*i)})
	}
	got := s.Samples()
	if len(got) != 4 || got[0].Remaining != 40 || got[3].Remaining != 10 {
		t.Fatalf("samples %v, want the newest 4", got)
	}
	if e := s.Estimate(); e.Done != 90 || !e.Since.Equal(t0) {
		t.Fatalf("done %d since %v, want 90 since the first sample", e.Done, e.Since)
	}
}

func TestRestoreContinuesASavedSeries(t *testing.T) {
	var a Series
	for i := 0; i < 5; i++ {
		a.Add(Sample{At: at(float64(i)), Remaining: int64(100 - 10*i)})
	}
	want := a.Estimate()
	var b Series
	b.Restore(a.Samples(), want.Done, want.Since)
	if got := b.Estimate(); got != want {
		t.Fatalf("restored %+v, want %+v", got, want)
	}
	b.Add(Sample{At: at(5), Remaining: 50})
	if got := b.Estimate(); got.Done != 50 {
		t.Fatalf("done %d after one more sample, want 50", got.Done)
	}
}

func TestAnIdleStartDoesNotSlowTheRate(t *testing.T) {
	var s Series
	// 10 s before the daemon wakes, then 50 a second.
	for i := 0; i <= 10; i++ {
		s.Add(Sample{At: at(float64(i)), Remaining: 1000})
	}
	for i := 1; i <= 4; i++ {
		s.Add(Sample{At: at(float64(10 + i)), Remaining: int64(1000 - 50*i)})
	}
	e := s.Estimate()
	if !e.Known || math.Abs(e.Rate-50) > 1e-9 || e.ETA != 16*time.Second || e.Span != 4*time.Second {
		t.Fatalf("estimate %+v, want 50/s over the 4 s of falling, 16s left", e)
	}
}
