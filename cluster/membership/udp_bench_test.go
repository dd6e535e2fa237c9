package membership

import (
	"context"
	"fmt"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ovsha/ovsha/cluster/totem"
	"github.com/ovsha/ovsha/cluster/transport"
)

// BenchmarkUDPLoopback runs three runtimes over the real UDP transport on
// loopback (AES-GCM on) in one process and measures ordered broadcast
// throughput from one sender: b.N messages delivered at every node.
// It reports figures only; the namespace benchmarks in enginetest are the
// reference measurement (one process per node).
func BenchmarkUDPLoopback(b *testing.B) {
	for _, size := range []int{64, 1024, 16384} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) { benchLoopback(b, size) })
	}
}

func benchLoopback(b *testing.B, size int) {
	ids := []totem.NodeID{1, 2, 3}
	key := make([]byte, 32)
	var peers []transport.Peer
	for _, id := range ids {
		p := transport.Peer{ID: transport.NodeID(id)}
		p.Addrs[0] = netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 77, byte(id)}), uint16(26000+int(id)))
		peers = append(peers, p)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rts := map[totem.NodeID]*Runtime{}
	var delivered [4]atomic.Int64
	for _, id := range ids {
		tr, err := transport.NewUDP(transport.UDPConfig{ClusterName: "bench", Key: key, Local: transport.NodeID(id), Peers: peers,
			HeartbeatInterval: 50 * time.Millisecond, LinkTimeout: 200 * time.Millisecond})
		if err != nil {
			b.Skipf("loopback UDP: %v", err)
		}
		defer tr.Close()
		cfg := totem.DefaultConfig(id, ids)
		rt, err := New(Config{Engine: cfg, Transport: tr})
		if err != nil {
			b.Fatal(err)
		}
		rts[id] = rt
		go rt.Run(ctx)
		go func(id totem.NodeID) {
			for ev := range rt.Events() {
				if ev.Kind == totem.EventDeliver {
					delivered[id].Add(1)
				}
			}
		}(id)
	}
	for _, id := range ids {
		for {
			st, _ := rts[id].Status(ctx)
			if st.Engine.State == totem.StateOperational && len(st.Engine.Members) == 3 {
				break
			}
			time.Sleep(5 * time.Millisecond) // setup only; not measured
		}
	}
	payload := make([]byte, size)
	b.SetBytes(int64(size))
	b.ResetTimer()
	go func() {
		for i := 0; i < b.N; i++ {
			if err := rts[1].Broadcast(ctx, payload, totem.Agreed); err != nil {
				return
			}
		}
	}()
	for _, id := range ids {
		for delivered[id].Load() < int64(b.N) {
			time.Sleep(time.Millisecond)
		}
	}
	b.StopTimer()
	if testing.Verbose() {
		for _, id := range ids {
			st, _ := rts[id].Status(ctx)
			b.Logf("node %d: %+v counters %+v", id, st.Engine.Stats, st.Counters)
		}
	}
}
