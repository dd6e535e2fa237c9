package totemtest

import (
	"time"

	"github.com/ovsha/ovsha/cluster/totem"
	"github.com/ovsha/ovsha/cluster/transport"
)

// memNet adapts transport.MemNetwork, whose node ids are transport.NodeID,
// to the simulator's totem.NodeID world.
type memNet struct {
	net   *transport.MemNetwork
	eps   map[totem.NodeID]*transport.MemEndpoint
	toBuf []transport.NodeID
	pkts  []packet
}

// packet is one datagram delivered to a node.
type packet struct {
	from totem.NodeID
	data []byte
}

func newMemNet(seed uint64, l transport.MemLink, links int, ids []totem.NodeID) *memNet {
	n := &memNet{net: transport.NewMemNetwork(seed, l, links), eps: make(map[totem.NodeID]*transport.MemEndpoint)}
	for _, id := range ids {
		n.eps[id] = n.net.Endpoint(transport.NodeID(id))
	}
	return n
}

func (n *memNet) send(from totem.NodeID, to []totem.NodeID, b []byte, all bool) error {
	n.toBuf = n.toBuf[:0]
	for _, id := range to {
		n.toBuf = append(n.toBuf, transport.NodeID(id))
	}
	return n.eps[from].Send(n.toBuf, b, all)
}

// receive returns the datagrams waiting for id; the slice is reused.
func (n *memNet) receive(id totem.NodeID) []packet {
	n.pkts = n.pkts[:0]
	ch := n.eps[id].Receive()
	for {
		select {
		case p := <-ch:
			n.pkts = append(n.pkts, packet{from: totem.NodeID(p.From), data: p.Data})
		default:
			return n.pkts
		}
	}
}

func (n *memNet) nextDelivery() (time.Duration, bool) { return n.net.NextDelivery() }
func (n *memNet) advance(t time.Duration)             { n.net.Advance(t) }
func (n *memNet) setAll(l transport.MemLink)          { n.net.SetAll(l) }
func (n *memNet) heal()                               { n.net.Heal() }
func (n *memNet) freeze(id totem.NodeID)              { n.net.Freeze(transport.NodeID(id)) }
func (n *memNet) thaw(id totem.NodeID)                { n.net.Thaw(transport.NodeID(id)) }
func (n *memNet) crash(id totem.NodeID)               { n.net.Crash(transport.NodeID(id)) }

func (n *memNet) restart(id totem.NodeID) {
	n.net.Restart(transport.NodeID(id))
	n.eps[id] = n.net.Endpoint(transport.NodeID(id))
}

func (n *memNet) partition(groups [][]totem.NodeID) {
	gs := make([][]transport.NodeID, len(groups))
	for i, g := range groups {
		for _, id := range g {
			gs[i] = append(gs[i], transport.NodeID(id))
		}
	}
	n.net.Partition(gs...)
}
