package wire

// NodeID identifies a cluster node (corosync's nodelist.node.X.nodeid). 0 is
// never a valid node id.
type NodeID uint32

// RingID names one ring (one regular configuration): the representative that
// formed it and a sequence number that grows with every new ring.
type RingID struct {
	Rep NodeID
	Seq uint64
}

// Less orders ring ids by sequence, then representative.
func (r RingID) Less(o RingID) bool {
	if r.Seq != o.Seq {
		return r.Seq < o.Seq
	}
	return r.Rep < o.Rep
}

// IsZero reports whether r is the zero ring id (no ring yet).
func (r RingID) IsZero() bool { return r.Rep == 0 && r.Seq == 0 }

// Kind is the message type on the wire.
type Kind uint8

// Message kinds. Values are part of the wire format: never renumber.
const (
	KindToken       Kind = 1 // ORF token: ordering, aru, retransmit requests, flow control
	KindMcast       Kind = 2 // a sequenced frame of application data (or an encapsulated old-ring frame in recovery)
	KindJoin        Kind = 3 // membership: proc and fail sets
	KindCommit      Kind = 4 // membership commit token
	KindMergeDetect Kind = 5 // a ring representative announcing its ring to nodes outside it
	KindHoldCancel  Kind = 6 // a node with data asks the token holder to release a held token
	KindLeave       Kind = 7 // a node leaves the ring gracefully
	KindTokenAck    Kind = 8 // a node that already has the token answers a retransmitted copy
)

// Message is one decoded Totem message.
type Message interface {
	Kind() Kind
}

// Token is the ORF (ordering, reliability, flow control) token.
type Token struct {
	Ring RingID
	// TokenSeq grows by one on every hop; a receiver drops a token whose
	// TokenSeq it has already seen (retransmitted tokens).
	TokenSeq uint64
	// Seq is the highest frame sequence number assigned in this ring.
	Seq uint64
	// Aru is "all received up to": the lowest aru of the members, as far as
	// the token has seen, and AruAddr the member that lowered it (0: none).
	Aru     uint64
	AruAddr NodeID
	// Fcc counts frames broadcast during the last rotation (flow control);
	// Backlog sums the members' queued frames.
	Fcc     uint32
	Backlog uint32
	// RetransFlg is set while some member still has old-ring frames to
	// re-broadcast during recovery.
	RetransFlg bool
	// InstallSeq, set by the representative during recovery, is the sequence
	// number at which recovery completed: receivers enter operational state.
	InstallSeq uint64
	// Rtr lists sequence numbers (in this ring) that some member is missing.
	Rtr []uint64
}

// Frame flags.
const (
	// FlagSafe: the frame holds at least one message that needs safe
	// delivery (delivered only once every member is known to have it).
	FlagSafe uint8 = 1 << 0
)

// Fragment is a piece of one application message inside a frame. An
// application message is the concatenation of one sender's fragments from a
// fragment with Start through the next fragment with End, in sequence order.
type Fragment struct {
	Start bool
	End   bool
	Data  []byte
}

// Mcast is a sequenced frame, broadcast by the token holder.
type Mcast struct {
	Ring   RingID
	Seq    uint64
	Sender NodeID
	Flags  uint8
	// Frags is the application data. Empty when Encap is set.
	Frags []Fragment
	// Encap, during recovery, is an old-ring frame being re-broadcast on the
	// new ring so that every survivor of the old ring holds the same set.
	Encap *Mcast
}

// Join is broadcast in the GATHER state.
type Join struct {
	Sender NodeID
	// RingSeq is the highest ring sequence number the sender has seen.
	RingSeq uint64
	Proc    []NodeID // sorted ascending, no duplicates
	Fail    []NodeID // sorted ascending, no duplicates
}

// CommitEntry is one member's slot in the commit token.
type CommitEntry struct {
	Filled        bool
	OldRing       RingID
	Aru           uint64 // the member's aru in its old ring
	HighDelivered uint64 // highest old-ring sequence the member delivered
	HighReceived  uint64 // highest old-ring sequence the member received
}

// Commit is the membership commit token: it circulates twice around the new
// ring (Rotation 1 then 2) before the representative turns it into the first
// ORF token of the new ring.
type Commit struct {
	Ring     RingID
	TokenSeq uint64
	Rotation uint8
	Members  []NodeID      // sorted ascending: the new ring, in ring order
	Entries  []CommitEntry // parallel to Members
}

// MergeDetect is sent by a ring's representative to configured nodes that
// are not in its ring, so that separated rings notice each other.
type MergeDetect struct {
	Sender NodeID
	Ring   RingID
}

// HoldCancel asks the holder of an idle, held token to pass it on at once
// because Sender has data queued.
type HoldCancel struct {
	Sender NodeID
	Ring   RingID
}

// TokenAck answers a retransmitted token that Sender already processed, so
// that the node retransmitting it knows its successor has the token: the
// token being silent afterwards then points at a node further on, and only
// a node whose token went unanswered suspects its successor.
type TokenAck struct {
	Sender NodeID
	Ring   RingID
	// TokenSeq is the TokenSeq of the retransmitted copy being answered:
	// only a retransmission of that very token is stopped by it.
	TokenSeq uint64
}

// Leave announces that Sender leaves Ring on purpose (shutdown), so the
// others reconfigure at once instead of waiting for a token timeout.
type Leave struct {
	Sender NodeID
	Ring   RingID
}

func (*Token) Kind() Kind       { return KindToken }
func (*Mcast) Kind() Kind       { return KindMcast }
func (*Join) Kind() Kind        { return KindJoin }
func (*Commit) Kind() Kind      { return KindCommit }
func (*MergeDetect) Kind() Kind { return KindMergeDetect }
func (*HoldCancel) Kind() Kind  { return KindHoldCancel }
func (*Leave) Kind() Kind       { return KindLeave }
func (*TokenAck) Kind() Kind    { return KindTokenAck }
