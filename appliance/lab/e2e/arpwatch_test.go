package e2e

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
)

// arpWatch asks for one address from inside a namespace every interval
// and records every reply with its sender MAC: who answers for the VIP,
// over time.
type arpWatch struct {
	c      *arp.Client
	src    netip.Addr
	target netip.Addr

	mu      sync.Mutex
	replies []arpReply
}

type arpReply struct {
	at  time.Time
	mac string
}

// newARPWatch opens an ARP socket on dev (which has address src) in
// namespace ns.
func newARPWatch(ns, dev string, src, target netip.Addr) (*arpWatch, error) {
	var c *arp.Client
	if err := inNS(ns, func() error {
		ifi, err := net.InterfaceByName(dev)
		if err != nil {
			return err
		}
		c, err = arp.Dial(ifi)
		return err
	}); err != nil {
		return nil, fmt.Errorf("opening an ARP socket on %s in %s: %w", dev, ns, err)
	}
	return &arpWatch{c: c, src: src, target: target}, nil
}

// run sends a request every interval until ctx ends, and reads replies
// until the socket is closed.
func (w *arpWatch) run(ctx context.Context, interval time.Duration) error {
	go w.read()
	req, err := arp.NewPacket(arp.OperationRequest, w.c.HardwareAddr(), w.src, ethernet.Broadcast, w.target)
	if err != nil {
		return fmt.Errorf("building the ARP request: %w", err)
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		_ = w.c.WriteTo(req, ethernet.Broadcast)
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func (w *arpWatch) read() {
	for {
		pkt, _, err := w.c.Read()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			return // closed
		}
		if pkt.Operation != arp.OperationReply || pkt.SenderIP != w.target {
			continue
		}
		w.mu.Lock()
		w.replies = append(w.replies, arpReply{time.Now(), pkt.SenderHardwareAddr.String()})
		w.mu.Unlock()
	}
}

// Close stops the reader.
func (w *arpWatch) Close() error { return w.c.Close() }

// arpRun is a stretch of consecutive replies from one MAC.
type arpRun struct {
	mac         string
	first, last time.Time
	n           int
}

func (r arpRun) String() string {
	return fmt.Sprintf("%s x%d %s..%s", r.mac, r.n, r.first.Format("15:04:05.000"), r.last.Format("15:04:05.000"))
}

// runs folds the replies into stretches of one MAC, in time order.
func (w *arpWatch) runs() []arpRun {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []arpRun
	for _, r := range w.replies {
		if len(out) > 0 && out[len(out)-1].mac == r.mac {
			out[len(out)-1].last = r.at
			out[len(out)-1].n++
			continue
		}
		out = append(out, arpRun{mac: r.mac, first: r.at, last: r.at, n: 1})
	}
	return out
}

// overlaps checks the replies for two holders at once: a MAC that answers
// again after another one answered (A.. B.. A..) means both answered
// during the same period. A single change of MAC (the failover) is fine.
// It returns the period from the first reply of a MAC answering again to
// the last alternation, and how many times MACs alternated (0: never).
func overlaps(runs []arpRun) (from, to time.Time, n int) {
	seen := map[string]bool{}
	for _, r := range runs {
		if seen[r.mac] {
			if n == 0 {
				from = r.first
			}
			to = r.last
			n++
		}
		seen[r.mac] = true
	}
	return from, to, n
}

// summary is one line per MAC: how many replies, first and last.
func summary(runs []arpRun) string {
	type agg struct {
		n           int
		first, last time.Time
	}
	var order []string
	by := map[string]*agg{}
	for _, r := range runs {
		a := by[r.mac]
		if a == nil {
			a = &agg{first: r.first}
			by[r.mac] = a
			order = append(order, r.mac)
		}
		a.n += r.n
		a.last = r.last
	}
	s := ""
	for _, m := range order {
		a := by[m]
		s += fmt.Sprintf("[%s: %d replies %s..%s] ", m, a.n, a.first.Format("15:04:05.000"), a.last.Format("15:04:05.000"))
	}
	return s
}
