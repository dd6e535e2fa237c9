package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ovsha/ovsha/appliance"
	"github.com/ovsha/ovsha/appliance/lab"
)

// upFencedPair brings up a 2-node gateway lab with the lab's fence device
// and removes it at cleanup.
func upFencedPair(t *testing.T) (st *lab.State, ovsha, base string) {
	t.Helper()
	return upLab(t, "f", lab.Spec{Nodes: 2, Fencing: true, Timeout: 60 * time.Second})
}

// TestFencingSplitOneSurvivor: in a two-node lab with fencing, cutting the
// heartbeat links (both nodes alive, both still on the LAN, both quorate
// through two_node) ends with exactly one node fenced through the lab's
// fence device by the CRM, the other holding both VIPs, and never two MACs
// answering ARP for the LAN VIP. The gateway is put on n2 first, so that
// priority-fencing-delay (the gateway holder wins) has to beat the static
// pcmk_delay_base on n1's device (n1 wins a tie): the survivor must be n2.
// Powering the fenced node on again, it rejoins and the gateway stays put.
func TestFencingSplitOneSurvivor(t *testing.T) {
	st, ovsha, base := upFencedPair(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cli := func(args ...string) {
		t.Helper()
		out, err := exec.Command(ovsha, append(args, "--socket", st.Nodes[0].Socket)...).CombinedOutput()
		if err != nil {
			t.Fatalf("ovsha %v: %v: %s", args, err, out)
		}
	}
	// The fence devices are configured and fencing is on.
	out, err := exec.Command(ovsha, "stonith", "list", "--socket", st.Nodes[0].Socket).CombinedOutput()
	if err != nil || !strings.Contains(string(out), lab.FenceDevice("n1")) || !strings.Contains(string(out), lab.FenceDevice("n2")) {
		t.Fatalf("ovsha stonith list: %v: %s; want devices %s and %s", err, out, lab.FenceDevice("n1"), lab.FenceDevice("n2"))
	}

	if h, _ := lab.Holder(st); h != "n2" {
		cli("resource", "move", lab.GatewayGroup, "n2")
		await(t, 30*time.Second, "the gateway moving to n2", func() string {
			if h, _ := lab.Holder(st); h != "n2" {
				return "holder " + h
			}
			return ""
		})
		cli("resource", "clear", lab.GatewayGroup)
	}
	if err := lab.Settle(ctx, st, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	const holder, other = "n2", "n1"

	w, stopWatch := watchVIP(t, st, 5*time.Millisecond)

	// The split: only the heartbeat links of n1 are cut.
	split := time.Now()
	if err := lab.Fault(ctx, st, other, lab.FaultSplit, ""); err != nil {
		t.Fatal(err)
	}
	var fenced, survivor string
	await(t, 30*time.Second, "one node fenced after the split", func() string {
		cur, err := lab.Load(base, st.Name)
		if err != nil {
			t.Fatal(err)
		}
		var off []string
		for _, n := range cur.Nodes {
			if n.Fault == lab.FaultPowerOff {
				off = append(off, n.Name)
			}
		}
		if len(off) == 0 {
			return "no node powered off yet"
		}
		if len(off) > 1 {
			t.Fatalf("both nodes were fenced: %v", off)
		}
		fenced = off[0]
		return ""
	})
	fencedAt := time.Since(split)
	survivor = map[string]string{"n1": "n2", "n2": "n1"}[fenced]
	if survivor != holder {
		t.Errorf("%s fenced %s: want the gateway holder %s to win the fence race (priority-fencing-delay %s beats pcmk_delay_base %s on n1's device)",
			survivor, fenced, holder, lab.PriorityFencingDelay, lab.FenceDelayBase)
	}
	await(t, 30*time.Second, survivor+" holding both VIPs", func() string {
		if !nodeHolds(t, st, survivor, lab.LANVIP) || !nodeHolds(t, st, survivor, lab.WANVIP) {
			return survivor + " lacks a VIP"
		}
		return ""
	})
	vipAt := time.Since(split)
	gctx, gcancel := context.WithTimeout(ctx, 30*time.Second)
	defer gcancel()
	if err := lab.WaitGateway(gctx, st); err != nil {
		t.Fatal(err)
	}
	wanAt := time.Since(split)
	// Still exactly one node off, and the survivor's CRM knows it fenced.
	cur, err := lab.Load(base, st.Name)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range cur.Nodes {
		if (n.Fault == lab.FaultPowerOff) != (n.Name == fenced) {
			t.Errorf("after the split %s has fault %q; want only %s powered off", n.Name, n.Fault, fenced)
		}
	}
	// The survivor logs the fencing once the fence agent has returned,
	// which may be just after the gateway answered.
	sn, _ := st.Node(survivor)
	await(t, 5*time.Second, fmt.Sprintf("%s logging the fencing of %s through %s", survivor, fenced, lab.FenceDevice(fenced)), func() string {
		fenceLine := logLine(t, sn.Log, "node fenced")
		if !strings.Contains(fenceLine, "target="+fenced) || !strings.Contains(fenceLine, "device="+lab.FenceDevice(fenced)) {
			return fmt.Sprintf("last \"node fenced\" line: %q", fenceLine)
		}
		return ""
	})

	// The loser meant to fence the holder too, but waited out
	// priority-fencing-delay and was powered off during it.
	fn, _ := st.Node(fenced)
	delayLine := logLine(t, fn.Log, "priority-fencing-delay")
	if survivor == holder && !strings.Contains(delayLine, "target="+holder) {
		t.Errorf("%s's log shows no priority-fencing-delay before fencing %s (last such line: %q)", fenced, holder, delayLine)
	}

	// Heal the split, power the fenced node on: it rejoins, the gateway
	// stays on the survivor (stickiness).
	if fenced != other { // poweron brings the fenced node's links up
		if err := lab.Fault(ctx, st, other, lab.FaultHeal, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := lab.Fault(ctx, st, fenced, lab.FaultPowerOn, ""); err != nil {
		t.Fatal(err)
	}
	if err := lab.Settle(ctx, st, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	rejoined := time.Now()
	if h := holders(t, st); len(h) != 1 || h[0] != survivor {
		t.Errorf("after %s rejoined the LAN VIP is on %v, want it to stay on %s", fenced, h, survivor)
	}
	await(t, 10*time.Second, "an ARP reply for the VIP after the rejoin", func() string {
		if rs := w.runs(); len(rs) > 0 && rs[len(rs)-1].last.After(rejoined) {
			return ""
		}
		return "no reply since the rejoin"
	})
	stopWatch()
	runs := w.runs()
	if a, b, n := overlaps(runs); n > 0 {
		t.Errorf("two MACs answered for the VIP during the same period: they alternated %d times from %s to %s",
			n, a.Format("15:04:05.000"), b.Format("15:04:05.000"))
	}
	if q, err := appliance.NewClient(sn.Socket).Quorum(ctx); err != nil || len(q.Members) != 2 {
		t.Errorf("after the rejoin %s sees members %v (err %v), want 2", survivor, q.Members, err)
	}
	t.Logf("split of %s at %s: %s fenced %s after %v; both VIPs on %s at %v; client reaches wan at %v; %s; ARP replies per MAC: %s",
		other, split.Format("15:04:05.000"), survivor, fenced, fencedAt.Round(time.Millisecond), survivor, vipAt.Round(time.Millisecond),
		wanAt.Round(time.Millisecond), strings.TrimSpace(logLine(t, sn.Log, "node fenced")+" / loser: "+delayLine), summary(runs))
}

// logLine returns the last line of a log containing s ("" if none).
func logLine(t *testing.T, path, s string) string {
	t.Helper()
	f, err := os.Open(filepath.Clean(path))
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	defer f.Close()
	last := ""
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), s) {
			last = sc.Text()
		}
	}
	return last
}
