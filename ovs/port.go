package ovs

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ovn-org/libovsdb/ovsdb"

	"github.com/ovsha/ovsha/agents"
	"github.com/ovsha/ovsha/ovs/vswitch"
)

// PortAgent is the "ovs-port" agent: a port of one system interface, or a
// bond of two or more, on an existing bridge.
type PortAgent struct {
	db    *Client
	bonds BondReader
	log   *slog.Logger
}

// NewPortAgent returns the ovs-port agent. bonds reads bond member state for
// monitor (normally Appctl{}); nil skips bond health.
func NewPortAgent(db *Client, bonds BondReader, log *slog.Logger) *PortAgent {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &PortAgent{db: db, bonds: bonds, log: log.With("component", "ovs-port")}
}

var portParams = []agents.ParamSpec{
	{Name: "bridge_name", Type: "string", Required: true, ShortDesc: "bridge the port belongs to"},
	{Name: "port_name", Type: "string", Required: true, Unique: true, ShortDesc: "port name (1-15 characters)"},
	{Name: "interfaces", Type: "string", ShortDesc: "member interfaces, comma separated; two or more make a bond (default: port_name)"},
	{Name: "bond_mode", Type: "string", ShortDesc: "active-backup, balance-slb or balance-tcp (bonds only; OVS default active-backup)"},
	{Name: "lacp", Type: "string", ShortDesc: "off, active or passive (bonds only)"},
	{Name: "bond_updelay", Type: "integer", Default: "0", ShortDesc: "milliseconds a member's link must be up before it is enabled"},
	{Name: "bond_downdelay", Type: "integer", Default: "0", ShortDesc: "milliseconds a member's link must be down before it is disabled"},
	{Name: "other_config", Type: "string", ShortDesc: "port other_config key=value pairs, comma separated (e.g. bond-detect-mode=miimon,lacp-time=fast)"},
	{Name: "tag", Type: "integer", ShortDesc: "access VLAN (0-4095)"},
	{Name: "trunks", Type: "string", ShortDesc: "trunked VLANs, comma separated"},
}

// Metadata implements agents.Agent.
func (a *PortAgent) Metadata() agents.Metadata {
	return agents.Metadata{
		Name:      "ovs-port",
		Version:   Version,
		ShortDesc: "Open vSwitch port or bond",
		LongDesc: "Adds a port (a bond when it has two or more interfaces) to a bridge and removes it on stop. " +
			"For bonds, monitor publishes the node attributes " + BondAttribute("<port_name>") + " (healthy, degraded or down) and " +
			BondAttribute("<port_name>") + "-up (number of enabled members); monitor succeeds even when the bond is down, " +
			"so location rules on those attributes decide where resources go.",
		Params:  portParams,
		Actions: standardActions(),
	}
}

type portSpec struct {
	bridge      string
	name        string
	interfaces  []string
	bondMode    string
	lacp        string
	updelay     int
	downdelay   int
	otherConfig map[string]string
	tag         *int
	trunks      []int
}

func (s portSpec) bond() bool { return len(s.interfaces) > 1 }

func parsePort(p agents.Params) (portSpec, error) {
	var s portSpec
	if err := checkKnown(p, portParams); err != nil {
		return s, err
	}
	var err error
	if s.bridge, err = ifName("bridge_name", p["bridge_name"]); err != nil {
		return s, err
	}
	if s.name, err = ifName("port_name", p["port_name"]); err != nil {
		return s, err
	}
	s.interfaces = list(p["interfaces"])
	if len(s.interfaces) == 0 {
		s.interfaces = []string{s.name}
	}
	seen := map[string]bool{}
	for _, i := range s.interfaces {
		if _, err := ifName("interfaces", i); err != nil {
			return s, badParam("interfaces", p["interfaces"], "interface names of 1 to 15 characters, comma separated")
		}
		if seen[i] {
			return s, badParam("interfaces", p["interfaces"], "distinct interface names ("+i+" is repeated)")
		}
		if i == s.bridge {
			return s, badParam("interfaces", p["interfaces"], "interfaces other than the bridge's own "+s.bridge)
		}
		seen[i] = true
	}
	if s.bondMode, err = oneOf("bond_mode", p["bond_mode"], "", vswitch.PortBondModeActiveBackup, vswitch.PortBondModeBalanceSLB, vswitch.PortBondModeBalanceTCP); err != nil {
		return s, err
	}
	if s.lacp, err = oneOf("lacp", p["lacp"], "", vswitch.PortLACPOff, vswitch.PortLACPActive, vswitch.PortLACPPassive); err != nil {
		return s, err
	}
	if !s.bond() && (s.bondMode != "" || (s.lacp != "" && s.lacp != vswitch.PortLACPOff)) {
		return s, agents.Errorf(agents.ErrConfigured, "parameters bond_mode and lacp need two or more interfaces in parameter interfaces (have %q)", strings.Join(s.interfaces, ","))
	}
	if s.updelay, err = intParam("bond_updelay", p["bond_updelay"], 0, 0, 1<<30); err != nil {
		return s, err
	}
	if s.downdelay, err = intParam("bond_downdelay", p["bond_downdelay"], 0, 0, 1<<30); err != nil {
		return s, err
	}
	if s.otherConfig, err = keyValues("other_config", p["other_config"]); err != nil {
		return s, err
	}
	if v := strings.TrimSpace(p["tag"]); v != "" {
		t, err := intParam("tag", v, 0, 0, 4095)
		if err != nil {
			return s, err
		}
		s.tag = &t
	}
	for _, v := range list(p["trunks"]) {
		t, err := strconv.Atoi(v)
		if err != nil || t < 0 || t > 4095 {
			return s, badParam("trunks", p["trunks"], "VLAN ids from 0 to 4095, comma separated")
		}
		s.trunks = append(s.trunks, t)
	}
	slices.Sort(s.trunks)
	return s, nil
}

// Validate implements agents.Agent. It only parses parameters.
func (a *PortAgent) Validate(_ context.Context, p agents.Params) error {
	_, err := parsePort(p)
	return err
}

func optString(v string) *string {
	if v == "" {
		return nil
	}
	return &v
}

// Start implements agents.Agent.
func (a *PortAgent) Start(ctx context.Context, r agents.Resource) error {
	s, err := parsePort(r.Params)
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
		for _, name := range s.interfaces {
			i, err := a.db.Interface(ctx, name)
			if err != nil {
				return err
			}
			if i != nil {
				return agents.Errorf(agents.ErrGeneric, "interface %s (parameter interfaces) is already used by another port", name)
			}
		}
		if err := a.create(ctx, r.ID, br, s); err != nil {
			return err
		}
		created = true
	}
	if err := a.health(ctx, s); err != nil {
		if created {
			if serr := a.Stop(ctx, r); serr != nil {
				a.log.Warn("rolling back port", "port", s.name, "err", serr)
			}
		}
		return err
	}
	if s.bond() {
		a.awaitMemberUp(ctx, s)
	}
	a.log.Info("started", "resource", r.ID, "port", s.name, "interfaces", s.interfaces)
	return nil
}

// bondReadyWait bounds how long Start waits for a new bond's members to
// come up.
const bondReadyWait = 150 * time.Millisecond

// awaitMemberUp waits (up to bondReadyWait) until ovs-vswitchd reports at
// least one member of the bond with link state up (OVSDB, an event).
// Right after the port is created its members are briefly "link state
// down": a VIP started on top announces itself into a bond that drops the
// announcement. A bond whose members stay down is not a start failure:
// its monitor reports it down.
func (a *PortAgent) awaitMemberUp(ctx context.Context, s portSpec) {
	wctx, cancel := context.WithTimeout(ctx, bondReadyWait)
	defer cancel()
	err := a.db.WaitFor(wctx, func() (bool, error) {
		for _, name := range s.interfaces {
			i, err := a.db.Interface(wctx, name)
			if err != nil {
				return false, err
			}
			if i != nil && i.LinkState != nil && *i.LinkState == vswitch.InterfaceLinkStateUp {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		a.log.Warn("no bond member is up yet", "port", s.name, "waited", bondReadyWait, "reason", err)
	}
}

func (a *PortAgent) create(ctx context.Context, id string, br *vswitch.Bridge, s portSpec) error {
	own := map[string]string{OwnerKey: id}
	ops := []ovsdb.Operation{
		ownedOrAnyBridge(br),
		absentWait(vswitch.PortTable, s.name),
	}
	var models []vswitch.Interface
	var refs []string
	for n, name := range s.interfaces {
		ref := fmt.Sprintf("ovshaIf%d", n)
		models = append(models, vswitch.Interface{UUID: ref, Name: name, ExternalIDs: own})
		refs = append(refs, ref)
		ops = append(ops, absentWait(vswitch.InterfaceTable, name))
	}
	port := &vswitch.Port{UUID: "ovshaPort", Name: s.name, Interfaces: refs, ExternalIDs: own,
		BondMode: optString(s.bondMode), LACP: optString(s.lacp), BondUpdelay: s.updelay, BondDowndelay: s.downdelay,
		OtherConfig: s.otherConfig, Tag: s.tag, Trunks: s.trunks}
	for i := range models {
		op, err := a.db.db.Create(&models[i])
		if err != nil {
			return fmt.Errorf("building interface %s: %w", models[i].Name, err)
		}
		ops = append(ops, op...)
	}
	op, err := a.db.db.Create(port)
	if err != nil {
		return fmt.Errorf("building port %s: %w", s.name, err)
	}
	ops = append(ops, op...)
	ops = append(ops, setRef(vswitch.BridgeTable, br.UUID, "ports", ovsdb.MutateOperationInsert, port.UUID))
	return a.db.apply(ctx, "creating port "+s.name, ops)
}

// ownedOrAnyBridge is a wait that fails unless bridge br still exists under
// its name (ports may be added to bridges of any owner).
func ownedOrAnyBridge(br *vswitch.Bridge) ovsdb.Operation {
	return ovsdb.Operation{
		Op:      ovsdb.OperationWait,
		Table:   vswitch.BridgeTable,
		Where:   []ovsdb.Condition{ovsdb.NewCondition("_uuid", ovsdb.ConditionEqual, ovsdb.UUID{GoUUID: br.UUID})},
		Until:   string(ovsdb.WaitConditionEqual),
		Columns: []string{"name"},
		Rows:    []ovsdb.Row{{"name": br.Name}},
		Timeout: &zeroTimeout,
	}
}

func optSet[T comparable](v *T) ovsdb.OvsSet {
	if v == nil {
		return ovsdb.OvsSet{GoSet: []interface{}{}}
	}
	return ovsdb.OvsSet{GoSet: []interface{}{*v}}
}

func eqPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// reconcile makes an owned port's settings match s. A different interface
// set is not changed in place: that needs a stop and start.
func (a *PortAgent) reconcile(ctx context.Context, id string, port *vswitch.Port, s portSpec) error {
	var have []string
	for _, u := range port.Interfaces {
		i, err := a.db.interfaceByUUID(ctx, u)
		if err != nil {
			return err
		}
		if i != nil {
			have = append(have, i.Name)
		}
	}
	want := slices.Clone(s.interfaces)
	slices.Sort(have)
	slices.Sort(want)
	if !slices.Equal(have, want) {
		return agents.Errorf(agents.ErrGeneric, "port %s has interfaces %s, parameter interfaces says %s: stop and start the resource to change members",
			s.name, strings.Join(have, ","), strings.Join(want, ","))
	}
	row := ovsdb.Row{}
	if !eqPtr(port.BondMode, optString(s.bondMode)) {
		row["bond_mode"] = optSet(optString(s.bondMode))
	}
	if !eqPtr(port.LACP, optString(s.lacp)) {
		row["lacp"] = optSet(optString(s.lacp))
	}
	if port.BondUpdelay != s.updelay {
		row["bond_updelay"] = s.updelay
	}
	if port.BondDowndelay != s.downdelay {
		row["bond_downdelay"] = s.downdelay
	}
	if !eqPtr(port.Tag, s.tag) {
		row["tag"] = optSet(s.tag)
	}
	trunks := slices.Clone(port.Trunks)
	slices.Sort(trunks)
	if !slices.Equal(trunks, s.trunks) {
		set := make([]interface{}, len(s.trunks))
		for i, t := range s.trunks {
			set[i] = t
		}
		row["trunks"] = ovsdb.OvsSet{GoSet: set}
	}
	var ops []ovsdb.Operation
	if len(row) > 0 {
		ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationUpdate, Table: vswitch.PortTable, Row: row,
			Where: []ovsdb.Condition{ovsdb.NewCondition("_uuid", ovsdb.ConditionEqual, ovsdb.UUID{GoUUID: port.UUID})}})
	}
	if !mapHas(port.OtherConfig, s.otherConfig) {
		ops = append(ops, setMapKeys(vswitch.PortTable, port.UUID, "other_config", s.otherConfig)...)
	}
	if len(ops) == 0 {
		return nil
	}
	ops = append([]ovsdb.Operation{ownedWait(vswitch.PortTable, port.UUID, s.name, id)}, ops...)
	return a.db.apply(ctx, "updating port "+s.name, ops)
}

// health fails when no member interface is usable; it logs the ones that
// are not.
func (a *PortAgent) health(ctx context.Context, s portSpec) error {
	var bad []string
	for _, name := range s.interfaces {
		i, err := a.db.Interface(ctx, name)
		if err != nil {
			return err
		}
		if i == nil {
			bad = append(bad, name+": missing")
			continue
		}
		if err := ifaceHealth(i); err != nil {
			bad = append(bad, err.Error())
		}
	}
	if len(bad) == len(s.interfaces) {
		return agents.Errorf(agents.ErrGeneric, "port %s has no usable interface: %s", s.name, strings.Join(bad, "; "))
	}
	if len(bad) > 0 {
		a.log.Warn("port has unusable interfaces", "port", s.name, "reason", strings.Join(bad, "; "))
	}
	return nil
}

// Stop implements agents.Agent: it detaches the port from its bridge when it
// carries this resource's ownership mark (OVSDB then drops the port and its
// interfaces).
func (a *PortAgent) Stop(ctx context.Context, r agents.Resource) error {
	s, err := parsePort(r.Params)
	if err != nil {
		return err
	}
	if err := a.detach(ctx, r, s); err != nil {
		return err
	}
	if s.bond() {
		// The bond's health is this node's only while it runs here: a
		// stale "down" would keep rules such as the lab's uplink rule
		// banning the node for good.
		clearBond(r.SetNodeAttribute, s.name)
	}
	return nil
}

// detach removes the port from its bridge when this resource owns it.
func (a *PortAgent) detach(ctx context.Context, r agents.Resource, s portSpec) error {
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
		return nil // detached already; OVSDB collects it
	}
	ops := []ovsdb.Operation{ownedWait(vswitch.PortTable, port.UUID, s.name, r.ID),
		setRef(vswitch.BridgeTable, br.UUID, "ports", ovsdb.MutateOperationDelete, port.UUID)}
	if err := a.db.apply(ctx, "deleting port "+s.name, ops); err != nil {
		return err
	}
	a.log.Info("stopped", "resource", r.ID, "port", s.name)
	return nil
}

// Monitor implements agents.Agent. For a bond it also publishes bond health
// (see BondAttribute) through r.SetNodeAttribute.
func (a *PortAgent) Monitor(ctx context.Context, r agents.Resource) error {
	s, err := parsePort(r.Params)
	if err != nil {
		return err
	}
	if err := a.db.ready(); err != nil {
		return agents.Errorf(agents.ErrGeneric, "monitoring port %s: %v", s.name, err)
	}
	port, err := a.db.Port(ctx, s.name)
	if err != nil {
		return err
	}
	if port == nil || !owned(port.ExternalIDs, r.ID) {
		return agents.Errorf(agents.NotRunning, "port %s is not present (or not owned by %s)", s.name, r.ID)
	}
	br, err := a.db.bridgeOfPort(ctx, port.UUID)
	if err != nil {
		return err
	}
	if br == nil || br.Name != s.bridge {
		return agents.Errorf(agents.ErrGeneric, "port %s is not on bridge %s", s.name, s.bridge)
	}
	if err := a.health(ctx, s); err != nil {
		return err
	}
	if !s.bond() || a.bonds == nil {
		return nil
	}
	st, err := a.bonds.BondShow(ctx, s.name)
	if err != nil {
		return agents.Errorf(agents.ErrGeneric, "reading bond %s state: %v", s.name, err)
	}
	publishBond(r.SetNodeAttribute, s.name, st)
	a.log.Debug("bond state", "port", s.name, "health", st.Health(), "enabled", st.Enabled(), "active", st.Active())
	return nil
}
