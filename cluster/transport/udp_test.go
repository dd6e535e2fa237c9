package transport

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestUDPThreeNodesExchange(t *testing.T) {
	peers := loopPeers(t, 3, 1)
	nodes := make([]*UDP, 3)
	for i := range nodes {
		nodes[i] = startUDP(t, fastConfig(NodeID(i+1), peers))
	}
	all := []NodeID{1, 2, 3}
	for i, u := range nodes {
		if err := u.Send(all, payload(i+1), false); err != nil {
			t.Fatalf("node %d Send: %v", i+1, err)
		}
	}
	for i, u := range nodes {
		got := map[NodeID]string{}
		for range 3 {
			p := recvData(t, u)
			got[p.From] = string(p.Data)
			if p.Link != 0 {
				t.Errorf("node %d: packet from %d on link %d, want 0", i+1, p.From, p.Link)
			}
		}
		for j := range 3 {
			if want := string(payload(j + 1)); got[NodeID(j+1)] != want {
				t.Errorf("node %d got %q from node %d, want %q (self included: loopback)", i+1, got[NodeID(j+1)], j+1, want)
			}
		}
	}
	for _, u := range nodes {
		if c := u.Counters(); c != (Counters{}) {
			t.Errorf("node %d counters = %+v, want all zero", u.local, c)
		}
	}
}

func TestUDPSendErrors(t *testing.T) {
	peers := loopPeers(t, 2, 1)
	a := startUDP(t, fastConfig(1, peers))
	if err := a.Send([]NodeID{9}, []byte("x"), false); !errors.Is(err, ErrUnknownNode) {
		t.Errorf("Send to node 9: err = %v, want ErrUnknownNode", err)
	}
	if err := a.Send([]NodeID{2}, make([]byte, MaxPayload+1), false); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Send of %d bytes: err = %v, want ErrTooLarge", MaxPayload+1, err)
	}
	a.Close()
	if err := a.Send([]NodeID{2}, []byte("x"), false); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close: err = %v, want ErrClosed", err)
	}
}

func TestUDPMaxPayloadDelivered(t *testing.T) {
	peers := loopPeers(t, 2, 1)
	a := startUDP(t, fastConfig(1, peers))
	b := startUDP(t, fastConfig(2, peers))
	big := bytes.Repeat([]byte{0xab}, MaxPayload)
	if err := a.Send([]NodeID{2}, big, false); err != nil {
		t.Fatal(err)
	}
	if p := recvData(t, b); !bytes.Equal(p.Data, big) {
		t.Errorf("received %d bytes, want the %d sent", len(p.Data), len(big))
	}
}

func TestUDPWrongKeyOrClusterIsAuthFailure(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*UDPConfig)
		wantLog string
	}{
		{"wrong key", func(c *UDPConfig) { c.Key = bytes.Repeat([]byte{0x11}, 64) }, "fails authentication"},
		{"wrong cluster name", func(c *UDPConfig) { c.ClusterName = "other" }, "fails authentication"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			peers := loopPeers(t, 2, 1)
			a := startUDP(t, fastConfig(1, peers))
			var logs logBuffer
			cfg := fastConfig(2, peers)
			cfg.Logger = logs.logger()
			tt.mutate(&cfg)
			b := startUDP(t, cfg)
			for i := range 10 {
				if err := a.Send([]NodeID{2}, payload(i), false); err != nil {
					t.Fatal(err)
				}
			}
			waitFor(t, "10 auth failures at node 2", func() bool { return b.Counters().AuthFailures >= 10 })
			if n := len(b.Receive()); n != 0 {
				t.Errorf("node 2 delivered %d datagrams sealed with another key", n)
			}
			if linkOf(b, 1, 0).Up {
				t.Error("link to node 1 is up although nothing authenticated arrived")
			}
			if lb := linkOf(b, 1, 0); lb.AuthFailures == 0 || lb.RxPackets != 0 {
				t.Errorf("link status = %+v, want AuthFailures > 0 and RxPackets 0", lb)
			}
			if !strings.Contains(logs.String(), tt.wantLog) || !strings.Contains(logs.String(), peers[0].Addrs[0].String()) {
				t.Errorf("log does not report the failure naming %s:\n%s", peers[0].Addrs[0], logs.String())
			}
		})
	}
}

// TestUDPReplayAndRestart captures a real datagram of node 2 and replays
// it to node 1 from node 2's address, then restarts node 2 with a new boot.
func TestUDPReplayAndRestart(t *testing.T) {
	peers := loopPeers(t, 2, 1)
	addr1, addr2 := peers[0].Addrs[0], peers[1].Addrs[0]

	sniffer := newFakePeer(t, addr1)
	cfg2 := fastConfig(2, peers)
	cfg2.BootID = 1000
	b := startUDP(t, cfg2)
	if err := b.Send([]NodeID{1}, []byte("first"), false); err != nil {
		t.Fatal(err)
	}
	captured := sniffer.capture(kindData)
	sniffer.conn.Close()
	b.Close()

	a := startUDP(t, fastConfig(1, peers))
	attacker := newFakePeer(t, addr2)
	attacker.send(addr1, captured)
	if p := recvData(t, a); string(p.Data) != "first" || p.From != 2 {
		t.Fatalf("first copy: got %q from %d, want \"first\" from 2", p.Data, p.From)
	}
	attacker.send(addr1, captured)
	waitFor(t, "the replay to be counted", func() bool { return a.Counters().Replays == 1 })

	attacker.conn.Close()
	cfg2.BootID = 2000
	b2 := startUDP(t, cfg2)
	if err := b2.Send([]NodeID{1}, []byte("after restart"), false); err != nil {
		t.Fatal(err)
	}
	if p := recvData(t, a); string(p.Data) != "after restart" {
		t.Fatalf("after restart: got %q, want \"after restart\"", p.Data)
	}
	b2.Close()

	// A datagram of the old boot is now stale even though never seen.
	old := sealFor(t, testKey, "test", header{kind: kindData, sender: 2, boot: 1000, counter: 1 << 40}, []byte("stale"))
	attacker = newFakePeer(t, addr2)
	attacker.send(addr1, old)
	waitFor(t, "the stale boot to be counted as a replay", func() bool { return a.Counters().Replays == 2 })
	if n := len(a.Receive()); n != 0 {
		t.Errorf("%d replayed or stale datagrams were delivered", n)
	}
}

func TestUDPBadDatagramsAreCountedNotDelivered(t *testing.T) {
	peers := loopPeers(t, 2, 1)
	addr1, addr2 := peers[0].Addrs[0], peers[1].Addrs[0]
	var logs logBuffer
	cfg := fastConfig(1, peers)
	cfg.Logger = logs.logger()
	a := startUDP(t, cfg)
	fake := newFakePeer(t, addr2)

	valid := sealFor(t, testKey, "test", header{kind: kindData, sender: 2, boot: 7, counter: 1}, []byte("ok"))
	tampered := bytes.Clone(valid)
	tampered[len(tampered)-1] ^= 1
	badFlags := bytes.Clone(valid)
	badFlags[3] = 0x80
	shortPing := sealFor(t, testKey, "test", header{kind: kindPing, sender: 2, boot: 7, counter: 2}, []byte{1, 2, 3})
	tests := []struct {
		name  string
		pkt   []byte
		count func(Counters) uint64
	}{
		{"empty", []byte{}, func(c Counters) uint64 { return c.Malformed }},
		{"truncated header", valid[:10], func(c Counters) uint64 { return c.Malformed }},
		{"truncated tag", valid[:Overhead-1], func(c Counters) uint64 { return c.Malformed }},
		{"garbage", bytes.Repeat([]byte{0xff}, 100), func(c Counters) uint64 { return c.Malformed }},
		{"bad version", append([]byte{'O', 'V', 9}, valid[3:]...), func(c Counters) uint64 { return c.Malformed }},
		{"bad flags", badFlags, func(c Counters) uint64 { return c.Malformed }},
		{"oversize", make([]byte, MaxDatagram+1), func(c Counters) uint64 { return c.Oversize }},
		{"tampered tag", tampered, func(c Counters) uint64 { return c.AuthFailures }},
		{"truncated body", valid[:len(valid)-1], func(c Counters) uint64 { return c.AuthFailures }},
		{"ping with a short body", shortPing, func(c Counters) uint64 { return c.Malformed }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.count(a.Counters())
			fake.send(addr1, tt.pkt)
			waitFor(t, tt.name+" to be counted", func() bool { return tt.count(a.Counters()) == before+1 })
		})
	}
	// The transport still works and delivered nothing of the above.
	fake.send(addr1, valid)
	if p := recvData(t, a); string(p.Data) != "ok" {
		t.Errorf("first delivery = %q, want the valid datagram \"ok\"", p.Data)
	}
	if !strings.Contains(logs.String(), addr2.String()) {
		t.Errorf("log does not name the source address %s:\n%s", addr2, logs.String())
	}
}

func TestUDPUnknownSender(t *testing.T) {
	peers := loopPeers(t, 2, 1)
	addr1 := peers[0].Addrs[0]
	var logs logBuffer
	cfg := fastConfig(1, peers)
	cfg.Logger = logs.logger()
	a := startUDP(t, cfg)

	stranger := newFakePeer(t, loopAddr(t, 77, 0))
	strangerAddr := stranger.conn.LocalAddr().(*net.UDPAddr).AddrPort()
	// A node id not in the nodelist (even with the right key).
	stranger.send(addr1, sealFor(t, testKey, "test", header{kind: kindData, sender: 9, boot: 1, counter: 1}, []byte("x")))
	waitFor(t, "unknown node id to be counted", func() bool { return a.Counters().UnknownSender == 1 })
	// A known node id from an address that is not that node's.
	stranger.send(addr1, sealFor(t, testKey, "test", header{kind: kindData, sender: 2, boot: 1, counter: 1}, []byte("x")))
	waitFor(t, "wrong source address to be counted", func() bool { return a.Counters().UnknownSender == 2 })
	if n := len(a.Receive()); n != 0 {
		t.Errorf("%d datagrams from unknown senders were delivered", n)
	}
	if c := a.Counters(); c.AuthFailures != 0 {
		t.Errorf("unknown senders reached decryption: AuthFailures = %d", c.AuthFailures)
	}
	if !strings.Contains(logs.String(), strangerAddr.String()) {
		t.Errorf("log does not name the stranger's address %s:\n%s", strangerAddr, logs.String())
	}
}

func TestUDPLinkFailover(t *testing.T) {
	peers := loopPeers(t, 2, 2)
	a := startUDP(t, fastConfig(1, peers))
	b := startUDP(t, fastConfig(2, peers))
	waitFor(t, "both links up at node 1", func() bool { return linkOf(a, 2, 0).Up && linkOf(a, 2, 1).Up })

	if err := a.Send([]NodeID{2}, []byte("on link 0"), false); err != nil {
		t.Fatal(err)
	}
	if p := recvData(t, b); p.Link != 0 {
		t.Errorf("with both links up data went on link %d, want 0 (lowest alive)", p.Link)
	}

	// Node 2's link 0 socket dies; node 1 stops hearing on link 0.
	b.socks[0].conn.Close()
	waitFor(t, "link 0 down at node 1", func() bool { return !linkOf(a, 2, 0).Up })
	waitFor(t, "link 1 up at node 1", func() bool { return linkOf(a, 2, 1).Up })
	if err := a.Send([]NodeID{2}, []byte("on link 1"), false); err != nil {
		t.Fatal(err)
	}
	p := recvData(t, b)
	if p.Link != 1 || string(p.Data) != "on link 1" {
		t.Errorf("after link 0 failed: got %q on link %d, want \"on link 1\" on link 1", p.Data, p.Link)
	}
}

func TestUDPAllLinksDuplicates(t *testing.T) {
	peers := loopPeers(t, 2, 2)
	a := startUDP(t, fastConfig(1, peers))
	b := startUDP(t, fastConfig(2, peers))
	waitFor(t, "both links up at node 1", func() bool { return linkOf(a, 2, 0).Up && linkOf(a, 2, 1).Up })
	txBefore := linkOf(a, 2, 0).TxPackets + linkOf(a, 2, 1).TxPackets
	if err := a.Send([]NodeID{2}, []byte("critical"), true); err != nil {
		t.Fatal(err)
	}
	if p := recvData(t, b); string(p.Data) != "critical" {
		t.Fatalf("got %q", p.Data)
	}
	waitFor(t, "the second copy to be counted as a duplicate", func() bool { return b.Counters().Duplicates == 1 })
	if n := len(b.Receive()); n != 0 {
		t.Errorf("the copy on the second link was delivered too (%d extra)", n)
	}
	// Heartbeats also go out, so compare at least the two data copies.
	if tx := linkOf(a, 2, 0).TxPackets + linkOf(a, 2, 1).TxPackets; tx < txBefore+2 {
		t.Errorf("tx packets grew by %d, want at least 2 (one per link)", tx-txBefore)
	}
}

func TestUDPNoLinkUpSendsOnEveryLink(t *testing.T) {
	peers := loopPeers(t, 2, 2)
	cfg := fastConfig(1, peers)
	cfg.HeartbeatInterval = time.Hour // no pongs will bring links up during the test
	a := startUDP(t, cfg)
	sniff0, sniff1 := newFakePeer(t, peers[1].Addrs[0]), newFakePeer(t, peers[1].Addrs[1])
	if err := a.Send([]NodeID{2}, []byte("x"), false); err != nil {
		t.Fatal(err)
	}
	d0, d1 := sniff0.capture(kindData), sniff1.capture(kindData)
	if !bytes.Equal(d0, d1) {
		t.Error("the copies on the two links differ: a Send must seal once")
	}
}

func TestUDPHeartbeatRTTAndStatus(t *testing.T) {
	peers := loopPeers(t, 2, 1)
	a := startUDP(t, fastConfig(1, peers))
	startUDP(t, fastConfig(2, peers))
	waitFor(t, "an RTT sample", func() bool { return linkOf(a, 2, 0).Latency > 0 })
	st := linkOf(a, 2, 0)
	if !st.Up || st.LastHeard.IsZero() || st.RxPackets == 0 || st.TxPackets == 0 {
		t.Errorf("status = %+v, want up with traffic and LastHeard", st)
	}
	if st.Local != peers[0].Addrs[0].String() || st.Remote != peers[1].Addrs[0].String() {
		t.Errorf("addresses = %s -> %s, want %s -> %s", st.Local, st.Remote, peers[0].Addrs[0], peers[1].Addrs[0])
	}
}

func TestNewUDPRejectsBadConfig(t *testing.T) {
	peers := loopPeers(t, 2, 1)
	inUse := newFakePeer(t, loopAddr(t, 5, 0))
	busy := inUse.conn.LocalAddr().(*net.UDPAddr).AddrPort()
	v6 := netip.MustParseAddrPort("[::1]:5405")
	tests := []struct {
		name string
		cfg  func() UDPConfig
		want string
	}{
		{"short key", func() UDPConfig { c := fastConfig(1, peers); c.Key = make([]byte, 31); return c }, "authkey is 31 bytes"},
		{"local missing", func() UDPConfig { return fastConfig(3, peers) }, "local node 3 is not listed"},
		{"id zero", func() UDPConfig { return fastConfig(1, append([]Peer{{ID: 0}}, peers...)) }, "node id 0"},
		{"duplicate id", func() UDPConfig { return fastConfig(1, append([]Peer{peers[1]}, peers...)) }, "node 2 listed twice"},
		{"no port", func() UDPConfig {
			ps := append([]Peer(nil), peers...)
			ps[1].Addrs[0] = netip.AddrPortFrom(ps[1].Addrs[0].Addr(), 0)
			return fastConfig(1, ps)
		}, "has no port"},
		{"no local address", func() UDPConfig {
			return fastConfig(1, []Peer{{ID: 1}, peers[1]})
		}, "local node 1 has no link address"},
		{"mixed families", func() UDPConfig {
			ps := append([]Peer(nil), peers...)
			ps[1].Addrs[0] = v6
			return fastConfig(1, ps)
		}, "mixes address families"},
		{"same local address twice", func() UDPConfig {
			ps := append([]Peer(nil), peers...)
			ps[0].Addrs[1] = ps[0].Addrs[0]
			return fastConfig(1, ps)
		}, "for links 0 and 1"},
		{"address in use", func() UDPConfig {
			ps := append([]Peer(nil), peers...)
			ps[0].Addrs[0] = busy
			return fastConfig(1, ps)
		}, "binding link 0 address " + busy.String()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := NewUDP(tt.cfg())
			if err == nil {
				u.Close()
				t.Fatalf("NewUDP accepted the config, want error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestUDPIPv6(t *testing.T) {
	free := func() netip.AddrPort {
		c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
		if err != nil {
			t.Skipf("no IPv6 loopback: %v", err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).AddrPort()
	}
	peers := []Peer{{ID: 1}, {ID: 2}}
	peers[0].Addrs[0], peers[1].Addrs[0] = free(), free()
	a := startUDP(t, fastConfig(1, peers))
	b := startUDP(t, fastConfig(2, peers))
	if err := a.Send([]NodeID{2}, []byte("v6"), false); err != nil {
		t.Fatal(err)
	}
	if p := recvData(t, b); string(p.Data) != "v6" || p.From != 1 {
		t.Errorf("got %q from %d", p.Data, p.From)
	}
	waitFor(t, "link up over IPv6", func() bool { return linkOf(b, 1, 0).Up })
}

// TestUDPSendManyKeepsOrderAndContent: one SendMany of many payloads of
// different sizes and destination sets arrives complete, in order per
// destination, and each datagram is sealed separately (no replay drops).
func TestUDPSendManyKeepsOrderAndContent(t *testing.T) {
	peers := loopPeers(t, 3, 1)
	nodes := make([]*UDP, 3)
	for i := range nodes {
		nodes[i] = startUDP(t, fastConfig(NodeID(i+1), peers))
	}
	var ds []Datagram
	for i := range 40 {
		to := []NodeID{2, 3}
		if i%3 == 0 {
			to = []NodeID{3}
		}
		ds = append(ds, Datagram{To: to, Data: bytes.Repeat(payload(i), 1+i%50), All: i%5 == 0})
	}
	if err := nodes[0].SendMany(ds); err != nil {
		t.Fatalf("SendMany: %v", err)
	}
	for _, id := range []NodeID{2, 3} {
		u := nodes[id-1]
		for i, d := range ds {
			if !slices.Contains(d.To, id) {
				continue
			}
			p := recvData(t, u)
			if !bytes.Equal(p.Data, d.Data) {
				t.Fatalf("node %d: datagram %d: got %d bytes %.20q, want %.20q", id, i, len(p.Data), p.Data, d.Data)
			}
		}
		if c := u.Counters(); c.Replays != 0 || c.AuthFailures != 0 || c.Malformed != 0 {
			t.Errorf("node %d counters = %+v", id, c)
		}
	}
}
