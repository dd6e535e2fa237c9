package vip

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
)

var (
	myMAC    = net.HardwareAddr{0x02, 0x88, 0, 0, 0, 1}
	otherMAC = net.HardwareAddr{0x02, 0x88, 0, 0, 0, 2}
	vip4     = netip.MustParseAddr("10.88.0.100")
)

func decode(t *testing.T, b []byte) (*ethernet.Frame, *arp.Packet) {
	t.Helper()
	var f ethernet.Frame
	if err := f.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	var p arp.Packet
	if err := p.UnmarshalBinary(f.Payload); err != nil {
		t.Fatal(err)
	}
	return &f, &p
}

// The gratuitous ARP pair has the formats of arping -U and arping -A.
func TestGARPFrames(t *testing.T) {
	fr, err := garpFrames(myMAC, vip4)
	if err != nil {
		t.Fatal(err)
	}
	if len(fr) != 2 {
		t.Fatalf("%d frames, want request and reply", len(fr))
	}
	tests := []struct {
		op  arp.Operation
		tha net.HardwareAddr
	}{{arp.OperationRequest, ethernet.Broadcast}, {arp.OperationReply, myMAC}}
	for i, tt := range tests {
		f, p := decode(t, fr[i])
		if f.Destination.String() != ethernet.Broadcast.String() || f.Source.String() != myMAC.String() || f.EtherType != ethernet.EtherTypeARP {
			t.Errorf("frame %d ethernet header %v -> %v type %v", i, f.Source, f.Destination, f.EtherType)
		}
		if p.Operation != tt.op || p.SenderHardwareAddr.String() != myMAC.String() || p.SenderIP != vip4 ||
			p.TargetHardwareAddr.String() != tt.tha.String() || p.TargetIP != vip4 {
			t.Errorf("frame %d: %+v", i, p)
		}
	}
}

func TestProbeFrameHasNoSenderAddress(t *testing.T) {
	b, err := probeFrame(myMAC, vip4)
	if err != nil {
		t.Fatal(err)
	}
	_, p := decode(t, b)
	if p.Operation != arp.OperationRequest || !p.SenderIP.IsUnspecified() || p.TargetIP != vip4 || p.SenderHardwareAddr.String() != myMAC.String() {
		t.Errorf("probe %+v", p)
	}
}

func arpFrame(t *testing.T, op arp.Operation, sha net.HardwareAddr, spa netip.Addr, tpa netip.Addr) []byte {
	t.Helper()
	p, err := arp.NewPacket(op, sha, spa, myMAC, tpa)
	if err != nil {
		t.Fatal(err)
	}
	b, err := frame(myMAC, sha, p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestClaims(t *testing.T) {
	tests := []struct {
		name  string
		frame []byte
		want  net.HardwareAddr
	}{
		{"reply from another host", arpFrame(t, arp.OperationReply, otherMAC, vip4, netip.IPv4Unspecified()), otherMAC},
		{"announcement from another host", arpFrame(t, arp.OperationRequest, otherMAC, vip4, vip4), otherMAC},
		{"our own frame", arpFrame(t, arp.OperationReply, myMAC, vip4, vip4), nil},
		{"another host's probe", arpFrame(t, arp.OperationRequest, otherMAC, netip.IPv4Unspecified(), vip4), nil},
		{"other address", arpFrame(t, arp.OperationReply, otherMAC, netip.MustParseAddr("10.88.0.7"), vip4), nil},
		{"garbage", []byte{1, 2, 3}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := claims(tt.frame, myMAC, vip4); got.String() != tt.want.String() {
				t.Errorf("claims = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestProbe(t *testing.T) {
	ctx := context.Background()
	t.Run("nobody answers", func(t *testing.T) {
		c := newFakeConn()
		if err := probe(ctx, c, myMAC, vip4, 2*time.Millisecond); err != nil {
			t.Fatalf("probe = %v, want nil", err)
		}
		if n := len(c.frames()); n != 1 {
			t.Fatalf("sent %d frames, want one probe", n)
		}
	})
	t.Run("another host answers", func(t *testing.T) {
		c := newFakeConn()
		c.reads <- arpFrame(t, arp.OperationRequest, otherMAC, netip.IPv4Unspecified(), vip4) // someone else probing: ignored
		c.reads <- arpFrame(t, arp.OperationReply, otherMAC, vip4, netip.IPv4Unspecified())
		err := probe(ctx, c, myMAC, vip4, time.Second)
		if !errors.Is(err, ErrAddressInUse) {
			t.Fatalf("probe = %v, want ErrAddressInUse", err)
		}
		if want := otherMAC.String(); !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	})
}

// Start's schedule: arp_count rounds (the first by Start itself) every
// arp_interval, then one every arp_refresh until stopped.
func TestRepeatSchedule(t *testing.T) {
	c := newFakeConn()
	fr, _ := garpFrames(myMAC, vip4)
	an := &announcer{addr: vip4, mac: myMAC, arp: c, garp: fr}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		an.repeat(ctx, 4, time.Millisecond, 2*time.Millisecond, func(err error) { t.Error(err) })
		close(done)
	}()
	// 4 rounds + 2 refreshes = 12 frames, request/reply alternating.
	for i := 0; i < 12; i++ {
		select {
		case <-c.wrote:
		case <-time.After(5 * time.Second):
			t.Fatalf("only %d frames sent", i)
		}
	}
	cancel()
	<-done
	for i, b := range c.frames() {
		_, p := decode(t, b)
		want := arp.OperationRequest
		if i%2 == 1 {
			want = arp.OperationReply
		}
		if p.Operation != want {
			t.Fatalf("frame %d op %v, want %v", i, p.Operation, want)
		}
	}
	// Without refresh the schedule ends by itself.
	c2 := newFakeConn()
	an.arp = c2
	an.repeat(context.Background(), 2, time.Millisecond, 0, func(err error) { t.Error(err) })
	if n := len(c2.frames()); n != 4 {
		t.Errorf("refresh 0: %d frames, want 4", n)
	}
}
