package transport

import (
	"cmp"
	"crypto/cipher"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// Peer is one node of the nodelist with its link addresses.
type Peer struct {
	ID NodeID
	// Addrs[i] is the node's ringi_addr with the port; the zero AddrPort
	// means the node has no link i.
	Addrs [MaxLinks]netip.AddrPort
}

// UDPConfig configures a UDP transport.
type UDPConfig struct {
	// ClusterName is bound into the keys: nodes of another cluster with the
	// same authkey cannot talk to this one.
	ClusterName string
	// Key is the authkey (MinKeyLen to MaxKeyLen bytes; see ReadKey).
	Key []byte
	// Local is this node's id; it must be in Peers.
	Local NodeID
	// Peers is the whole nodelist, including the local node, whose Addrs
	// are the addresses the transport binds (one socket per link).
	Peers []Peer
	// HeartbeatInterval is how often each (peer, link) is pinged.
	// Default 50ms: a LAN appliance wants failover in well under a second.
	HeartbeatInterval time.Duration
	// LinkTimeout is how long a link may stay silent before it is declared
	// down. Default 4 × HeartbeatInterval: three lost pings in a row are
	// tolerated.
	LinkTimeout time.Duration
	// BootID identifies this start of the node; peers reject datagrams of
	// older boots. Default: the start time in unix ns, so it grows across
	// restarts as long as the clock does not step back.
	BootID uint64
	// Logger receives link state changes and (rate-limited) drop reports.
	// Default: discard.
	Logger *slog.Logger
}

const (
	defaultHeartbeat = 50 * time.Millisecond
	// recvQueue is the capacity of the Receive channel.
	recvQueue = 4096
	// readBatch is how many datagrams one recvmmsg call may return.
	readBatch = 16
	// readBufSize fits any UDP datagram, so oversize ones are seen whole
	// and counted rather than truncated.
	readBufSize = 65536
	// socketBuf is the kernel buffer requested for each socket.
	socketBuf = 4 << 20
)

var (
	// ErrTooLarge is returned by Send for payloads above MaxPayload.
	ErrTooLarge = errors.New("payload too large")
	// ErrClosed is returned by Send after Close.
	ErrClosed = errors.New("transport closed")
	// ErrUnknownNode is returned by Send for a destination not in the
	// nodelist.
	ErrUnknownNode = errors.New("unknown node")
)

// UDP is the real transport: authenticated, encrypted unicast UDP to every
// node of the nodelist over up to MaxLinks links.
type UDP struct {
	local     NodeID
	boot      uint64
	interval  time.Duration
	timeout   time.Duration
	log       *slog.Logger
	warn      *logLimiter
	keys      *keyring
	sendAEAD  cipher.AEAD
	counter   atomic.Uint64
	start     time.Time // monotonic base of all link timestamps
	socks     [MaxLinks]*udpSocket
	peers     map[NodeID]*peer
	peerList  []*peer // sorted by id
	recv      chan Packet
	counters  counterSet
	sendPool  sync.Pool
	closed    atomic.Bool
	done      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// batchConn is what ipv4.PacketConn and ipv6.PacketConn have in common.
type batchConn interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

type udpSocket struct {
	link  int
	addr  netip.AddrPort
	conn  *net.UDPConn
	batch batchConn
}

type peer struct {
	id    NodeID
	links [MaxLinks]*peerLink // nil where either end lacks the link
	rx    peerRx
}

// peerRx is the receive state of one sender: the key of its current boot
// and the replay window of that boot.
type peerRx struct {
	mu     sync.Mutex
	boot   uint64
	aead   cipher.AEAD
	window replayWindow
}

type peerLink struct {
	peer    NodeID
	link    int
	local   netip.AddrPort
	remote  netip.AddrPort
	udpAddr *net.UDPAddr
	// lastHeard is when the last authenticated datagram arrived, in ns
	// since UDP.start; 0 means never.
	lastHeard atomic.Int64
	srtt      atomic.Int64 // smoothed heartbeat RTT in ns; 0 = no sample
	wasUp     bool         // heartbeat goroutine only: for logging changes
	lastPing  int64        // heartbeat goroutine only: when we last pinged

	txPackets, txBytes, rxPackets, rxBytes     atomic.Uint64
	rxErrors, authFailures, replays, duplicate atomic.Uint64
	txErrors                                   atomic.Uint64
}

// NewUDP validates cfg, binds one socket per local link address and starts
// a receive goroutine per socket and the heartbeat goroutine.
func NewUDP(cfg UDPConfig) (*UDP, error) {
	u := &UDP{
		local:    cfg.Local,
		boot:     cfg.BootID,
		interval: cfg.HeartbeatInterval,
		timeout:  cfg.LinkTimeout,
		log:      cfg.Logger,
		start:    time.Now(),
		peers:    make(map[NodeID]*peer, len(cfg.Peers)),
		recv:     make(chan Packet, recvQueue),
		done:     make(chan struct{}),
	}
	if u.interval <= 0 {
		u.interval = defaultHeartbeat
	}
	if u.timeout <= 0 {
		u.timeout = 4 * u.interval
	}
	if u.boot == 0 {
		u.boot = uint64(u.start.UnixNano())
	}
	if u.log == nil {
		u.log = slog.New(slog.DiscardHandler)
	}
	u.log = u.log.With("component", "transport", "node", uint32(cfg.Local))
	u.warn = newLogLimiter(u.log, time.Second)
	u.sendPool.New = func() any { return new(sendState) }

	keys, err := newKeyring(cfg.Key, cfg.ClusterName)
	if err != nil {
		return nil, err
	}
	u.keys = keys
	if u.sendAEAD, err = keys.aead(u.local, u.boot); err != nil {
		return nil, err
	}
	self, err := u.buildPeers(cfg.Peers)
	if err != nil {
		return nil, err
	}
	if err := u.bind(self); err != nil {
		u.closeSockets()
		return nil, err
	}
	for _, s := range u.socks {
		if s != nil {
			u.wg.Add(1)
			go u.readLoop(s)
		}
	}
	u.wg.Add(1)
	go u.heartbeatLoop()
	return u, nil
}

// buildPeers validates the nodelist and returns the local node's entry.
func (u *UDP) buildPeers(list []Peer) (Peer, error) {
	if u.local == 0 {
		return Peer{}, errors.New("local node id 0 is invalid: node ids start at 1")
	}
	var self Peer
	found := false
	seen := make(map[NodeID]bool, len(list))
	for _, p := range list {
		if p.ID == 0 {
			return Peer{}, errors.New("nodelist: node id 0 is invalid: node ids start at 1")
		}
		if seen[p.ID] {
			return Peer{}, fmt.Errorf("nodelist: node %d listed twice", p.ID)
		}
		seen[p.ID] = true
		for l, a := range p.Addrs {
			if a.IsValid() && a.Port() == 0 {
				return Peer{}, fmt.Errorf("nodelist: node %d link %d address %s has no port", p.ID, l, a)
			}
		}
		if p.ID == u.local {
			self, found = p, true
		}
	}
	if !found {
		return Peer{}, fmt.Errorf("nodelist: local node %d is not listed", u.local)
	}
	locals := make(map[netip.AddrPort]int)
	n := 0
	for l, a := range self.Addrs {
		if !a.IsValid() {
			continue
		}
		n++
		a = unmap(a)
		if a.Addr().IsUnspecified() {
			return Peer{}, fmt.Errorf("nodelist: local node %d link %d address %s: a specific address is required", u.local, l, a)
		}
		if prev, dup := locals[a]; dup {
			return Peer{}, fmt.Errorf("nodelist: local node %d uses %s for links %d and %d", u.local, a, prev, l)
		}
		locals[a] = l
	}
	if n == 0 {
		return Peer{}, fmt.Errorf("nodelist: local node %d has no link address", u.local)
	}
	for _, p := range list {
		if p.ID == u.local {
			continue
		}
		pe := &peer{id: p.ID}
		for l, a := range p.Addrs {
			la := self.Addrs[l]
			if !a.IsValid() || !la.IsValid() {
				continue
			}
			a, la = unmap(a), unmap(la)
			if a.Addr().Is4() != la.Addr().Is4() {
				return Peer{}, fmt.Errorf("nodelist: link %d mixes address families: local %s, node %d %s", l, la, p.ID, a)
			}
			pe.links[l] = &peerLink{peer: p.ID, link: l, local: la, remote: a, udpAddr: net.UDPAddrFromAddrPort(a)}
		}
		u.peers[p.ID] = pe
		u.peerList = append(u.peerList, pe)
	}
	slices.SortFunc(u.peerList, func(a, b *peer) int { return cmp.Compare(a.id, b.id) })
	return self, nil
}

func (u *UDP) bind(self Peer) error {
	for l, a := range self.Addrs {
		if !a.IsValid() {
			continue
		}
		a = unmap(a)
		network := "udp4"
		if a.Addr().Is6() {
			network = "udp6"
		}
		conn, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(a))
		if err != nil {
			return fmt.Errorf("binding link %d address %s: %w", l, a, err)
		}
		s := &udpSocket{link: l, addr: a, conn: conn}
		if network == "udp4" {
			s.batch = ipv4.NewPacketConn(conn)
		} else {
			s.batch = ipv6.NewPacketConn(conn)
		}
		if err := growBuffers(conn, socketBuf); err != nil {
			u.log.Debug("socket buffers", "link", l, "addr", a.String(), "err", err)
		}
		u.socks[l] = s
	}
	return nil
}

func unmap(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}

// Receive returns the channel of verified data datagrams. It is never
// closed; stop reading when you Close the transport.
func (u *UDP) Receive() <-chan Packet { return u.recv }

// Close closes the sockets and waits for the goroutines to stop.
func (u *UDP) Close() error {
	u.closeOnce.Do(func() {
		u.closed.Store(true)
		close(u.done)
		u.closeSockets()
		u.wg.Wait()
	})
	return nil
}

func (u *UDP) closeSockets() {
	for _, s := range u.socks {
		if s != nil {
			_ = s.conn.Close()
		}
	}
}

// Counters returns the transport-wide drop and error counts.
func (u *UDP) Counters() Counters { return u.counters.snapshot() }

// BootID returns this transport's boot id.
func (u *UDP) BootID() uint64 { return u.boot }

// now is the monotonic time in ns since the transport started (never 0).
func (u *UDP) now() int64 { return int64(time.Since(u.start)) + 1 }

func (u *UDP) up(pl *peerLink, now int64) bool {
	last := pl.lastHeard.Load()
	return last != 0 && time.Duration(now-last) <= u.timeout
}

// Links reports every (peer, link) pair configured at both ends, by peer
// id then link number.
func (u *UDP) Links() []LinkStatus {
	now := u.now()
	var out []LinkStatus
	for _, p := range u.peerList {
		for _, pl := range p.links {
			if pl == nil {
				continue
			}
			st := LinkStatus{
				Peer:         p.id,
				Link:         pl.link,
				Local:        pl.local.String(),
				Remote:       pl.remote.String(),
				Up:           u.up(pl, now),
				Latency:      time.Duration(pl.srtt.Load()),
				TxPackets:    pl.txPackets.Load(),
				RxPackets:    pl.rxPackets.Load(),
				TxBytes:      pl.txBytes.Load(),
				RxBytes:      pl.rxBytes.Load(),
				RxErrors:     pl.rxErrors.Load(),
				AuthFailures: pl.authFailures.Load(),
				Replays:      pl.replays.Load(),
				Duplicates:   pl.duplicate.Load(),
				TxErrors:     pl.txErrors.Load(),
			}
			if last := pl.lastHeard.Load(); last != 0 {
				st.LastHeard = u.start.Add(time.Duration(last - 1))
			}
			out = append(out, st)
		}
	}
	return out
}
