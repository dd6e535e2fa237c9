package transport

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// harness is a set of connected transports (node ids 1..n) and a way to
// let the network carry what was sent.
type harness struct {
	nodes  []Transport
	settle func()
}

// TestConformance runs the same Transport contract against UDP and the
// in-memory network.
func TestConformance(t *testing.T) {
	impls := map[string]func(t *testing.T, n int) harness{
		"udp": func(t *testing.T, n int) harness {
			peers := loopPeers(t, n, 2)
			var h harness
			for i := range n {
				h.nodes = append(h.nodes, startUDP(t, fastConfig(NodeID(i+1), peers)))
			}
			h.settle = func() {}
			waitFor(t, "all links up", func() bool {
				for _, tr := range h.nodes {
					for _, l := range tr.Links() {
						if !l.Up {
							return false
						}
					}
				}
				return true
			})
			return h
		},
		"mem": func(t *testing.T, n int) harness {
			net := NewMemNetwork(3, MemLink{Latency: time.Millisecond}, 2)
			var h harness
			for i := range n {
				h.nodes = append(h.nodes, net.Endpoint(NodeID(i+1)))
			}
			h.settle = func() {
				for at, ok := net.NextDelivery(); ok; at, ok = net.NextDelivery() {
					net.Advance(at)
				}
			}
			return h
		},
	}
	for name, mk := range impls {
		t.Run(name, func(t *testing.T) {
			h := mk(t, 3)
			ids := []NodeID{1, 2, 3}
			buf := []byte("m1")
			for i, tr := range h.nodes {
				buf[1] = byte('1' + i)
				if err := tr.Send(ids, buf, i == 2); err != nil {
					t.Fatalf("node %d Send: %v", i+1, err)
				}
				buf[1] = 'X' // the caller may reuse b once Send returns
			}
			h.settle()
			for i, tr := range h.nodes {
				got := map[NodeID]string{}
				for range 3 {
					select {
					case p := <-tr.Receive():
						if _, dup := got[p.From]; dup {
							t.Errorf("node %d: second copy from %d delivered", i+1, p.From)
						}
						got[p.From] = string(p.Data)
					case <-time.After(5 * time.Second):
						t.Fatalf("node %d: got %v, want one datagram from each node", i+1, got)
					}
				}
				for j := range 3 {
					if want := fmt.Sprintf("m%d", j+1); got[NodeID(j+1)] != want {
						t.Errorf("node %d from %d: %q, want %q", i+1, j+1, got[NodeID(j+1)], want)
					}
				}
			}
			links := h.nodes[0].Links()
			if len(links) != 4 || links[0].Peer != 2 || links[0].Link != 0 || links[3].Peer != 3 || links[3].Link != 1 {
				t.Errorf("Links of node 1 = %+v, want (2,0) (2,1) (3,0) (3,1)", links)
			}
			if err := h.nodes[0].Send([]NodeID{42}, []byte("x"), false); !errors.Is(err, ErrUnknownNode) {
				t.Errorf("Send to node 42: %v, want ErrUnknownNode", err)
			}
			if err := h.nodes[0].Send([]NodeID{2}, make([]byte, MaxPayload+1), false); !errors.Is(err, ErrTooLarge) {
				t.Errorf("oversize Send: %v, want ErrTooLarge", err)
			}
			for _, tr := range h.nodes {
				if err := tr.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			}
		})
	}
}
