package totem

import (
	"time"

	"github.com/ovsha/ovsha/cluster/totem/wire"
)

// Guarantee is the delivery guarantee of one broadcast message.
type Guarantee uint8

const (
	// Agreed: delivered in total order as soon as every earlier message is
	// delivered (Totem "agreed" delivery).
	Agreed Guarantee = iota
	// Safe: additionally held back until the token shows that every member
	// of the ring has received it (Totem "safe" delivery).
	Safe
)

// Outgoing is one message the runtime must send.
type Outgoing struct {
	// To lists the destinations. The slice is owned by the engine and valid
	// until the next call into the engine.
	To  []NodeID
	Msg wire.Message
	// Critical messages (tokens, joins, commit tokens, leave) are small and
	// drive the protocol: the transport sends them on every alive link.
	Critical bool
}

// EventKind tells what an Event carries.
type EventKind uint8

const (
	// EventDeliver: an application message, in agreed (or safe) order.
	EventDeliver EventKind = iota + 1
	// EventTransitional: the transitional configuration — the members of
	// the old ring that are also in the new ring. Messages delivered after
	// it and before the next EventRegular belong to the transitional
	// configuration (extended virtual synchrony).
	EventTransitional
	// EventRegular: a new regular configuration (a new ring) is installed.
	EventRegular
)

func (k EventKind) String() string {
	switch k {
	case EventDeliver:
		return "deliver"
	case EventTransitional:
		return "transitional"
	case EventRegular:
		return "regular"
	}
	return "unknown"
}

// Event is a delivery or a configuration change, in the order the
// application must see them.
type Event struct {
	Kind EventKind
	// Deliver
	Sender  NodeID
	Payload []byte
	// Transitional / Regular
	Ring    RingID
	Members []NodeID // sorted
	Joined  []NodeID // Regular: members that were not in the previous regular configuration
	Left    []NodeID // Transitional / Regular: members of the previous configuration that are gone
}

// Ready is what the engine has produced since the last call to Ready.
type Ready struct {
	Messages []Outgoing
	Events   []Event
}

// State is the membership state of the engine.
type State uint8

// Membership states as in the Totem paper and corosync's totemsrp.
const (
	StateGather State = iota + 1
	StateCommit
	StateRecovery
	StateOperational
)

func (s State) String() string {
	switch s {
	case StateGather:
		return "gather"
	case StateCommit:
		return "commit"
	case StateRecovery:
		return "recovery"
	case StateOperational:
		return "operational"
	}
	return "unknown"
}

// Stats are cumulative protocol counters.
type Stats struct {
	TokensReceived      uint64
	TokensRetransmitted uint64
	FramesSent          uint64
	FramesRetransmitted uint64
	FramesReceived      uint64
	RtrRequested        uint64
	MessagesDelivered   uint64
	TokenLosses         uint64 // token timeouts that started a membership change
	ConsensusTimeouts   uint64
	MembershipChanges   uint64 // regular configurations installed
	Stalls              uint64 // own scheduling gaps detected
	StalledFor          time.Duration
	// LastRotation is the duration of the last full token rotation as seen by
	// this node (time between two token arrivals).
	LastRotation time.Duration
}

// Status is a snapshot for the CLI and metrics.
type Status struct {
	ID      NodeID
	State   State
	Ring    RingID
	Members []NodeID
	// Seq and Aru of the current ring; HighDelivered is this node's delivery point.
	Seq, Aru, HighDelivered uint64
	Queued                  int // application messages waiting for the token
	Stats                   Stats
}
