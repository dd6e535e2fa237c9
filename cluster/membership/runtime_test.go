package membership

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ovsha/ovsha/cluster/totem"
	"github.com/ovsha/ovsha/cluster/transport"
)

// chanNet is a lossless in-process network on real time: Send copies the
// datagram into every destination's receive channel. The runtime is a
// real-time loop, so the simulator's MemNetwork (driven by simulated time)
// does not fit here.
type chanNet struct {
	mu    sync.Mutex
	nodes map[transport.NodeID]*chanEP
}

type chanEP struct {
	net  *chanNet
	id   transport.NodeID
	recv chan transport.Packet
	mu   sync.Mutex
	cut  bool // drops everything to and from this node
}

func newChanNet(ids ...transport.NodeID) *chanNet {
	n := &chanNet{nodes: map[transport.NodeID]*chanEP{}}
	for _, id := range ids {
		n.nodes[id] = &chanEP{net: n, id: id, recv: make(chan transport.Packet, 4096)}
	}
	return n
}

func (e *chanEP) isCut() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.cut
}

func (e *chanEP) Send(to []transport.NodeID, b []byte, _ bool) error {
	if e.isCut() {
		return nil
	}
	for _, id := range to {
		d := e.net.nodes[id]
		if d == nil || d.isCut() {
			continue
		}
		select {
		case d.recv <- transport.Packet{From: e.id, Data: slices.Clone(b)}:
		default: // a full queue drops, like a socket buffer
		}
	}
	return nil
}
func (e *chanEP) Receive() <-chan transport.Packet { return e.recv }
func (e *chanEP) Links() []transport.LinkStatus {
	return []transport.LinkStatus{{Peer: e.id, Up: true}}
}
func (e *chanEP) Close() error { return nil }
func (e *chanEP) inject(from transport.NodeID, b []byte) {
	e.recv <- transport.Packet{From: from, Data: b}
}

type node struct {
	rt     *Runtime
	cancel context.CancelFunc
	done   chan error
}

func startNodes(t *testing.T, net *chanNet, ids []totem.NodeID) map[totem.NodeID]*node {
	t.Helper()
	out := map[totem.NodeID]*node{}
	for _, id := range ids {
		rt, err := New(Config{Engine: totem.DefaultConfig(id, ids), Transport: net.nodes[transport.NodeID(id)]})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		n := &node{rt: rt, cancel: cancel, done: make(chan error, 1)}
		go func() { n.done <- rt.Run(ctx) }()
		out[id] = n
	}
	t.Cleanup(func() {
		for _, n := range out {
			n.cancel()
			<-n.done
		}
	})
	return out
}

// waitRegular reads events until a regular configuration with exactly
// members arrives, returning the deliveries seen on the way.
func waitRegular(t *testing.T, rt *Runtime, members []totem.NodeID) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-rt.Events():
			if !ok {
				t.Fatal("events closed before configuration", members)
			}
			if ev.Kind == totem.EventRegular && slices.Equal(ev.Members, members) {
				return
			}
		case <-timeout:
			st, _ := rt.Status(context.Background())
			t.Fatalf("node %d: no regular configuration %v; engine %s ring %v members %v", st.Engine.ID, members, st.Engine.State, st.Engine.Ring, st.Engine.Members)
		}
	}
}

func TestRingFormsAndDeliversInOneOrder(t *testing.T) {
	ids := []totem.NodeID{1, 2, 3}
	net := newChanNet(1, 2, 3)
	nodes := startNodes(t, net, ids)
	for _, id := range ids {
		waitRegular(t, nodes[id].rt, ids)
	}
	// Every node broadcasts concurrently; all must deliver the same sequence.
	const per = 50
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() {
			for i := range per {
				if err := nodes[id].rt.Broadcast(context.Background(), fmt.Appendf(nil, "%d-%d", id, i), totem.Agreed); err != nil {
					t.Errorf("broadcast from %d: %v", id, err)
					return
				}
			}
		})
	}
	wg.Wait()
	got := map[totem.NodeID][]string{}
	for _, id := range ids {
		timeout := time.After(10 * time.Second)
		for len(got[id]) < per*len(ids) {
			select {
			case ev := <-nodes[id].rt.Events():
				if ev.Kind == totem.EventDeliver {
					got[id] = append(got[id], fmt.Sprintf("%d:%s", ev.Sender, ev.Payload))
				}
			case <-timeout:
				t.Fatalf("node %d delivered %d of %d messages", id, len(got[id]), per*len(ids))
			}
		}
	}
	for _, id := range ids[1:] {
		if !slices.Equal(got[id], got[ids[0]]) {
			t.Fatalf("node %d delivered a different order than node %d", id, ids[0])
		}
	}
	// Per-sender FIFO: each sender's messages in the order it sent them.
	for _, id := range ids {
		next := 0
		for _, m := range got[1] {
			if want := fmt.Sprintf("%d:%d-%d", id, id, next); m == want {
				next++
			}
		}
		if next != per {
			t.Fatalf("sender %d: only %d of %d messages in send order", id, next, per)
		}
	}
}

func TestLeaveReconfiguresTheOthers(t *testing.T) {
	ids := []totem.NodeID{1, 2, 3}
	net := newChanNet(1, 2, 3)
	nodes := startNodes(t, net, ids)
	for _, id := range ids {
		waitRegular(t, nodes[id].rt, ids)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := nodes[3].rt.Leave(ctx); err != nil {
		t.Fatalf("leave: %v", err)
	}
	if err := <-nodes[3].done; err != nil {
		t.Fatalf("Run after Leave returned %v, want nil", err)
	}
	nodes[3].done <- nil // for the cleanup
	net.nodes[3].mu.Lock()
	net.nodes[3].cut = true
	net.nodes[3].mu.Unlock()
	waitRegular(t, nodes[1].rt, []totem.NodeID{1, 2})
	waitRegular(t, nodes[2].rt, []totem.NodeID{1, 2})

	if err := nodes[3].rt.Broadcast(ctx, []byte("x"), totem.Agreed); !errors.Is(err, ErrStopped) {
		t.Fatalf("broadcast after leave: %v, want ErrStopped", err)
	}
	st, err := nodes[3].rt.Status(ctx)
	if err != nil || st.Running {
		t.Fatalf("status after leave: running=%v err=%v, want a stopped snapshot", st.Running, err)
	}
	for range nodes[3].rt.Events() { // buffered events, then closed
	}
}

// backoff pauses a poll of a status counter, which has no event to await.
func backoff() { time.Sleep(time.Millisecond) }

func TestUndecodableDatagramsAreCountedAndDropped(t *testing.T) {
	ids := []totem.NodeID{1, 2}
	net := newChanNet(1, 2)
	nodes := startNodes(t, net, ids)
	waitRegular(t, nodes[1].rt, ids)
	for range 3 {
		net.nodes[1].inject(2, []byte{0xff, 0xff, 0xff})
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := nodes[1].rt.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st.Counters.DecodeErrors == 3 {
			if st.Engine.State != totem.StateOperational {
				t.Fatalf("engine state %v after garbage, want operational", st.Engine.State)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("decode errors %d, want 3", st.Counters.DecodeErrors)
		}
		backoff()
	}
}

func TestBroadcastHonoursContext(t *testing.T) {
	// A lone node that is not running: Broadcast must not block.
	net := newChanNet(1)
	rt, err := New(Config{Engine: totem.DefaultConfig(1, []totem.NodeID{1}), Transport: net.nodes[1]})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Broadcast(context.Background(), []byte("x"), totem.Agreed); !errors.Is(err, ErrStopped) {
		t.Fatalf("broadcast before Run: %v, want ErrStopped", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	done := make(chan error, 1)
	go func() { done <- rt.Run(context.Background()) }()
	defer func() {
		lctx, lcancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer lcancel()
		if err := rt.Leave(lctx); err != nil {
			t.Errorf("leave: %v", err)
		}
		<-done
	}()
	for !rt.running.Load() {
		backoff()
	}
	if err := rt.Broadcast(ctx, []byte("x"), totem.Agreed); !errors.Is(err, context.Canceled) && err != nil {
		t.Fatalf("broadcast with a cancelled context: %v", err)
	}
}

func TestConfigValidation(t *testing.T) {
	ids := []totem.NodeID{1}
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no transport", Config{Engine: totem.DefaultConfig(1, ids)}},
		{"negative tick", Config{Engine: totem.DefaultConfig(1, ids), Transport: newChanNet(1).nodes[1], TickInterval: -1}},
		{"bad engine config", Config{Engine: totem.Config{ID: 1}, Transport: newChanNet(1).nodes[1]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.cfg); err == nil {
				t.Fatal("New accepted an invalid configuration")
			}
		})
	}
}
