package totem

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/ovsha/ovsha/cluster/totem/wire"
)

// NodeID identifies a node; see wire.NodeID.
type NodeID = wire.NodeID

// RingID identifies a ring; see wire.RingID.
type RingID = wire.RingID

// Config configures one engine. Timer fields keep corosync.conf(5) names and
// meanings; DefaultConfig documents ovsha's LAN defaults and why.
type Config struct {
	// ID is this node's id; it must be in Nodes.
	ID NodeID
	// Nodes is the configured nodelist: the nodes that may ever be members.
	// Joins and merge detection reach these nodes.
	Nodes []NodeID

	// Token is the token loss timeout: no token for this long starts a
	// membership change (corosync: totem.token, after token_coefficient).
	Token time.Duration
	// TokenRetransmit is how long a node waits, after passing the token,
	// for evidence that its successor has it before sending it again
	// (corosync: token / (token_retransmits_before_loss_const + 0.2)).
	TokenRetransmit time.Duration
	// Hold is how long the representative keeps an idle token before passing
	// it on (corosync: totem.hold). A HoldCancel from a node with data ends
	// the hold at once, so holding costs no latency.
	Hold time.Duration
	// Join is the interval between join messages in GATHER (totem.join).
	Join time.Duration
	// Consensus is how long GATHER waits for every node in the proc set to
	// agree before declaring the silent ones failed (totem.consensus).
	Consensus time.Duration
	// Merge is the interval between merge-detect messages sent by a ring's
	// representative to configured nodes outside the ring (totem.merge).
	Merge time.Duration
	// SendJoin bounds a random delay before a join reply, to avoid join
	// storms in large clusters (totem.send_join; 0 = none).
	SendJoin time.Duration
	// FailRecvConst is the number of token rotations a member may fail to
	// receive frames that others have before it is declared failed
	// (totem.fail_recv_const).
	FailRecvConst int
	// SeqnoUnchangedConst is the number of rotations without any new frame
	// after which the token is considered idle (totem.seqno_unchanged_const).
	SeqnoUnchangedConst int
	// MaxMessages is the most frames one node broadcasts per token visit
	// (totem.max_messages).
	MaxMessages int
	// WindowSize is the most frames broadcast in one token rotation
	// (totem.window_size).
	WindowSize int
	// MaxFrame is the most bytes of fragments (application data plus
	// wire.FragmentOverhead per fragment) in one frame; larger messages are
	// fragmented. The runtime derives it from netmtu: the datagram payload
	// left after IP, UDP and transport headers, minus wire.FrameOverhead and
	// wire.EncapOverhead (so a frame still fits when re-sent encapsulated
	// during recovery).
	MaxFrame int
	// MaxQueue is the most application messages queued for broadcast;
	// Broadcast returns ErrQueueFull beyond it (back-pressure).
	MaxQueue int
	// StallThreshold: when two consecutive Ticks are further apart than
	// this, the node itself was not running (descheduled process or VM) and
	// the gap is not counted against its peers: every timer is pushed back
	// by the gap.
	StallThreshold time.Duration

	// InitialRingSeq is the ring sequence number to start from. A node that
	// restarts must not reuse ring ids it created before, so the runtime
	// passes a value that grows across restarts (e.g. derived from the
	// wall clock at start); 0 is fine for a node's very first start.
	InitialRingSeq uint64

	// Rand is the only source of randomness (join jitter). Required.
	Rand *rand.Rand
	// Logger receives protocol events; nil discards them.
	Logger *slog.Logger
}

// DefaultConfig returns ovsha's LAN-appliance defaults for node id among nodes.
//
// Corosync's defaults (token 3000 ms, consensus 3600 ms) give 3-4 s failure
// detection. ovsha targets sub-second gateway failover on a LAN, so (the
// same values as cluster/config's defaults, which document them further):
//   - Token 150 ms: a dead node is noticed 150 ms after the last token it
//     passed; a node that is itself descheduled does not count the gap (see
//     StallThreshold), which is what made short tokens flap on shared VMs.
//   - TokenRetransmit 20 ms (token / (7 + 0.2), corosync's formula with
//     token_retransmits_before_loss_const 7): the token is resent up to
//     seven times before a loss is declared, on every link, so 10% random
//     packet loss never looks like a dead node.
//   - Hold 15 ms after SeqnoUnchangedConst (4; corosync 30) idle
//     rotations: an idle ring passes a few dozen tokens per second per node
//     and a ring at a few hundred messages per second does not spin the
//     token between them; a node with data cancels the hold at once
//     (HoldCancel), so holding costs about one hop of latency.
//   - Consensus 45 ms, Join 15 ms: live nodes answer a join within a
//     millisecond on a LAN; three join rounds fit in consensus. A successor
//     that never answered the token is failed without waiting for it.
//   - Merge 200 ms: separated rings find each other within a fifth of a
//     second.
//   - MaxMessages 64, WindowSize 256: frames are packed to MaxFrame bytes,
//     so one visit can carry ~90 KB; Corosync's 17/50 were chosen for 10 Mbit
//     LANs.
func DefaultConfig(id NodeID, nodes []NodeID) Config {
	return Config{
		ID:                  id,
		Nodes:               slices.Clone(nodes),
		Token:               150 * time.Millisecond,
		TokenRetransmit:     20 * time.Millisecond,
		Hold:                15 * time.Millisecond,
		Join:                15 * time.Millisecond,
		Consensus:           45 * time.Millisecond,
		Merge:               200 * time.Millisecond,
		SendJoin:            0,
		FailRecvConst:       2500,
		SeqnoUnchangedConst: 4,
		MaxMessages:         64,
		WindowSize:          256,
		MaxFrame:            1360, // netmtu 1500 less IP, UDP, transport and frame headers
		MaxQueue:            65536,
		StallThreshold:      40 * time.Millisecond,
		Rand:                rand.New(rand.NewPCG(uint64(id), 0x6f767368)),
	}
}

// ErrQueueFull is returned by Broadcast when MaxQueue messages are waiting.
var ErrQueueFull = errors.New("totem: broadcast queue full")

// ErrTooLarge is returned by Broadcast for a payload over MaxMessageSize.
var ErrTooLarge = errors.New("totem: message too large")

// MaxMessageSize is the largest application message Broadcast accepts.
const MaxMessageSize = 1 << 20

func (c *Config) validate() error {
	if c.ID == 0 {
		return errors.New("totem: node id 0 is not valid")
	}
	if !slices.Contains(c.Nodes, c.ID) {
		return fmt.Errorf("totem: node id %d is not in the nodelist", c.ID)
	}
	for _, n := range c.Nodes {
		if n == 0 {
			return errors.New("totem: nodelist contains node id 0")
		}
	}
	pos := []struct {
		name string
		d    time.Duration
	}{{"token", c.Token}, {"token_retransmit", c.TokenRetransmit}, {"join", c.Join}, {"consensus", c.Consensus}, {"merge", c.Merge}}
	for _, p := range pos {
		if p.d <= 0 {
			return fmt.Errorf("totem: %s must be positive, got %v", p.name, p.d)
		}
	}
	if c.TokenRetransmit >= c.Token {
		return fmt.Errorf("totem: token_retransmit (%v) must be below token (%v)", c.TokenRetransmit, c.Token)
	}
	if c.Hold < 0 || c.Hold >= c.Token/2 {
		return fmt.Errorf("totem: hold (%v) must be in [0, token/2)", c.Hold)
	}
	if c.MaxMessages <= 0 || c.WindowSize <= 0 || c.MaxFrame < 64 || c.MaxQueue <= 0 {
		return errors.New("totem: max_messages, window_size, max_queue must be positive and max_frame at least 64")
	}
	if c.FailRecvConst <= 0 || c.SeqnoUnchangedConst <= 0 {
		return errors.New("totem: fail_recv_const and seqno_unchanged_const must be positive")
	}
	if c.Rand == nil {
		return errors.New("totem: Config.Rand is required")
	}
	return nil
}
