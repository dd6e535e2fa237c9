package ovs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/ovn-org/libovsdb/ovsdb"
	"github.com/vishvananda/netlink"

	"github.com/ovsha/ovsha/agents"
	"github.com/ovsha/ovsha/ovs/vswitch"
)

// InterfaceAgent is the "ovs-interface" agent: an internal port (a kernel
// network device owned by OVS) on an existing bridge, with its MTU, MAC and
// addresses.
type InterfaceAgent struct {
	db  *Client
	nl  *netlink.Handle
	log *slog.Logger
}

// NewInterfaceAgent returns the ovs-interface agent. nl is a netlink handle
// in ovs-vswitchd's network namespace, where the internal device appears.
func NewInterfaceAgent(db *Client, nl *netlink.Handle, log *slog.Logger) *InterfaceAgent {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &InterfaceAgent{db: db, nl: nl, log: log.With("component", "ovs-interface")}
}

var ifaceParams = []agents.ParamSpec{
	{Name: "bridge_name", Type: "string", Required: true, ShortDesc: "bridge the internal port belongs to"},
	{Name: "interface_name", Type: "string", Required: true, Unique: true, ShortDesc: "name of the internal port and its device (1-15 characters)"},
	{Name: "address", Type: "string", ShortDesc: "addresses in CIDR form, comma separated (e.g. 192.0.2.1/24,2001:db8::1/64)"},
	{Name: "mtu", Type: "integer", ShortDesc: "MTU to request (68-65535; empty: OVS default)"},
	{Name: "mac", Type: "string", ShortDesc: "Ethernet address (empty: chosen by OVS)"},
	{Name: "tag", Type: "integer", ShortDesc: "access VLAN (0-4095)"},
}

// Metadata implements agents.Agent.
func (a *InterfaceAgent) Metadata() agents.Metadata {
	return agents.Metadata{
		Name:      "ovs-interface",
		Version:   Version,
		ShortDesc: "Open vSwitch internal interface with addresses",
		LongDesc: "Adds an internal port to a bridge, sets the device up and adds its addresses through netlink; " +
			"stop removes the port (and with it the device and its addresses).",
		Params:  ifaceParams,
		Actions: standardActions(),
	}
}

type ifaceSpec struct {
	bridge string
	name   string
	addrs  []netip.Prefix
	mtu    *int
	mac    string
	tag    *int
}

func parseIface(p agents.Params) (ifaceSpec, error) {
	var s ifaceSpec
	if err := checkKnown(p, ifaceParams); err != nil {
		return s, err
	}
	var err error
	if s.bridge, err = ifName("bridge_name", p["bridge_name"]); err != nil {
		return s, err
	}
	if s.name, err = ifName("interface_name", p["interface_name"]); err != nil {
		return s, err
	}
	if s.name == s.bridge {
		return s, badParam("interface_name", s.name, "a name other than the bridge's own local port "+s.bridge)
	}
	for _, v := range list(p["address"]) {
		pr, err := netip.ParsePrefix(v)
		if err != nil {
			return s, badParam("address", p["address"], "addresses in CIDR form like 192.0.2.1/24, comma separated")
		}
		s.addrs = append(s.addrs, pr)
	}
	if v := strings.TrimSpace(p["mtu"]); v != "" {
		m, err := intParam("mtu", v, 0, 68, 65535)
		if err != nil {
			return s, err
		}
		s.mtu = &m
	}
	if v := strings.TrimSpace(p["mac"]); v != "" {
		hw, err := net.ParseMAC(v)
		if err != nil || len(hw) != 6 || hw[0]&1 == 1 {
			return s, badParam("mac", v, "a unicast Ethernet address like 02:00:00:00:00:01")
		}
		s.mac = hw.String()
	}
	if v := strings.TrimSpace(p["tag"]); v != "" {
		t, err := intParam("tag", v, 0, 0, 4095)
		if err != nil {
			return s, err
		}
		s.tag = &t
	}
	return s, nil
}

// Validate implements agents.Agent. It only parses parameters.
func (a *InterfaceAgent) Validate(_ context.Context, p agents.Params) error {
	_, err := parseIface(p)
	return err
}

// Start implements agents.Agent.
func (a *InterfaceAgent) Start(ctx context.Context, r agents.Resource) error {
	s, err := parseIface(r.Params)
	if err != nil {
		return err
	}
	br, err := a.db.Bridge(ctx, s.bridge)
	if err != nil {
		return err
	}
	if br == nil {
		return agents.Errorf(agents.ErrGeneric, "bridge %s (parameter bridge_name) does not exist: start its ovs-bridge resource first", s.bridge)
	}
	port, err := a.db.Port(ctx, s.name)
	if err != nil {
		return err
	}
	created := false
	if port != nil {
		if !owned(port.ExternalIDs, r.ID) {
			return agents.Errorf(agents.ErrGeneric, "port %s exists but is not owned by resource %s (external_ids:%s=%q)", s.name, r.ID, OwnerKey, port.ExternalIDs[OwnerKey])
		}
		if !slices.Contains(br.Ports, port.UUID) {
			return agents.Errorf(agents.ErrGeneric, "port %s exists on another bridge than %s: stop the resource before changing bridge_name", s.name, s.bridge)
		}
		if err := a.reconcile(ctx, r.ID, port, s); err != nil {
			return err
		}
	} else {
		if i, err := a.db.Interface(ctx, s.name); err != nil {
			return err
		} else if i != nil {
			return agents.Errorf(agents.ErrGeneric, "interface %s (parameter interface_name) is already used by another port", s.name)
		}
		if err := a.create(ctx, r.ID, br, s); err != nil {
			return err
		}
		created = true
	}
	err = a.configureDevice(ctx, s)
	if err != nil && created {
		if serr := a.Stop(ctx, r); serr != nil {
			a.log.Warn("rolling back interface", "interface", s.name, "err", serr)
		}
	}
	if err != nil {
		return err
	}
	a.log.Info("started", "resource", r.ID, "interface", s.name)
	return nil
}

func (a *InterfaceAgent) create(ctx context.Context, id string, br *vswitch.Bridge, s ifaceSpec) error {
	own := map[string]string{OwnerKey: id}
	iface := &vswitch.Interface{UUID: "ovshaIface", Name: s.name, Type: "internal", ExternalIDs: own, MTURequest: s.mtu, MAC: optString(s.mac)}
	port := &vswitch.Port{UUID: "ovshaPort", Name: s.name, Interfaces: []string{iface.UUID}, ExternalIDs: own, Tag: s.tag}
	ops := []ovsdb.Operation{ownedOrAnyBridge(br), absentWait(vswitch.PortTable, s.name), absentWait(vswitch.InterfaceTable, s.name)}
	create, err := a.db.db.Create(iface, port)
	if err != nil {
		return fmt.Errorf("building interface %s: %w", s.name, err)
	}
	ops = append(ops, create...)
	ops = append(ops, setRef(vswitch.BridgeTable, br.UUID, "ports", ovsdb.MutateOperationInsert, port.UUID))
	return a.db.apply(ctx, "creating interface "+s.name, ops)
}

func (a *InterfaceAgent) reconcile(ctx context.Context, id string, port *vswitch.Port, s ifaceSpec) error {
	i, err := a.db.Interface(ctx, s.name)
	if err != nil {
		return err
	}
	if i == nil || len(port.Interfaces) != 1 || port.Interfaces[0] != i.UUID {
		return agents.Errorf(agents.ErrGeneric, "port %s does not hold exactly its interface %s: stop and start the resource", s.name, s.name)
	}
	var ops []ovsdb.Operation
	irow := ovsdb.Row{}
	if !eqPtr(i.MTURequest, s.mtu) {
		irow["mtu_request"] = optSet(s.mtu)
	}
	if !eqPtr(i.MAC, optString(s.mac)) {
		irow["mac"] = optSet(optString(s.mac))
	}
	if len(irow) > 0 {
		ops = append(ops, ownedWait(vswitch.InterfaceTable, i.UUID, s.name, id), ovsdb.Operation{Op: ovsdb.OperationUpdate,
			Table: vswitch.InterfaceTable, Row: irow, Where: []ovsdb.Condition{ovsdb.NewCondition("_uuid", ovsdb.ConditionEqual, ovsdb.UUID{GoUUID: i.UUID})}})
	}
	if !eqPtr(port.Tag, s.tag) {
		ops = append(ops, ownedWait(vswitch.PortTable, port.UUID, s.name, id), ovsdb.Operation{Op: ovsdb.OperationUpdate,
			Table: vswitch.PortTable, Row: ovsdb.Row{"tag": optSet(s.tag)}, Where: []ovsdb.Condition{ovsdb.NewCondition("_uuid", ovsdb.ConditionEqual, ovsdb.UUID{GoUUID: port.UUID})}})
	}
	if len(ops) == 0 {
		return nil
	}
	return a.db.apply(ctx, "updating interface "+s.name, ops)
}

// configureDevice checks the OVS side, then sets the device up and adds the
// configured addresses.
func (a *InterfaceAgent) configureDevice(ctx context.Context, s ifaceSpec) error {
	i, err := a.db.Interface(ctx, s.name)
	if err != nil {
		return err
	}
	if i == nil {
		return agents.Errorf(agents.ErrGeneric, "interface %s vanished from OVSDB", s.name)
	}
	if err := ifaceHealth(i); err != nil {
		return err
	}
	link, err := a.nl.LinkByName(s.name)
	if err != nil {
		return agents.Errorf(agents.ErrGeneric, "internal device %s: %v (is ovs-vswitchd running in this network namespace?)", s.name, err)
	}
	if err := a.nl.LinkSetUp(link); err != nil {
		return agents.Errorf(agents.ErrGeneric, "setting %s up: %v", s.name, err)
	}
	for _, p := range s.addrs {
		addr := &netlink.Addr{IPNet: prefixNet(p)}
		if err := a.nl.AddrReplace(link, addr); err != nil {
			return agents.Errorf(agents.ErrGeneric, "adding address %s to %s: %v", p, s.name, err)
		}
	}
	return nil
}

func prefixNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

// Stop implements agents.Agent: it removes the internal port when it carries
// this resource's ownership mark; the device and its addresses go with it.
func (a *InterfaceAgent) Stop(ctx context.Context, r agents.Resource) error {
	s, err := parseIface(r.Params)
	if err != nil {
		return err
	}
	port, err := a.db.Port(ctx, s.name)
	if err != nil {
		return err
	}
	if port == nil || !owned(port.ExternalIDs, r.ID) {
		return nil
	}
	br, err := a.db.bridgeOfPort(ctx, port.UUID)
	if err != nil {
		return err
	}
	if br == nil {
		return nil
	}
	ops := []ovsdb.Operation{ownedWait(vswitch.PortTable, port.UUID, s.name, r.ID),
		setRef(vswitch.BridgeTable, br.UUID, "ports", ovsdb.MutateOperationDelete, port.UUID)}
	if err := a.db.apply(ctx, "deleting interface "+s.name, ops); err != nil {
		return err
	}
	a.log.Info("stopped", "resource", r.ID, "interface", s.name)
	return nil
}

// Monitor implements agents.Agent: the port must be present, the device up
// and every configured address on it.
func (a *InterfaceAgent) Monitor(ctx context.Context, r agents.Resource) error {
	s, err := parseIface(r.Params)
	if err != nil {
		return err
	}
	if err := a.db.ready(); err != nil {
		return agents.Errorf(agents.ErrGeneric, "monitoring interface %s: %v", s.name, err)
	}
	port, err := a.db.Port(ctx, s.name)
	if err != nil {
		return err
	}
	if port == nil || !owned(port.ExternalIDs, r.ID) {
		return agents.Errorf(agents.NotRunning, "interface %s is not present (or not owned by %s)", s.name, r.ID)
	}
	i, err := a.db.Interface(ctx, s.name)
	if err != nil {
		return err
	}
	if i == nil {
		return agents.Errorf(agents.ErrGeneric, "port %s has no interface %s", s.name, s.name)
	}
	if err := ifaceHealth(i); err != nil {
		return err
	}
	link, err := a.nl.LinkByName(s.name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return agents.Errorf(agents.ErrGeneric, "internal device %s is missing", s.name)
		}
		return agents.Errorf(agents.ErrGeneric, "reading device %s: %v", s.name, err)
	}
	if link.Attrs().Flags&net.FlagUp == 0 {
		return agents.Errorf(agents.ErrGeneric, "device %s is down", s.name)
	}
	have, err := a.nl.AddrList(link, netlink.FAMILY_ALL)
	if err != nil {
		return agents.Errorf(agents.ErrGeneric, "listing addresses of %s: %v", s.name, err)
	}
	for _, p := range s.addrs {
		found := false
		for _, h := range have {
			if hp, ok := netip.AddrFromSlice(h.IP); ok {
				ones, _ := h.Mask.Size()
				if netip.PrefixFrom(hp.Unmap(), ones) == p {
					found = true
					break
				}
			}
		}
		if !found {
			return agents.Errorf(agents.ErrGeneric, "address %s is missing on %s", p, s.name)
		}
	}
	return nil
}
