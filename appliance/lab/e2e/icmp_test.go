package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
)

// echoStream sends an ICMP echo from a namespace to dst every interval and
// records which echoes were answered. It needs no ping binary.
type echoStream struct {
	c   *icmp.PacketConn
	dst *net.IPAddr
	id  int

	mu      sync.Mutex
	sent    []time.Time // by sequence number
	replied []bool
	err     error // a send error other than a missing route/neighbour
}

// newEchoStream opens a raw ICMP socket in namespace ns.
func newEchoStream(ns, dst string) (*echoStream, error) {
	var c *icmp.PacketConn
	if err := inNS(ns, func() error {
		var err error
		c, err = icmp.ListenPacket("ip4:icmp", "0.0.0.0")
		return err
	}); err != nil {
		return nil, fmt.Errorf("opening an ICMP socket in %s: %w", ns, err)
	}
	return &echoStream{c: c, dst: &net.IPAddr{IP: net.ParseIP(dst)}, id: (os.Getpid() + 0x5a5a) & 0xffff}, nil
}

// run sends until ctx ends and reads replies until the socket is closed.
func (s *echoStream) run(ctx context.Context, interval time.Duration) {
	go s.read()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for seq := 0; ; seq++ {
		msg := icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: s.id, Seq: seq & 0xffff, Data: []byte("ovsha-e2e")}}
		b, err := msg.Marshal(nil)
		if err != nil {
			s.fail(err)
			return
		}
		s.mu.Lock()
		s.sent = append(s.sent, time.Now())
		s.replied = append(s.replied, false)
		s.mu.Unlock()
		// Sends fail while the client has no neighbour entry for the VIP
		// (EHOSTUNREACH): that is the gap itself, not an error.
		_, _ = s.c.WriteTo(b, s.dst)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (s *echoStream) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
}

func (s *echoStream) read() {
	buf := make([]byte, 1500)
	for {
		n, peer, err := s.c.ReadFrom(buf)
		if err != nil {
			return // closed
		}
		m, err := icmp.ParseMessage(1, buf[:n])
		if err != nil || m.Type != ipv4.ICMPTypeEchoReply || peer.String() != s.dst.String() {
			continue
		}
		e, ok := m.Body.(*icmp.Echo)
		if !ok || e.ID != s.id {
			continue
		}
		s.mu.Lock()
		// Sequence numbers wrap at 65536; the latest echo with that
		// number is the one answered.
		for i := len(s.sent) - 1; i >= 0; i-- {
			if i&0xffff == e.Seq {
				s.replied[i] = true
				break
			}
		}
		s.mu.Unlock()
	}
}

// Close stops the reader.
func (s *echoStream) Close() error { return s.c.Close() }

// repliedAfter reports whether an echo sent after t was answered.
func (s *echoStream) repliedAfter(t time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.sent) - 1; i >= 0 && s.sent[i].After(t); i-- {
		if s.replied[i] {
			return true
		}
	}
	return false
}

// gap returns the longest run of unanswered echoes sent between two
// answered ones after since: how long the path was broken (one interval
// of resolution) and how many echoes were lost in it, plus the total
// sent and answered since.
func (s *echoStream) gap(since time.Time) (gap time.Duration, lost, sent, answered int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	last := -1
	for i := range s.sent {
		if s.sent[i].Before(since) {
			if s.replied[i] {
				last = i
			}
			continue
		}
		sent++
		if !s.replied[i] {
			continue
		}
		answered++
		if last >= 0 {
			if d := s.sent[i].Sub(s.sent[last]); d > gap {
				gap, lost = d, i-last-1
			}
		}
		last = i
	}
	return gap, lost, sent, answered
}
