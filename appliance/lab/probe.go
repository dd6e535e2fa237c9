package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
	"github.com/vishvananda/netns"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
)

// Ping sends one ICMP echo from the namespace of member to dst and waits
// up to wait for the reply. It needs no ping binary.
func Ping(ctx context.Context, st *State, member, dst string, wait time.Duration) error {
	nsName, ok := st.Namespace(member)
	if !ok {
		return fmt.Errorf("lab %s has no member %q", st.Name, member)
	}
	h, err := netns.GetFromName(nsName)
	if err != nil {
		return fmt.Errorf("opening namespace %s: %w", nsName, err)
	}
	defer h.Close()
	var c *icmp.PacketConn
	if err := inNS(h, func() error {
		var err error
		c, err = icmp.ListenPacket("ip4:icmp", "0.0.0.0")
		return err
	}); err != nil {
		return fmt.Errorf("opening an ICMP socket in %s: %w", nsName, err)
	}
	defer c.Close()
	id := os.Getpid() & 0xffff
	seq := int(time.Now().UnixNano() & 0x7fff)
	msg := icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: id, Seq: seq, Data: []byte("ovsha-lab")}}
	b, err := msg.Marshal(nil)
	if err != nil {
		return err
	}
	if _, err := c.WriteTo(b, &net.IPAddr{IP: net.ParseIP(dst)}); err != nil {
		return fmt.Errorf("ping %s from %s: %w", dst, member, err)
	}
	deadline := time.Now().Add(wait)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = c.SetReadDeadline(deadline)
	buf := make([]byte, 1500)
	for {
		n, peer, err := c.ReadFrom(buf)
		if err != nil {
			return fmt.Errorf("ping %s from %s: no reply within %s", dst, member, wait)
		}
		m, err := icmp.ParseMessage(1, buf[:n])
		if err != nil || m.Type != ipv4.ICMPTypeEchoReply || peer.String() != dst {
			continue
		}
		if e, ok := m.Body.(*icmp.Echo); ok && e.Seq == seq {
			return nil
		}
	}
}

// ARPProber asks for one IPv4 address from inside a namespace and reports
// who answers: the probe behind `ovsha lab bench`.
type ARPProber struct {
	c      *arp.Client
	target netip.Addr
}

// NewARPProber opens an ARP client on dev in namespace ns (dev must have
// an IPv4 address).
func NewARPProber(ns, dev string, target netip.Addr) (*ARPProber, error) {
	h, err := netns.GetFromName(ns)
	if err != nil {
		return nil, fmt.Errorf("opening namespace %s: %w", ns, err)
	}
	defer h.Close()
	var c *arp.Client
	if err := inNS(h, func() error {
		ifi, err := net.InterfaceByName(dev)
		if err != nil {
			return err
		}
		c, err = arp.Dial(ifi)
		return err
	}); err != nil {
		return nil, fmt.Errorf("opening an ARP socket on %s in %s: %w", dev, ns, err)
	}
	return &ARPProber{c: c, target: target}, nil
}

// Close releases the socket.
func (p *ARPProber) Close() error { return p.c.Close() }

// Until sends an ARP request for the target every interval and returns the
// time of the first reply whose sender MAC satisfies accept, or an error
// when ctx ends first.
func (p *ARPProber) Until(ctx context.Context, interval time.Duration, accept func(net.HardwareAddr) bool) (time.Time, net.HardwareAddr, error) {
	sw, err := p.Watch(ctx, interval, accept)
	return sw.At, sw.MAC, err
}

// Switch is what Watch saw: the first accepted reply and the last reply
// before it that was not accepted (the old holder still answering).
type Switch struct {
	At  time.Time
	MAC net.HardwareAddr
	// LastRejected is the last reply from a MAC that accept refused
	// (zero: none since Watch began).
	LastRejected time.Time
}

// Watch is Until that also reports the last refused reply: for a planned
// switchover the outage is At - LastRejected (the old holder answers until
// it lets go of the address).
func (p *ARPProber) Watch(ctx context.Context, interval time.Duration, accept func(net.HardwareAddr) bool) (Switch, error) {
	// Drop what answered earlier probes: only fresh replies count.
	for {
		_ = p.c.SetReadDeadline(time.Now().Add(2 * time.Millisecond))
		if _, _, err := p.c.Read(); err != nil {
			break
		}
	}
	got := make(chan Switch, 1)
	done := make(chan struct{})
	defer close(done)
	go func() {
		var last time.Time
		for {
			select {
			case <-done:
				return
			default:
			}
			_ = p.c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			pkt, _, err := p.c.Read()
			if err != nil {
				continue
			}
			if pkt.Operation != arp.OperationReply || pkt.SenderIP != p.target {
				continue
			}
			if !accept(pkt.SenderHardwareAddr) {
				last = time.Now()
				continue
			}
			select {
			case got <- Switch{At: time.Now(), MAC: pkt.SenderHardwareAddr, LastRejected: last}:
			default:
			}
			return
		}
	}()
	req, err := arp.NewPacket(arp.OperationRequest, p.c.HardwareAddr(), clientAddr(p), ethernet.Broadcast, p.target)
	if err != nil {
		return Switch{}, fmt.Errorf("building the ARP request: %w", err)
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		_ = p.c.WriteTo(req, ethernet.Broadcast)
		select {
		case h := <-got:
			return h, nil
		case <-ctx.Done():
			return Switch{}, errors.Join(fmt.Errorf("no accepted ARP reply for %s", p.target), ctx.Err())
		case <-tick.C:
		}
	}
}

func clientAddr(_ *ARPProber) netip.Addr { return netip.MustParseAddr(ClientAddr) }
