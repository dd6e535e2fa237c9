package wire

import (
	"bytes"
	"math/rand/v2"
	"slices"
)

// goldenCase is one message with a committed encoding under testdata/golden.
type goldenCase struct {
	name string
	msg  Message
}

// goldenCases covers every kind, an Encap Mcast and a Token with Rtr.
// Multi-byte fields hold distinct byte patterns so that a byte-order or
// field-order mistake changes the golden bytes.
func goldenCases() []goldenCase {
	return []goldenCase{
		{"token", &Token{
			Ring:       RingID{Rep: 3, Seq: 0x0102030405060708},
			TokenSeq:   0x1112131415161718,
			Seq:        0x2122232425262728,
			Aru:        0x3132333435363738,
			AruAddr:    0x41424344,
			Fcc:        0x51525354,
			Backlog:    0x61626364,
			InstallSeq: 0x7172737475767778,
		}},
		{"token_rtr", &Token{
			Ring:       RingID{Rep: 1, Seq: 9},
			TokenSeq:   1000,
			Seq:        520,
			Aru:        500,
			AruAddr:    2,
			Fcc:        17,
			Backlog:    4,
			RetransFlg: true,
			Rtr:        []uint64{501, 502, 510, 0x8000000000000001},
		}},
		{"mcast", &Mcast{
			Ring:   RingID{Rep: 1, Seq: 9},
			Seq:    0x0a0b0c0d,
			Sender: 2,
			Flags:  FlagSafe,
			Frags: []Fragment{
				{Start: true, End: false, Data: []byte("hello ")},
				{Start: false, End: true, Data: []byte("world")},
				{Start: true, End: true, Data: []byte{0x00, 0xff}},
				{Start: true, End: true}, // an empty application message
			},
		}},
		{"mcast_encap", &Mcast{
			Ring:   RingID{Rep: 1, Seq: 12},
			Seq:    3,
			Sender: 1,
			Encap: &Mcast{
				Ring:   RingID{Rep: 2, Seq: 10},
				Seq:    77,
				Sender: 4,
				Flags:  FlagSafe,
				Frags:  []Fragment{{Start: true, End: true, Data: []byte("cib-update")}},
			},
		}},
		{"join", &Join{
			Sender:  2,
			RingSeq: 0x0102030405060708,
			Proc:    []NodeID{1, 2, 3, 0x01020304},
			Fail:    []NodeID{5},
		}},
		{"commit", &Commit{
			Ring:     RingID{Rep: 1, Seq: 12},
			TokenSeq: 5,
			Rotation: 2,
			Members:  []NodeID{1, 2, 4},
			Entries: []CommitEntry{
				{Filled: true, OldRing: RingID{Rep: 1, Seq: 8}, Aru: 100, HighDelivered: 99, HighReceived: 103},
				{Filled: true, OldRing: RingID{Rep: 2, Seq: 10}, Aru: 7, HighDelivered: 7, HighReceived: 7},
				{},
			},
		}},
		{"merge_detect", &MergeDetect{Sender: 1, Ring: RingID{Rep: 1, Seq: 0x0102030405060708}}},
		{"hold_cancel", &HoldCancel{Sender: 3, Ring: RingID{Rep: 1, Seq: 12}}},
		{"leave", &Leave{Sender: 0x01020304, Ring: RingID{Rep: 1, Seq: 12}}},
		{"token_ack", &TokenAck{Sender: 2, Ring: RingID{Rep: 1, Seq: 12}, TokenSeq: 0x0102030405060708}},
	}
}

// gen builds random valid messages from a seeded source. Empty slices are
// always nil, as Decode returns them.
type gen struct{ r *rand.Rand }

func newGen(seed uint64) gen { return gen{rand.New(rand.NewPCG(seed, 0x77697265))} }

// u64 returns values of every magnitude, so all bytes of a field get used.
func (g gen) u64() uint64 { return g.r.Uint64() >> g.r.IntN(64) }
func (g gen) u32() uint32 { return g.r.Uint32() >> g.r.IntN(32) }
func (g gen) id() NodeID  { return NodeID(g.u32() | 1) }
func (g gen) ring() RingID {
	return RingID{Rep: NodeID(g.u32()), Seq: g.u64()}
}

// n returns a length in [0, max], biased towards small values and zero.
func (g gen) n(max int) int {
	switch g.r.IntN(4) {
	case 0:
		return 0
	case 1:
		return g.r.IntN(min(max, 4) + 1)
	default:
		return g.r.IntN(max + 1)
	}
}

func (g gen) ids(max int) []NodeID {
	n := g.n(max)
	if n == 0 {
		return nil
	}
	seen := make(map[NodeID]bool, n)
	var ids []NodeID
	for len(ids) < n {
		id := g.id()
		if g.r.IntN(2) == 0 {
			id = NodeID(g.r.IntN(64) + 1)
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

func (g gen) bytes(max int) []byte {
	n := g.n(max)
	if n == 0 {
		return nil
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.r.Uint32())
	}
	return b
}

func (g gen) frags(max, maxData int) []Fragment {
	n := g.n(max)
	if n == 0 {
		return nil
	}
	f := make([]Fragment, n)
	for i := range f {
		f[i] = Fragment{Start: g.r.IntN(2) == 0, End: g.r.IntN(2) == 0, Data: g.bytes(maxData)}
	}
	return f
}

func (g gen) mcast(depth int) *Mcast {
	m := &Mcast{Ring: g.ring(), Seq: g.u64(), Sender: g.id(), Flags: uint8(g.r.IntN(2)) * FlagSafe}
	if depth == 0 && g.r.IntN(4) == 0 {
		m.Encap = g.mcast(1)
	} else {
		m.Frags = g.frags(40, 100)
	}
	return m
}

// message returns a random valid message of a random kind.
func (g gen) message() Message {
	switch Kind(g.r.IntN(7) + 1) {
	case KindToken:
		m := &Token{Ring: g.ring(), TokenSeq: g.u64(), Seq: g.u64(), Aru: g.u64(), AruAddr: NodeID(g.u32()),
			Fcc: g.u32(), Backlog: g.u32(), RetransFlg: g.r.IntN(2) == 0, InstallSeq: g.u64()}
		if n := g.n(50); n > 0 {
			m.Rtr = make([]uint64, n)
			for i := range m.Rtr {
				m.Rtr[i] = g.u64()
			}
		}
		return m
	case KindMcast:
		return g.mcast(0)
	case KindJoin:
		return &Join{Sender: g.id(), RingSeq: g.u64(), Proc: g.ids(40), Fail: g.ids(10)}
	case KindCommit:
		m := &Commit{Ring: g.ring(), TokenSeq: g.u64(), Rotation: uint8(g.r.IntN(3)), Members: g.ids(40)}
		if len(m.Members) > 0 {
			m.Entries = make([]CommitEntry, len(m.Members))
			for i := range m.Entries {
				m.Entries[i] = CommitEntry{Filled: g.r.IntN(2) == 0, OldRing: g.ring(), Aru: g.u64(), HighDelivered: g.u64(), HighReceived: g.u64()}
			}
		}
		return m
	case KindMergeDetect:
		return &MergeDetect{Sender: g.id(), Ring: g.ring()}
	case KindHoldCancel:
		return &HoldCancel{Sender: g.id(), Ring: g.ring()}
	case KindTokenAck:
		return &TokenAck{Sender: g.id(), Ring: g.ring(), TokenSeq: g.u64()}
	default:
		return &Leave{Sender: g.id(), Ring: g.ring()}
	}
}

// hexDump formats b as the golden file body: 16 bytes per line.
func hexDump(b []byte) string {
	var s bytes.Buffer
	for i, c := range b {
		switch {
		case i == 0:
		case i%16 == 0:
			s.WriteByte('\n')
		case i%8 == 0:
			s.WriteString("  ")
		default:
			s.WriteByte(' ')
		}
		const digits = "0123456789abcdef"
		s.WriteByte(digits[c>>4])
		s.WriteByte(digits[c&15])
	}
	s.WriteByte('\n')
	return s.String()
}
