package vip

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
	"github.com/mdlayher/ndp"
	"github.com/mdlayher/packet"
)

var zeroMAC = net.HardwareAddr{0, 0, 0, 0, 0, 0}

func frame(dst, src net.HardwareAddr, p *arp.Packet) ([]byte, error) {
	pb, err := p.MarshalBinary()
	if err != nil {
		return nil, err
	}
	f := &ethernet.Frame{Destination: dst, Source: src, EtherType: ethernet.EtherTypeARP, Payload: pb}
	return f.MarshalBinary()
}

// garpFrames returns the two gratuitous ARP frames for addr owned by mac,
// both to the broadcast address: a request (sender = target = addr, target
// hardware address broadcast, as `arping -U`) and a reply (target hardware
// address = mac, as `arping -A`). Neighbours honour one or the other.
func garpFrames(mac net.HardwareAddr, addr netip.Addr) ([][]byte, error) {
	req, err := arp.NewPacket(arp.OperationRequest, mac, addr, ethernet.Broadcast, addr)
	if err != nil {
		return nil, err
	}
	rep, err := arp.NewPacket(arp.OperationReply, mac, addr, mac, addr)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for _, p := range []*arp.Packet{req, rep} {
		b, err := frame(ethernet.Broadcast, mac, p)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// probeFrame is an RFC 5227 ARP probe for addr: sender address 0.0.0.0, so
// no neighbour learns anything from it.
func probeFrame(mac net.HardwareAddr, addr netip.Addr) ([]byte, error) {
	p, err := arp.NewPacket(arp.OperationRequest, mac, netip.IPv4Unspecified(), zeroMAC, addr)
	if err != nil {
		return nil, err
	}
	return frame(ethernet.Broadcast, mac, p)
}

// ErrAddressInUse means another host answered the ARP probe for the address.
var ErrAddressInUse = errors.New("address in use by another host")

// probe sends an ARP probe for addr on conn and waits up to wait for
// another host to claim it. It returns the claimer's MAC wrapped in
// ErrAddressInUse, or nil when nobody answered.
func probe(ctx context.Context, conn net.PacketConn, mac net.HardwareAddr, addr netip.Addr, wait time.Duration) error {
	b, err := probeFrame(mac, addr)
	if err != nil {
		return fmt.Errorf("building ARP probe: %w", err)
	}
	deadline := time.Now().Add(wait)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := conn.SetReadDeadline(deadline); err != nil {
		return fmt.Errorf("arming ARP probe deadline: %w", err)
	}
	defer conn.SetReadDeadline(time.Time{})
	if _, err := conn.WriteTo(b, &packet.Addr{HardwareAddr: ethernet.Broadcast}); err != nil {
		return fmt.Errorf("sending ARP probe for %s: %w", addr, err)
	}
	buf := make([]byte, 1514)
	for {
		n, _, err := conn.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return nil
			}
			return fmt.Errorf("reading ARP probe answers: %w", err)
		}
		if claimer := claims(buf[:n], mac, addr); claimer != nil {
			return fmt.Errorf("%w: %s answers for %s", ErrAddressInUse, claimer, addr)
		}
	}
}

// claims returns the sender MAC when frame is an ARP packet from another
// host that uses addr as its own (a reply to the probe, or its own
// announcement), else nil.
func claims(b []byte, mine net.HardwareAddr, addr netip.Addr) net.HardwareAddr {
	var f ethernet.Frame
	if err := f.UnmarshalBinary(b); err != nil || f.EtherType != ethernet.EtherTypeARP {
		return nil
	}
	var p arp.Packet
	if err := p.UnmarshalBinary(f.Payload); err != nil {
		return nil
	}
	if p.SenderIP != addr || bytes.Equal(p.SenderHardwareAddr, mine) {
		return nil
	}
	return p.SenderHardwareAddr
}

// announcer sends one announcement round for an address: gratuitous ARP
// request and reply (IPv4) or an unsolicited neighbour advertisement
// (IPv6, Override set, to all nodes).
type announcer struct {
	addr netip.Addr
	mac  net.HardwareAddr
	arp  net.PacketConn
	ndp  NDPConn
	garp [][]byte
}

func (a *announcer) announce() error {
	if a.arp != nil {
		for _, b := range a.garp {
			if _, err := a.arp.WriteTo(b, &packet.Addr{HardwareAddr: ethernet.Broadcast}); err != nil {
				return fmt.Errorf("sending gratuitous ARP for %s: %w", a.addr, err)
			}
		}
		return nil
	}
	if a.ndp == nil {
		return fmt.Errorf("no socket to announce %s on", a.addr)
	}
	na := &ndp.NeighborAdvertisement{Override: true, TargetAddress: a.addr,
		Options: []ndp.Option{&ndp.LinkLayerAddress{Direction: ndp.Target, Addr: a.mac}}}
	if err := a.ndp.WriteTo(na, nil, netip.IPv6LinkLocalAllNodes()); err != nil {
		return fmt.Errorf("sending unsolicited neighbour advertisement for %s: %w", a.addr, err)
	}
	return nil
}

func (a *announcer) close() {
	if a.arp != nil {
		a.arp.Close()
	}
	if a.ndp != nil {
		a.ndp.Close()
	}
}

// repeat sends rounds more announcements every interval, then one every
// refresh (if > 0) until ctx ends. Errors are reported to onErr and do not
// stop the schedule.
func (a *announcer) repeat(ctx context.Context, rounds int, interval, refresh time.Duration, onErr func(error)) {
	t := time.NewTimer(interval)
	defer t.Stop()
	for rounds > 0 {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := a.announce(); err != nil {
			onErr(err)
		}
		rounds--
		t.Reset(interval)
	}
	if refresh <= 0 {
		return
	}
	tk := time.NewTicker(refresh)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
		}
		if err := a.announce(); err != nil {
			onErr(err)
		}
	}
}
