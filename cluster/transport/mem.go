package transport

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// MemLink describes the faults of one simulated link. Probabilities are
// 0..1. A datagram is lost with probability Loss; otherwise it arrives
// after Latency plus a uniform jitter in [0, Jitter]; with probability
// Reorder it is held back by an extra uniform delay in (0, Latency+Jitter+1ms]
// so that later datagrams may overtake it; with probability Dup a second
// copy is sent with its own delay.
type MemLink struct {
	Latency, Jitter    time.Duration
	Loss, Dup, Reorder float64
}

// MemStats counts what the simulated network did.
type MemStats struct {
	Sent        uint64 // datagrams handed to Send, per destination link copy
	Delivered   uint64 // datagrams put into a Receive channel
	Lost        uint64 // dropped by the Loss probability
	Duplicated  uint64 // extra copies made by Dup
	Reordered   uint64 // datagrams given an extra Reorder delay
	Partitioned uint64 // dropped because sender and receiver were in different partition groups
	LinkDown    uint64 // dropped because the link was down
	Crashed     uint64 // dropped because the sender or receiver was crashed
	Overflow    uint64 // dropped because the Receive channel was full
	InFlight    int    // scheduled, not yet delivered (including held for frozen nodes)
}

// MemQueueCap is the capacity of a MemEndpoint's Receive channel.
const MemQueueCap = 1 << 16

// MemNetwork is a deterministic simulated network for the seeded
// simulator. It has no goroutines and no clocks: time only moves when the
// caller calls Advance, and every random decision comes from one PCG
// source seeded at creation, drawn in a fixed order (per Send: per
// destination in the order given, per link in ascending order: duplicate,
// then for each copy loss, jitter, reorder, reorder delay; a draw is made
// only when its parameter is non-zero).
// The same seed and the same sequence of calls give the same deliveries.
//
// It is not safe for concurrent use: the simulator drives it from one
// goroutine.
type MemNetwork struct {
	rng       *rand.Rand
	links     int
	defaults  MemLink
	now       time.Duration
	seq       uint64
	linkCfg   map[memKey]MemLink
	down      map[memKey]bool
	group     map[NodeID]int // partition group; absent = group 0
	frozen    map[NodeID]bool
	crashed   map[NodeID]bool
	held      map[NodeID][]*memItem // due datagrams waiting for a frozen node
	endpoints map[NodeID]*MemEndpoint
	queue     memQueue
	stats     MemStats
}

// memKey names one undirected link between two nodes (a < b).
type memKey struct {
	a, b NodeID
	link int
}

func keyOf(a, b NodeID, link int) memKey {
	if a > b {
		a, b = b, a
	}
	return memKey{a, b, link}
}

type memItem struct {
	due      time.Duration
	seq      uint64
	from, to NodeID
	link     int
	data     []byte
}

// NewMemNetwork returns a network where every pair of nodes has links
// links (1..MaxLinks) with the faults of defaults.
func NewMemNetwork(seed uint64, defaults MemLink, links int) *MemNetwork {
	links = min(max(links, 1), MaxLinks)
	return &MemNetwork{
		rng:       rand.New(rand.NewPCG(seed, seed^0x6f7673686174726e)),
		links:     links,
		defaults:  defaults,
		linkCfg:   make(map[memKey]MemLink),
		down:      make(map[memKey]bool),
		group:     make(map[NodeID]int),
		frozen:    make(map[NodeID]bool),
		crashed:   make(map[NodeID]bool),
		held:      make(map[NodeID][]*memItem),
		endpoints: make(map[NodeID]*MemEndpoint),
	}
}

// Endpoint returns node id's endpoint, creating it on first use. After
// Restart it returns the fresh endpoint.
func (n *MemNetwork) Endpoint(id NodeID) *MemEndpoint {
	if e := n.endpoints[id]; e != nil {
		return e
	}
	e := newMemEndpoint(n, id)
	n.endpoints[id] = e
	return e
}

// Now returns the simulated time.
func (n *MemNetwork) Now() time.Duration { return n.now }

// NextDelivery returns the due time of the earliest datagram that Advance
// would put into a Receive channel (datagrams to frozen nodes do not count).
func (n *MemNetwork) NextDelivery() (time.Duration, bool) {
	n.parkFrozen()
	if len(n.queue) == 0 {
		return 0, false
	}
	return n.queue[0].due, true
}

// parkFrozen moves datagrams to frozen nodes off the front of the queue;
// they keep their (due, seq) order and wait for Thaw.
func (n *MemNetwork) parkFrozen() {
	for len(n.queue) > 0 && n.frozen[n.queue[0].to] {
		it := heap.Pop(&n.queue).(*memItem)
		n.held[it.to] = append(n.held[it.to], it)
	}
}

// Advance delivers every datagram due at or before to, in (due time, send
// order) order, and sets Now to to (time never goes backwards).
func (n *MemNetwork) Advance(to time.Duration) {
	for {
		n.parkFrozen()
		if len(n.queue) == 0 || n.queue[0].due > to {
			break
		}
		it := heap.Pop(&n.queue).(*memItem)
		n.now = max(n.now, it.due)
		n.deliver(it)
	}
	n.now = max(n.now, to)
}

func (n *MemNetwork) deliver(it *memItem) {
	if it.from != it.to {
		if n.crashed[it.from] || n.crashed[it.to] {
			n.stats.Crashed++
			return
		}
		if n.group[it.from] != n.group[it.to] {
			n.stats.Partitioned++
			return
		}
		if n.down[keyOf(it.from, it.to, it.link)] {
			n.stats.LinkDown++
			return
		}
	}
	e := n.endpoints[it.to]
	select {
	case e.recv <- Packet{From: it.from, Link: it.link, Data: it.data}:
		n.stats.Delivered++
		if it.from != it.to {
			if pl := e.peerLink(it.from, it.link); pl != nil {
				pl.RxPackets++
				pl.RxBytes += uint64(len(it.data))
			}
		}
	default:
		n.stats.Overflow++
	}
}

// SetLink sets the faults of link between a and b (both directions).
func (n *MemNetwork) SetLink(a, b NodeID, link int, l MemLink) { n.linkCfg[keyOf(a, b, link)] = l }

// SetAll sets the faults of every link, replacing earlier SetLink calls.
func (n *MemNetwork) SetAll(l MemLink) {
	n.defaults = l
	clear(n.linkCfg)
}

func (n *MemNetwork) linkOf(a, b NodeID, link int) MemLink {
	if l, ok := n.linkCfg[keyOf(a, b, link)]; ok {
		return l
	}
	return n.defaults
}

// Partition splits the nodes into groups that cannot reach each other.
// Nodes not named form one more group together.
func (n *MemNetwork) Partition(groups ...[]NodeID) {
	clear(n.group)
	for i, g := range groups {
		for _, id := range g {
			n.group[id] = i + 1
		}
	}
}

// Heal removes every partition.
func (n *MemNetwork) Heal() { clear(n.group) }

// LinkDown takes link between a and b down (or back up): datagrams on it
// are dropped in both directions, and endpoints choose other links.
func (n *MemNetwork) LinkDown(a, b NodeID, link int, down bool) {
	if down {
		n.down[keyOf(a, b, link)] = true
	} else {
		delete(n.down, keyOf(a, b, link))
	}
}

// Freeze stops deliveries to id: its datagrams wait, as in a socket buffer
// of a process that is not scheduled, until Thaw.
func (n *MemNetwork) Freeze(id NodeID) { n.frozen[id] = true }

// Thaw resumes id: the datagrams that became due while it was frozen are
// put into its Receive channel at once, in order.
func (n *MemNetwork) Thaw(id NodeID) {
	delete(n.frozen, id)
	held := n.held[id]
	delete(n.held, id)
	for _, it := range held {
		if it.due <= n.now {
			n.deliver(it)
		} else {
			heap.Push(&n.queue, it)
		}
	}
}

// Crash kills id: everything in flight to or from it is dropped, its
// channel is emptied, and until Restart it sends and receives nothing.
func (n *MemNetwork) Crash(id NodeID) {
	n.crashed[id] = true
	delete(n.frozen, id)
	n.stats.Crashed += uint64(len(n.held[id]))
	delete(n.held, id)
	kept := n.queue[:0]
	for _, it := range n.queue {
		if it.from == id || it.to == id {
			n.stats.Crashed++
			continue
		}
		kept = append(kept, it)
	}
	clear(n.queue[len(kept):])
	n.queue = kept
	heap.Init(&n.queue)
	if e := n.endpoints[id]; e != nil {
		for len(e.recv) > 0 {
			<-e.recv
		}
	}
}

// Restart brings a crashed (or running) node back with a fresh endpoint:
// empty channel, zero counters. Get it with Endpoint.
func (n *MemNetwork) Restart(id NodeID) {
	if !n.crashed[id] {
		n.Crash(id)
	}
	delete(n.crashed, id)
	n.endpoints[id] = newMemEndpoint(n, id)
}

// Stats returns the network's counters.
func (n *MemNetwork) Stats() MemStats {
	s := n.stats
	s.InFlight = len(n.queue)
	for _, h := range n.held {
		s.InFlight += len(h)
	}
	return s
}

// linkUsable is the simulator's oracle of link health: what a real
// transport learns from heartbeats.
func (n *MemNetwork) linkUsable(a, b NodeID, link int) bool {
	return !n.down[keyOf(a, b, link)] && n.group[a] == n.group[b] && !n.crashed[b]
}

// send schedules copies of b from e to each destination.
func (n *MemNetwork) send(e *MemEndpoint, to []NodeID, b []byte, all bool) error {
	if n.crashed[e.id] || n.endpoints[e.id] != e {
		return fmt.Errorf("node %d: %w", e.id, ErrClosed)
	}
	var unknown []NodeID
	for _, dst := range to {
		if dst == e.id {
			n.schedule(&memItem{due: n.now, from: e.id, to: dst, data: slices.Clone(b)})
			continue
		}
		if n.endpoints[dst] == nil {
			unknown = append(unknown, dst)
			continue
		}
		chosen := false
		for l := 0; l < n.links; l++ {
			if n.linkUsable(e.id, dst, l) {
				n.transmit(e, dst, l, b)
				chosen = true
				if !all {
					break
				}
			}
		}
		if !chosen {
			for l := 0; l < n.links; l++ {
				n.transmit(e, dst, l, b)
			}
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("nodes %v: %w", unknown, ErrUnknownNode)
	}
	return nil
}

// transmit applies the link's faults to one datagram copy.
func (n *MemNetwork) transmit(e *MemEndpoint, dst NodeID, link int, b []byte) {
	n.stats.Sent++
	if pl := e.peerLink(dst, link); pl != nil {
		pl.TxPackets++
		pl.TxBytes += uint64(len(b))
	}
	switch {
	case n.crashed[dst]:
		n.stats.Crashed++
		return
	case n.group[e.id] != n.group[dst]:
		n.stats.Partitioned++
		return
	case n.down[keyOf(e.id, dst, link)]:
		n.stats.LinkDown++
		return
	}
	cfg := n.linkOf(e.id, dst, link)
	copies := 1
	if cfg.Dup > 0 && n.rng.Float64() < cfg.Dup {
		n.stats.Duplicated++
		copies = 2
	}
	for range copies {
		if cfg.Loss > 0 && n.rng.Float64() < cfg.Loss {
			n.stats.Lost++
			continue
		}
		d := cfg.Latency
		if cfg.Jitter > 0 {
			d += time.Duration(n.rng.Int64N(int64(cfg.Jitter) + 1))
		}
		if cfg.Reorder > 0 && n.rng.Float64() < cfg.Reorder {
			n.stats.Reordered++
			d += 1 + time.Duration(n.rng.Int64N(int64(cfg.Latency+cfg.Jitter+time.Millisecond)))
		}
		n.schedule(&memItem{due: n.now + d, from: e.id, to: dst, link: link, data: slices.Clone(b)})
	}
}

func (n *MemNetwork) schedule(it *memItem) {
	n.seq++
	it.seq = n.seq
	heap.Push(&n.queue, it)
}

// memQueue is a min-heap of datagrams by (due, seq).
type memQueue []*memItem

func (q memQueue) Len() int { return len(q) }
func (q memQueue) Less(i, j int) bool {
	if q[i].due != q[j].due {
		return q[i].due < q[j].due
	}
	return q[i].seq < q[j].seq
}
func (q memQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *memQueue) Push(x any)   { *q = append(*q, x.(*memItem)) }
func (q *memQueue) Pop() any {
	old := *q
	it := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return it
}

// MemEndpoint is one node's view of a MemNetwork; it implements Transport.
// Like the network, it is driven from the simulator's single goroutine.
type MemEndpoint struct {
	net   *MemNetwork
	id    NodeID
	recv  chan Packet
	stats map[memKey]*LinkStatus // key: (peer, 0, link) counters of this endpoint
}

var _ Transport = (*MemEndpoint)(nil)

func newMemEndpoint(n *MemNetwork, id NodeID) *MemEndpoint {
	return &MemEndpoint{net: n, id: id, recv: make(chan Packet, MemQueueCap), stats: make(map[memKey]*LinkStatus)}
}

func (e *MemEndpoint) peerLink(peer NodeID, link int) *LinkStatus {
	k := memKey{a: peer, link: link}
	st := e.stats[k]
	if st == nil {
		st = &LinkStatus{Peer: peer, Link: link}
		e.stats[k] = st
	}
	return st
}

// ID returns the endpoint's node id.
func (e *MemEndpoint) ID() NodeID { return e.id }

// Send schedules b (copied) to each destination at the network's Now. A
// destination equal to the endpoint's own id is looped back with no delay
// or faults. Links are chosen as the UDP transport does, with the
// network's true link state standing in for heartbeats.
func (e *MemEndpoint) Send(to []NodeID, b []byte, all bool) error {
	if len(b) > MaxPayload {
		return fmt.Errorf("sending %d bytes (max %d): %w", len(b), MaxPayload, ErrTooLarge)
	}
	return e.net.send(e, to, b, all)
}

// Receive returns the channel of delivered datagrams.
func (e *MemEndpoint) Receive() <-chan Packet { return e.recv }

// Links reports every (peer, link) pair with the network's true state.
func (e *MemEndpoint) Links() []LinkStatus {
	n := e.net
	peers := make([]NodeID, 0, len(n.endpoints))
	for id := range n.endpoints {
		if id != e.id {
			peers = append(peers, id)
		}
	}
	slices.Sort(peers)
	out := make([]LinkStatus, 0, len(peers)*n.links)
	for _, p := range peers {
		for l := 0; l < n.links; l++ {
			st := *e.peerLink(p, l)
			st.Local = fmt.Sprintf("mem:%d/%d", e.id, l)
			st.Remote = fmt.Sprintf("mem:%d/%d", p, l)
			st.Up = n.linkUsable(e.id, p, l) && !n.crashed[e.id]
			if st.Up {
				st.Latency = 2 * n.linkOf(e.id, p, l).Latency
			}
			out = append(out, st)
		}
	}
	return out
}

// Close is a no-op: the network owns all state.
func (e *MemEndpoint) Close() error { return nil }
