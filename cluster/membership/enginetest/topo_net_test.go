package enginetest

import (
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/vishvananda/netns"
)

// listenUDPIn opens a UDP socket bound to addr inside namespace ns; the
// socket stays in ns after the thread returns.
func listenUDPIn(ns netns.NsHandle, addr netip.AddrPort) (*net.UDPConn, error) {
	var c *net.UDPConn
	err := onLockedThread(func() error {
		if err := netns.Set(ns); err != nil {
			return fmt.Errorf("entering namespace: %w", err)
		}
		var err error
		c, err = net.ListenUDP("udp4", net.UDPAddrFromAddrPort(addr))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listening on %v: %w", addr, err)
	}
	return c, nil
}

// TestTopologyLinks: every node reaches every other node on both links.
func TestTopologyLinks(t *testing.T) {
	needRoot(t)
	const n = 3
	tp := newTopology(t, n)
	conns := map[[2]int]*net.UDPConn{} // (node, link)
	for i := 1; i <= n; i++ {
		for l := range numLinks {
			c, err := listenUDPIn(tp.nodes[i-1], netip.AddrPortFrom(linkAddr(l, i), ringPort))
			if err != nil {
				t.Fatalf("node %d link %d: %v", i, l, err)
			}
			t.Cleanup(func() { c.Close() })
			conns[[2]int{i, l}] = c
		}
	}
	buf := make([]byte, 64)
	for i := 1; i <= n; i++ {
		for j := 1; j <= n; j++ {
			for l := range numLinks {
				if i == j {
					continue
				}
				msg := fmt.Sprintf("%d->%d/%d", i, j, l)
				to := netip.AddrPortFrom(linkAddr(l, j), ringPort)
				if _, err := conns[[2]int{i, l}].WriteToUDPAddrPort([]byte(msg), to); err != nil {
					t.Fatalf("sending %s: %v", msg, err)
				}
				rc := conns[[2]int{j, l}]
				rc.SetReadDeadline(time.Now().Add(5 * time.Second))
				k, from, err := rc.ReadFromUDPAddrPort(buf)
				if err != nil {
					t.Fatalf("receiving %s: %v", msg, err)
				}
				if got := string(buf[:k]); got != msg || from.Addr() != linkAddr(l, i) {
					t.Fatalf("node %d link %d received %q from %v, want %q from %v", j, l, got, from, msg, linkAddr(l, i))
				}
			}
		}
	}
}

// TestLossRule: setLoss drops about the asked share of the ring's
// datagrams in each direction, silently for the sender, and setLoss(0)
// removes the rules.
func TestLossRule(t *testing.T) {
	needRoot(t, "nft")
	tp := newTopology(t, 2)
	a, err := listenUDPIn(tp.nodes[0], netip.AddrPortFrom(linkAddr(0, 1), ringPort))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := listenUDPIn(tp.nodes[1], netip.AddrPortFrom(linkAddr(0, 2), ringPort))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	// count sends n datagrams a -> b (every send must succeed) and counts
	// how many arrive.
	count := func(n int) int {
		got := make(chan int)
		b.SetReadDeadline(time.Time{})
		go func() {
			k := 0
			buf := make([]byte, 16)
			for {
				if _, _, err := b.ReadFromUDPAddrPort(buf); err != nil {
					got <- k
					return
				}
				k++
			}
		}()
		to := netip.AddrPortFrom(linkAddr(0, 2), ringPort)
		for i := range n {
			if _, err := a.WriteToUDPAddrPort([]byte{byte(i)}, to); err != nil {
				t.Fatalf("send %d failed (loss must be silent for the sender): %v", i, err)
			}
		}
		// Veths deliver synchronously: what was not dropped is queued by
		// now; the deadline only ends the drain.
		b.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		return <-got
	}
	// n stays below what the receive buffer holds (about 256 small
	// datagrams with the default rmem), so only the rules drop.
	const n = 200
	for _, id := range []int{1, 2} {
		if err := tp.setLoss(id, 10); err != nil {
			t.Fatal(err)
		}
	}
	// 10% on output of node 1 and 10% on input of node 2: 162 of 200
	// expected (sigma 5.5); accept 130-190.
	if got := count(n); got < 130 || got > 190 {
		t.Fatalf("with 10%% loss each way %d of %d datagrams arrived, want about 81%%", got, n)
	}
	for _, id := range []int{1, 2} {
		if err := tp.setLoss(id, 0); err != nil {
			t.Fatal(err)
		}
	}
	if got := count(n); got != n {
		t.Fatalf("after removing the loss rules %d of %d datagrams arrived", got, n)
	}
}
