package transport

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"
)

var testKey = bytes.Repeat([]byte{0x5a}, 64)

// loopAddr returns a free UDP port on 127.0.<link>.<node>.
func loopAddr(t testing.TB, node, link int) netip.AddrPort {
	t.Helper()
	ip := netip.AddrFrom4([4]byte{127, 0, byte(link), byte(node)})
	c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
	if err != nil {
		t.Fatalf("finding a free port on %s: %v", ip, err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).AddrPort()
}

// loopPeers returns n nodes (ids 1..n) with links links each, on loopback.
func loopPeers(t testing.TB, n, links int) []Peer {
	t.Helper()
	ps := make([]Peer, n)
	for i := range ps {
		ps[i].ID = NodeID(i + 1)
		for l := range links {
			ps[i].Addrs[l] = loopAddr(t, i+1, l)
		}
	}
	return ps
}

// fastConfig is a config with quick heartbeats so link tests finish fast.
func fastConfig(local NodeID, peers []Peer) UDPConfig {
	return UDPConfig{
		ClusterName:       "test",
		Key:               testKey,
		Local:             local,
		Peers:             peers,
		HeartbeatInterval: 10 * time.Millisecond,
		LinkTimeout:       300 * time.Millisecond, // generous: the test machine may be loaded
	}
}

func startUDP(t testing.TB, cfg UDPConfig) *UDP {
	t.Helper()
	u, err := NewUDP(cfg)
	if err != nil {
		t.Fatalf("NewUDP(node %d): %v", cfg.Local, err)
	}
	t.Cleanup(func() { _ = u.Close() })
	return u
}

// recvData waits for the next data packet.
func recvData(t testing.TB, u *UDP) Packet {
	t.Helper()
	select {
	case p := <-u.Receive():
		return p
	case <-time.After(5 * time.Second):
		t.Fatalf("node %d: no datagram within 5s", u.local)
		return Packet{}
	}
}

// waitFor polls cond until it holds (events inside the transport have no
// other hook); it fails the test after 5s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func linkOf(u *UDP, peer NodeID, link int) LinkStatus {
	for _, l := range u.Links() {
		if l.Peer == peer && l.Link == link {
			return l
		}
	}
	return LinkStatus{}
}

// fakePeer is a plain UDP socket standing in for a node, to send crafted
// or captured datagrams from a given address.
type fakePeer struct {
	t    testing.TB
	conn *net.UDPConn
}

func newFakePeer(t testing.TB, addr netip.AddrPort) *fakePeer {
	t.Helper()
	c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(addr))
	if err != nil {
		t.Fatalf("binding fake peer %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &fakePeer{t: t, conn: c}
}

func (f *fakePeer) send(to netip.AddrPort, b []byte) {
	f.t.Helper()
	if _, err := f.conn.WriteToUDPAddrPort(b, to); err != nil {
		f.t.Fatalf("fake peer sending %d bytes to %s: %v", len(b), to, err)
	}
}

// capture reads datagrams until one of kind k arrives.
func (f *fakePeer) capture(k kind) []byte {
	f.t.Helper()
	buf := make([]byte, readBufSize)
	_ = f.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		n, _, err := f.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			f.t.Fatalf("fake peer capturing a %s datagram: %v", k, err)
		}
		if h, err := parseHeader(buf[:n]); err == nil && h.kind == k {
			return append([]byte(nil), buf[:n]...)
		}
	}
}

// sealFor builds a datagram as node sender (boot) would, with key/cluster.
func sealFor(t testing.TB, key []byte, cluster string, h header, payload []byte) []byte {
	t.Helper()
	kr, err := newKeyring(key, cluster)
	if err != nil {
		t.Fatal(err)
	}
	a, err := kr.aead(h.sender, h.boot)
	if err != nil {
		t.Fatal(err)
	}
	var s cryptoScratch
	return s.seal(a, nil, h, payload)
}

// logBuffer collects log output for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func payload(i int) []byte { return []byte(fmt.Sprintf("message %d", i)) }
