package transport

import "time"

// NodeID identifies a cluster node (the nodelist nodeid).
type NodeID uint32

// MaxLinks is the most links (ring0_addr … ring7_addr) a node may have.
const MaxLinks = 8

// Packet is one verified datagram from a peer.
type Packet struct {
	From NodeID
	Link int
	// Data is the plaintext payload. It is owned by the receiver.
	Data []byte
}

// Transport moves opaque datagrams between the nodes of the nodelist.
// Implementations: UDP (multi-link, authenticated and encrypted) and the
// deterministic in-memory network used by the simulator.
type Transport interface {
	// Send sends b to every node in to. With all set, the datagram goes out
	// on every alive link to each destination (used for small, critical
	// protocol messages); otherwise on the best alive link. b may be reused
	// by the caller once Send returns.
	Send(to []NodeID, b []byte, all bool) error
	// Receive returns the channel on which verified datagrams arrive.
	Receive() <-chan Packet
	// Links reports the state of every (peer, link) pair.
	Links() []LinkStatus
	// Close releases sockets and stops goroutines.
	Close() error
}

// LinkStatus is the health of one link to one peer.
type LinkStatus struct {
	Peer                 NodeID
	Link                 int
	Local                string // local address
	Remote               string // peer address
	Up                   bool
	Latency              time.Duration // smoothed round-trip time of heartbeats
	TxPackets, RxPackets uint64
	TxBytes, RxBytes     uint64
	RxErrors             uint64 // malformed or undecryptable datagrams attributed to this link
	AuthFailures         uint64
	Replays              uint64
	Duplicates           uint64 // copies already received over another link (expected with redundant links)
	TxErrors             uint64 // datagrams the kernel refused to send on this link
	LastHeard            time.Time
}
