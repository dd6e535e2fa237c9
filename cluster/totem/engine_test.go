package totem

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/ovsha/ovsha/cluster/totem/wire"
)

// miniNet is a tiny deterministic network for the engine's own unit tests
// (the full seeded simulator lives in totemtest).
type miniNet struct {
	t       *testing.T
	now     time.Duration
	nodes   map[NodeID]*Engine
	ids     []NodeID
	queue   []pkt
	cut     map[NodeID]bool // isolated nodes: nothing in or out
	stopped map[NodeID]bool // frozen: no ticks, packets wait
	events  map[NodeID][]Event
	loss    float64
	rng     *rand.Rand
}

type pkt struct {
	at       time.Duration
	from, to NodeID
	m        wire.Message
}

func newMiniNet(t *testing.T, n int) *miniNet {
	net := &miniNet{t: t, nodes: map[NodeID]*Engine{}, cut: map[NodeID]bool{}, stopped: map[NodeID]bool{},
		events: map[NodeID][]Event{}, rng: rand.New(rand.NewPCG(1, 2))}
	for i := 1; i <= n; i++ {
		net.ids = append(net.ids, NodeID(i))
	}
	for _, id := range net.ids {
		cfg := DefaultConfig(id, net.ids)
		e, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		net.nodes[id] = e
	}
	return net
}

func (n *miniNet) collect(id NodeID) {
	e := n.nodes[id]
	rd := e.Ready()
	n.events[id] = append(n.events[id], rd.Events...)
	for _, o := range rd.Messages {
		for _, to := range o.To {
			if n.cut[id] || n.cut[to] {
				continue
			}
			if n.loss > 0 && n.rng.Float64() < n.loss {
				continue
			}
			n.queue = append(n.queue, pkt{at: n.now + 100*time.Microsecond, from: id, to: to, m: o.Msg})
		}
	}
}

func (n *miniNet) run(d time.Duration) {
	end := n.now + d
	for n.now < end {
		// deliver due packets
		for {
			progressed := false
			var rest []pkt
			due := []pkt{}
			for _, p := range n.queue {
				if p.at <= n.now && !n.stopped[p.to] {
					due = append(due, p)
				} else {
					rest = append(rest, p)
				}
			}
			n.queue = rest
			for _, p := range due {
				n.nodes[p.to].Step(p.from, p.m)
				n.collect(p.to)
				progressed = true
			}
			if !progressed {
				break
			}
			n.now += 20 * time.Microsecond
		}
		n.now += time.Millisecond
		for _, id := range n.ids {
			if n.stopped[id] {
				continue
			}
			n.nodes[id].Tick(n.now)
			n.collect(id)
		}
	}
}

func (n *miniNet) regular(id NodeID) *Event {
	ev := n.events[id]
	for i := len(ev) - 1; i >= 0; i-- {
		if ev[i].Kind == EventRegular {
			return &ev[i]
		}
	}
	return nil
}

func (n *miniNet) delivered(id NodeID) []string {
	var out []string
	for _, ev := range n.events[id] {
		if ev.Kind == EventDeliver {
			out = append(out, string(ev.Payload))
		}
	}
	return out
}

func TestMiniRingFormsAndOrders(t *testing.T) {
	net := newMiniNet(t, 3)
	net.run(500 * time.Millisecond)
	for _, id := range net.ids {
		st := net.nodes[id].Status()
		if st.State != StateOperational || len(st.Members) != 3 {
			t.Fatalf("node %d: state %v members %v", id, st.State, st.Members)
		}
	}
	for i := 0; i < 300; i++ {
		id := NodeID(i%3 + 1)
		if err := net.nodes[id].Broadcast([]byte(fmt.Sprintf("m%d-%d", id, i)), Agreed); err != nil {
			t.Fatal(err)
		}
		net.collect(id)
		if i%7 == 0 {
			net.run(time.Millisecond)
		}
	}
	big := make([]byte, 5000)
	for i := range big {
		big[i] = byte(i)
	}
	net.nodes[2].Broadcast(big, Safe)
	net.collect(2)
	net.run(300 * time.Millisecond)
	d1 := net.delivered(1)
	if len(d1) != 301 {
		t.Fatalf("node 1 delivered %d messages, want 301", len(d1))
	}
	for _, id := range net.ids[1:] {
		if !slices.Equal(d1, net.delivered(id)) {
			t.Fatalf("node %d order differs", id)
		}
	}
	if !slices.Contains(d1, string(big)) {
		t.Fatalf("fragmented message not delivered intact")
	}
}

func TestMiniNodeLossAndMerge(t *testing.T) {
	net := newMiniNet(t, 3)
	net.run(500 * time.Millisecond)
	net.cut[3] = true
	start := net.now
	var formed time.Duration
	for net.now < start+2*time.Second {
		net.run(time.Millisecond)
		r := net.regular(1)
		if r != nil && len(r.Members) == 2 && formed == 0 {
			formed = net.now - start
			break
		}
	}
	if formed == 0 {
		t.Fatalf("no 2-node ring: %+v", net.nodes[1].Status())
	}
	t.Logf("new ring after %v", formed)
	net.run(300 * time.Millisecond)
	if st := net.nodes[2].Status(); !slices.Equal(st.Members, []NodeID{1, 2}) || st.State != StateOperational {
		t.Fatalf("node 2: %+v", st)
	}
	if st := net.nodes[3].Status(); !slices.Equal(st.Members, []NodeID{3}) {
		t.Fatalf("node 3: %+v", st)
	}
	delete(net.cut, 3)
	net.run(time.Second)
	for _, id := range net.ids {
		st := net.nodes[id].Status()
		if st.State != StateOperational || len(st.Members) != 3 {
			t.Fatalf("after heal node %d: state %v members %v", id, st.State, st.Members)
		}
	}
}

func TestMiniStallIsNotCountedAgainstPeers(t *testing.T) {
	net := newMiniNet(t, 3)
	net.run(500 * time.Millisecond)
	before := net.nodes[1].Status().Stats.MembershipChanges
	// Everyone is descheduled for 300 ms (longer than the token timeout).
	for _, id := range net.ids {
		net.stopped[id] = true
	}
	net.run(300 * time.Millisecond)
	for _, id := range net.ids {
		delete(net.stopped, id)
	}
	net.run(time.Second)
	for _, id := range net.ids {
		st := net.nodes[id].Status()
		if st.Stats.MembershipChanges != before || st.State != StateOperational {
			t.Fatalf("node %d: changes %d (before %d), state %v", id, st.Stats.MembershipChanges, before, st.State)
		}
	}
}

func TestMiniLoss(t *testing.T) {
	net := newMiniNet(t, 3)
	net.run(500 * time.Millisecond)
	before := net.nodes[1].Status().Stats.MembershipChanges
	net.loss = 0.10
	for i := 0; i < 2000; i++ {
		id := NodeID(i%3 + 1)
		net.nodes[id].Broadcast([]byte(fmt.Sprintf("m%d", i)), Agreed)
		net.collect(id)
		net.run(time.Millisecond)
	}
	net.run(2 * time.Second)
	net.loss = 0
	net.run(time.Second)
	d1 := net.delivered(1)
	for _, id := range net.ids {
		st := net.nodes[id].Status()
		t.Logf("node %d: %+v", id, st.Stats)
		if !slices.Equal(d1, net.delivered(id)) {
			t.Fatalf("node %d order differs", id)
		}
	}
	if len(d1) != 2000 {
		t.Fatalf("delivered %d", len(d1))
	}
	if c := net.nodes[1].Status().Stats.MembershipChanges; c != before {
		t.Errorf("membership changes under 10%% loss: %d", c-before)
	}
}

func TestFragOverheadMatchesWire(t *testing.T) {
	if got := wire.FragmentOverhead(1); got != fragOverhead {
		t.Fatalf("fragOverhead = %d, wire.FragmentOverhead(1) = %d", fragOverhead, got)
	}
}
