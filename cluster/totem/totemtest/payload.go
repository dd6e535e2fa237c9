package totemtest

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"

	"github.com/ovsha/ovsha/cluster/totem"
)

// MsgID names one application message of the workload: its sender and the
// sender's message counter (which survives restarts of the sender, so ids
// are unique within one simulation).
type MsgID struct {
	Sender  totem.NodeID
	Counter uint64
}

func (m MsgID) String() string { return fmt.Sprintf("%d#%d", m.Sender, m.Counter) }

// Payload layout: magic, sender (4), counter (8), flags (1), body.
const (
	payloadMagic      = 0xA5
	payloadHeaderSize = 1 + 4 + 8 + 1
	payloadFlagSafe   = 1 << 0
)

// encodePayload appends the payload of message id with the given body.
func encodePayload(dst []byte, id MsgID, safe bool, body []byte) []byte {
	dst = append(dst, payloadMagic)
	dst = binary.BigEndian.AppendUint32(dst, uint32(id.Sender))
	dst = binary.BigEndian.AppendUint64(dst, id.Counter)
	var flags byte
	if safe {
		flags |= payloadFlagSafe
	}
	dst = append(dst, flags)
	return append(dst, body...)
}

// decodePayload parses a payload produced by encodePayload.
func decodePayload(p []byte) (id MsgID, safe bool, body []byte, err error) {
	if len(p) < payloadHeaderSize || p[0] != payloadMagic {
		return MsgID{}, false, nil, fmt.Errorf("payload of %d bytes is not a workload message", len(p))
	}
	id.Sender = totem.NodeID(binary.BigEndian.Uint32(p[1:]))
	id.Counter = binary.BigEndian.Uint64(p[5:])
	return id, p[13]&payloadFlagSafe != 0, p[payloadHeaderSize:], nil
}

func payloadHash(p []byte) uint64 {
	h := fnv.New64a()
	h.Write(p)
	return h.Sum64()
}

// mix64 is splitmix64's finaliser: a bijective hash used for seed
// derivation and order-independent set hashes.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func (m MsgID) hash() uint64 { return mix64(uint64(m.Sender)<<48 ^ m.Counter) }
