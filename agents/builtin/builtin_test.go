package builtin_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/ovsha/ovsha/agents"
	"github.com/ovsha/ovsha/agents/builtin"
	"github.com/ovsha/ovsha/internal/netnstest"
	"github.com/ovsha/ovsha/ovs"
	"github.com/ovsha/ovsha/vip"
)

func TestRegisterNeedsDeps(t *testing.T) {
	r := agents.NewRegistry(agents.RegistryOptions{})
	for _, tc := range []struct {
		name string
		d    builtin.Deps
		want string
	}{
		{"no ovsdb", builtin.Deps{Netlink: &netlink.Handle{}}, "Deps.OVSDB is nil"},
		{"no netlink", builtin.Deps{OVSDB: &ovs.Client{}}, "Deps.Netlink is nil"},
	} {
		if _, err := builtin.Register(r, tc.d); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Register = %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := builtin.Register(nil, builtin.Deps{}); err == nil {
		t.Errorf("Register(nil registry) succeeded")
	}
}

// TestRegisterResolvesNames registers the built-ins against a private
// ovsdb-server and checks every short name and pcs alias resolves to the
// agent of that name.
func TestRegisterResolvesNames(t *testing.T) {
	netnstest.NeedRoot(t, "ovsdb-server", "ovs-vswitchd", "ovsdb-tool", "ovs-vsctl", "ovs-appctl", "nsenter", "nft")
	ns := netnstest.New(t)
	o := netnstest.StartOVS(t, ns)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := ovs.Dial(ctx, ovs.Config{Endpoint: o.Endpoint()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	r := agents.NewRegistry(agents.RegistryOptions{OCFRoot: t.TempDir()})
	closeBuiltins, err := builtin.Register(r, builtin.Deps{OVSDB: db, Netlink: ns.NL,
		VIPDialer: vip.HostIn(ns.Handle), VIPSysctl: vip.HostIn(ns.Handle)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeBuiltins)
	for spec, want := range map[string]string{
		"ovs-bridge":                  "ovs-bridge",
		"ocf:heartbeat:ovs-bridge":    "ovs-bridge",
		"ocf:ovsha:ovs-bridge":        "ovs-bridge",
		"ovs-port":                    "ovs-port",
		"ocf:heartbeat:ovs-port":      "ovs-port",
		"ovs-interface":               "ovs-interface",
		"ocf:heartbeat:ovs-interface": "ovs-interface",
		"vip":                         "vip",
		"ocf:heartbeat:IPaddr2":       "vip",
		"ocf:ovsha:vip":               "vip",
	} {
		a, err := r.Lookup(spec)
		if err != nil {
			t.Errorf("Lookup(%q): %v", spec, err)
			continue
		}
		if got := a.Metadata().Name; got != want {
			t.Errorf("Lookup(%q) is agent %q, want %q", spec, got, want)
		}
	}
	// The script form bypasses the built-in: this registry's OCF root is
	// empty, so it names the missing script.
	if _, err := r.Lookup("ocf:heartbeat:IPaddr2!script"); err == nil || !strings.Contains(err.Error(), "resource.d/heartbeat/IPaddr2 does not exist") {
		t.Errorf("Lookup(ocf:heartbeat:IPaddr2!script) = %v, want the missing script named", err)
	}
	// Registering twice is refused, not silently replaced.
	if _, err := builtin.Register(r, builtin.Deps{OVSDB: db, Netlink: ns.NL}); err == nil {
		t.Errorf("second Register succeeded")
	}
}
