package builtin

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/vishvananda/netlink"

	"github.com/ovsha/ovsha/agents"
	"github.com/ovsha/ovsha/ovs"
	"github.com/ovsha/ovsha/vip"
)

// Deps are the shared handles the built-in agents use. The daemon creates
// them once; the agents never dial or open anything themselves.
type Deps struct {
	// OVSDB is the daemon's OVSDB client (required).
	OVSDB *ovs.Client
	// Netlink is a netlink handle in ovs-vswitchd's network namespace,
	// where ovs-interface's internal devices appear and the VIPs live
	// (required).
	Netlink *netlink.Handle
	// VIPDialer and VIPSysctl open the vip agent's ARP/NDP sockets and set
	// its sysctls; nil acts in the daemon's own namespace
	// (vip.CurrentHost()). Tests pass vip.HostIn(ns).
	VIPDialer vip.Dialer
	VIPSysctl vip.Sysctl
	// Bonds reads live bond state for ovs-port; nil uses ovs.Appctl{}
	// (ovs-appctl against the local ovs-vswitchd).
	Bonds ovs.BondReader
	// Logger is passed to every agent; nil discards.
	Logger *slog.Logger
}

// names maps each built-in agent's short name to its pcs-style aliases.
var names = []struct {
	name    string
	aliases []string
}{
	{"ovs-bridge", []string{"ocf:heartbeat:ovs-bridge", "ocf:ovsha:ovs-bridge"}},
	{"ovs-port", []string{"ocf:heartbeat:ovs-port", "ocf:ovsha:ovs-port"}},
	{"ovs-interface", []string{"ocf:heartbeat:ovs-interface", "ocf:ovsha:ovs-interface"}},
	{"vip", []string{"ocf:heartbeat:IPaddr2", "ocf:ovsha:vip"}},
}

// Register adds the built-in agents to r: ovs-bridge, ovs-port and
// ovs-interface, each also as ocf:heartbeat:NAME and ocf:ovsha:NAME, and
// vip as ocf:heartbeat:IPaddr2 and ocf:ovsha:vip
// ("ocf:heartbeat:IPaddr2!script" still reaches the real script). The
// returned stop ends the agents' background work (vip's periodic
// announcements; addresses stay); call it at shutdown.
func Register(r *agents.Registry, d Deps) (stop func(), err error) {
	if r == nil {
		return nil, errors.New("registering built-in agents: registry is nil")
	}
	if d.OVSDB == nil {
		return nil, errors.New("registering built-in agents: Deps.OVSDB is nil (dial ovsdb-server with ovs.Dial first)")
	}
	if d.Netlink == nil {
		return nil, errors.New("registering built-in agents: Deps.Netlink is nil (ovs-interface and vip need a netlink handle)")
	}
	log := d.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	bonds := d.Bonds
	if bonds == nil {
		bonds = ovs.Appctl{}
	}
	v, err := vip.New(vip.Config{Netlink: d.Netlink, Dialer: d.VIPDialer, Sysctl: d.VIPSysctl, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("registering built-in agents: %w", err)
	}
	impl := map[string]agents.Agent{
		"ovs-bridge":    ovs.NewBridgeAgent(d.OVSDB, log),
		"ovs-port":      ovs.NewPortAgent(d.OVSDB, bonds, log),
		"ovs-interface": ovs.NewInterfaceAgent(d.OVSDB, d.Netlink, log),
		"vip":           v,
	}
	for _, n := range names {
		if err := r.Register(n.name, impl[n.name], n.aliases...); err != nil {
			v.Close()
			return nil, fmt.Errorf("registering built-in agents: %w", err)
		}
	}
	return v.Close, nil
}
