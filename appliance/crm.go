package appliance

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/ovsha/ovsha/agents"
	"github.com/ovsha/ovsha/agents/builtin"
	"github.com/ovsha/ovsha/cluster/crm"
	"github.com/ovsha/ovsha/cluster/membership"
	"github.com/ovsha/ovsha/cluster/totem"
	"github.com/ovsha/ovsha/ovs"
	"github.com/ovsha/ovsha/vip"
)

// Environment variables that override where external agents are found
// when the matching Options field is empty (the lab and the integration
// tests start ovshad with fixed flags).
const (
	EnvOCFRoot  = "OVSHA_OCF_ROOT"
	EnvFenceDir = "OVSHA_FENCE_DIR"
	// EnvOVSDB is the OVSDB remote of the built-in OVS agents (default
	// ovs.DefaultEndpoint); the lab points each node at its own
	// ovsdb-server with it.
	EnvOVSDB = "OVSHA_OVSDB"
)

// CIBFile is the CIB's file name in the state directory.
const CIBFile = "cib.xml"

// crmService is the resource manager wired into the appliance.
type crmService struct {
	crm      *crm.CRM
	registry *agents.Registry
	closers  []func()
}

// newRegistry builds the agent registry: OCF/LSB/systemd/fence runners
// and the built-in agents. Without a reachable ovsdb-server the OVS agents
// are left out (logged) and only vip is registered.
func (a *Appliance) newRegistry(ctx context.Context) (*agents.Registry, []func()) {
	log := a.opts.Logger
	opts := agents.RegistryOptions{Logger: log, OCFRoot: a.opts.OCFRoot, FenceDir: a.opts.FenceDir}
	if opts.OCFRoot == "" {
		opts.OCFRoot = os.Getenv(EnvOCFRoot)
	}
	if opts.FenceDir == "" {
		opts.FenceDir = os.Getenv(EnvFenceDir)
	}
	reg := agents.NewRegistry(opts)
	var closers []func()
	nl, err := netlink.NewHandle()
	if err != nil {
		a.log.Warn("no netlink handle: built-in agents not registered", "reason", err)
		return reg, nil
	}
	closers = append(closers, nl.Close)
	dctx, cancel := context.WithTimeout(ctx, time.Second)
	db, err := ovs.Dial(dctx, ovs.Config{Logger: log, Endpoint: os.Getenv(EnvOVSDB)})
	cancel()
	if err == nil {
		closers = append(closers, db.Close)
		stop, err := builtin.Register(reg, builtin.Deps{OVSDB: db, Netlink: nl, Logger: log})
		if err == nil {
			return reg, append(closers, stop)
		}
		a.log.Warn("built-in agents not registered", "reason", err)
		return reg, closers
	}
	a.log.Info("no ovsdb-server reachable: OVS agents not registered (vip only)", "endpoint", cmp.Or(os.Getenv(EnvOVSDB), ovs.DefaultEndpoint), "reason", err)
	v, err := vip.New(vip.Config{Netlink: nl, Logger: log})
	if err != nil {
		a.log.Warn("vip agent not registered", "reason", err)
		return reg, closers
	}
	closers = append(closers, v.Close)
	if err := reg.Register("vip", v, "ocf:heartbeat:IPaddr2", "ocf:ovsha:vip"); err != nil {
		a.log.Warn("vip agent not registered", "reason", err)
	}
	return reg, closers
}

// startCRM creates the resource manager over the membership runtime and
// runs it until the returned stop is called.
func (a *Appliance) startCRM(ctx context.Context, rt *membership.Runtime) (stop func(), err error) {
	reg, closers := a.newRegistry(ctx)
	nodes := make([]crm.Node, 0, len(a.nodes))
	for _, n := range a.nodes {
		nodes = append(nodes, crm.Node{ID: n.ID, Name: n.Name})
	}
	c, err := crm.New(ctx, crm.Config{
		Local:        crm.Node{ID: a.local.ID, Name: nodeName(a.local)},
		Nodes:        nodes,
		Ring:         rt,
		Service:      ServiceCRM,
		Agents:       reg,
		CIBPath:      filepath.Join(a.opts.StateDir, CIBFile),
		Quorate:      func() bool { s, _ := a.quorum.status(); return s.Quorate },
		TokenTimeout: a.engine.Token,
		Logger:       a.opts.Logger.With("node", nodeName(a.local)),
	})
	if err != nil {
		for _, f := range closers {
			f()
		}
		return nil, fmt.Errorf("starting the resource manager: %w", err)
	}
	a.crm = &crmService{crm: c, registry: reg, closers: closers}
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(cctx) }()
	return func() {
		cancel()
		<-done
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}, nil
}

// crmEvent hands a CRM delivery or a regular configuration to the CRM.
func (a *Appliance) crmEvent(ev totem.Event) {
	if a.crm != nil {
		a.crm.crm.HandleEvent(ev)
	}
}

// crmQuorumChanged tells the CRM to re-read the quorum state.
func (a *Appliance) crmQuorumChanged() {
	if a.crm != nil {
		a.crm.crm.QuorumChanged()
	}
}

// crmShutdown moves this node's resources away before it leaves the ring.
func (a *Appliance) crmShutdown(ctx context.Context) {
	if a.crm != nil {
		a.crm.crm.Shutdown(ctx)
	}
}

const crmShutdownTimeout = 10 * time.Second
