package e2e

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/ovsha/ovsha/appliance"
	"github.com/ovsha/ovsha/appliance/lab"
)

// binaries builds ovshad and ovsha once per test.
func binaries(t *testing.T) (ovshad, ovsha string) {
	t.Helper()
	dir := t.TempDir()
	for _, b := range []string{"ovshad", "ovsha"} {
		out, err := exec.Command("go", "build", "-o", filepath.Join(dir, b), "github.com/ovsha/ovsha/cmd/"+b).CombinedOutput()
		if err != nil {
			t.Fatalf("building %s: %v\n%s", b, err, out)
		}
	}
	return filepath.Join(dir, "ovshad"), filepath.Join(dir, "ovsha")
}

// upGateway brings up a 3-node gateway lab and removes it at cleanup.
func upGateway(t *testing.T) (*lab.State, string) {
	t.Helper()
	st, ovsha, _ := upLab(t, "e", lab.Spec{Nodes: 3, Timeout: 40 * time.Second})
	return st, ovsha
}

// upLab brings up a gateway lab as spec says (name, base directory and
// binaries filled in; the name starts with prefix) and removes it at
// cleanup. It skips without root or OVS.
func upLab(t *testing.T, prefix string, spec lab.Spec) (st *lab.State, ovsha, base string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates network namespaces and runs OVS")
	}
	for _, tool := range []string{"ovsdb-server", "ovs-vswitchd", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (apt-get install openvswitch-switch nftables)", tool)
		}
	}
	ovshad, ovsha := binaries(t)
	base = t.TempDir()
	name := fmt.Sprintf("%s%d", prefix, os.Getpid()%1000000)
	ctx := context.Background()
	spec.Name, spec.BaseDir, spec.Ovshad, spec.Ovsha, spec.Gateway = name, base, ovshad, ovsha, true
	st, err := lab.Up(ctx, spec)
	t.Cleanup(func() {
		if _, err := lab.Load(base, name); err == nil {
			if err := lab.Down(ctx, base, name, nil); err != nil {
				t.Errorf("lab down: %v", err)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return st, ovsha, base
}

// clientNeigh returns the client's neighbour MAC for ip.
func clientNeigh(t *testing.T, st *lab.State, ip string) net.HardwareAddr {
	t.Helper()
	h, err := netns.GetFromName(st.Hosts["client"])
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	nl, err := netlink.NewHandleAt(h)
	if err != nil {
		t.Fatal(err)
	}
	defer nl.Close()
	ns, err := nl.NeighList(0, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range ns {
		if n.IP.String() == ip {
			return n.HardwareAddr
		}
	}
	return nil
}

// startOrder returns the gateway resources as the DC's history started
// them on node (oldest first).
func startOrder(t *testing.T, socket, node string, since time.Time) []string {
	t.Helper()
	h, err := appliance.NewClient(socket).CRMHistory(context.Background(), 20)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	seen := map[string]bool{}
	for i := len(h.Transitions) - 1; i >= 0; i-- {
		if h.Transitions[i].Started.Before(since) {
			continue
		}
		for _, a := range h.Transitions[i].Actions {
			var rsc, on string
			if _, err := fmt.Sscanf(a, "start %s on %s", &rsc, &on); err == nil && on == node && !seen[rsc] {
				seen[rsc] = true
				order = append(order, rsc)
			}
		}
	}
	return order
}

// waitHolder waits until a node other than not holds the gateway.
func waitHolder(t *testing.T, st *lab.State, not string) (string, net.HardwareAddr) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if h, mac := lab.Holder(st); h != "" && h != not {
			return h, mac
		}
		if time.Now().After(deadline) {
			t.Fatalf("no node other than %s took the gateway", not)
		}
		time.Sleep(20 * time.Millisecond) // polling the nodes' addresses
	}
}

// TestPoweroffFailover: powering off the gateway node brings the whole
// chain up on a survivor in group order; the client keeps reaching wan
// through the VIP, and its neighbour entry for the VIP moves to the new
// node's MAC. The gap is logged, never asserted.
func TestPoweroffFailover(t *testing.T) {
	st, _ := upGateway(t)
	ctx := context.Background()
	from, oldMAC := lab.Holder(st)
	if from == "" {
		t.Fatal("no node holds the gateway after up")
	}
	if m := clientNeigh(t, st, lab.LANVIP); m.String() != oldMAC.String() {
		t.Fatalf("client's neighbour entry for the VIP is %v, want %s's %v", m, from, oldMAC)
	}
	probe, err := lab.NewARPProber(st.Hosts["client"], "eth0", netip.MustParseAddr(lab.LANVIP))
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	type res struct {
		at  time.Time
		err error
	}
	got := make(chan res, 1)
	pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	t0 := time.Now()
	go func() {
		at, _, err := probe.Until(pctx, time.Millisecond, func(m net.HardwareAddr) bool { return m.String() != oldMAC.String() })
		got <- res{at, err}
	}()
	if err := lab.Fault(ctx, st, from, lab.FaultPowerOff, ""); err != nil {
		t.Fatal(err)
	}
	r := <-got
	if r.err != nil {
		t.Fatal(r.err)
	}
	to, newMAC := waitHolder(t, st, from)
	t.Logf("gateway moved %s -> %s; VIP silent for %v (ARP probe every 1 ms)", from, to, r.at.Sub(t0))

	// The client still reaches wan through the VIP, now via the new node.
	if err := lab.WaitGateway(pctx, st); err != nil {
		t.Fatal(err)
	}
	if m := clientNeigh(t, st, lab.LANVIP); m.String() != newMAC.String() {
		t.Fatalf("client's neighbour entry for the VIP is %v, want %s's %v", m, to, newMAC)
	}
	n, _ := st.Node(to)
	if ok, _ := func() (bool, error) {
		order := startOrder(t, n.Socket, to, t0)
		want := lab.GatewayResources
		if len(order) != len(want) {
			t.Errorf("starts on %s since the fault: %v, want %v", to, order, want)
			return false, nil
		}
		for i := range want {
			if order[i] != want[i] {
				t.Errorf("start order on %s: %v, want %v", to, order, want)
				return false, nil
			}
		}
		return true, nil
	}(); !ok {
		t.Errorf("the DC's history does not show the whole chain started on %s in order %v", to, lab.GatewayResources)
	}

	// The old node powers on again. Its OVS restores br-ex, bond0 and
	// lan0 from conf.db, so the probes find them active there too: only
	// that copy is stopped (multiple-active=stop_unexpected); the gateway
	// stays on the new node untouched (stickiness), with one MAC.
	w, stopWatch := watchVIP(t, st, 5*time.Millisecond)
	t1 := time.Now()
	if err := lab.Fault(ctx, st, from, lab.FaultPowerOn, ""); err != nil {
		t.Fatal(err)
	}
	if err := lab.Settle(ctx, st, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	stopWatch()
	if h, _ := lab.Holder(st); h != to {
		t.Errorf("after %s returned the gateway is on %q, want it to stay on %s", from, h, to)
	}
	// The reboot left no control socket of the killed OVS daemons behind.
	if fn, ok := st.Node(from); ok {
		ctls, _ := filepath.Glob(filepath.Join(fn.OVSDir, "*.ctl"))
		if len(ctls) != 2 {
			t.Errorf("%s's OVS directory holds control sockets %v, want those of the running ovsdb-server and ovs-vswitchd", from, ctls)
		}
	}
	for _, a := range actionsSince(t, st, t1) {
		var task, rsc, on string
		if _, err := fmt.Sscanf(a, "%s %s on %s", &task, &rsc, &on); err == nil && on == to && (task == "stop" || task == "start") {
			t.Errorf("%q after %s returned: the gateway was interrupted on %s", a, from, to)
		}
	}
	if t.Failed() {
		logHistory(t, st, t1)
	}
	if runs := w.runs(); len(runs) != 1 {
		t.Errorf("while %s returned the VIP was answered by changing MACs (%d stretches), want the holder's only: %s", from, len(runs), summary(runs))
	}
}

// TestPlannedSwitchover: `ovsha resource move gateway` moves the chain to
// another node make-before-break: the OVS members (allow-migrate) migrate
// to the new node while the old one still serves, then the VIPs go stop →
// start; the client never sees two MACs for the VIP, nothing on the new
// node is stopped again afterwards, and `resource clear` removes the ban
// without moving the gateway back (stickiness).
func TestPlannedSwitchover(t *testing.T) {
	st, ovsha := upGateway(t)
	ctx := context.Background()
	from, _ := lab.Holder(st)
	run := func(args ...string) {
		t.Helper()
		out, err := exec.Command(ovsha, append(args, "--socket", st.Nodes[2].Socket)...).CombinedOutput()
		if err != nil {
			t.Fatalf("ovsha %v: %v: %s", args, err, out)
		}
	}
	w, stopWatch := watchVIP(t, st, 2*time.Millisecond)

	t0 := time.Now()
	run("resource", "move", lab.GatewayGroup)
	to, _ := waitHolder(t, st, from)
	if err := lab.Settle(ctx, st, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	stopWatch()
	runs := w.runs()
	if a, b, n := overlaps(runs); n > 0 {
		t.Errorf("two MACs answered for the VIP between %s and %s (%d alternations):\n%s", a.Format("15:04:05.000"), b.Format("15:04:05.000"), n, summary(runs))
	}
	acts := actionsSince(t, st, t0)
	for _, rsc := range []string{"br-ex", "bond0", "lan0"} {
		for _, want := range []string{"migrate_to " + rsc + " on " + from, "migrate_from " + rsc + " on " + to} {
			if !slices.Contains(acts, want) {
				t.Errorf("no %q since the move (make-before-break); actions: %v", want, acts)
			}
		}
	}
	for _, rsc := range lab.GatewayResources {
		if bad := "stop " + rsc + " on " + to; slices.Contains(acts, bad) {
			t.Errorf("%q after the move: the gateway was interrupted again on its new node; actions: %v", bad, acts)
		}
	}
	run("resource", "clear", lab.GatewayGroup)
	if err := lab.Settle(ctx, st, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if h, _ := lab.Holder(st); h != to {
		t.Fatalf("after clear the gateway is on %q, want it to stay on %s", h, to)
	}
}

// watchVIP starts asking for the LAN VIP from the client every interval;
// stop ends the probes (the replies stay readable with w.runs()).
func watchVIP(t *testing.T, st *lab.State, interval time.Duration) (w *arpWatch, stop func()) {
	t.Helper()
	w, err := newARPWatch(st.Hosts["client"], "eth0", netip.MustParseAddr(lab.ClientAddr), netip.MustParseAddr(lab.LANVIP))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.run(ctx, interval) }()
	return w, func() {
		t.Helper()
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// history returns, oldest first, the transitions every node ran as DC
// since t (the DC changes when nodes leave and come back, and each keeps
// the history of its own term).
func history(t *testing.T, st *lab.State, since time.Time) []appliance.Transition {
	t.Helper()
	var out []appliance.Transition
	for _, n := range st.Nodes {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		h, err := appliance.NewClient(n.Socket).CRMHistory(ctx, 50)
		cancel()
		if err != nil {
			continue // powered off
		}
		for _, tr := range h.Transitions {
			if !tr.Started.Before(since) {
				out = append(out, tr)
			}
		}
	}
	slices.SortFunc(out, func(a, b appliance.Transition) int { return a.Started.Compare(b.Started) })
	return out
}

// logHistory logs the transitions since t (DC, trigger, result, actions).
func logHistory(t *testing.T, st *lab.State, since time.Time) {
	t.Helper()
	for _, tr := range history(t, st, since) {
		t.Logf("transition %d on %s (%s): %s: %v", tr.ID, tr.DC, tr.Result, tr.Trigger, tr.Actions)
	}
}

// actionsSince lists, oldest first, the actions of the transitions that
// started since t, whichever node ran them as DC.
func actionsSince(t *testing.T, st *lab.State, since time.Time) []string {
	t.Helper()
	var out []string
	for _, tr := range history(t, st, since) {
		out = append(out, tr.Actions...)
	}
	return out
}
