package wire

import (
	"encoding/binary"
	"slices"
)

// Bit assignments of the flag bytes. Bits not listed must be zero.
const (
	tokenRetransFlg = 1 << 0 // Token flags: RetransFlg

	fragStart = 1 << 0 // Fragment flags: Start
	fragEnd   = 1 << 1 // Fragment flags: End

	entryFilled = 1 << 0 // CommitEntry flags: Filled

	// knownFrameFlags is every Mcast.Flags bit defined in messages.go. Add
	// new flags here too, or Decode rejects them.
	knownFrameFlags = FlagSafe
)

// Encode returns the encoding of m in a new slice of exactly Size(m) bytes.
func Encode(m Message) []byte {
	return Append(make([]byte, 0, Size(m)), m)
}

// Append appends the encoding of m to dst and returns the extended slice. It
// grows dst at most once (to fit Size(m)) and allocates nothing else.
//
// Append never fails and never panics. It encodes exactly what m holds: a
// message that breaks the format's rules (see Validate) still encodes, to
// bytes that Decode rejects, never to bytes that decode as a different valid
// message. A nil message encodes as a bare header (version, kind 0 or the
// type's kind) that Decode rejects.
func Append(dst []byte, m Message) []byte {
	dst = slices.Grow(dst, Size(m))
	if m == nil {
		return append(dst, Version, 0)
	}
	dst = append(dst, Version, uint8(m.Kind()))
	switch m := m.(type) {
	case *Token:
		if m != nil {
			dst = appendToken(dst, m)
		}
	case *Mcast:
		if m != nil {
			dst = appendMcastBody(dst, m, 0)
		}
	case *Join:
		if m != nil {
			dst = appendJoin(dst, m)
		}
	case *Commit:
		if m != nil {
			dst = appendCommit(dst, m)
		}
	case *MergeDetect:
		if m != nil {
			dst = appendSenderRing(dst, m.Sender, m.Ring)
		}
	case *HoldCancel:
		if m != nil {
			dst = appendSenderRing(dst, m.Sender, m.Ring)
		}
	case *Leave:
		if m != nil {
			dst = appendSenderRing(dst, m.Sender, m.Ring)
		}
	case *TokenAck:
		if m != nil {
			dst = appendSenderRing(dst, m.Sender, m.Ring)
			dst = binary.LittleEndian.AppendUint64(dst, m.TokenSeq)
		}
	}
	return dst
}

// Size returns the exact number of bytes Append writes for m. It costs one
// pass over Mcast fragments; other kinds are constant time.
func Size(m Message) int {
	switch m := m.(type) {
	case *Token:
		if m != nil {
			return TokenOverhead + 8*len(m.Rtr)
		}
	case *Mcast:
		if m != nil {
			return HeaderSize + mcastBodyLen(m, 0)
		}
	case *Join:
		if m != nil {
			return HeaderSize + 4 + 8 + 2 + 4*len(m.Proc) + 2 + 4*len(m.Fail)
		}
	case *Commit:
		if m != nil {
			return HeaderSize + ringIDSize + 8 + 1 + 2 + 4*len(m.Members) + 2 + commitEntrySize*len(m.Entries)
		}
	case *MergeDetect:
		if m != nil {
			return HeaderSize + 4 + ringIDSize
		}
	case *HoldCancel:
		if m != nil {
			return HeaderSize + 4 + ringIDSize
		}
	case *TokenAck:
		if m != nil {
			return HeaderSize + 4 + ringIDSize + 8
		}
	case *Leave:
		if m != nil {
			return HeaderSize + 4 + ringIDSize
		}
	}
	return HeaderSize
}

func mcastBodyLen(m *Mcast, depth int) int {
	n := mcastBodySize + FragmentOverhead(len(m.Frags))
	for i := range m.Frags {
		n += len(m.Frags[i].Data)
	}
	if m.Encap != nil && depth == 0 {
		n += mcastBodyLen(m.Encap, 1)
	}
	return n
}

// count16 writes a list length. A length above 0xffff is written as 0xffff:
// every list limit is lower, so Decode rejects it (and MaxSize is exceeded
// anyway), rather than reading a wrapped-around count.
func count16(dst []byte, n int) []byte {
	return binary.LittleEndian.AppendUint16(dst, uint16(min(n, 0xffff)))
}

func boolByte(b bool, bit uint8) uint8 {
	if b {
		return bit
	}
	return 0
}

func appendRing(dst []byte, r RingID) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(r.Rep))
	return binary.LittleEndian.AppendUint64(dst, r.Seq)
}

func appendIDs(dst []byte, ids []NodeID) []byte {
	dst = count16(dst, len(ids))
	for _, id := range ids {
		dst = binary.LittleEndian.AppendUint32(dst, uint32(id))
	}
	return dst
}

func appendToken(dst []byte, m *Token) []byte {
	dst = appendRing(dst, m.Ring)
	dst = binary.LittleEndian.AppendUint64(dst, m.TokenSeq)
	dst = binary.LittleEndian.AppendUint64(dst, m.Seq)
	dst = binary.LittleEndian.AppendUint64(dst, m.Aru)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(m.AruAddr))
	dst = binary.LittleEndian.AppendUint32(dst, m.Fcc)
	dst = binary.LittleEndian.AppendUint32(dst, m.Backlog)
	dst = append(dst, boolByte(m.RetransFlg, tokenRetransFlg))
	dst = binary.LittleEndian.AppendUint64(dst, m.InstallSeq)
	dst = count16(dst, len(m.Rtr))
	for _, s := range m.Rtr {
		dst = binary.LittleEndian.AppendUint64(dst, s)
	}
	return dst
}

// appendMcastBody writes an Mcast without the header. depth is 0 for the
// outer frame and 1 for an encapsulated one; an encapsulated frame's own
// Encap is announced by its flag but not written, so that Decode rejects it
// and a cyclic Encap chain cannot recurse forever.
func appendMcastBody(dst []byte, m *Mcast, depth int) []byte {
	dst = appendRing(dst, m.Ring)
	dst = binary.LittleEndian.AppendUint64(dst, m.Seq)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(m.Sender))
	dst = append(dst, m.Flags, boolByte(m.Encap != nil, 1))
	dst = count16(dst, len(m.Frags))
	for i := range m.Frags {
		f := &m.Frags[i]
		dst = append(dst, boolByte(f.Start, fragStart)|boolByte(f.End, fragEnd))
		dst = count16(dst, len(f.Data))
		dst = append(dst, f.Data...)
	}
	if m.Encap != nil && depth == 0 {
		dst = appendMcastBody(dst, m.Encap, 1)
	}
	return dst
}

func appendJoin(dst []byte, m *Join) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(m.Sender))
	dst = binary.LittleEndian.AppendUint64(dst, m.RingSeq)
	dst = appendIDs(dst, m.Proc)
	return appendIDs(dst, m.Fail)
}

func appendCommit(dst []byte, m *Commit) []byte {
	dst = appendRing(dst, m.Ring)
	dst = binary.LittleEndian.AppendUint64(dst, m.TokenSeq)
	dst = append(dst, m.Rotation)
	dst = appendIDs(dst, m.Members)
	dst = count16(dst, len(m.Entries))
	for i := range m.Entries {
		e := &m.Entries[i]
		dst = append(dst, boolByte(e.Filled, entryFilled))
		dst = appendRing(dst, e.OldRing)
		dst = binary.LittleEndian.AppendUint64(dst, e.Aru)
		dst = binary.LittleEndian.AppendUint64(dst, e.HighDelivered)
		dst = binary.LittleEndian.AppendUint64(dst, e.HighReceived)
	}
	return dst
}

func appendSenderRing(dst []byte, sender NodeID, r RingID) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(sender))
	return appendRing(dst, r)
}
