package wire

// Version is the wire format version this package writes and the only one it
// reads. It is the first byte of every encoded message.
const Version uint8 = 1

// Limits enforced by Decode (and reported by Validate). They bound the work
// and memory a datagram from the network can cost a receiver.
const (
	// MaxSize is the largest encoded message: the largest UDP payload over
	// IPv4 (65535 - 20 byte IP header - 8 byte UDP header).
	MaxSize = 65507
	// MaxNodeIDs is the most node ids in one list (Join.Proc, Join.Fail,
	// Commit.Members).
	MaxNodeIDs = 1024
	// MaxRtr is the most retransmit requests in one Token. With 8 bytes per
	// entry, MaxSize binds first: a Token holds at most
	// (MaxSize-TokenOverhead)/8 = 8180 entries.
	MaxRtr = 16384
	// MaxFragments is the most fragments in one Mcast frame.
	MaxFragments = 4096
)

// Encoded sizes of the fixed parts of messages, in bytes. See doc.go for the
// layouts.
const (
	// HeaderSize is the version and kind bytes that start every message.
	HeaderSize = 2
	// ringIDSize is Rep (4) and Seq (8).
	ringIDSize = 4 + 8
	// mcastBodySize is the fixed part of an Mcast body: Ring, Seq, Sender,
	// Flags, encap flag, fragment count.
	mcastBodySize = ringIDSize + 8 + 4 + 1 + 1 + 2
	// fragmentHeaderSize is a fragment's flags byte and data length.
	fragmentHeaderSize = 1 + 2
	// commitEntrySize is flags, OldRing, Aru, HighDelivered, HighReceived.
	commitEntrySize = 1 + ringIDSize + 8 + 8 + 8

	// FrameOverhead is the encoded size of an Mcast with no fragments and
	// no Encap: the header plus the fixed frame fields.
	FrameOverhead = HeaderSize + mcastBodySize // 30
	// EncapOverhead is what encapsulation adds: an old-ring frame whose own
	// encoding is s bytes is re-broadcast in recovery as an Mcast of
	// s+EncapOverhead bytes (the outer frame's fixed fields; the inner
	// frame's header bytes are not repeated).
	EncapOverhead = mcastBodySize // 28
	// TokenOverhead is the encoded size of a Token with no Rtr entries;
	// each entry adds 8 bytes.
	TokenOverhead = HeaderSize + ringIDSize + 8 + 8 + 8 + 4 + 4 + 4 + 1 + 8 + 2 // 61
)

// FragmentOverhead is the encoded size, beyond their data, of n fragments
// (a flags byte and a 2-byte length each).
//
// Packing rule for the engine: an Mcast holding fragments with data lengths
// d1..dn encodes to exactly FrameOverhead + FragmentOverhead(n) + d1+...+dn
// bytes. To fit a datagram payload of P bytes (what remains after the
// transport's own header and AEAD overhead), choose fragments so that
//
//	FrameOverhead + FragmentOverhead(n) + sum(di) <= P - EncapOverhead
//
// Subtracting EncapOverhead up front guarantees that the frame still fits
// when it must be re-broadcast encapsulated during recovery; a frame that
// is never re-broadcast would fit without it, but the engine cannot know
// that when it packs the frame. P must also be at most MaxSize.
func FragmentOverhead(n int) int {
	if n <= 0 {
		return 0
	}
	return n * fragmentHeaderSize
}
