package ovs

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/ovn-org/libovsdb/model"
	"github.com/ovn-org/libovsdb/ovsdb"

	"github.com/ovsha/ovsha/agents"
	"github.com/ovsha/ovsha/ovs/vswitch"
)

// BridgeAgent is the "ovs-bridge" agent: one OVS bridge with its local
// internal port and interface, all marked as owned by the resource.
type BridgeAgent struct {
	db  *Client
	log *slog.Logger
}

// NewBridgeAgent returns the ovs-bridge agent working through db.
func NewBridgeAgent(db *Client, log *slog.Logger) *BridgeAgent {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &BridgeAgent{db: db, log: log.With("component", "ovs-bridge")}
}

var bridgeParams = []agents.ParamSpec{
	{Name: "bridge_name", Type: "string", Required: true, Unique: true, ShortDesc: "bridge name (1-15 characters)",
		LongDesc: "Name of the OVS bridge; its local internal port and interface get the same name."},
	{Name: "datapath_type", Type: "string", Default: "system", ShortDesc: "datapath: system (kernel) or netdev (userspace)"},
	{Name: "fail_mode", Type: "string", ShortDesc: "standalone or secure (empty: OVS default, standalone)"},
	{Name: "stp", Type: "boolean", Default: "false", ShortDesc: "enable 802.1D spanning tree"},
	{Name: "other_config", Type: "string", ShortDesc: "other_config key=value pairs, comma separated (e.g. hwaddr=02:00:00:00:00:01)"},
	{Name: "external_ids", Type: "string", ShortDesc: "external_ids key=value pairs, comma separated"},
}

// Metadata implements agents.Agent.
func (a *BridgeAgent) Metadata() agents.Metadata {
	return agents.Metadata{
		Name:      "ovs-bridge",
		Version:   Version,
		ShortDesc: "Open vSwitch bridge",
		LongDesc: "Creates an OVS bridge through OVSDB and removes it on stop. Rows it creates carry " +
			"external_ids:" + OwnerKey + "=<resource id>; a same-named bridge without that mark is never touched.",
		Params:  bridgeParams,
		Actions: standardActions(),
	}
}

type bridgeSpec struct {
	name        string
	datapath    string
	failMode    string
	stp         bool
	otherConfig map[string]string
	externalIDs map[string]string
}

func parseBridge(p agents.Params) (bridgeSpec, error) {
	var s bridgeSpec
	if err := checkKnown(p, bridgeParams); err != nil {
		return s, err
	}
	var err error
	if s.name, err = ifName("bridge_name", p["bridge_name"]); err != nil {
		return s, err
	}
	if s.datapath, err = oneOf("datapath_type", p["datapath_type"], "system", "system", "netdev"); err != nil {
		return s, err
	}
	if s.failMode, err = oneOf("fail_mode", p["fail_mode"], "", "standalone", "secure"); err != nil {
		return s, err
	}
	if s.stp, err = boolParam("stp", p["stp"], false); err != nil {
		return s, err
	}
	if s.otherConfig, err = keyValues("other_config", p["other_config"]); err != nil {
		return s, err
	}
	if s.externalIDs, err = keyValues("external_ids", p["external_ids"]); err != nil {
		return s, err
	}
	if _, ok := s.externalIDs[OwnerKey]; ok {
		return s, badParam("external_ids", p["external_ids"], "key=value pairs without the reserved key "+OwnerKey)
	}
	return s, nil
}

// Validate implements agents.Agent. It only parses parameters.
func (a *BridgeAgent) Validate(_ context.Context, p agents.Params) error {
	_, err := parseBridge(p)
	return err
}

// Start implements agents.Agent.
func (a *BridgeAgent) Start(ctx context.Context, r agents.Resource) error {
	s, err := parseBridge(r.Params)
	if err != nil {
		return err
	}
	br, err := a.db.Bridge(ctx, s.name)
	if err != nil {
		return err
	}
	if br != nil {
		if !owned(br.ExternalIDs, r.ID) {
			return agents.Errorf(agents.ErrGeneric, "bridge %s exists but is not owned by resource %s (external_ids:%s=%q): delete it or set that key to adopt it",
				s.name, r.ID, OwnerKey, br.ExternalIDs[OwnerKey])
		}
		if err := a.reconcile(ctx, r.ID, br, s); err != nil {
			return err
		}
	} else if err := a.create(ctx, r.ID, s); err != nil {
		return err
	}
	if err := a.health(ctx, s.name); err != nil {
		if s.datapath == "system" {
			err = agents.Errorf(agents.ErrGeneric, "%v: datapath_type=system needs the openvswitch kernel module (use netdev for the userspace datapath)", err)
		}
		if br == nil {
			// Created just now and unusable: leave nothing behind.
			if serr := a.Stop(ctx, r); serr != nil {
				a.log.Warn("rolling back bridge", "bridge", s.name, "err", serr)
			}
		}
		return err
	}
	a.log.Info("started", "resource", r.ID, "bridge", s.name)
	return nil
}

func (a *BridgeAgent) create(ctx context.Context, id string, s bridgeSpec) error {
	own := map[string]string{OwnerKey: id}
	iface := &vswitch.Interface{UUID: "ovshaIface", Name: s.name, Type: "internal", ExternalIDs: own}
	port := &vswitch.Port{UUID: "ovshaPort", Name: s.name, Interfaces: []string{iface.UUID}, ExternalIDs: own}
	br := &vswitch.Bridge{UUID: "ovshaBridge", Name: s.name, DatapathType: s.datapath, STPEnable: s.stp,
		Ports: []string{port.UUID}, OtherConfig: s.otherConfig, ExternalIDs: withOwner(s.externalIDs, id)}
	if s.failMode != "" {
		fm := s.failMode
		br.FailMode = &fm
	}
	ops := []ovsdb.Operation{absentWait(vswitch.BridgeTable, s.name), absentWait(vswitch.PortTable, s.name),
		absentWait(vswitch.InterfaceTable, s.name)}
	create, err := a.db.db.Create(iface, port, br)
	if err != nil {
		return fmt.Errorf("building bridge %s: %w", s.name, err)
	}
	ops = append(ops, create...)
	root, err := a.db.root(ctx)
	if err != nil {
		return err
	}
	link, err := a.db.db.Where(root).Mutate(root, model.Mutation{Field: &root.Bridges, Mutator: ovsdb.MutateOperationInsert, Value: []string{br.UUID}})
	if err != nil {
		return fmt.Errorf("building bridge %s: %w", s.name, err)
	}
	ops = append(ops, link...)
	return a.db.apply(ctx, "creating bridge "+s.name, ops)
}

// reconcile makes an owned bridge match s, changing only what differs.
func (a *BridgeAgent) reconcile(ctx context.Context, id string, br *vswitch.Bridge, s bridgeSpec) error {
	var ops []ovsdb.Operation
	row := ovsdb.Row{}
	if br.DatapathType != s.datapath {
		row["datapath_type"] = s.datapath
	}
	if br.STPEnable != s.stp {
		row["stp_enable"] = s.stp
	}
	cur := ""
	if br.FailMode != nil {
		cur = *br.FailMode
	}
	if s.failMode != "" && cur != s.failMode {
		row["fail_mode"] = ovsdb.OvsSet{GoSet: []interface{}{s.failMode}}
	}
	if len(row) > 0 {
		ops = append(ops, ovsdb.Operation{Op: ovsdb.OperationUpdate, Table: vswitch.BridgeTable, Row: row,
			Where: []ovsdb.Condition{ovsdb.NewCondition("_uuid", ovsdb.ConditionEqual, ovsdb.UUID{GoUUID: br.UUID})}})
	}
	if !mapHas(br.OtherConfig, s.otherConfig) {
		ops = append(ops, setMapKeys(vswitch.BridgeTable, br.UUID, "other_config", s.otherConfig)...)
	}
	if !mapHas(br.ExternalIDs, s.externalIDs) {
		ops = append(ops, setMapKeys(vswitch.BridgeTable, br.UUID, "external_ids", s.externalIDs)...)
	}
	if len(ops) == 0 {
		return nil
	}
	ops = append([]ovsdb.Operation{ownedWait(vswitch.BridgeTable, br.UUID, s.name, id)}, ops...)
	return a.db.apply(ctx, "updating bridge "+s.name, ops)
}

// health checks the bridge's local interface as ovs-vswitchd reports it.
func (a *BridgeAgent) health(ctx context.Context, name string) error {
	i, err := a.db.Interface(ctx, name)
	if err != nil {
		return err
	}
	if i == nil {
		return agents.Errorf(agents.ErrGeneric, "bridge %s has no local interface %s", name, name)
	}
	return ifaceHealth(i)
}

func ifaceHealth(i *vswitch.Interface) error {
	if i.Error != nil && *i.Error != "" {
		return agents.Errorf(agents.ErrGeneric, "interface %s: ovs-vswitchd reports: %s", i.Name, *i.Error)
	}
	if i.Ofport == nil || *i.Ofport < 0 {
		return agents.Errorf(agents.ErrGeneric, "interface %s has no OpenFlow port (ovs-vswitchd could not open it)", i.Name)
	}
	return nil
}

// Stop implements agents.Agent: it removes the bridge only when it carries
// this resource's ownership mark.
func (a *BridgeAgent) Stop(ctx context.Context, r agents.Resource) error {
	s, err := parseBridge(r.Params)
	if err != nil {
		return err
	}
	br, err := a.db.Bridge(ctx, s.name)
	if err != nil {
		return err
	}
	if br == nil || !owned(br.ExternalIDs, r.ID) {
		return nil
	}
	root, err := a.db.root(ctx)
	if err != nil {
		return err
	}
	ops := []ovsdb.Operation{ownedWait(vswitch.BridgeTable, br.UUID, s.name, r.ID),
		setRef(vswitch.OpenvSwitchTable, root.UUID, "bridges", ovsdb.MutateOperationDelete, br.UUID)}
	if err := a.db.apply(ctx, "deleting bridge "+s.name, ops); err != nil {
		return err
	}
	a.log.Info("stopped", "resource", r.ID, "bridge", s.name)
	return nil
}

// Monitor implements agents.Agent.
func (a *BridgeAgent) Monitor(ctx context.Context, r agents.Resource) error {
	s, err := parseBridge(r.Params)
	if err != nil {
		return err
	}
	if err := a.db.ready(); err != nil {
		return agents.Errorf(agents.ErrGeneric, "monitoring bridge %s: %v", s.name, err)
	}
	br, err := a.db.Bridge(ctx, s.name)
	if err != nil {
		return err
	}
	if br == nil || !owned(br.ExternalIDs, r.ID) {
		return agents.Errorf(agents.NotRunning, "bridge %s is not present (or not owned by %s)", s.name, r.ID)
	}
	return a.health(ctx, s.name)
}
