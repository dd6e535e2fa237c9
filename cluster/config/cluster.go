package config

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Cluster is a decoded and validated cluster.conf. Time values are
// milliseconds in the file and time.Duration here.
type Cluster struct {
	// Totem holds the protocol settings as configured (defaults applied).
	// Timers derived from the token are 0 unless set; use EffectiveTotem
	// for the values the protocol runs with.
	Totem Totem
	// Nodes is the nodelist in file order.
	Nodes []Node
	// Quorum holds the votequorum settings.
	Quorum Quorum
	// Logging holds the logging settings.
	Logging Logging
	// Ovsha holds the keys of the ovsha { } section, which corosync lacks.
	Ovsha Ovsha
	// Warnings are one-line notes about keys and sections that are kept in
	// the file but ignored, and about settings ovsha overrides. They are not
	// errors; show them to the operator.
	Warnings []string
	// File is the syntax tree the cluster was decoded from; edit it with
	// Set and write it with Format to change the configuration.
	File *File `json:"-"`
}

// Totem is the totem { } section. Field comments give the key name;
// defaults.go gives every default and why.
type Totem struct {
	// ClusterName (cluster_name) names the cluster. Required.
	ClusterName string
	// Version (version) of the configuration format; only 2 is valid.
	Version int
	// Transport (transport): knet, udpu or udp, accepted for compatibility.
	// ovsha always sends unicast UDP to every node on every link.
	Transport string
	// CryptoCipher (crypto_cipher) and CryptoHash (crypto_hash) are accepted
	// for compatibility; ovsha always encrypts and authenticates with
	// AES-256-GCM using Keyfile.
	CryptoCipher string
	CryptoHash   string
	// Keyfile (keyfile) is the shared secret's path.
	Keyfile string

	// Token (token) is the base token loss timeout; see Effective for the
	// token_coefficient rule.
	Token time.Duration
	// TokenCoefficient (token_coefficient) is added to Token for every node
	// beyond two, when there are three or more.
	TokenCoefficient time.Duration
	// TokenRetransmitsBeforeLossConst (token_retransmits_before_loss_const)
	// is how many token retransmissions fit in the token timeout.
	TokenRetransmitsBeforeLossConst int
	// TokenRetransmit (token_retransmit): 0 = derived, see Effective.
	TokenRetransmit time.Duration
	// Hold (hold) is how long the representative keeps an idle token:
	// 0 = derived, see Effective.
	Hold time.Duration
	// Join (join) is the interval between join messages.
	Join time.Duration
	// Consensus (consensus) is how long to wait for membership agreement:
	// 0 = derived, see Effective.
	Consensus time.Duration
	// Merge (merge) is the interval between merge-detect messages.
	Merge time.Duration
	// Downcheck (downcheck) is the interval between checks of a downed link.
	Downcheck time.Duration
	// FailRecvConst (fail_recv_const) is how many rotations a member may
	// miss messages others have before it is declared failed.
	FailRecvConst int
	// SeqnoUnchangedConst (seqno_unchanged_const) is how many rotations
	// without new messages make the ring idle (hold timer starts).
	SeqnoUnchangedConst int
	// MaxMessages (max_messages) is the most messages a node sends per token visit.
	MaxMessages int
	// WindowSize (window_size) is the most messages sent in one rotation.
	WindowSize int
	// SendJoin (send_join) bounds a random delay before sending a join.
	SendJoin time.Duration
	// NetMTU (netmtu) is the largest datagram sent, in bytes (576..65535).
	NetMTU int

	// StallThreshold (stall_threshold, ovsha only): a gap between timer
	// ticks longer than this means the local process was not running.
	StallThreshold time.Duration
	// HeartbeatInterval (heartbeat_interval, ovsha only) is the interval
	// between link heartbeats to each peer.
	HeartbeatInterval time.Duration
	// LinkTimeout (link_timeout, ovsha only): a link with no heartbeat for
	// this long is down. Decode fills in 4 × HeartbeatInterval if unset.
	LinkTimeout time.Duration

	// Interfaces has one entry per link used by the nodelist (and per
	// interface { } section), sorted by link number, defaults filled in.
	Interfaces []Interface
}

// Interface is a totem.interface { } section: settings of one link.
type Interface struct {
	// LinkNumber (linknumber, or the older ringnumber): 0..7; matches ringN_addr.
	LinkNumber int
	// Port (mcastport) is the UDP port on this link.
	Port uint16
	// Priority (knet_link_priority): with several links up, the highest
	// priority link carries traffic first; equal priorities pick the lowest
	// link number.
	Priority int
	// BindNetAddr (bindnetaddr) is accepted for compatibility; ovsha binds
	// each link to the node's own ringN_addr. Zero if unset.
	BindNetAddr netip.Addr
}

// Node is one nodelist.node { } section.
type Node struct {
	// ID (nodeid) is 1..2147483647 and unique.
	ID uint32
	// Name (name) is the node's name, unique if set; may be empty.
	Name string
	// Addrs[n] is ringN_addr, the node's address on link n (a literal IP).
	// A zero Addr means the node has no link n; all nodes have the same links.
	Addrs []netip.Addr
	// QuorumVotes (quorum_votes) is the node's vote count.
	QuorumVotes uint32
}

// Quorum is the quorum { } section (votequorum(5)).
type Quorum struct {
	// Provider (provider) is "corosync_votequorum" or "" when absent. ovsha
	// always computes votequorum.
	Provider string
	// ExpectedVotes (expected_votes): 0 = the sum of the nodes' votes. Use
	// Cluster.ExpectedVotes for the value in force.
	ExpectedVotes uint32
	// TwoNode (two_node): quorum with one of two nodes. Needs exactly two
	// nodes of one vote each.
	TwoNode bool
	// WaitForAll (wait_for_all): the first quorum needs all nodes seen at
	// once. Defaults to TwoNode.
	WaitForAll bool
	// LastManStanding (last_man_standing): recompute expected votes after
	// LastManStandingWindow when nodes have left.
	LastManStanding bool
	// LastManStandingWindow (last_man_standing_window).
	LastManStandingWindow time.Duration
	// AutoTieBreaker (auto_tie_breaker): an even split keeps quorum in the
	// half chosen by AutoTieBreakerNode.
	AutoTieBreaker bool
	// AutoTieBreakerNode (auto_tie_breaker_node): "lowest", "highest" or
	// "list" when the file gives node ids (then AutoTieBreakerNodes, in order).
	AutoTieBreakerNode  string
	AutoTieBreakerNodes []uint32
	// AllowDownscale (allow_downscale).
	AllowDownscale bool
}

// Logging is the logging { } section.
type Logging struct {
	// ToStderr (to_stderr), ToLogfile (to_logfile), ToSyslog (to_syslog)
	// choose the destinations; Logfile (logfile) is required with ToLogfile.
	ToStderr  bool
	ToLogfile bool
	Logfile   string
	ToSyslog  bool
	// Debug (debug) is "off", "on" or "trace".
	Debug string
	// Timestamp (timestamp) is "off", "on" or "hires".
	Timestamp string
	// Subsystems are the logger_subsys { } sections, with unset values
	// inherited from the top level.
	Subsystems []LoggerSubsys
}

// LoggerSubsys is a logging.logger_subsys { } section.
type LoggerSubsys struct {
	// Subsys (subsys) names the subsystem, e.g. "QUORUM". Required.
	Subsys    string
	Debug     string
	ToStderr  bool
	ToLogfile bool
	ToSyslog  bool
}

// Ovsha is the ovsha { } section: settings corosync does not have.
type Ovsha struct {
	// MetricsAddr (metrics_addr) is where Prometheus metrics are served,
	// e.g. 127.0.0.1:9405. Zero (the default) means no metrics listener.
	MetricsAddr netip.AddrPort
	// APIGroup (api_group) is the group allowed to use the control socket.
	APIGroup string
	// APISocket (api_socket) is the control API's unix socket path.
	APISocket string
}

// EffectiveTotem returns the totem settings the protocol runs with for this
// nodelist (see Totem.Effective).
func (c *Cluster) EffectiveTotem() Totem { return c.Totem.Effective(len(c.Nodes)) }

// ExpectedVotes returns quorum.expected_votes if set, else the sum of the
// nodes' votes (votequorum's rule).
func (c *Cluster) ExpectedVotes() uint32 {
	if c.Quorum.ExpectedVotes != 0 {
		return c.Quorum.ExpectedVotes
	}
	var sum uint32
	for _, n := range c.Nodes {
		sum += n.QuorumVotes
	}
	return sum
}

// NodeByID returns the node with nodeid id.
func (c *Cluster) NodeByID(id uint32) (Node, bool) {
	for _, n := range c.Nodes {
		if n.ID == id {
			return n, true
		}
	}
	return Node{}, false
}

// NodeByName returns the node called name (never a node without a name).
func (c *Cluster) NodeByName(name string) (Node, bool) {
	if name == "" {
		return Node{}, false
	}
	for _, n := range c.Nodes {
		if n.Name == name {
			return n, true
		}
	}
	return Node{}, false
}

// LocalNode returns the node that one of the given local addresses belongs
// to, i.e. whose ringN_addr (any link) is among addrs. Zones and IPv4-mapped
// IPv6 forms are ignored in the comparison. It is an error if no node or
// more than one node matches.
func (c *Cluster) LocalNode(addrs []netip.Addr) (Node, error) {
	name := "cluster.conf"
	if c.File != nil {
		name = c.File.Name
	}
	var found []Node
	for _, n := range c.Nodes {
		if nodeHasAny(n, addrs) {
			found = append(found, n)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		shown := make([]string, len(addrs))
		for i, a := range addrs {
			shown[i] = a.String()
		}
		return Node{}, fmt.Errorf("%s: nodelist: no node has a ringN_addr among the local addresses [%s]; add this node to the nodelist or fix its addresses",
			name, strings.Join(shown, " "))
	default:
		return Node{}, fmt.Errorf("%s: nodelist: local addresses match nodes %d and %d; a host must be exactly one node", name, found[0].ID, found[1].ID)
	}
}

func nodeHasAny(n Node, addrs []netip.Addr) bool {
	for _, na := range n.Addrs {
		if !na.IsValid() {
			continue
		}
		for _, a := range addrs {
			if sameAddr(na, a) {
				return true
			}
		}
	}
	return false
}

func sameAddr(a, b netip.Addr) bool {
	return a.WithZone("").Unmap() == b.WithZone("").Unmap()
}
