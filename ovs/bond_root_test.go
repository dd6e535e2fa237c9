package ovs

import (
	"context"
	"fmt"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"

	"github.com/ovsha/ovsha/agents"
	"github.com/ovsha/ovsha/internal/netnstest"
)

// chain is a node with a two-member bond into a switch namespace (a Linux
// bridge) and a client namespace on the same switch.
type chain struct {
	*node
	sw, client *netnstest.NS
	brR        agents.Resource
	bondR      agents.Resource
	gwR        agents.Resource
}

func newChain(t testing.TB) *chain {
	t.Helper()
	n := newNode(t)
	c := &chain{node: n, sw: netnstest.New(t), client: netnstest.New(t)}
	netnstest.Veth(t, n.ns, "u0", c.sw, "s0")
	netnstest.Veth(t, n.ns, "u1", c.sw, "s1")
	netnstest.Veth(t, c.client, "c0", c.sw, "sc")
	c.sw.Bridge("sw0", "s0", "s1", "sc")
	c.client.TxCsumOff("c0")
	c.client.AddAddr("c0", "10.77.0.10/24")
	n.ns.IgnoreOVSPorts("u0", "u1")
	c.brR = agents.Resource{ID: "br", Params: goodBridge}
	c.bondR = agents.Resource{ID: "bond", Params: merge(goodBond, "bond_updelay", "0", "other_config", "bond-detect-mode=carrier")}
	c.gwR = agents.Resource{ID: "gw", Params: goodIface}
	return c
}

func (c *chain) start(ctx context.Context) error {
	br, port, ifa := c.agents()
	if err := br.Start(ctx, c.brR); err != nil {
		return err
	}
	if err := port.Start(ctx, c.bondR); err != nil {
		return err
	}
	return ifa.Start(ctx, c.gwR)
}

func (c *chain) stop(ctx context.Context) error {
	br, port, ifa := c.agents()
	for _, s := range []struct {
		a agents.Agent
		r agents.Resource
	}{{ifa, c.gwR}, {port, c.bondR}, {br, c.brR}} {
		if err := s.a.Stop(ctx, s.r); err != nil {
			return err
		}
	}
	return nil
}

// eventually retries f every 10 ms until it succeeds or 5 s pass. Used only
// where no event exists to await (bond member state lives in vswitchd).
func eventually(t testing.TB, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// pinger sends ICMP echoes from a namespace every interval and records when
// each reply arrived.
type pinger struct {
	mu      sync.Mutex
	sent    map[int]time.Time
	replies map[int]time.Time
}

func startPinger(t testing.TB, ns *netnstest.NS, dst string, interval time.Duration, stop <-chan struct{}) *pinger {
	t.Helper()
	var conn *icmp.PacketConn
	if err := ns.Do(func() error {
		var err error
		conn, err = icmp.ListenPacket("ip4:icmp", "0.0.0.0")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	p := &pinger{sent: map[int]time.Time{}, replies: map[int]time.Time{}}
	id := os.Getpid() & 0xffff
	go func() {
		buf := make([]byte, 1500)
		for {
			n, _, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			m, err := icmp.ParseMessage(1, buf[:n])
			if err != nil || m.Type != ipv4.ICMPTypeEchoReply {
				continue
			}
			if e, ok := m.Body.(*icmp.Echo); ok && e.ID == id {
				p.mu.Lock()
				p.replies[e.Seq] = time.Now()
				p.mu.Unlock()
			}
		}
	}()
	go func() {
		defer conn.Close()
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for seq := 0; ; seq++ {
			msg := icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: id, Seq: seq & 0xffff, Data: []byte("ovsha")}}
			b, _ := msg.Marshal(nil)
			p.mu.Lock()
			p.sent[seq] = time.Now()
			p.mu.Unlock()
			conn.WriteTo(b, &net.IPAddr{IP: net.ParseIP(dst)})
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	return p
}

// stats returns replies received, sent, and the longest time without a
// reply within [from, to].
func (p *pinger) stats(from, to time.Time) (got, sent int, gap time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var last time.Time
	for seq := 0; seq < len(p.sent); seq++ {
		s := p.sent[seq]
		if s.Before(from) || s.After(to) {
			continue
		}
		if last.IsZero() {
			last = s
		}
		sent++
		if r, ok := p.replies[seq]; ok {
			got++
			if r.Sub(last) > gap {
				gap = r.Sub(last)
			}
			last = r
		}
	}
	if !last.IsZero() && to.Sub(last) > gap {
		gap = to.Sub(last)
	}
	return got, sent, gap
}

func (p *pinger) repliesAfter(t0 time.Time) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for seq, r := range p.replies {
		if r.After(t0) && p.sent[seq].After(t0) {
			n++
		}
	}
	return n
}

// An active-backup bond keeps a ping flowing when the active member's link
// goes down, and its health becomes a node attribute.
func TestBondFailoverKeepsPingFlowing(t *testing.T) {
	c := newChain(t)
	ctx := opCtx(t)
	t0 := time.Now()
	if err := c.start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("chain start (bridge -> bond -> interface): %v", time.Since(t0))
	// Start returns once a member's link is up (what starts on top, a
	// VIP's announcement, is not dropped by a bond still coming up).
	up := 0
	for _, m := range []string{"u0", "u1"} {
		if i, err := c.db.Interface(ctx, m); err == nil && i != nil && i.LinkState != nil && *i.LinkState == "up" {
			up++
		}
	}
	if up == 0 {
		t.Errorf("bond0 right after start: no member with link state up")
	}
	_, port, _ := c.agents()
	attrs := map[string]string{}
	var amu sync.Mutex
	c.bondR.SetNodeAttribute = func(k, v string) { amu.Lock(); attrs[k] = v; amu.Unlock() }
	attr := func(k string) string { amu.Lock(); defer amu.Unlock(); return attrs[k] }
	eventually(t, "bond healthy", func() error {
		if err := port.Monitor(ctx, c.bondR); err != nil {
			return err
		}
		if attr("ovsha-bond-bond0") != BondHealthy || attr("ovsha-bond-bond0-up") != "2" {
			return fmt.Errorf("attributes %v", attrs)
		}
		return nil
	})
	st, err := Appctl{Rundir: c.ovs.Dir}.BondShow(ctx, "bond0")
	if err != nil {
		t.Fatal(err)
	}
	active := st.Active()
	if active == "" {
		t.Fatalf("no active member: %+v", st)
	}
	peer := map[string]string{"u0": "s0", "u1": "s1"}[active]

	stop := make(chan struct{})
	p := startPinger(t, c.client, "10.77.0.1", 2*time.Millisecond, stop)
	defer close(stop)
	eventually(t, "steady replies before failover", func() error {
		if n := p.repliesAfter(time.Time{}); n < 25 {
			return fmt.Errorf("%d echo replies from 10.77.0.1 so far", n)
		}
		return nil
	})
	tDown := time.Now()
	c.sw.Down(peer) // the switch side: the node sees NO-CARRIER on the active member
	eventually(t, "pings after failover", func() error {
		if n := p.repliesAfter(tDown.Add(200 * time.Millisecond)); n < 20 {
			return fmt.Errorf("%d replies since failover", n)
		}
		return nil
	})
	got, sent, gap := p.stats(tDown.Add(-20*time.Millisecond), time.Now())
	t.Logf("failover of active member %s: %d/%d echoes answered, longest gap %v (2 ms interval)", active, got, sent, gap)

	eventually(t, "bond degraded", func() error {
		if err := port.Monitor(ctx, c.bondR); err != nil {
			return err
		}
		if attr("ovsha-bond-bond0") != BondDegraded || attr("ovsha-bond-bond0-up") != "1" {
			return fmt.Errorf("attributes %v", attrs)
		}
		return nil
	})
	st, err = Appctl{Rundir: c.ovs.Dir}.BondShow(ctx, "bond0")
	if err != nil {
		t.Fatal(err)
	}
	if st.Active() == active || st.Active() == "" {
		t.Errorf("active member after failover = %q, was %q", st.Active(), active)
	}
	c.sw.Down(map[string]string{"s0": "s1", "s1": "s0"}[peer])
	eventually(t, "bond down", func() error {
		if err := port.Monitor(ctx, c.bondR); err != nil {
			return err
		}
		if attr("ovsha-bond-bond0") != BondDown {
			return fmt.Errorf("attributes %v", attrs)
		}
		return nil
	})
	if err := c.stop(ctx); err != nil {
		t.Fatal(err)
	}
	if rows := c.rows(t); rows != [3]int{} {
		t.Errorf("rows after stopping the chain: %v, want none", rows)
	}
	// The health belongs to a running bond: stop withdraws it (a stale
	// "down" would keep an uplink rule banning this node).
	for _, k := range []string{"ovsha-bond-bond0", "ovsha-bond-bond0-up"} {
		if v := attr(k); v != "" {
			t.Errorf("after stop %s = %q, want it removed", k, v)
		}
	}
}

// BenchmarkChainStart measures start of ovs-bridge -> ovs-port (bond) ->
// ovs-interface against a real ovs-vswitchd (userspace datapath); stop is
// not timed.
func BenchmarkChainStart(b *testing.B) {
	c := newChain(b)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	b.ResetTimer()
	for b.Loop() {
		if err := c.start(ctx); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := c.stop(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
