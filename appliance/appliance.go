package appliance

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/ovsha/ovsha/cluster/config"
	"github.com/ovsha/ovsha/cluster/membership"
	"github.com/ovsha/ovsha/cluster/quorum"
	"github.com/ovsha/ovsha/cluster/totem"
	"github.com/ovsha/ovsha/cluster/totem/wire"
	"github.com/ovsha/ovsha/cluster/transport"
)

// Appliance is one ovshad: every component of this node, wired together.
// This file is the map of the system: New reads and checks everything that
// can be wrong before anything starts; Run starts the components in
// dependency order and stops them in reverse.
//
//	configuration (cluster/config)  → authkey (transport.ReadKey)
//	→ UDP transport (cluster/transport) → membership runtime around the
//	Totem engine (cluster/membership, cluster/totem) → votequorum fed from
//	every regular configuration (cluster/quorum) → resource manager
//	(cluster/crm with the agents registry; crm.go) → control API on the
//	unix socket (server.go, source.go, crmserver.go, controlapi.go).
type Appliance struct {
	log     *slog.Logger
	opts    Options
	cluster *config.Cluster
	local   config.Node
	key     []byte
	socket  string
	engine  totem.Config
	udp     transport.UDPConfig
	quorum  *quorumState
	nodes   []nodeInfo
	started time.Time
	ctl     *control    // cmap, votequorum messages, reload (control.go)
	crm     *crmService // resource manager (crm.go)
}

// New loads the configuration and the authkey and chooses the local node.
// Nothing is started; every error names the file or flag at fault.
func New(opts Options) (*Appliance, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.ConfigPath == "" {
		opts.ConfigPath = DefaultConfigPath
	}
	if opts.StateDir == "" {
		opts.StateDir = DefaultStateDir
	}
	c, err := config.Load(opts.ConfigPath)
	if err != nil {
		return nil, err
	}
	a := &Appliance{log: opts.Logger.With("component", "appliance"), opts: opts, cluster: c}
	for _, w := range c.Warnings {
		a.log.Warn("configuration", "file", opts.ConfigPath, "note", w)
	}
	if opts.LogLevel != nil && (c.Logging.Debug == "on" || c.Logging.Debug == "trace") {
		opts.LogLevel.Set(slog.LevelDebug)
	}
	if a.local, err = chooseLocal(c, opts); err != nil {
		return nil, err
	}
	eff := c.EffectiveTotem()
	if a.key, err = transport.ReadKey(eff.Keyfile); err != nil {
		return nil, fmt.Errorf("%s: totem.keyfile: %w", opts.ConfigPath, err)
	}
	a.socket = opts.Socket
	if a.socket == "" {
		a.socket = c.Ovsha.APISocket
	}
	ids := make([]totem.NodeID, 0, len(c.Nodes))
	for _, n := range c.Nodes {
		ids = append(ids, totem.NodeID(n.ID))
		a.nodes = append(a.nodes, nodeInfo{ID: n.ID, Name: nodeName(n), Votes: n.QuorumVotes})
	}
	slices.SortFunc(a.nodes, func(x, y nodeInfo) int { return int(x.ID) - int(y.ID) })
	a.engine = engineConfig(eff, totem.NodeID(a.local.ID), ids, opts.Logger)
	if a.udp, err = udpConfig(c, eff, a.local.ID, a.key, opts.Logger); err != nil {
		return nil, fmt.Errorf("%s: %w", opts.ConfigPath, err)
	}
	qc, err := quorumConfig(c)
	if err != nil {
		return nil, fmt.Errorf("%s: quorum: %w", opts.ConfigPath, err)
	}
	q, err := quorum.New(qc)
	if err != nil {
		return nil, fmt.Errorf("%s: quorum: %w", opts.ConfigPath, err)
	}
	a.quorum = &quorumState{q: q, start: time.Now()}
	if err := checkMetricsAddr(opts.MetricsAddr); err != nil {
		return nil, err
	}
	if a.ctl, err = newControl(a); err != nil {
		return nil, err
	}
	return a, nil
}

// LocalNode is the node this daemon runs as.
func (a *Appliance) LocalNode() (id uint32, name string) { return a.local.ID, nodeName(a.local) }

// Socket is the control API socket path in use.
func (a *Appliance) Socket() string { return a.socket }

func nodeName(n config.Node) string {
	if n.Name != "" {
		return n.Name
	}
	return "node" + strconv.FormatUint(uint64(n.ID), 10)
}

// chooseLocal picks the local node: --node-id, --name, else the node whose
// ringN_addr is one of this host's addresses.
func chooseLocal(c *config.Cluster, opts Options) (config.Node, error) {
	switch {
	case opts.NodeID != 0:
		n, ok := c.NodeByID(opts.NodeID)
		if !ok {
			return config.Node{}, fmt.Errorf("--node-id %d: no such node in the nodelist of %s", opts.NodeID, opts.ConfigPath)
		}
		if opts.NodeName != "" && n.Name != opts.NodeName {
			return config.Node{}, fmt.Errorf("--node-id %d and --name %s name different nodes in %s", opts.NodeID, opts.NodeName, opts.ConfigPath)
		}
		return n, nil
	case opts.NodeName != "":
		n, ok := c.NodeByName(opts.NodeName)
		if !ok {
			return config.Node{}, fmt.Errorf("--name %s: no such node in the nodelist of %s", opts.NodeName, opts.ConfigPath)
		}
		return n, nil
	}
	addrs, err := localAddrs()
	if err != nil {
		return config.Node{}, err
	}
	n, err := c.LocalNode(addrs)
	if err != nil {
		return config.Node{}, fmt.Errorf("%w (or choose the node with --node-id or --name)", err)
	}
	return n, nil
}

func localAddrs() ([]netip.Addr, error) {
	ifas, err := net.InterfaceAddrs()
	if err != nil {
		return nil, fmt.Errorf("listing local addresses: %w", err)
	}
	var out []netip.Addr
	for _, ifa := range ifas {
		if p, err := netip.ParsePrefix(ifa.String()); err == nil {
			out = append(out, p.Addr())
		}
	}
	return out, nil
}

// maxFrame is totem.Config.MaxFrame (fragment bytes per frame, fragment
// headers included) for a network MTU: the MTU less the IPv6 and UDP
// headers (48 bytes, the larger family), the transport's header and tag,
// the frame's fixed fields, and room for the frame to be re-broadcast
// encapsulated during recovery.
func maxFrame(netmtu int) int {
	n := netmtu - 48 - transport.Overhead - wire.FrameOverhead - wire.EncapOverhead
	return max(n, 64)
}

func engineConfig(e config.Totem, id totem.NodeID, ids []totem.NodeID, log *slog.Logger) totem.Config {
	tc := totem.DefaultConfig(id, ids)
	tc.Token = e.Token
	tc.TokenRetransmit = e.TokenRetransmit
	tc.Hold = e.Hold
	tc.Join = e.Join
	tc.Consensus = e.Consensus
	tc.Merge = e.Merge
	tc.SendJoin = e.SendJoin
	tc.FailRecvConst = e.FailRecvConst
	tc.SeqnoUnchangedConst = e.SeqnoUnchangedConst
	tc.MaxMessages = e.MaxMessages
	tc.WindowSize = e.WindowSize
	tc.StallThreshold = e.StallThreshold
	tc.MaxFrame = maxFrame(e.NetMTU)
	// Ring ids must never repeat across restarts of this node (corosync
	// persists its ring id for the same reason); the wall clock at start,
	// in milliseconds, grows across restarts.
	tc.InitialRingSeq = uint64(time.Now().UnixMilli())
	var seed [16]byte
	_, _ = rand.Read(seed[:]) // crypto/rand.Read never fails on Linux
	tc.Rand = mrand.New(mrand.NewPCG(binary.LittleEndian.Uint64(seed[:8]), binary.LittleEndian.Uint64(seed[8:])))
	tc.Logger = log
	return tc
}

func udpConfig(c *config.Cluster, e config.Totem, local uint32, key []byte, log *slog.Logger) (transport.UDPConfig, error) {
	ports := map[int]uint16{}
	for _, ifc := range e.Interfaces {
		ports[ifc.LinkNumber] = ifc.Port
	}
	var peers []transport.Peer
	for _, n := range c.Nodes {
		p := transport.Peer{ID: transport.NodeID(n.ID)}
		for k, a := range n.Addrs {
			if !a.IsValid() {
				continue
			}
			if k >= transport.MaxLinks {
				return transport.UDPConfig{}, fmt.Errorf("nodelist: node %d: ring%d_addr: at most %d links", n.ID, k, transport.MaxLinks)
			}
			port, ok := ports[k]
			if !ok {
				port = config.DefaultPort
			}
			p.Addrs[k] = netip.AddrPortFrom(a, port)
		}
		peers = append(peers, p)
	}
	return transport.UDPConfig{
		ClusterName:       e.ClusterName,
		Key:               key,
		Local:             transport.NodeID(local),
		Peers:             peers,
		HeartbeatInterval: e.HeartbeatInterval,
		LinkTimeout:       e.LinkTimeout,
		Logger:            log,
	}, nil
}

func quorumConfig(c *config.Cluster) (quorum.Config, error) {
	q := c.Quorum
	qc := quorum.Config{
		Votes:                 make(map[quorum.NodeID]uint32, len(c.Nodes)),
		ExpectedVotes:         q.ExpectedVotes,
		TwoNode:               q.TwoNode,
		LastManStanding:       q.LastManStanding,
		LastManStandingWindow: q.LastManStandingWindow,
		AutoTieBreaker:        q.AutoTieBreaker,
		AllowDownscale:        q.AllowDownscale,
	}
	for _, n := range c.Nodes {
		qc.Votes[quorum.NodeID(n.ID)] = n.QuorumVotes
	}
	// config.Quorum.WaitForAll defaults to TwoNode, so "false with
	// two_node" can only mean an explicit wait_for_all: 0.
	switch {
	case q.WaitForAll:
		qc.WaitForAll = quorum.On
	case q.TwoNode:
		qc.WaitForAll = quorum.Off
	}
	if q.AutoTieBreaker {
		switch q.AutoTieBreakerNode {
		case "", "lowest":
			qc.TieBreaker = quorum.TieBreaker{Mode: quorum.TieBreakLowest}
		case "highest":
			qc.TieBreaker = quorum.TieBreaker{Mode: quorum.TieBreakHighest}
		default:
			qc.TieBreaker = quorum.TieBreaker{Mode: quorum.TieBreakList, Nodes: slices.Clone(q.AutoTieBreakerNodes)}
		}
	}
	return qc, nil
}

// Run starts the components and serves until ctx ends, then leaves the
// ring gracefully and stops everything in reverse order. It returns nil
// after a clean shutdown.
func (a *Appliance) Run(ctx context.Context) error {
	a.started = time.Now()
	if err := os.MkdirAll(a.opts.StateDir, 0o750); err != nil {
		return fmt.Errorf("creating state directory: %w", err)
	}
	tr, err := transport.NewUDP(a.udp)
	if err != nil {
		return fmt.Errorf("starting UDP transport: %w", err)
	}
	defer tr.Close()
	rt, err := membership.New(membership.Config{Engine: a.engine, Transport: tr, Logger: a.opts.Logger})
	if err != nil {
		return err
	}
	ln, err := ListenControl(ctx, a.socket)
	if err != nil {
		return err
	}
	a.chgrp()
	src := &source{
		clusterName: a.cluster.Totem.ClusterName, local: nodeInfo{ID: a.local.ID, Name: nodeName(a.local)},
		nodes: a.nodes, startedAt: a.started, rt: rt, tr: tr, quorum: a.quorum,
	}

	runCtx, stopRuntime := context.WithCancel(context.Background())
	defer stopRuntime()
	rtErr := make(chan error, 1)
	go func() { rtErr <- rt.Run(runCtx) }()
	stopControl, err := a.startControl(runCtx, rt, tr)
	if err != nil {
		stopRuntime()
		<-rtErr
		ln.Close()
		return err
	}
	stopCRM, err := a.startCRM(runCtx, rt)
	if err != nil {
		stopRuntime()
		stopControl()
		<-rtErr
		ln.Close()
		return err
	}

	var wg sync.WaitGroup
	wg.Go(func() { a.consume(rt.Events()) })
	wg.Go(func() { a.tickQuorum(runCtx) })

	srvCtx, stopServer := context.WithCancel(context.Background())
	defer stopServer()
	srvErr := make(chan error, 1)
	go func() { srvErr <- serveControl(srvCtx, ln, NewHandler(controlSource{source: src, a: a}, a.log), a.log) }()

	a.log.Info("ovshad started", "cluster", a.cluster.Totem.ClusterName, "nodeid", a.local.ID,
		"name", nodeName(a.local), "socket", a.socket, "config", a.opts.ConfigPath)

	var fatal error
	select {
	case <-ctx.Done():
		sctx, scancel := context.WithTimeout(context.Background(), crmShutdownTimeout)
		a.crmShutdown(sctx) // crm.go: move resources away first
		scancel()
		a.log.Info("shutting down: leaving the ring")
		lctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if err := rt.Leave(lctx); err != nil && !errors.Is(err, membership.ErrStopped) {
			a.log.Warn("graceful leave did not complete", "reason", err)
		}
		cancel()
	case err := <-rtErr:
		fatal = fmt.Errorf("membership runtime stopped: %w", err)
		rtErr <- err
	case err := <-srvErr:
		fatal = err
		srvErr <- nil
	}
	stopRuntime()
	stopControl()
	stopCRM()
	if err := <-rtErr; err != nil && fatal == nil {
		fatal = fmt.Errorf("membership runtime: %w", err)
	}
	wg.Wait()
	stopServer()
	if err := <-srvErr; err != nil && fatal == nil {
		fatal = err
	}
	if fatal != nil {
		return fatal
	}
	a.log.Info("ovshad stopped")
	return nil
}

// consume applies configuration changes to quorum and cmap and hands
// deliveries to the service named by their first byte (services.go).
func (a *Appliance) consume(events <-chan totem.Event) {
	for ev := range events {
		switch ev.Kind {
		case totem.EventDeliver:
			a.deliver(ev) // services.go
		case totem.EventRegular:
			before, after := a.quorum.applyRegular(ev)
			a.logQuorum(before, after)
			a.ctl.runtime.regular(ev)
			a.ctl.quorum.onRegular()
			a.crmEvent(ev) // crm.go
		}
	}
}

func (a *Appliance) tickQuorum(ctx context.Context) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			before, _ := a.quorum.status()
			if after, changed := a.quorum.tick(); changed {
				a.logQuorum(before, after)
			}
		}
	}
}

func (a *Appliance) logQuorum(before, after quorum.Status) {
	attrs := []any{"quorate", after.Quorate, "total_votes", after.TotalVotes,
		"expected_votes", after.ExpectedVotes, "quorum", after.Quorum, "members", len(after.Members)}
	a.crmQuorumChanged() // crm.go
	switch {
	case after.Quorate && !before.Quorate:
		a.log.Info("quorum gained", attrs...)
	case !after.Quorate && before.Quorate:
		a.log.Warn("quorum lost", attrs...)
	default:
		a.log.Info("quorum recomputed", attrs...)
	}
}

// chgrp gives the control socket to the configured API group with mode
// 0660, or keeps it root-only (0600) with a warning when the group does
// not exist on this host (reload.go: applySocketGroup).
func (a *Appliance) chgrp() {
	applySocketGroup(a.log, a.socket, a.cluster.Ovsha.APIGroup)
}
