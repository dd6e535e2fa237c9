// Package transport moves opaque datagrams between the nodes of the
// nodelist. It owns the Transport interface and its two implementations:
//
//   - UDP: the real transport, like corosync's knet with udpu: unicast UDP
//     to every node over up to MaxLinks redundant links (ring0_addr …
//     ring7_addr), every datagram authenticated and encrypted with the
//     cluster authkey, with per-link heartbeats, link selection and
//     counters.
//   - MemNetwork / MemEndpoint: a deterministic in-memory network for the
//     seeded simulator (latency, jitter, loss, duplication, reordering,
//     partitions, link failures, freezes and crashes, all from one seed).
//
// It also owns the authkey file (ReadKey, WriteKey; `ovsha keygen`). It
// knows nothing of Totem: payloads are bytes.
//
// # Usage
//
//	key, err := transport.ReadKey("/etc/ovsha/authkey")
//	u, err := transport.NewUDP(transport.UDPConfig{
//		ClusterName: "gw", Key: key, Local: 1, Peers: nodelist, Logger: log,
//	})
//	defer u.Close()
//	u.Send([]transport.NodeID{2, 3}, msg, false) // best alive link
//	for p := range u.Receive() { ... }             // verified payloads
//
// # Packet format
//
// A datagram is a 24-byte cleartext header followed by the AES-256-GCM
// ciphertext of the payload and its 16-byte tag (wire.go has the byte
// layout): magic "OV", version 1, a flags byte holding the kind (data,
// ping, pong), the sender's node id (u32), its boot id (u64) and a counter
// (u64). The whole header is the AEAD additional data, so nothing in it can
// be changed without failing authentication. Datagrams are at most
// MaxDatagram (65000) bytes, so payloads are at most MaxPayload (64960)
// bytes; larger received datagrams are counted as Oversize.
//
// # Crypto
//
// The master key is HKDF-SHA256(authkey, salt "ovsha transport v1",
// info = cluster name): another cluster with the same authkey derives other
// keys, and its traffic fails authentication. Each (sender, boot) pair has
// its own subkey, HKDF-SHA256(master, info = sender u32 || boot u64); the
// receiver caches the AEAD of each peer's current boot. The 12-byte nonce
// is four zero bytes and the counter, which grows by one for every datagram
// a boot seals, so a nonce is never reused under a key.
//
// The receive path checks, cheapest first: size (Oversize), header syntax
// (Malformed), that the sender is in the nodelist and the datagram came
// from that node's configured address on the link it arrived on
// (UnknownSender), that the boot is not older than the newest seen
// (Replays), then the AEAD tag (AuthFailures). Nothing of the body is read
// before the tag verifies; only then is the replay window consulted.
// Dropped datagrams are counted (Counters, and per link in LinkStatus) and
// logged at most once per second per reason, naming the source address.
//
// # Boot ids and replay protection
//
// The boot id is the node's start time in unix ns. A receiver keeps, per
// sender, the newest boot it has authenticated and a sliding window of
// 1984 counters (replay.go, RFC 6479 style) for that boot. A datagram of a
// newer boot (the peer restarted) resets the window; a datagram of an older
// boot is a replay. Inside the window each counter is accepted once; older
// counters are replays. A node whose clock steps back across a restart is
// rejected by peers that saw its previous boot until they restart too; a
// receiver that restarts accepts, once, datagrams of the sender's current
// boot that an attacker recorded earlier (there is no handshake).
//
// Send seals a payload once and sends the same bytes to every destination
// and link. With redundant links a second copy of a datagram sent on
// several links is therefore dropped by the window: it is counted as a
// Duplicate (the window remembers on which link a counter was first
// accepted), not as a Replay. Duplicates are normal with Send(all=true).
//
// # Links, heartbeats and link selection
//
// A link exists to a peer when both the local node and the peer have an
// address for it; the transport binds one socket per local link address.
// Every HeartbeatInterval (default 50ms) it sends a ping on every (peer,
// link); the peer answers with a pong echoing the ping's timestamp, giving
// a smoothed round-trip time (LinkStatus.Latency, gain 1/8). Any
// authenticated datagram from the peer on a link counts as liveness; a link
// is up while the last one is at most LinkTimeout (default 4 × interval)
// old. Up/down changes are logged.
//
// Send routes each destination separately: plain data goes on the
// lowest-numbered link that is up; with all set (critical protocol
// messages) on every link that is up; when no link to that destination is
// up, on every configured link. Destinations sharing a link are sent with
// one sendmmsg call; each socket is read by its own goroutine with
// recvmmsg. A destination equal to the local node is delivered straight to
// the local Receive channel. Verified payloads go to a channel of 4096;
// when it is full they are dropped and counted (QueueFull).
package transport
