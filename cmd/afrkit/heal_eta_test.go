package main

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/afrkit/afrkit/fixtures"
)

// TestHealStatusETAHolds runs steady heals by the heal daemon, capped by
// --max-rate so that they last, and checks the ETA heal status shows at
// 25% done against the time the rest actually took: within 25%.
func TestHealStatusETAHolds(t *testing.T) {
	requireMount(t) // root: trusted.* xattrs
	cases := []struct {
		name    string
		damage  func(v *fixtures.Vol) error
		rate    string
		entries bool // progress is counted in entries, not bytes
	}{
		{"a big file", func(v *fixtures.Vol) error {
			data := make([]byte, 256<<20)
			for i := range data {
				data[i] = byte(i>>10 + i)
			}
			return v.WriteFile("/big", data, 1)
		}, "16M", false},
		{"many small files", func(v *fixtures.Vol) error {
			data := []byte(strings.Repeat("x", 4096))
			for i := 0; i < 2000; i++ {
				if err := v.WriteFile(fmt.Sprintf("/docs/s%04d", i), data, 1); err != nil {
					return err
				}
			}
			return nil
		}, "512K", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			v, err := fixtures.Healthy(dir, "fx", 2)
			mustDo(t, err)
			mustDo(t, tc.damage(v))
			v.Close()
			env := volEnv(dir)
			sock := startHeald(t, env, tc.rate)
			var (
				start   = -1.0
				eta     time.Duration
				etaAt   time.Time
				shown   bool
				looks   int
				lastErr string
			)
			deadline := time.Now().Add(3 * time.Minute)
			for time.Now().Before(deadline) {
				code, out, errOut := run(t, env, "heal", "fx", "status", "--json", "--heald-socket", sock)
				at := time.Now()
				if code != ExitOK {
					t.Fatalf("status: exit %d: %s", code, errOut)
				}
				var st statusJSON
				mustDo(t, json.Unmarshal([]byte(out), &st))
				looks++
				if st.Entries == 0 {
					break
				}
				var left float64
				if tc.entries {
					left = float64(st.Entries)
				} else if len(st.Transfers) == 1 {
					left = float64(st.Transfers[0].Size - st.Transfers[0].Done)
				} else {
					lastErr = fmt.Sprintf("%d transfers", len(st.Transfers))
					time.Sleep(100 * time.Millisecond)
					continue
				}
				if start < 0 {
					start = left
				}
				if !shown && left <= 0.75*start {
					if st.ETASeconds == nil {
						lastErr = "no ETA at 25% done"
						t.Fatalf("at %.0f%% done heal status gives no ETA: %s", 100*(1-left/start), out)
					}
					eta, etaAt, shown = time.Duration(*st.ETASeconds)*time.Second, at, true
					if !tc.entries && (st.BytesRate == nil || *st.BytesRate <= 0) {
						t.Errorf("at 25%% done heal status gives no bytes per second for the daemon's copy: %s", out)
					}
					_, txt, _ := run(t, env, "heal", "fx", "status", "--heald-socket", sock)
					t.Logf("heal status at 25%% done:\n%s", txt)
				}
				time.Sleep(200 * time.Millisecond)
			}
			if !shown {
				t.Fatalf("the heal never reached 25%% done in %d looks (%s)", looks, lastErr)
			}
			took := time.Since(etaAt)
			if left := leftEntries(t, env); left != 0 {
				t.Fatalf("%d entries left after 3 minutes", left)
			}
			off := (eta.Seconds() - took.Seconds()) / took.Seconds()
			t.Logf("at 25%% done heal status said %s left; the rest took %s: off by %+.0f%%", eta, took.Round(100*time.Millisecond), 100*off)
			if math.Abs(off) > 0.25 {
				t.Errorf("the ETA at 25%% done is off by %+.0f%%, more than 25%%", 100*off)
			}
		})
	}
}

// leftEntries is heal status's count of entries left.
func leftEntries(t *testing.T, env testEnv) int {
	t.Helper()
	code, out, errOut := run(t, env, "heal", "fx", "status", "--json", "--heald-socket", filepath.Join(env.dir, "no.sock"))
	if code != ExitOK {
		t.Fatalf("status: exit %d: %s", code, errOut)
	}
	var st statusJSON
	mustDo(t, json.Unmarshal([]byte(out), &st))
	return st.Entries
}
