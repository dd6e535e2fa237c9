package wire

import (
	"encoding/binary"
	"fmt"
)

// Decode parses one message from b, which must hold exactly one message.
//
// Decoding is strict: every rule in doc.go is checked, and any violation
// returns a *FieldError wrapping ErrTruncated, ErrVersion, ErrKind,
// ErrTooLong, ErrTrailing, ErrNesting or ErrInvalid. Decode never panics,
// and allocates at most a small constant factor times len(b).
//
// Fragment.Data slices alias b (with their capacity clipped to their
// length): the caller must not modify b while the message is in use, or
// must copy the data it keeps. Empty lists and empty fragment data decode
// as nil slices.
func Decode(b []byte) (Message, error) {
	if len(b) == 0 {
		return nil, &FieldError{Field: "version", Err: fmt.Errorf("empty input: %w", ErrTruncated)}
	}
	if b[0] != Version {
		return nil, &FieldError{Field: "version", Err: fmt.Errorf("version %d, this build reads version %d: %w", b[0], Version, ErrVersion)}
	}
	if len(b) > MaxSize {
		return nil, &FieldError{Offset: -1, Err: fmt.Errorf("%d bytes, at most %d allowed: %w", len(b), MaxSize, ErrTooLong)}
	}
	if len(b) < HeaderSize {
		return nil, &FieldError{Field: "kind", Offset: 1, Err: ErrTruncated}
	}
	k := Kind(b[1])
	d := decoder{b: b, off: HeaderSize, kind: k}
	var m Message
	switch k {
	case KindToken:
		m = d.token()
	case KindMcast:
		mc := new(Mcast)
		d.mcastBody(mc, 0)
		m = mc
	case KindJoin:
		m = d.join()
	case KindCommit:
		m = d.commit()
	case KindMergeDetect:
		s, r := d.senderRing()
		m = &MergeDetect{Sender: s, Ring: r}
	case KindHoldCancel:
		s, r := d.senderRing()
		m = &HoldCancel{Sender: s, Ring: r}
	case KindLeave:
		s, r := d.senderRing()
		m = &Leave{Sender: s, Ring: r}
	case KindTokenAck:
		s, r := d.senderRing()
		m = &TokenAck{Sender: s, Ring: r, TokenSeq: d.u64("TokenSeq", -1)}
	default:
		return nil, &FieldError{Field: "kind", Offset: 1, Err: fmt.Errorf("kind %d: %w", b[1], ErrKind)}
	}
	if d.err != nil {
		return nil, d.err
	}
	if d.off != len(b) {
		return nil, &FieldError{Kind: k, Offset: d.off, Err: fmt.Errorf("%d bytes after the message: %w", len(b)-d.off, ErrTrailing)}
	}
	return m, nil
}

// decoder reads fields from b. The first failure is kept in err; after it,
// every read returns zero values and consumes nothing, so callers check err
// only before allocating and at the end.
type decoder struct {
	b      []byte
	off    int
	kind   Kind
	prefix string // field path prefix: "" or "Encap."
	err    *FieldError
}

func (d *decoder) fail(name string, idx, at int, err error) {
	if d.err == nil {
		d.err = &FieldError{Kind: d.kind, Field: field(d.prefix, name, idx), Offset: at, Err: err}
	}
}

// take consumes n bytes, or records ErrTruncated and returns nil.
func (d *decoder) take(n int, name string, idx int) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.b)-d.off < n {
		d.fail(name, idx, d.off, fmt.Errorf("need %d bytes, %d left: %w", n, len(d.b)-d.off, ErrTruncated))
		return nil
	}
	s := d.b[d.off : d.off+n : d.off+n]
	d.off += n
	return s
}

func (d *decoder) u8(name string, idx int) uint8 {
	if s := d.take(1, name, idx); s != nil {
		return s[0]
	}
	return 0
}

func (d *decoder) u16(name string, idx int) uint16 {
	if s := d.take(2, name, idx); s != nil {
		return binary.LittleEndian.Uint16(s)
	}
	return 0
}

func (d *decoder) u32(name string, idx int) uint32 {
	if s := d.take(4, name, idx); s != nil {
		return binary.LittleEndian.Uint32(s)
	}
	return 0
}

func (d *decoder) u64(name string, idx int) uint64 {
	if s := d.take(8, name, idx); s != nil {
		return binary.LittleEndian.Uint64(s)
	}
	return 0
}

func (d *decoder) ring(name string, idx int) RingID {
	return RingID{Rep: NodeID(d.u32(name, idx)), Seq: d.u64(name, idx)}
}

// flags reads a flag byte and rejects bits outside known.
func (d *decoder) flags(name string, idx int, known uint8) uint8 {
	at := d.off
	b := d.u8(name, idx)
	if err := checkFlags(b, known); err != nil {
		d.fail(name, idx, at, err)
	}
	return b
}

func (d *decoder) sender(name string) NodeID {
	at := d.off
	id := NodeID(d.u32(name, -1))
	if d.err == nil {
		if err := checkSender(id); err != nil {
			d.fail(name, -1, at, err)
		}
	}
	return id
}

// count reads a list length and checks it against limit and against the
// bytes left, given that each element takes at least minSize bytes. This
// bounds every allocation by the input length.
func (d *decoder) count(name string, limit, minSize int) int {
	at := d.off
	n := int(d.u16(name, -1))
	if d.err != nil {
		return 0
	}
	if err := checkCount(n, limit); err != nil {
		d.fail(name, -1, at, err)
		return 0
	}
	if left := len(d.b) - d.off; n*minSize > left {
		d.fail(name, -1, at, fmt.Errorf("%d entries need at least %d bytes, %d left: %w", n, n*minSize, left, ErrTruncated))
		return 0
	}
	return n
}

func (d *decoder) ids(name string) []NodeID {
	n := d.count(name, MaxNodeIDs, 4)
	if n == 0 {
		return nil
	}
	at := d.off
	ids := make([]NodeID, n)
	for i := range ids {
		ids[i] = NodeID(d.u32(name, i))
	}
	if i, err := checkIDs(ids); err != nil {
		d.fail(name, i, at+4*i, err)
	}
	return ids
}

func (d *decoder) token() *Token {
	m := &Token{
		Ring:     d.ring("Ring", -1),
		TokenSeq: d.u64("TokenSeq", -1),
		Seq:      d.u64("Seq", -1),
		Aru:      d.u64("Aru", -1),
		AruAddr:  NodeID(d.u32("AruAddr", -1)),
		Fcc:      d.u32("Fcc", -1),
		Backlog:  d.u32("Backlog", -1),
	}
	m.RetransFlg = d.flags("RetransFlg", -1, tokenRetransFlg) != 0
	m.InstallSeq = d.u64("InstallSeq", -1)
	if n := d.count("Rtr", MaxRtr, 8); n > 0 {
		m.Rtr = make([]uint64, n)
		for i := range m.Rtr {
			m.Rtr[i] = d.u64("Rtr", i)
		}
	}
	return m
}

// mcastBody decodes an Mcast without header into m; depth is 0 for the
// outer frame, 1 for an encapsulated one.
func (d *decoder) mcastBody(m *Mcast, depth int) {
	m.Ring = d.ring("Ring", -1)
	m.Seq = d.u64("Seq", -1)
	m.Sender = d.sender("Sender")
	m.Flags = d.flags("Flags", -1, knownFrameFlags)
	at := d.off
	encap := d.flags("Encap", -1, 1) != 0
	if encap && depth > 0 {
		d.fail("Encap", -1, at, errEncapNested)
	}
	at = d.off
	n := d.count("Frags", MaxFragments, fragmentHeaderSize)
	if encap && n > 0 {
		d.fail("Frags", -1, at, errEncapWithFrags)
	}
	if d.err != nil {
		return
	}
	if n > 0 {
		m.Frags = make([]Fragment, n)
		for i := range m.Frags {
			f := &m.Frags[i]
			fl := d.flags("Frags", i, fragStart|fragEnd)
			f.Start, f.End = fl&fragStart != 0, fl&fragEnd != 0
			if l := int(d.u16("Frags", i)); l > 0 {
				f.Data = d.take(l, "Frags", i)
			}
		}
	}
	if encap && d.err == nil {
		m.Encap = new(Mcast)
		d.prefix = "Encap."
		d.mcastBody(m.Encap, depth+1)
		d.prefix = ""
	}
}

func (d *decoder) join() *Join {
	m := &Join{Sender: d.sender("Sender"), RingSeq: d.u64("RingSeq", -1)}
	m.Proc = d.ids("Proc")
	m.Fail = d.ids("Fail")
	return m
}

func (d *decoder) commit() *Commit {
	m := &Commit{
		Ring:     d.ring("Ring", -1),
		TokenSeq: d.u64("TokenSeq", -1),
		Rotation: d.u8("Rotation", -1),
	}
	m.Members = d.ids("Members")
	at := d.off
	n := d.count("Entries", MaxNodeIDs, commitEntrySize)
	if d.err == nil && n != len(m.Members) {
		d.fail("Entries", -1, at, errCommitLengths(len(m.Members), n))
	}
	if d.err != nil || n == 0 {
		return m
	}
	m.Entries = make([]CommitEntry, n)
	for i := range m.Entries {
		e := &m.Entries[i]
		e.Filled = d.flags("Entries", i, entryFilled) != 0
		e.OldRing = d.ring("Entries", i)
		e.Aru = d.u64("Entries", i)
		e.HighDelivered = d.u64("Entries", i)
		e.HighReceived = d.u64("Entries", i)
	}
	return m
}

func (d *decoder) senderRing() (NodeID, RingID) {
	s := d.sender("Sender")
	return s, d.ring("Ring", -1)
}
