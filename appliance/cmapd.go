package appliance

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/ovsha/ovsha/cluster/cmap"
	"github.com/ovsha/ovsha/cluster/config"
	"github.com/ovsha/ovsha/cluster/membership"
	"github.com/ovsha/ovsha/cluster/quorum"
	"github.com/ovsha/ovsha/cluster/totem"
	"github.com/ovsha/ovsha/cluster/transport"
)

// The daemon's cmap (cluster/cmap) holds three kinds of keys:
//
//   - configuration: every key of cluster.conf under its corosync cmap
//     name (totem.token, nodelist.node.0.ring0_addr, quorum.two_node,
//     logging.debug, ovsha.api_group; repeated sections node, interface and
//     logger_subsys are numbered from 0), as strings, plus the timers the
//     protocol runs with as runtime.config.totem.* (u32, milliseconds).
//     Refreshed by a reload. Read-only for users.
//   - runtime: runtime.totem.*, runtime.members.N.*, runtime.links.N.L.*,
//     runtime.votequorum.*, runtime.transport.*, written by the daemon from
//     the engine, the transport and quorum. Read-only for users.
//   - user keys: anything else, set and deleted with `ovsha cmap`.
var cmapReadOnly = []string{"totem.", "nodelist.", "quorum.", "logging.", "ovsha.", "runtime.", "resources.", "uidgid."}

// indexedSections are numbered in cmap names, as corosync numbers them.
var indexedSections = map[string]bool{"node": true, "interface": true, "logger_subsys": true}

// cmapRefresh is how often runtime keys are refreshed between events.
const cmapRefresh = time.Second

// newCmap returns a cmap holding c's configuration keys, with the
// configuration and runtime prefixes read-only.
func newCmap(c *config.Cluster) (*cmap.Map, error) {
	m := cmap.New()
	for _, p := range cmapReadOnly {
		if err := m.SetReadOnly(p); err != nil {
			return nil, fmt.Errorf("cmap: %w", err)
		}
	}
	if err := loadConfigKeys(m, c); err != nil {
		return nil, err
	}
	return m, nil
}

// configKeys flattens the configuration into cmap keys.
func configKeys(c *config.Cluster) map[string]cmap.Value {
	out := make(map[string]cmap.Value)
	if c.File != nil {
		flatten(out, "", c.File.Entries)
	}
	e := c.EffectiveTotem()
	for k, d := range map[string]time.Duration{
		"token": e.Token, "token_retransmit": e.TokenRetransmit, "hold": e.Hold, "join": e.Join,
		"consensus": e.Consensus, "merge": e.Merge, "send_join": e.SendJoin,
		"heartbeat_interval": e.HeartbeatInterval, "link_timeout": e.LinkTimeout, "stall_threshold": e.StallThreshold,
	} {
		out["runtime.config.totem."+k] = cmap.Uint32(uint32(d.Milliseconds()))
	}
	for k, n := range map[string]int{
		"token_retransmits_before_loss_const": e.TokenRetransmitsBeforeLossConst, "fail_recv_const": e.FailRecvConst,
		"seqno_unchanged_const": e.SeqnoUnchangedConst, "max_messages": e.MaxMessages, "window_size": e.WindowSize,
		"netmtu": e.NetMTU,
	} {
		out["runtime.config.totem."+k] = cmap.Uint32(uint32(n))
	}
	return out
}

func flatten(out map[string]cmap.Value, prefix string, entries []*config.Entry) {
	seen := map[string]int{}
	for _, e := range entries {
		switch e.Kind {
		case config.KindKey:
			if key := prefix + e.Name; cmap.ValidateKey(key) == nil {
				out[key] = cmap.String(e.Value)
			}
		case config.KindSection:
			p := prefix + e.Name + "."
			if indexedSections[e.Name] {
				p += strconv.Itoa(seen[e.Name]) + "."
				seen[e.Name]++
			}
			flatten(out, p, e.Children)
		}
	}
}

// loadConfigKeys makes the configuration keys of m those of c: it sets
// every key of c and deletes configuration keys c no longer has.
func loadConfigKeys(m *cmap.Map, c *config.Cluster) error {
	keys := configKeys(c)
	for _, p := range []string{"totem.", "nodelist.", "quorum.", "logging.", "ovsha.", "runtime.config."} {
		old, err := m.List(p)
		if err != nil {
			return fmt.Errorf("cmap: %w", err)
		}
		for _, e := range old {
			if _, ok := keys[e.Key]; !ok {
				_ = m.DeleteSystem(e.Key) // listed just now; a concurrent delete is harmless
			}
		}
	}
	for k, v := range keys {
		if err := m.SetSystem(k, v); err != nil {
			return fmt.Errorf("cmap: %w", err)
		}
	}
	return nil
}

// cmapRuntime keeps the runtime.* keys current.
type cmapRuntime struct {
	m     *cmap.Map
	log   *slog.Logger
	nodes []config.Node
	kick  chan struct{}
}

func newCmapRuntime(m *cmap.Map, nodes []config.Node, log *slog.Logger) *cmapRuntime {
	r := &cmapRuntime{m: m, nodes: nodes, log: log, kick: make(chan struct{}, 1)}
	for _, n := range nodes {
		var parts []string
		for k, a := range n.Addrs {
			if a.IsValid() {
				parts = append(parts, fmt.Sprintf("r(%d) ip(%s)", k, a))
			}
		}
		r.set(fmt.Sprintf("runtime.members.%d.ip", n.ID), cmap.String(strings.Join(parts, " ")))
	}
	return r
}

func (r *cmapRuntime) set(key string, v cmap.Value) {
	if err := r.m.SetSystem(key, v); err != nil {
		r.log.Warn("cmap: cannot set a runtime key", "key", key, "reason", err)
	}
}

// regular records a new configuration: members joined, departed ones left.
func (r *cmapRuntime) regular(ev totem.Event) {
	for _, id := range ev.Members {
		r.set(fmt.Sprintf("runtime.members.%d.status", id), cmap.String("joined"))
	}
	for _, id := range ev.Left {
		r.set(fmt.Sprintf("runtime.members.%d.status", id), cmap.String("left"))
	}
	r.refreshSoon()
}

// peerInfo records a member's configuration version from its nodeinfo.
func (r *cmapRuntime) peerInfo(node uint32, configVersion uint64) {
	r.set(fmt.Sprintf("runtime.members.%d.config_version", node), cmap.Uint64(configVersion))
}

func (r *cmapRuntime) refreshSoon() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// run refreshes the runtime keys every cmapRefresh and after each
// configuration change, until ctx ends.
func (r *cmapRuntime) run(ctx context.Context, rt *membership.Runtime, tr transport.Transport, q *quorumState) {
	t := time.NewTicker(cmapRefresh)
	defer t.Stop()
	for {
		sctx, cancel := context.WithTimeout(ctx, time.Second)
		st, err := rt.Status(sctx)
		cancel()
		if err == nil {
			qs, _ := q.status()
			r.refresh(st, qs, tr)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-r.kick:
		}
	}
}

func (r *cmapRuntime) refresh(st membership.Status, qs quorum.Status, tr transport.Transport) {
	e := st.Engine
	r.set("runtime.totem.ring_id", cmap.String(fmt.Sprintf("%d.%d", e.Ring.Rep, e.Ring.Seq)))
	r.set("runtime.totem.state", cmap.String(engineState(st)))
	ids := make([]string, len(e.Members))
	for i, m := range e.Members {
		ids[i] = strconv.FormatUint(uint64(m), 10)
	}
	r.set("runtime.totem.members", cmap.String(strings.Join(ids, " ")))
	r.set("runtime.totem.token_rotation_us", cmap.Uint64(uint64(e.Stats.LastRotation.Microseconds())))
	for _, s := range engineCounters(e.Stats) {
		r.set("runtime.totem.stats."+s.name, cmap.Uint64(s.value))
	}
	r.set("runtime.votequorum.quorate", cmap.Uint8(b2u8(qs.Quorate)))
	r.set("runtime.votequorum.expected_votes", cmap.Uint32(qs.ExpectedVotes))
	r.set("runtime.votequorum.total_votes", cmap.Uint32(qs.TotalVotes))
	r.set("runtime.votequorum.quorum", cmap.Uint32(qs.Quorum))
	r.set("runtime.votequorum.wait_for_all_status", cmap.Uint8(b2u8(qs.WaitForAllPending)))
	for _, l := range st.Links {
		p := fmt.Sprintf("runtime.links.%d.%d.", l.Peer, l.Link)
		r.set(p+"connected", cmap.Uint8(b2u8(l.Up)))
		r.set(p+"latency_us", cmap.Uint64(uint64(l.Latency.Microseconds())))
		for _, c := range linkCounters(l) {
			r.set(p+c.name, cmap.Uint64(c.value))
		}
	}
	if c, ok := tr.(counterer); ok {
		for _, s := range transportCounters(c.Counters()) {
			r.set("runtime.transport."+s.name, cmap.Uint64(s.value))
		}
	}
}

func engineState(st membership.Status) string {
	if !st.Running {
		return "stopped"
	}
	return st.Engine.State.String()
}

func b2u8(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// namedCounter is one counter under its snake_case name, shared by the
// cmap runtime keys and the Prometheus metrics.
type namedCounter struct {
	name  string
	value uint64
}

func engineCounters(s totem.Stats) []namedCounter {
	return []namedCounter{
		{"tokens_received", s.TokensReceived}, {"tokens_retransmitted", s.TokensRetransmitted},
		{"frames_sent", s.FramesSent}, {"frames_retransmitted", s.FramesRetransmitted},
		{"frames_received", s.FramesReceived}, {"rtr_requested", s.RtrRequested},
		{"messages_delivered", s.MessagesDelivered}, {"token_losses", s.TokenLosses},
		{"consensus_timeouts", s.ConsensusTimeouts}, {"membership_changes", s.MembershipChanges},
		{"stalls", s.Stalls},
	}
}

func linkCounters(l transport.LinkStatus) []namedCounter {
	return []namedCounter{
		{"tx_packets", l.TxPackets}, {"rx_packets", l.RxPackets}, {"tx_bytes", l.TxBytes}, {"rx_bytes", l.RxBytes},
		{"rx_errors", l.RxErrors}, {"auth_failures", l.AuthFailures}, {"replays", l.Replays},
		{"duplicates", l.Duplicates}, {"tx_errors", l.TxErrors},
	}
}

func transportCounters(c transport.Counters) []namedCounter {
	return []namedCounter{
		{"auth_failures", c.AuthFailures}, {"malformed", c.Malformed}, {"replays", c.Replays},
		{"duplicates", c.Duplicates}, {"unknown_sender", c.UnknownSender}, {"oversize", c.Oversize},
		{"send_errors", c.SendErrors}, {"queue_full", c.QueueFull},
	}
}
