package agents_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/ovsha/ovsha/agents"
	"github.com/ovsha/ovsha/agents/agenttest"
)

// TestIPaddr2InNamespace runs Debian's real ocf:heartbeat:IPaddr2 through
// the OCF runner against a veth in a private network namespace and checks
// with netlink that the VIP appears on start and disappears on stop. The
// test's OCF root wraps the script in `ip netns exec`, so every action,
// whatever goroutine runs it, lands in the namespace.
func TestIPaddr2InNamespace(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates a network namespace and a veth pair")
	}
	needResourceAgents(t)
	if !exists("/usr/sbin/ip") && !exists("/sbin/ip") {
		t.Skip("needs iproute2's ip (IPaddr2 uses it)")
	}
	nsName := fmt.Sprintf("ovsha-agents-%d", os.Getpid())
	ns := newNamedNS(t, nsName)
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "vip0"}, PeerName: "vip0-peer"}
	if err := h.LinkAdd(veth); err != nil {
		t.Fatalf("adding veth in %s: %v", nsName, err)
	}
	for _, name := range []string{"vip0", "vip0-peer", "lo"} {
		l, err := h.LinkByName(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.LinkSetUp(l); err != nil {
			t.Fatal(err)
		}
	}
	link, err := h.LinkByName("vip0")
	if err != nil {
		t.Fatal(err)
	}
	base, _ := netlink.ParseAddr("192.0.2.1/24")
	if err := h.AddrAdd(link, base); err != nil {
		t.Fatal(err)
	}

	root := t.TempDir()
	if err := os.Symlink(filepath.Join(debOCFRoot, "lib"), filepath.Join(root, "lib")); err != nil {
		t.Fatal(err)
	}
	writeScript(t, root, "resource.d/heartbeat/IPaddr2",
		fmt.Sprintf("#!/bin/sh\nexec ip netns exec %s %s \"$@\"\n", nsName, debIPaddr2))
	reg := agents.NewRegistry(agents.RegistryOptions{OCFRoot: root})
	a, err := reg.Lookup("ocf:heartbeat:IPaddr2")
	if err != nil {
		t.Fatal(err)
	}
	addrs := func(t testing.TB) string {
		list, err := h.AddrList(link, netlink.FAMILY_V4)
		if err != nil {
			t.Fatalf("listing addresses of vip0: %v", err)
		}
		var out []string
		for _, a := range list {
			out = append(out, a.IPNet.String())
		}
		sort.Strings(out)
		return strings.Join(out, " ")
	}
	agenttest.Run(t, a,
		agents.Params{"ip": "192.0.2.10", "cidr_netmask": "24", "nic": "vip0"},
		[]agenttest.BadCase{
			{Name: "ip not an address", Params: agents.Params{"ip": "not-an-ip", "nic": "vip0"}, Param: "ip"},
			{Name: "no ip", Params: agents.Params{"nic": "vip0"}, Param: "ip"},
		},
		agenttest.WithResourceID("vip-test"),
		agenttest.WithObserve(addrs),
	)
	// The suite checked that start changed the addresses and stop restored
	// them; check the VIP itself is what appeared.
	if err := a.Start(ctxT(t, 30*time.Second), agents.Resource{ID: "vip-test", Params: agents.Params{"ip": "192.0.2.10", "cidr_netmask": "24", "nic": "vip0"}}); err != nil {
		t.Fatal(err)
	}
	if got := addrs(t); !strings.Contains(got, "192.0.2.10/24") {
		t.Errorf("after start, vip0 has %q, want 192.0.2.10/24 among them", got)
	}
	if err := a.Stop(ctxT(t, 30*time.Second), agents.Resource{ID: "vip-test", Params: agents.Params{"ip": "192.0.2.10", "cidr_netmask": "24", "nic": "vip0"}}); err != nil {
		t.Fatal(err)
	}
	if got := addrs(t); strings.Contains(got, "192.0.2.10") {
		t.Errorf("after stop, vip0 still has %q", got)
	}
}

// newNamedNS creates /run/netns/name without leaving the test's thread in
// it, and deletes it at cleanup.
func newNamedNS(t *testing.T, name string) netns.NsHandle {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	ns, err := netns.NewNamed(name)
	if err != nil {
		t.Fatalf("creating network namespace %s: %v", name, err)
	}
	if err := netns.Set(orig); err != nil {
		t.Fatalf("returning to the original network namespace: %v", err)
	}
	t.Cleanup(func() {
		ns.Close()
		if err := netns.DeleteNamed(name); err != nil {
			t.Errorf("deleting network namespace %s: %v", name, err)
		}
	})
	return ns
}
