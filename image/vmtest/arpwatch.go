package vmtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
)

// ARPReply is one answer for the watched address: when it arrived and
// the MAC address that sent it (lower case).
type ARPReply struct {
	At  time.Time
	MAC string
}

// ARPWatch asks for one address from the bridge at a fixed interval and
// records every answer with its sender MAC: who answers for the gateway
// VIP, over time. Gratuitous replies (a VIP starting) count as answers.
type ARPWatch struct {
	c      *arp.Client
	src    netip.Addr
	target netip.Addr

	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	replies []ARPReply
	changed chan struct{}
	closed  bool
	sent    int
	sendErr error // last failed probe, for the report
	readErr error // why the reader stopped before Close, if it did
}

// WatchARP opens an ARP socket on the bridge (address HostAddr) in the
// namespace and probes target every interval until ctx ends or Close.
func (n *Net) WatchARP(ctx context.Context, target string, interval time.Duration) (*ARPWatch, error) {
	dst, err := netip.ParseAddr(target)
	if err != nil || !dst.Is4() {
		return nil, fmt.Errorf("watching ARP for %q: want an IPv4 address", target)
	}
	host, err := netip.ParsePrefix(HostAddr)
	if err != nil {
		return nil, fmt.Errorf("bridge address %q: %w", HostAddr, err)
	}
	var c *arp.Client
	if err := inNS(n.NS, func() error {
		ifi, err := net.InterfaceByName(bridgeName)
		if err != nil {
			return err
		}
		c, err = arp.Dial(ifi)
		return err
	}); err != nil {
		return nil, fmt.Errorf("opening an ARP socket on %s in %s: %w", bridgeName, n.NS, err)
	}
	req, err := arp.NewPacket(arp.OperationRequest, c.HardwareAddr(), host.Addr(), ethernet.Broadcast, dst)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("building the ARP request for %s: %w", target, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	w := &ARPWatch{c: c, src: host.Addr(), target: dst, cancel: cancel, changed: make(chan struct{})}
	w.wg.Add(2)
	go w.read()
	go w.probe(ctx, req, interval)
	return w, nil
}

// probe sends req every interval until ctx ends, then closes the socket
// (which ends the reader).
func (w *ARPWatch) probe(ctx context.Context, req *arp.Packet, interval time.Duration) {
	defer w.wg.Done()
	defer w.c.Close()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		err := w.c.WriteTo(req, ethernet.Broadcast)
		w.mu.Lock()
		w.sent++
		if err != nil {
			w.sendErr = err
		}
		w.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// read records the replies for the target until the socket is closed.
func (w *ARPWatch) read() {
	defer w.wg.Done()
	defer w.close()
	bad := 0
	for {
		pkt, _, err := w.c.Read()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			// a malformed frame: skip it, unless the socket keeps failing
			if bad++; bad > 100 {
				w.mu.Lock()
				w.readErr = err
				w.mu.Unlock()
				return
			}
			continue
		}
		bad = 0
		if pkt.Operation != arp.OperationReply || pkt.SenderIP != w.target {
			continue
		}
		w.add(ARPReply{At: time.Now(), MAC: pkt.SenderHardwareAddr.String()})
	}
}

func (w *ARPWatch) add(r ARPReply) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.replies = append(w.replies, r)
	close(w.changed)
	w.changed = make(chan struct{})
}

func (w *ARPWatch) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.closed = true
		close(w.changed)
	}
}

// Replies returns a copy of the answers so far, in arrival order.
func (w *ARPWatch) Replies() []ARPReply {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]ARPReply(nil), w.replies...)
}

// Stats returns how many probes were sent and the last send error.
func (w *ARPWatch) Stats() (sent int, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.sent, w.sendErr
}

// Wait returns the first reply that arrived after after and satisfies
// match (nil: any). It fails when ctx ends or the watch stopped.
func (w *ARPWatch) Wait(ctx context.Context, after time.Time, match func(ARPReply) bool) (ARPReply, error) {
	from := 0
	for {
		w.mu.Lock()
		for ; from < len(w.replies); from++ {
			r := w.replies[from]
			if r.At.After(after) && (match == nil || match(r)) {
				w.mu.Unlock()
				return r, nil
			}
		}
		ch, closed, rerr := w.changed, w.closed, w.readErr
		w.mu.Unlock()
		if closed {
			if rerr != nil {
				return ARPReply{}, fmt.Errorf("ARP watch for %s stopped: %w", w.target, rerr)
			}
			return ARPReply{}, fmt.Errorf("ARP watch for %s stopped", w.target)
		}
		select {
		case <-ctx.Done():
			return ARPReply{}, fmt.Errorf("waiting for an ARP reply for %s: %w", w.target, ctx.Err())
		case <-ch:
		}
	}
}

// Close stops probing and reading and waits for both.
func (w *ARPWatch) Close() error {
	w.cancel()
	w.wg.Wait()
	return nil
}
