package ovs

import (
	"context"
	"log/slog"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/ovsha/ovsha/agents"
	"github.com/ovsha/ovsha/agents/agenttest"
	"github.com/ovsha/ovsha/internal/netnstest"
	"github.com/ovsha/ovsha/ovs/vswitch"
)

// node is one namespace with a private OVS and an ovsha OVSDB client.
type node struct {
	ns  *netnstest.NS
	ovs *netnstest.OVS
	db  *Client
	log *slog.Logger
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func newNode(t testing.TB) *node {
	t.Helper()
	netnstest.NeedRoot(t, "ovsdb-server", "ovs-vswitchd", "ovsdb-tool", "ovs-vsctl", "ovs-appctl", "nsenter", "nft")
	ns := netnstest.New(t)
	o := netnstest.StartOVS(t, ns)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	log := testLogger(t)
	db, err := Dial(ctx, Config{Endpoint: o.Endpoint(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return &node{ns: ns, ovs: o, db: db, log: log}
}

func (n *node) agents() (*BridgeAgent, *PortAgent, *InterfaceAgent) {
	return NewBridgeAgent(n.db, n.log), NewPortAgent(n.db, Appctl{Rundir: n.ovs.Dir}, n.log), NewInterfaceAgent(n.db, n.ns.NL, n.log)
}

// rows counts the Bridge, Port and Interface rows in the cache.
func (n *node) rows(t testing.TB) [3]int {
	t.Helper()
	ctx := context.Background()
	var b []vswitch.Bridge
	var p []vswitch.Port
	var i []vswitch.Interface
	if err := n.db.db.List(ctx, &b); err != nil {
		t.Fatal(err)
	}
	if err := n.db.db.List(ctx, &p); err != nil {
		t.Fatal(err)
	}
	if err := n.db.db.List(ctx, &i); err != nil {
		t.Fatal(err)
	}
	return [3]int{len(b), len(p), len(i)}
}

func opCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func wantCode(t testing.TB, what string, err error, want agents.Result) {
	t.Helper()
	if got := agents.Code(err); got != want {
		t.Fatalf("%s = %v (%s), want %s", what, err, got, want)
	}
}

// observe snapshots what the agents manage: OVSDB bridge, port and
// interface names and the namespace's links with their addresses.
func (n *node) observe(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	var out []string
	var b []vswitch.Bridge
	var p []vswitch.Port
	var i []vswitch.Interface
	if err := n.db.db.List(ctx, &b); err != nil {
		t.Fatal(err)
	}
	if err := n.db.db.List(ctx, &p); err != nil {
		t.Fatal(err)
	}
	if err := n.db.db.List(ctx, &i); err != nil {
		t.Fatal(err)
	}
	for _, x := range b {
		out = append(out, "bridge "+x.Name)
	}
	for _, x := range p {
		out = append(out, "port "+x.Name)
	}
	for _, x := range i {
		out = append(out, "interface "+x.Name)
	}
	links, err := n.ns.NL.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range links {
		addrs, _ := n.ns.NL.AddrList(l, netlink.FAMILY_ALL)
		s := "link " + l.Attrs().Name
		for _, a := range addrs {
			if !a.IP.IsLinkLocalUnicast() {
				s += " " + a.IPNet.String()
			}
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}

// conformance runs the shared agenttest suite against the real OVS, then
// checks that a start with bad parameters fails with OCF_ERR_CONFIGURED and
// leaves nothing half-created.
func conformance(t *testing.T, n *node, a agents.Agent, r agents.Resource, bad []badCase) {
	t.Helper()
	var cases []agenttest.BadCase
	for _, c := range bad {
		cases = append(cases, agenttest.BadCase{Name: c.name, Params: c.params, Param: c.param})
	}
	agenttest.Run(t, a, r.Params, cases, agenttest.WithResourceID(r.ID), agenttest.WithTimeout(15*time.Second),
		agenttest.WithObserve(n.observe))
	ctx := opCtx(t)
	before := n.observe(t)
	for _, c := range bad {
		rb := agents.Resource{ID: r.ID, Params: c.params}
		wantCode(t, "start "+c.name, a.Start(ctx, rb), agents.ErrConfigured)
		if got := n.observe(t); got != before {
			t.Fatalf("%s: start left state\n%s\nwant\n%s", c.name, got, before)
		}
	}
}

func TestBridgeAgentConformance(t *testing.T) {
	n := newNode(t)
	br, _, _ := n.agents()
	conformance(t, n, br, agents.Resource{ID: "br", Params: goodBridge}, badBridge)
}

func TestPortAgentConformance(t *testing.T) {
	n := newNode(t)
	sw := netnstest.New(t)
	netnstest.Veth(t, n.ns, "u0", sw, "s0")
	netnstest.Veth(t, n.ns, "u1", sw, "s1")
	br, port, _ := n.agents()
	ctx := opCtx(t)
	brRes := agents.Resource{ID: "br", Params: goodBridge}
	wantCode(t, "bridge start", br.Start(ctx, brRes), agents.Success)
	t.Run("bond", func(t *testing.T) {
		conformance(t, n, port, agents.Resource{ID: "bond", Params: goodBond}, badBond)
	})
	t.Run("single", func(t *testing.T) {
		conformance(t, n, port, agents.Resource{ID: "single", Params: agents.Params{"bridge_name": "br-test", "port_name": "u0", "tag": "10"}}, nil)
	})
}

func TestInterfaceAgentConformance(t *testing.T) {
	n := newNode(t)
	br, _, ifa := n.agents()
	ctx := opCtx(t)
	wantCode(t, "bridge start", br.Start(ctx, agents.Resource{ID: "br", Params: goodBridge}), agents.Success)
	r := agents.Resource{ID: "gw", Params: merge(goodIface, "address", "10.77.0.1/24,fd77::1/64")}
	conformance(t, n, ifa, r, badIface)

	// Device, MAC, MTU and addresses are what was configured.
	wantCode(t, "start", ifa.Start(ctx, r), agents.Success)
	l := n.ns.Link("gw0")
	if l.Attrs().HardwareAddr.String() != "02:77:00:00:01:01" || l.Attrs().MTU != 1400 {
		t.Errorf("gw0 mac %s mtu %d, want 02:77:00:00:01:01 and 1400", l.Attrs().HardwareAddr, l.Attrs().MTU)
	}
	// Monitor notices a removed address and a downed device.
	n.ns.Run("ip", "addr", "del", "10.77.0.1/24", "dev", "gw0")
	wantCode(t, "monitor without address", ifa.Monitor(ctx, r), agents.ErrGeneric)
	wantCode(t, "restart", ifa.Start(ctx, r), agents.Success)
	wantCode(t, "monitor after repair", ifa.Monitor(ctx, r), agents.Success)
	n.ns.Down("gw0")
	wantCode(t, "monitor device down", ifa.Monitor(ctx, r), agents.ErrGeneric)
	wantCode(t, "stop", ifa.Stop(ctx, r), agents.Success)
	if _, err := n.ns.NL.LinkByName("gw0"); err == nil {
		t.Error("gw0 still exists after stop")
	}
}

// Stop removes only what the resource created; start never adopts.
func TestOwnership(t *testing.T) {
	n := newNode(t)
	br, port, _ := n.agents()
	ctx := opCtx(t)
	n.ovs.Vsctl("add-br", "br-test", "--", "set", "bridge", "br-test", "datapath_type=netdev")
	r := agents.Resource{ID: "br", Params: goodBridge}
	wantCode(t, "monitor foreign bridge", br.Monitor(ctx, r), agents.NotRunning)
	wantCode(t, "start over foreign bridge", br.Start(ctx, r), agents.ErrGeneric)
	wantCode(t, "stop foreign bridge", br.Stop(ctx, r), agents.Success)
	if b, _ := n.db.Bridge(ctx, "br-test"); b == nil {
		t.Fatal("stop removed a bridge the resource did not create")
	}
	// Another resource id does not own our bridge either.
	n.ovs.Vsctl("del-br", "br-test")
	wantCode(t, "start", br.Start(ctx, r), agents.Success)
	other := agents.Resource{ID: "other", Params: goodBridge}
	wantCode(t, "other monitor", br.Monitor(ctx, other), agents.NotRunning)
	wantCode(t, "other stop", br.Stop(ctx, other), agents.Success)
	wantCode(t, "monitor", br.Monitor(ctx, r), agents.Success)
	// A port added by hand on our bridge is not ours.
	n.ovs.Vsctl("add-port", "br-test", "hand0", "--", "set", "interface", "hand0", "type=internal")
	pr := agents.Resource{ID: "p", Params: agents.Params{"bridge_name": "br-test", "port_name": "hand0"}}
	wantCode(t, "port stop foreign", port.Stop(ctx, pr), agents.Success)
	if p, _ := n.db.Port(ctx, "hand0"); p == nil {
		t.Fatal("port stop removed a port it did not create")
	}
	// Starting on a missing bridge fails and leaves nothing.
	before := n.rows(t)
	wantCode(t, "port on missing bridge", port.Start(ctx, agents.Resource{ID: "q", Params: agents.Params{"bridge_name": "nobr", "port_name": "x0"}}), agents.ErrGeneric)
	if got := n.rows(t); got != before {
		t.Fatalf("rows %v -> %v after failed start", before, got)
	}
}

// A port whose only interface does not exist is rolled back.
func TestPortMissingDeviceRollsBack(t *testing.T) {
	n := newNode(t)
	br, port, _ := n.agents()
	ctx := opCtx(t)
	wantCode(t, "bridge start", br.Start(ctx, agents.Resource{ID: "br", Params: goodBridge}), agents.Success)
	before := n.rows(t)
	err := port.Start(ctx, agents.Resource{ID: "p", Params: agents.Params{"bridge_name": "br-test", "port_name": "nosuch0"}})
	wantCode(t, "start with missing device", err, agents.ErrGeneric)
	t.Logf("error: %v", err)
	if got := n.rows(t); got != before {
		t.Fatalf("rows %v -> %v: failed start left rows", before, got)
	}
}

// Without the openvswitch kernel module (as on the test machine) a system
// datapath bridge cannot work: start fails and leaves nothing behind.
func TestBridgeWithoutKernelDatapathRollsBack(t *testing.T) {
	if _, err := os.Stat("/sys/module/openvswitch"); err == nil {
		t.Skip("the openvswitch kernel module is loaded: the system datapath works here")
	}
	n := newNode(t)
	br, _, _ := n.agents()
	ctx := opCtx(t)
	before := n.observe(t)
	err := br.Start(ctx, agents.Resource{ID: "br", Params: agents.Params{"bridge_name": "br-sys"}})
	t.Logf("start: %v", err)
	wantCode(t, "start with datapath_type=system", err, agents.ErrGeneric)
	if after := n.observe(t); after != before {
		t.Fatalf("failed start left %s (before: %s)", after, before)
	}
}
