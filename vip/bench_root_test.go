package vip

import (
	"bytes"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/packet"

	"github.com/ovsha/ovsha/agents"
	"github.com/ovsha/ovsha/internal/netnstest"
)

// IPv6 VIPs are announced with unsolicited neighbour advertisements
// (Override set, target = VIP, target link-layer address = node MAC).
func TestUnsolicitedNeighbourAdvertisement(t *testing.T) {
	l := newLAN(t, 1)
	a := l.agent(t, 1)
	var c *packet.Conn
	if err := l.client.Do(func() error {
		ifi, err := net.InterfaceByName("c0")
		if err != nil {
			return err
		}
		c, err = packet.Listen(ifi, packet.Raw, 0x86dd, nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	vip := netip.MustParseAddr("fd88::100")
	r := agents.Resource{ID: "v6", Params: agents.Params{"ip": vip.String(), "cidr_netmask": "64", "nic": "br0"}}
	wantCode(t, "start", a.Start(ctxT(t), r), agents.Success)
	mac, _ := net.ParseMAC(nodeMAC(1))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 1514)
	for {
		n, _, err := c.ReadFrom(buf)
		if err != nil {
			t.Fatalf("no unsolicited NA for %s seen: %v", vip, err)
		}
		b := buf[:n]
		// Ethernet 14 + IPv6 40 + ICMPv6 NA: type, code, csum, flags(4), target(16), options.
		if len(b) < 14+40+24+8 || b[14+6] != 58 || b[54] != 136 {
			continue
		}
		target, _ := netip.AddrFromSlice(b[54+8 : 54+24])
		if target != vip || !bytes.Equal(b[6:12], mac) {
			continue
		}
		flags := b[54+4]
		dst, _ := netip.AddrFromSlice(b[14+24 : 14+40])
		if flags&0x20 == 0 || flags&0x40 != 0 || dst != netip.IPv6LinkLocalAllNodes() {
			t.Errorf("NA flags %#x (want Override, not Solicited) to %s (want ff02::1)", flags, dst)
		}
		opt := b[54+24:]
		if opt[0] != 2 || !bytes.Equal(opt[2:8], mac) {
			t.Errorf("NA option %x, want target link-layer address %s", opt[:8], mac)
		}
		return
	}
}

// BenchmarkStartToFirstGARP measures the time from Start to the first
// gratuitous ARP captured on the client's wire (through the node's OVS
// userspace datapath and the switch), with the default 3 ms ARP probe and
// without the probe. Reported as ms-to-garp.
func BenchmarkStartToFirstGARP(b *testing.B) {
	netnstest.NeedRoot(b, "ovsdb-server", "ovs-vswitchd")
	l := newLAN(b, 1)
	a := l.agent(b, 1)
	w := watchARP(b, l.client, "c0")
	for _, bc := range []struct {
		name   string
		params agents.Params
	}{
		{"probe=3ms", good},
		{"probe=0", merge(good, "arp_probe", "0")},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := ctxT(b)
			r := agents.Resource{ID: "vip", Params: merge(bc.params, "arp_count", "1", "arp_refresh", "0")}
			var total, startTotal time.Duration
			n := 0
			for b.Loop() {
				t0 := time.Now()
				if err := a.Start(ctx, r); err != nil {
					b.Fatal(err)
				}
				startTotal += time.Since(t0)
				s := w.waitGARP(b, vip4, nodeMAC(1), arp.OperationRequest)
				total += s.at.Sub(t0)
				n++
				b.StopTimer()
				if err := a.Stop(ctx, r); err != nil {
					b.Fatal(err)
				}
				w.waitGARP(b, vip4, nodeMAC(1), arp.OperationReply) // drain the pair
				b.StartTimer()
			}
			b.ReportMetric(float64(total.Microseconds())/float64(n)/1000, "ms-to-garp")
			b.ReportMetric(float64(startTotal.Microseconds())/float64(n)/1000, "ms-start")
		})
	}
}
