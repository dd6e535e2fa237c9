package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ovsha/ovsha/appliance"
	"github.com/ovsha/ovsha/appliance/lab"
	"github.com/ovsha/ovsha/ovs"
)

// bondShow runs `ovs-appctl bond/show bond0` against node's OVS.
func bondShow(t *testing.T, st *lab.State, node string) ovs.BondStatus {
	t.Helper()
	n, _ := st.Node(node)
	cmd := exec.Command("ovs-appctl", "-t", "ovs-vswitchd", "bond/show", "bond0")
	cmd.Env = append(os.Environ(), "OVS_RUNDIR="+n.OVSDir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ovs-appctl bond/show bond0 on %s: %v: %s", node, err, out)
	}
	s, err := ovs.ParseBondShow(string(out))
	if err != nil {
		t.Fatalf("parsing bond/show of %s: %v\n%s", node, err, out)
	}
	return s
}

// nodeAttr returns node's transient attribute name as the CRM status
// reported through socket shows it ("" if unset, the error if the node
// cannot be asked).
func nodeAttr(socket, node, name string) string {
	s, err := appliance.NewClient(socket).CRMStatus(context.Background())
	if err != nil {
		return err.Error()
	}
	for _, n := range s.Nodes {
		if n.Name == node {
			return n.Attributes[name]
		}
	}
	return fmt.Sprintf("no node %s in %+v", node, s.Nodes)
}

// stopsSince lists the DC's actions since t that stop a gateway resource
// on node.
func stopsSince(t *testing.T, socket, node string, since time.Time) []string {
	t.Helper()
	h, err := appliance.NewClient(socket).CRMHistory(context.Background(), 50)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, tr := range h.Transitions {
		if tr.Started.Before(since) {
			continue
		}
		for _, a := range tr.Actions {
			if strings.HasPrefix(a, "stop ") && strings.HasSuffix(a, " on "+node) {
				out = append(out, fmt.Sprintf("%s (transition %d: %s)", a, tr.ID, tr.Trigger))
			}
		}
	}
	return out
}

// TestBondRedundancy: losing the active bond member of the gateway holder
// fails over inside the bond only (the gateway stays on its node and the
// client keeps reaching wan); losing both members moves the gateway to a
// node with healthy uplinks, through the lab's location rule on the bond
// health attribute (lab.UplinkRule: -INFINITY where ovsha-bond-bond0 eq
// down).
func TestBondRedundancy(t *testing.T) {
	st, _ := upGateway(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	from, _ := lab.Holder(st)
	if from == "" {
		t.Fatal("no node holds the gateway after up")
	}
	// Ask a node that keeps its links about the cluster.
	var other string
	for _, n := range st.Nodes {
		if n.Name != from {
			other = n.Socket
			break
		}
	}
	attr := ovs.BondAttribute("bond0")
	await(t, 15*time.Second, "bond0 of "+from+" reported healthy", func() string {
		if v := nodeAttr(other, from, attr); v != ovs.BondHealthy {
			return fmt.Sprintf("%s=%q", attr, v)
		}
		return ""
	})
	b := bondShow(t, st, from)
	active := b.Active()
	if active == "" || b.Health() != ovs.BondHealthy {
		t.Fatalf("bond0 on %s: active member %q, health %s; want an active member and every member enabled", from, active, b.Health())
	}
	backup := "u0"
	if active == "u0" {
		backup = "u1"
	}

	echo, err := newEchoStream(st.Hosts["client"], lab.WANAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go echo.run(ctx, 10*time.Millisecond)

	// One member down: OVS moves the bond to the other member.
	t0 := time.Now()
	if err := lab.Fault(ctx, st, from, lab.FaultLinkDown, active); err != nil {
		t.Fatal(err)
	}
	await(t, 15*time.Second, "bond0 of "+from+" failing over to "+backup, func() string {
		if b := bondShow(t, st, from); b.Active() != backup {
			return fmt.Sprintf("active member %q, health %s", b.Active(), b.Health())
		}
		return ""
	})
	await(t, 15*time.Second, "the CRM seeing bond0 of "+from+" degraded", func() string {
		if v := nodeAttr(other, from, attr); v != ovs.BondDegraded {
			return fmt.Sprintf("%s=%q", attr, v)
		}
		return ""
	})
	degraded := time.Now()
	await(t, 15*time.Second, "the client reaching wan through "+backup+" of "+from, func() string {
		if !echo.repliedAfter(degraded) {
			return "no echo reply since the bond degraded"
		}
		return ""
	})
	if err := lab.Settle(ctx, st, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	// Nothing is expected to happen, so there is no event to await: watch
	// over several bond0 monitors (interval 1 s) that the gateway stays.
	watchEnd := time.Now().Add(3 * time.Second)
	for time.Now().Before(watchEnd) {
		if h := holders(t, st); !slices.Equal(h, []string{from}) {
			t.Fatalf("with one bond member down the LAN VIP is on %v, want it to stay on %s", h, from)
		}
		time.Sleep(50 * time.Millisecond) // observation window, see above
	}
	if s := stopsSince(t, other, from, t0); len(s) > 0 {
		t.Fatalf("with one bond member down the DC stopped gateway resources on %s: %v", from, s)
	}
	if !echo.repliedAfter(watchEnd.Add(-time.Second)) {
		t.Fatalf("the client stopped reaching wan with one bond member of %s down", from)
	}
	gap, lost, sent, answered := echo.gap(t0)
	t.Logf("%s down on %s: bond0 now on %s, gateway stayed; ICMP every 10 ms: %d sent, %d answered, longest gap %v (%d lost)",
		active, from, backup, sent, answered, gap, lost)

	// Both members down: the location rule moves the chain away.
	t1 := time.Now()
	if err := lab.Fault(ctx, st, from, lab.FaultLinkDown, backup); err != nil {
		t.Fatal(err)
	}
	var to string
	await(t, 20*time.Second, "the gateway leaving "+from+" once its bond is down", func() string {
		h := holders(t, st)
		if len(h) == 1 && h[0] != from {
			to = h[0]
			return ""
		}
		return fmt.Sprintf("LAN VIP on %v; %s of %s=%q", h, attr, from, nodeAttr(other, from, attr))
	})
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
	defer wcancel()
	if err := lab.WaitGateway(wctx, st); err != nil {
		t.Fatal(err)
	}
	if b := bondShow(t, st, to); b.Health() != ovs.BondHealthy {
		t.Errorf("bond0 on %s (the new holder): health %s, want %s", to, b.Health(), ovs.BondHealthy)
	}
	moved := time.Now()
	await(t, 15*time.Second, "the client reaching wan through "+to, func() string {
		if !echo.repliedAfter(moved) {
			return "no echo reply since the move"
		}
		return ""
	})
	gap, lost, sent, answered = echo.gap(t1)
	t.Logf("both members down on %s: gateway moved to %s; ICMP every 10 ms: %d sent, %d answered, longest gap %v (%d lost)",
		from, to, sent, answered, gap, lost)
}
