package crmtest

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

var failoverRuns = flag.Int("crm.failover-runs", 0, "run TestFailoverTimes with this many freezes (e.g. 20)")

// TestFailoverTimes measures, over -crm.failover-runs freezes of the
// active node of a three-node cluster with default timers, the time from
// SIGSTOP to the group started on a survivor, with the DC's phase
// breakdown. It reports; it asserts only that every failover happened.
func TestFailoverTimes(t *testing.T) {
	if *failoverRuns <= 0 {
		t.Skip("set -crm.failover-runs=N to measure failover times")
	}
	h := newHarness(t, 3)
	h.waitDC("n1", "n2", "n3")
	h.put("n1", h.config(noFencing, "", h.nodesXML(""), "", ""), "bench")
	active := h.groupOn("group g started", 20*time.Second)
	var totals []time.Duration
	phases := map[string][]time.Duration{}
	for i := 0; i < *failoverRuns; i++ {
		t0 := time.Now()
		h.signal(active, syscall.SIGSTOP)
		now := h.groupOn("failover", 30*time.Second, active)
		totals = append(totals, time.Since(t0))
		survivors := slices.DeleteFunc([]string{"n1", "n2", "n3"}, func(n string) bool { return n == active })
		dc := h.waitDC(survivors...)
		t.Logf("run %d: froze %s, group on %s, dc %s, took %s", i, active, now, dc, totals[len(totals)-1])
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		hist, err := h.client(dc).CRMHistory(ctx, 20)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		for _, tr := range hist.Transitions {
			if strings.Contains(tr.Trigger, "node "+active+" left") {
				for _, p := range tr.Phases {
					phases[p.Name] = append(phases[p.Name], p.Duration)
				}
				break
			}
		}
		// Power the frozen node off and back on.
		h.signal(active, syscall.SIGKILL)
		for _, r := range []string{"a", "b"} {
			if h.running(active, r) {
				killSleeper(h, active, r)
			}
		}
		h.restart(active)
		h.waitDC("n1", "n2", "n3")
		h.waitFor("rejoined node probed", 20*time.Second, func() bool {
			s, err := h.status(now)
			return err == nil && !s.TransitionInProgress
		})
		if testing.Verbose() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			hist, _ := h.client(dc).CRMHistory(ctx, 6)
			cancel()
			for _, tr := range hist.Transitions {
				t.Logf("  after restart: transition %d (%s): %s %v", tr.ID, tr.Trigger, tr.Result, tr.Actions)
			}
		}
		active = now
	}
	t.Logf("freeze → started elsewhere over %d runs: %s", len(totals), pct(totals))
	names := make([]string, 0, len(phases))
	for n := range phases {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t.Logf("  phase %-10s %s", n, pct(phases[n]))
	}
}

func pct(d []time.Duration) string {
	s := slices.Clone(d)
	slices.Sort(s)
	at := func(p float64) time.Duration { return s[min(len(s)-1, int(p*float64(len(s))))] }
	return fmt.Sprintf("p50=%s p99=%s min=%s max=%s (n=%d)", at(0.5).Round(time.Millisecond/10), at(0.99).Round(time.Millisecond/10),
		s[0].Round(time.Millisecond/10), s[len(s)-1].Round(time.Millisecond/10), len(s))
}
