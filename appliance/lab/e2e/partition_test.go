package e2e

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ovsha/ovsha/appliance/lab"
)

// TestPartitionMinorityStops: isolating the gateway holder (every link
// cut, processes running) leaves it alone without quorum. The majority
// takes the gateway over, and the minority stops its resources
// (no-quorum-policy=stop, the default), so that when the links come back
// only one node answers for the VIP. An ARP watcher on the client asks for
// the VIP every 5 ms throughout and checks that no two MACs ever answer
// during the same period.
func TestPartitionMinorityStops(t *testing.T) {
	st, _ := upGateway(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	from, _ := lab.Holder(st)
	if from == "" {
		t.Fatal("no node holds the gateway after up")
	}
	w, stopWatch := watchVIP(t, st, 5*time.Millisecond)

	isolated := time.Now()
	if err := lab.Fault(ctx, st, from, lab.FaultIsolate, ""); err != nil {
		t.Fatal(err)
	}
	var to string
	await(t, 20*time.Second, "the majority taking the gateway over from isolated "+from, func() string {
		h := holders(t, st)
		for _, n := range h {
			if n != from {
				to = n
				return ""
			}
		}
		return fmt.Sprintf("LAN VIP on %v", h)
	})
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
	defer wcancel()
	if err := lab.WaitGateway(wctx, st); err != nil {
		t.Fatal(err)
	}
	// The check is on the minority's own addresses: it cannot be asked
	// over the network while isolated.
	minorityStopped := true
	deadline := time.Now().Add(20 * time.Second)
	for nodeHolds(t, st, from, lab.LANVIP) || nodeHolds(t, st, from, lab.WANVIP) {
		if time.Now().After(deadline) {
			minorityStopped = false
			t.Errorf("isolated %s (no quorum) still holds the VIPs 20 s after %s took the gateway over: the minority did not stop its resources", from, to)
			break
		}
		time.Sleep(20 * time.Millisecond) // polling addresses
	}

	healedAt := time.Now()
	if err := lab.Fault(ctx, st, from, lab.FaultHeal, ""); err != nil {
		t.Fatal(err)
	}
	if err := lab.Settle(ctx, st, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	await(t, 10*time.Second, "one node holding the LAN VIP after the heal", func() string {
		if h := holders(t, st); len(h) != 1 {
			return fmt.Sprintf("LAN VIP on %v", h)
		}
		return ""
	})
	healed := time.Now()
	// Let the watcher see the merged cluster answer; an answer is an event
	// to await.
	await(t, 10*time.Second, "an ARP reply for the VIP after the heal", func() string {
		rs := w.runs()
		if len(rs) > 0 && rs[len(rs)-1].last.After(healed) {
			return ""
		}
		return "no reply since the heal"
	})
	stopWatch()
	runs := w.runs()
	if a, b, n := overlaps(runs); n > 0 {
		t.Errorf("two MACs answered for the VIP during the same period: they alternated %d times from %s to %s (%v)",
			n, a.Format("15:04:05.000"), b.Format("15:04:05.000"), b.Sub(a).Round(time.Millisecond))
	}
	h := holders(t, st)
	t.Logf("isolated %s at %s, healed at %s; %s took the gateway; minority stopped: %v; holder after heal: %v; ARP replies (request every 5 ms) per MAC: %s",
		from, isolated.Format("15:04:05.000"), healedAt.Format("15:04:05.000"), to, minorityStopped, h, summary(runs))
	if !slices.Equal(h, []string{to}) {
		t.Logf("note: after the heal the gateway is on %v, not %s", h, to)
	}
}
