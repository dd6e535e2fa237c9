package totemtest

import (
	"fmt"
	"time"

	"github.com/ovsha/ovsha/cluster/totem"
)

// Invariant names, as reported in Violation.Invariant and Result.
const (
	// InvAgreedOrder: two nodes delivered two messages in opposite orders.
	InvAgreedOrder = "agreed-order"
	// InvVirtualSynchrony: nodes moving together from regular configuration
	// C1 to C2 delivered different sets of messages in C1 (see Checker).
	InvVirtualSynchrony = "virtual-synchrony"
	// InvSafe: a message delivered as safe in the regular part of C was not
	// delivered in C by a member of C that left C alive.
	InvSafe = "safe-delivery"
	// InvDuplicate: a node (incarnation) delivered a message twice.
	InvDuplicate = "no-duplicate"
	// InvPhantom: a delivered message was never broadcast, or its sender or
	// bytes differ from what was broadcast.
	InvPhantom = "no-phantom"
	// InvConfig: configuration events are inconsistent (two nodes install
	// the same ring id with different members, ring ids go backwards, a node
	// is not in its own configuration, Joined/Left wrong, a delivery outside
	// any configuration, a missing transitional configuration).
	InvConfig = "config"
	// InvSelfDelivery: at the end of a run, a live node has not delivered a
	// message it broadcast (and Broadcast accepted) before the drain time.
	InvSelfDelivery = "self-delivery"
	// InvLiveness: after faults stopped, the live nodes did not form one
	// ring of all of them within the bound, or did not deliver every message
	// broadcast after that to all of them.
	InvLiveness = "liveness"
	// InvCodec: a message produced by the engine failed to encode, or its
	// encoding failed to decode.
	InvCodec = "codec"
	// InvPanic: the engine panicked; the run of that seed stopped.
	InvPanic = "panic"
	// InvEngine: the engine rejected its configuration or a call.
	InvEngine = "engine"
)

// Invariants returns every invariant name in report order.
func Invariants() []string {
	return []string{
		InvAgreedOrder, InvVirtualSynchrony, InvSafe, InvDuplicate, InvPhantom,
		InvConfig, InvSelfDelivery, InvLiveness, InvCodec, InvPanic, InvEngine,
	}
}

// Violation is one broken invariant.
type Violation struct {
	Invariant string        `json:"invariant"`
	Seed      uint64        `json:"seed"`
	Time      time.Duration `json:"time_ns"`
	Node      totem.NodeID  `json:"node"`
	Detail    string        `json:"detail"`
}

func (v Violation) String() string {
	return fmt.Sprintf("%s seed=%d t=%v node=%d: %s", v.Invariant, v.Seed, v.Time, v.Node, v.Detail)
}
