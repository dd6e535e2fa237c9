package transport

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/hkdf"
)

// Key derivation:
//
//	master         = HKDF-SHA256(ikm = authkey, salt = "ovsha transport v1", info = cluster name)
//	subkey(s, b)   = HKDF-SHA256(ikm = master, salt = none, info = u32 sender || u64 boot)
//	datagram key   = AES-256-GCM(subkey(sender, boot))
//
// A (sender, boot) pair never reuses a counter, so the nonce (the counter)
// is unique per key. Binding the master key to the cluster name means two
// clusters sharing an authkey cannot read or inject each other's traffic.
const kdfSalt = "ovsha transport v1"

const (
	// MinKeyLen and MaxKeyLen bound the size of an authkey, as corosync does.
	MinKeyLen = 32
	MaxKeyLen = 4096
)

var errAuth = errors.New("authentication failed")

// keyring derives the per-(sender, boot) AEADs of one cluster.
type keyring struct {
	master [32]byte
}

func newKeyring(key []byte, clusterName string) (*keyring, error) {
	if len(key) < MinKeyLen || len(key) > MaxKeyLen {
		return nil, fmt.Errorf("authkey is %d bytes; expected %d to %d", len(key), MinKeyLen, MaxKeyLen)
	}
	k := &keyring{}
	r := hkdf.New(sha256.New, key, []byte(kdfSalt), []byte(clusterName))
	if _, err := io.ReadFull(r, k.master[:]); err != nil {
		return nil, fmt.Errorf("deriving master key: %w", err)
	}
	return k, nil
}

// aead returns the AES-256-GCM instance for datagrams sealed by sender
// during boot.
func (k *keyring) aead(sender NodeID, boot uint64) (cipher.AEAD, error) {
	var info [12]byte
	binary.BigEndian.PutUint32(info[0:4], uint32(sender))
	binary.BigEndian.PutUint64(info[4:12], boot)
	var sub [32]byte
	if _, err := io.ReadFull(hkdf.New(sha256.New, k.master[:], nil, info[:]), sub[:]); err != nil {
		return nil, fmt.Errorf("deriving key of node %d boot %d: %w", sender, boot, err)
	}
	block, err := aes.NewCipher(sub[:])
	if err != nil {
		return nil, fmt.Errorf("aes key of node %d: %w", sender, err)
	}
	g, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("gcm of node %d: %w", sender, err)
	}
	return g, nil
}

// cryptoScratch holds the nonce and additional-data buffers of one
// goroutine so that sealing and opening do not allocate.
type cryptoScratch struct {
	nonce [12]byte
	aad   [HeaderLen]byte
}

// seal appends header h and the sealed payload to dst[:0] and returns it.
// dst must not overlap payload.
func (s *cryptoScratch) seal(a cipher.AEAD, dst []byte, h header, payload []byte) []byte {
	h.put(s.aad[:])
	binary.BigEndian.PutUint64(s.nonce[4:], h.counter)
	dst = append(dst[:0], s.aad[:]...)
	return a.Seal(dst, s.nonce[:], payload, s.aad[:])
}

// open authenticates datagram pkt, whose header h was parsed from it, and
// appends the plaintext to dst. Nothing of the body is interpreted before
// the tag is verified.
func (s *cryptoScratch) open(a cipher.AEAD, dst, pkt []byte, h header) ([]byte, error) {
	binary.BigEndian.PutUint64(s.nonce[4:], h.counter)
	copy(s.aad[:], pkt[:HeaderLen])
	out, err := a.Open(dst, s.nonce[:], pkt[HeaderLen:], s.aad[:])
	if err != nil {
		return nil, errAuth
	}
	return out, nil
}

// decodeDatagram parses and authenticates one datagram with a key derived
// from its header. It is the stateless part of the receive path (no sender
// checks, no replay window) and what the fuzz target exercises.
func decodeDatagram(k *keyring, pkt []byte) (header, []byte, error) {
	if len(pkt) > MaxDatagram {
		return header{}, nil, fmt.Errorf("%d bytes: larger than %d", len(pkt), MaxDatagram)
	}
	h, err := parseHeader(pkt)
	if err != nil {
		return header{}, nil, err
	}
	a, err := k.aead(h.sender, h.boot)
	if err != nil {
		return header{}, nil, err
	}
	var s cryptoScratch
	out, err := s.open(a, make([]byte, 0, len(pkt)-Overhead), pkt, h)
	if err != nil {
		return header{}, nil, err
	}
	return h, out, nil
}
