package transport

import (
	"encoding/binary"
	"errors"
)

// Wire format of one datagram (all integers big-endian):
//
//	offset size field
//	     0    2 magic "OV" (0x4f 0x56)
//	     2    1 version (1)
//	     3    1 flags: bits 0-1 kind (0 data, 1 ping, 2 pong); bits 2-7 zero
//	     4    4 sender node id
//	     8    8 sender boot id (the sender's start time, unix ns)
//	    16    8 counter (per sender and boot, grows by one per sealed datagram)
//	    24    n ciphertext of the payload (AES-256-GCM)
//	  24+n   16 GCM tag
//
// The 24-byte header is the AEAD additional data, so every header field is
// authenticated; the nonce is 4 zero bytes followed by the counter. The key
// is derived per (sender, boot) from the authkey and the cluster name (see
// crypto.go). Ping and pong payloads are 8 bytes: the pinger's monotonic
// timestamp in ns, echoed unchanged in the pong.
const (
	// HeaderLen is the size of the cleartext, authenticated header.
	HeaderLen = 24
	// TagLen is the size of the AES-GCM authentication tag.
	TagLen = 16
	// Overhead is what the transport adds to every payload.
	Overhead = HeaderLen + TagLen
	// MaxDatagram is the largest datagram sent or accepted. It stays below
	// the 65507-byte IPv4 UDP limit; larger received datagrams are counted
	// as Oversize. IP fragments datagrams above the path MTU.
	MaxDatagram = 65000
	// MaxPayload is the largest payload Send accepts.
	MaxPayload = MaxDatagram - Overhead

	magic0      = 'O'
	magic1      = 'V'
	wireVersion = 1
	kindMask    = 0x03
	pingLen     = 8
)

// kind is the datagram type carried in the flags byte.
type kind uint8

const (
	kindData kind = 0
	kindPing kind = 1
	kindPong kind = 2
)

func (k kind) String() string {
	switch k {
	case kindData:
		return "data"
	case kindPing:
		return "ping"
	case kindPong:
		return "pong"
	}
	return "unknown"
}

// header is the decoded cleartext header of a datagram.
type header struct {
	kind    kind
	sender  NodeID
	boot    uint64
	counter uint64
}

var (
	errShort   = errors.New("shorter than header and tag")
	errMagic   = errors.New("bad magic")
	errVersion = errors.New("unsupported version")
	errFlags   = errors.New("unknown flags")
)

// put writes h into b[:HeaderLen].
func (h header) put(b []byte) {
	_ = b[HeaderLen-1]
	b[0], b[1], b[2], b[3] = magic0, magic1, wireVersion, byte(h.kind)
	binary.BigEndian.PutUint32(b[4:8], uint32(h.sender))
	binary.BigEndian.PutUint64(b[8:16], h.boot)
	binary.BigEndian.PutUint64(b[16:24], h.counter)
}

// parseHeader decodes the cleartext header of a datagram. It looks at
// nothing past the header: the body is only touched by the AEAD.
func parseHeader(b []byte) (header, error) {
	if len(b) < Overhead {
		return header{}, errShort
	}
	if b[0] != magic0 || b[1] != magic1 {
		return header{}, errMagic
	}
	if b[2] != wireVersion {
		return header{}, errVersion
	}
	f := b[3]
	if f&^kindMask != 0 || kind(f&kindMask) > kindPong {
		return header{}, errFlags
	}
	return header{
		kind:    kind(f & kindMask),
		sender:  NodeID(binary.BigEndian.Uint32(b[4:8])),
		boot:    binary.BigEndian.Uint64(b[8:16]),
		counter: binary.BigEndian.Uint64(b[16:24]),
	}, nil
}
