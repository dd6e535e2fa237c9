package transport

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkUDPLoopback measures end-to-end throughput (seal, sendmmsg,
// recvmmsg, checks, open, channel) between two transports on 127.0.0.1 and
// 127.0.0.2. The sender keeps a bounded window of datagrams in flight so
// the figure is the sustainable rate, not the kernel's drop rate.
// Reported: pkts/s received, MB/s of payload, lost (should be 0).
func BenchmarkUDPLoopback(b *testing.B) {
	for _, bc := range []struct {
		name  string
		size  int
		peers int
	}{
		{"64B", 64, 1},
		{"1KiB", 1024, 1},
		{"16KiB", 16 << 10, 1},
		{"64B-fanout2", 64, 2},
	} {
		b.Run(bc.name, func(b *testing.B) { benchUDP(b, bc.size, bc.peers) })
	}
}

func benchUDP(b *testing.B, size, fanout int) {
	peers := loopPeers(b, fanout+1, 1)
	cfg := fastConfig(1, peers)
	cfg.HeartbeatInterval = 50 * time.Millisecond
	src := startUDP(b, cfg)
	var to []NodeID
	var got, target atomic.Int64
	target.Store(-1)
	finished := make(chan struct{})
	window := min(1024, (512<<10)/size) * fanout
	// credits bound the datagrams in flight: the sender takes one per
	// datagram, receivers give them back.
	credits := make(chan struct{}, window)
	done := make(chan struct{})
	defer close(done)
	for i := range fanout {
		id := NodeID(i + 2)
		to = append(to, id)
		dst := startUDP(b, fastConfig(id, peers))
		go func() {
			for {
				select {
				case <-dst.Receive():
					<-credits
					if got.Add(1) == target.Load() {
						close(finished)
					}
				case <-done:
					return
				}
			}
		}()
	}
	waitFor(b, "links up", func() bool {
		for _, l := range src.Links() {
			if !l.Up {
				return false
			}
		}
		return true
	})
	msg := make([]byte, size)
	stall := time.NewTimer(time.Hour)
	b.SetBytes(int64(size * fanout))
	b.ReportAllocs()
	want := int64(b.N * fanout)
	target.Store(want)
	b.ResetTimer()
	start := time.Now()
	stalled := false
	for i := 0; i < b.N && !stalled; i++ {
		for range fanout {
			select {
			case credits <- struct{}{}:
			default:
				stall.Reset(2 * time.Second)
				select {
				case credits <- struct{}{}:
				case <-stall.C:
					stalled = true // datagrams were lost: stop and report
				}
			}
		}
		if err := src.Send(to, msg, false); err != nil {
			b.Fatal(err)
		}
	}
	if !stalled {
		select {
		case <-finished:
		case <-time.After(2 * time.Second):
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(got.Load())/elapsed.Seconds(), "pkts/s")
	b.ReportMetric(float64(want-got.Load()), "lost")
}

// BenchmarkSeal measures sealing alone (AES-256-GCM with the header as
// additional data).
func BenchmarkSeal(b *testing.B) {
	for _, size := range []int{64, 1024, 16 << 10} {
		b.Run(byteSize(size), func(b *testing.B) {
			kr, _ := newKeyring(testKey, "bench")
			a, _ := kr.aead(1, 1)
			var s cryptoScratch
			buf := make([]byte, 0, size+Overhead)
			msg := make([]byte, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				buf = s.seal(a, buf, header{sender: 1, boot: 1, counter: uint64(i)}, msg)
			}
		})
	}
}

func byteSize(n int) string {
	if n >= 1024 {
		return fmt.Sprintf("%dKiB", n/1024)
	}
	return fmt.Sprintf("%dB", n)
}
