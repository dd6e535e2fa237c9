package transport

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// drain returns what is waiting in e's channel as "from/link:data" lines.
func drain(e *MemEndpoint) []string {
	var out []string
	for {
		select {
		case p := <-e.Receive():
			out = append(out, fmt.Sprintf("%d/%d:%s", p.From, p.Link, p.Data))
		default:
			return out
		}
	}
}

// memTrace runs a fixed faulty scenario on a network seeded with seed and
// returns its delivery trace.
func memTrace(t *testing.T, seed uint64) string {
	t.Helper()
	n := NewMemNetwork(seed, MemLink{Latency: time.Millisecond, Jitter: 500 * time.Microsecond, Loss: 0.1, Dup: 0.1, Reorder: 0.2}, 2)
	ids := []NodeID{1, 2, 3}
	eps := make([]*MemEndpoint, len(ids))
	for i, id := range ids {
		eps[i] = n.Endpoint(id)
	}
	var b strings.Builder
	for round := range 20 {
		for i, e := range eps {
			if err := e.Send(ids, []byte(fmt.Sprintf("r%d-n%d", round, i+1)), round%5 == 0); err != nil {
				t.Fatal(err)
			}
		}
		n.Advance(n.Now() + 300*time.Microsecond)
		for i, e := range eps {
			for _, line := range drain(e) {
				fmt.Fprintf(&b, "%v -> %d %s\n", n.Now(), i+1, line)
			}
		}
	}
	for {
		at, ok := n.NextDelivery()
		if !ok {
			break
		}
		n.Advance(at)
		for i, e := range eps {
			for _, line := range drain(e) {
				fmt.Fprintf(&b, "%v -> %d %s\n", n.Now(), i+1, line)
			}
		}
	}
	fmt.Fprintf(&b, "stats %+v\n", n.Stats())
	return b.String()
}

func TestMemSameSeedSameTrace(t *testing.T) {
	a, b := memTrace(t, 7), memTrace(t, 7)
	if a != b {
		t.Fatal("two runs with seed 7 produced different traces")
	}
	if c := memTrace(t, 8); c == a {
		t.Error("seeds 7 and 8 produced the same trace: faults do not depend on the seed")
	}
	// The golden trace pins the draw order: a change here breaks replay of
	// recorded failing seeds.
	golden := filepath.Join("testdata", "mem_trace_seed7.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(a), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != a {
		t.Errorf("trace for seed 7 differs from %s (run with -update if the change is intended)", golden)
	}
	for _, kind := range []string{"Lost:0 ", "Duplicated:0 ", "Reordered:0 "} {
		if strings.Contains(a, kind) {
			t.Errorf("scenario did not exercise a fault: %s in %s", kind, a[strings.LastIndex(a, "stats"):])
		}
	}
}

func TestMemDeliveryOrderAndTiming(t *testing.T) {
	n := NewMemNetwork(1, MemLink{Latency: 2 * time.Millisecond}, 1)
	a, b := n.Endpoint(1), n.Endpoint(2)
	for i := range 3 {
		if err := a.Send([]NodeID{2}, []byte{byte('a' + i)}, false); err != nil {
			t.Fatal(err)
		}
	}
	if at, ok := n.NextDelivery(); !ok || at != 2*time.Millisecond {
		t.Fatalf("NextDelivery = %v, %v; want 2ms, true", at, ok)
	}
	n.Advance(time.Millisecond)
	if got := drain(b); len(got) != 0 {
		t.Fatalf("delivered before due: %v", got)
	}
	n.Advance(2 * time.Millisecond)
	if got := strings.Join(drain(b), " "); got != "1/0:a 1/0:b 1/0:c" {
		t.Errorf("delivered %q, want send order", got)
	}
	if n.Now() != 2*time.Millisecond {
		t.Errorf("Now = %v, want 2ms", n.Now())
	}
	// Loopback to self: no delay, no faults.
	n.SetAll(MemLink{Loss: 1})
	if err := a.Send([]NodeID{1}, []byte("me"), false); err != nil {
		t.Fatal(err)
	}
	n.Advance(n.Now())
	if got := drain(a); len(got) != 1 || got[0] != "1/0:me" {
		t.Errorf("self delivery = %v", got)
	}
}

func TestMemSendCopiesBuffer(t *testing.T) {
	n := NewMemNetwork(1, MemLink{}, 1)
	a, b := n.Endpoint(1), n.Endpoint(2)
	buf := []byte("orig")
	_ = a.Send([]NodeID{2}, buf, false)
	copy(buf, "XXXX")
	n.Advance(0)
	if got := drain(b); len(got) != 1 || got[0] != "1/0:orig" {
		t.Errorf("got %v: Send must copy the caller's buffer", got)
	}
}

func TestMemLossAndDup(t *testing.T) {
	n := NewMemNetwork(1, MemLink{Loss: 1}, 1)
	a, b := n.Endpoint(1), n.Endpoint(2)
	_ = a.Send([]NodeID{2}, []byte("x"), false)
	n.Advance(time.Second)
	if got := drain(b); len(got) != 0 {
		t.Errorf("Loss=1 delivered %v", got)
	}
	n.SetLink(1, 2, 0, MemLink{Dup: 1})
	_ = b.Send([]NodeID{1}, []byte("y"), false) // SetLink is symmetric
	n.Advance(2 * time.Second)
	if got := drain(a); len(got) != 2 {
		t.Errorf("Dup=1 delivered %v, want two copies", got)
	}
	if s := n.Stats(); s.Lost != 1 || s.Duplicated != 1 || s.Delivered != 2 || s.Sent != 2 {
		t.Errorf("stats = %+v", s)
	}
}

func TestMemPartition(t *testing.T) {
	n := NewMemNetwork(1, MemLink{Latency: time.Millisecond}, 1)
	e1, e2, e3 := n.Endpoint(1), n.Endpoint(2), n.Endpoint(3)
	n.Partition([]NodeID{1}, []NodeID{2, 3})
	_ = e1.Send([]NodeID{2, 3}, []byte("from1"), false)
	_ = e2.Send([]NodeID{1, 3}, []byte("from2"), false)
	n.Advance(time.Second)
	if got := drain(e1); len(got) != 0 {
		t.Errorf("node 1 got %v across the partition", got)
	}
	if got := drain(e2); len(got) != 0 {
		t.Errorf("node 2 got %v across the partition", got)
	}
	if got := drain(e3); len(got) != 1 || got[0] != "2/0:from2" {
		t.Errorf("node 3 got %v, want only from2", got)
	}
	if s := n.Stats(); s.Partitioned != 3 {
		t.Errorf("Partitioned = %d, want 3", s.Partitioned)
	}
	for _, l := range e1.Links() {
		if l.Up {
			t.Errorf("node 1 reports link to %d up across the partition", l.Peer)
		}
	}
	// A datagram in flight when the partition starts is dropped too.
	n.Heal()
	_ = e1.Send([]NodeID{2}, []byte("inflight"), false)
	n.Partition([]NodeID{1}, []NodeID{2, 3})
	n.Advance(n.Now() + time.Second)
	if got := drain(e2); len(got) != 0 {
		t.Errorf("in-flight datagram crossed a new partition: %v", got)
	}
	n.Heal()
	_ = e1.Send([]NodeID{2}, []byte("healed"), false)
	n.Advance(n.Now() + time.Second)
	if got := drain(e2); len(got) != 1 || got[0] != "1/0:healed" {
		t.Errorf("after Heal node 2 got %v", got)
	}
}

func TestMemLinkSelection(t *testing.T) {
	n := NewMemNetwork(1, MemLink{}, 3)
	a, b := n.Endpoint(1), n.Endpoint(2)
	send := func(all bool) string {
		_ = a.Send([]NodeID{2}, []byte("m"), all)
		n.Advance(n.Now())
		return strings.Join(drain(b), " ")
	}
	if got := send(false); got != "1/0:m" {
		t.Errorf("all links up: %q, want link 0", got)
	}
	n.LinkDown(1, 2, 0, true)
	if got := send(false); got != "1/1:m" {
		t.Errorf("link 0 down: %q, want link 1", got)
	}
	if got := send(true); got != "1/1:m 1/2:m" {
		t.Errorf("all=true with link 0 down: %q, want links 1 and 2", got)
	}
	n.LinkDown(1, 2, 1, true)
	n.LinkDown(1, 2, 2, true)
	before := n.Stats().LinkDown
	if got := send(false); got != "" {
		t.Errorf("every link down: delivered %q", got)
	}
	if d := n.Stats().LinkDown - before; d != 3 {
		t.Errorf("every link down: %d copies dropped, want 3 (sent on every link)", d)
	}
	n.LinkDown(1, 2, 0, false)
	if got := send(false); got != "1/0:m" {
		t.Errorf("link 0 back: %q", got)
	}
}

func TestMemFreezeThaw(t *testing.T) {
	n := NewMemNetwork(1, MemLink{Latency: time.Millisecond}, 1)
	a, b := n.Endpoint(1), n.Endpoint(2)
	n.Freeze(2)
	_ = a.Send([]NodeID{2}, []byte("1"), false)
	_ = a.Send([]NodeID{2}, []byte("2"), false)
	if _, ok := n.NextDelivery(); ok {
		t.Error("NextDelivery reports a delivery to a frozen node")
	}
	n.Advance(10 * time.Millisecond)
	if got := drain(b); len(got) != 0 {
		t.Fatalf("frozen node received %v", got)
	}
	_ = a.Send([]NodeID{2}, []byte("3"), false) // due at 11ms
	n.Thaw(2)
	if got := strings.Join(drain(b), " "); got != "1/0:1 1/0:2" {
		t.Errorf("on Thaw got %q, want the two due datagrams in order", got)
	}
	n.Advance(11 * time.Millisecond)
	if got := strings.Join(drain(b), " "); got != "1/0:3" {
		t.Errorf("after Thaw got %q, want the third when due", got)
	}
}

func TestMemCrashRestart(t *testing.T) {
	n := NewMemNetwork(1, MemLink{Latency: time.Millisecond}, 1)
	a, b := n.Endpoint(1), n.Endpoint(2)
	_ = a.Send([]NodeID{2}, []byte("lost"), false)
	_ = b.Send([]NodeID{1}, []byte("lost too"), false)
	n.Crash(2)
	if err := b.Send([]NodeID{1}, []byte("x"), false); !errors.Is(err, ErrClosed) {
		t.Errorf("Send from crashed node: %v, want ErrClosed", err)
	}
	n.Advance(time.Second)
	if got := drain(a); len(got) != 0 {
		t.Errorf("node 1 received %v from a crashed node", got)
	}
	if s := n.Stats(); s.Crashed != 2 || s.InFlight != 0 {
		t.Errorf("stats = %+v, want 2 crashed, none in flight", s)
	}
	n.Restart(2)
	b2 := n.Endpoint(2)
	if b2 == b {
		t.Fatal("Restart kept the old endpoint")
	}
	if err := b.Send([]NodeID{1}, []byte("x"), false); !errors.Is(err, ErrClosed) {
		t.Errorf("Send on the pre-crash endpoint: %v, want ErrClosed", err)
	}
	_ = a.Send([]NodeID{2}, []byte("hello again"), false)
	n.Advance(n.Now() + time.Millisecond)
	if got := drain(b2); len(got) != 1 || got[0] != "1/0:hello again" {
		t.Errorf("restarted node got %v", got)
	}
	for _, l := range b2.Links() {
		if l.TxPackets != 0 {
			t.Errorf("restarted endpoint kept counters: %+v", l)
		}
	}
}

func TestMemOverflowAndErrors(t *testing.T) {
	n := NewMemNetwork(1, MemLink{}, 1)
	a, b := n.Endpoint(1), n.Endpoint(2)
	for range MemQueueCap + 1 {
		_ = a.Send([]NodeID{2}, nil, false)
	}
	n.Advance(0)
	if s := n.Stats(); s.Overflow != 1 || s.Delivered != MemQueueCap {
		t.Errorf("stats = %+v, want %d delivered and 1 overflow", s, MemQueueCap)
	}
	if len(b.Receive()) != MemQueueCap {
		t.Errorf("channel holds %d", len(b.Receive()))
	}
	if err := a.Send([]NodeID{9}, nil, false); !errors.Is(err, ErrUnknownNode) {
		t.Errorf("Send to node 9: %v, want ErrUnknownNode", err)
	}
	if err := a.Send([]NodeID{2}, make([]byte, MaxPayload+1), false); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversize Send: %v, want ErrTooLarge", err)
	}
	if l := a.Links(); len(l) != 1 || l[0].Peer != 2 || !l[0].Up || l[0].TxPackets != MemQueueCap+1 {
		t.Errorf("Links = %+v", l)
	}
}
