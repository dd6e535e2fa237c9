package appliance

import (
	"fmt"
	"time"

	"github.com/ovsha/ovsha/cluster/config"
)

// DefaultSocket is where ovshad serves the control API and where ovsha
// looks for it (override: --socket or the OVSHA_SOCKET environment variable).
const DefaultSocket = config.DefaultAPISocket

// Control API paths. Every path is versioned; a breaking change gets a new
// prefix and the old one keeps working for a release.
const (
	PathStatus = "/v1/status"
	PathRing   = "/v1/ring"
	PathQuorum = "/v1/quorum"
)

// ErrorResponse is the body of every non-2xx answer.
type ErrorResponse struct {
	Error string `json:"error"`
}

// RingID identifies a ring: its representative and sequence number.
type RingID struct {
	Rep uint32 `json:"rep"`
	Seq uint64 `json:"seq"`
}

func (r RingID) String() string { return fmt.Sprintf("%d.%d", r.Rep, r.Seq) }

// Member is one node of a configuration.
type Member struct {
	NodeID uint32 `json:"nodeid"`
	Name   string `json:"name"`
}

// StatusResponse is GET /v1/status: the one-screen summary.
type StatusResponse struct {
	ClusterName string         `json:"cluster_name"`
	Node        Member         `json:"node"`
	StartedAt   time.Time      `json:"started_at"`
	Ring        RingResponse   `json:"ring"`
	Quorum      QuorumResponse `json:"quorum"`
}

// RingResponse is GET /v1/ring: the Totem engine and its links, like
// corosync-cfgtool -s.
type RingResponse struct {
	Node    Member   `json:"node"`
	State   string   `json:"state"` // gather, commit, recovery, operational
	RingID  RingID   `json:"ring_id"`
	Members []Member `json:"members"`
	// Seq is the highest sequence number of the ring, Aru the all-received-
	// up-to point, HighDelivered this node's delivery point.
	Seq           uint64        `json:"seq"`
	Aru           uint64        `json:"aru"`
	HighDelivered uint64        `json:"high_delivered"`
	Queued        int           `json:"queued"`
	Engine        EngineStats   `json:"engine"`
	Runtime       RuntimeStats  `json:"runtime"`
	Nodes         []NodeLinks   `json:"nodes"`
	Transport     TransportStat `json:"transport"`
}

// EngineStats are the Totem engine's cumulative counters.
type EngineStats struct {
	TokensReceived      uint64  `json:"tokens_received"`
	TokensRetransmitted uint64  `json:"tokens_retransmitted"`
	FramesSent          uint64  `json:"frames_sent"`
	FramesRetransmitted uint64  `json:"frames_retransmitted"`
	FramesReceived      uint64  `json:"frames_received"`
	RtrRequested        uint64  `json:"rtr_requested"`
	MessagesDelivered   uint64  `json:"messages_delivered"`
	TokenLosses         uint64  `json:"token_losses"`
	ConsensusTimeouts   uint64  `json:"consensus_timeouts"`
	MembershipChanges   uint64  `json:"membership_changes"`
	Stalls              uint64  `json:"stalls"`
	StalledForMS        float64 `json:"stalled_for_ms"`
	LastRotationMS      float64 `json:"last_rotation_ms"`
}

// RuntimeStats are the membership runtime's counters.
type RuntimeStats struct {
	PacketsReceived   uint64 `json:"packets_received"`
	DecodeErrors      uint64 `json:"decode_errors"`
	MessagesSent      uint64 `json:"messages_sent"`
	SendErrors        uint64 `json:"send_errors"`
	BroadcastsWaiting int    `json:"broadcasts_waiting"`
	EventBacklog      int    `json:"event_backlog"`
}

// NodeLinks is the health of every link to one configured node.
type NodeLinks struct {
	NodeID uint32 `json:"nodeid"`
	Name   string `json:"name"`
	// Local marks this node itself (it has no links to itself).
	Local bool   `json:"local"`
	Links []Link `json:"links"`
}

// Link is one (peer, link number) pair.
type Link struct {
	Link         int       `json:"link"`
	Local        string    `json:"local"`
	Remote       string    `json:"remote"`
	Connected    bool      `json:"connected"`
	LatencyMS    float64   `json:"latency_ms"`
	TxPackets    uint64    `json:"tx_packets"`
	RxPackets    uint64    `json:"rx_packets"`
	TxBytes      uint64    `json:"tx_bytes"`
	RxBytes      uint64    `json:"rx_bytes"`
	RxErrors     uint64    `json:"rx_errors"`
	AuthFailures uint64    `json:"auth_failures"`
	Replays      uint64    `json:"replays"`
	Duplicates   uint64    `json:"duplicates"`
	TxErrors     uint64    `json:"tx_errors"`
	LastHeard    time.Time `json:"last_heard,omitzero"`
}

// TransportStat holds the transport's node-wide counters as name → value,
// so new counters need no API change.
type TransportStat map[string]uint64

// QuorumResponse is GET /v1/quorum, like corosync-quorumtool -s.
type QuorumResponse struct {
	Node          Member         `json:"node"`
	RingID        RingID         `json:"ring_id"`
	Quorate       bool           `json:"quorate"`
	ExpectedVotes uint32         `json:"expected_votes"`
	TotalVotes    uint32         `json:"total_votes"`
	Quorum        uint32         `json:"quorum"`
	Flags         []string       `json:"flags"`
	Members       []QuorumMember `json:"members"`
}

// QuorumMember is one member of the quorate (or not) configuration.
type QuorumMember struct {
	NodeID uint32 `json:"nodeid"`
	Name   string `json:"name"`
	Votes  uint32 `json:"votes"`
	Local  bool   `json:"local,omitempty"`
}

func durMS(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
