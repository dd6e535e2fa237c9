package vip

import (
	"testing"
	"time"

	"github.com/ovsha/ovsha/agents"
	"github.com/ovsha/ovsha/internal/netnstest"
)

// BenchmarkStop measures Stop of a running address whose announcements
// (default arp_count, arp_interval and arp_refresh) are still under way:
// the old holder's share of a planned switchover.
func BenchmarkStop(b *testing.B) {
	netnstest.NeedRoot(b, "ovsdb-server", "ovs-vswitchd")
	l := newLAN(b, 1)
	a := l.agent(b, 1)
	ctx := ctxT(b)
	r := agents.Resource{ID: "vip", Params: merge(good, "arp_probe", "0")}
	var total time.Duration
	n := 0
	for b.Loop() {
		b.StopTimer()
		if err := a.Start(ctx, r); err != nil {
			b.Fatal(err)
		}
		time.Sleep(time.Millisecond) // the first announcement round is under way
		b.StartTimer()
		t0 := time.Now()
		if err := a.Stop(ctx, r); err != nil {
			b.Fatal(err)
		}
		total += time.Since(t0)
		n++
	}
	b.ReportMetric(float64(total.Microseconds())/float64(n)/1000, "ms-stop")
}
