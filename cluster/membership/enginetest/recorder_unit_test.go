package enginetest

import (
	"context"
	"testing"
	"time"
)

func fixedClock() func() time.Time {
	t := time.Unix(1000, 0)
	return func() time.Time { t = t.Add(time.Millisecond); return t }
}

func msg(sender uint32, seq uint64, size int) []byte {
	p := make([]byte, size)
	encodePayload(p, sender, seq, 0)
	return p
}

// TestRecorderOrder: the running hash depends on the delivery order, equal
// sequences give equal hashes, and hash_at exposes prefixes.
func TestRecorderOrder(t *testing.T) {
	a, b := newRecorder(1, fixedClock()), newRecorder(2, fixedClock())
	a.deliver(1, msg(1, 1, 64))
	a.deliver(2, msg(2, 1, 64))
	b.deliver(2, msg(2, 1, 64))
	b.deliver(1, msg(1, 1, 64))
	da, db := a.digest([]uint64{0, 1, 2, 3}), b.digest(nil)
	if da.Total != 2 || db.Total != 2 {
		t.Fatalf("totals %d, %d; want 2, 2", da.Total, db.Total)
	}
	if da.Hash == db.Hash {
		t.Fatal("different delivery orders gave the same hash")
	}
	c := newRecorder(3, fixedClock())
	c.deliver(1, msg(1, 1, 64))
	if dc := c.digest(nil); dc.Hash != da.HashAt[1] {
		t.Fatalf("prefix hash %x, want %x", da.HashAt[1], dc.Hash)
	}
	if da.HashAt[2] != da.Hash {
		t.Fatalf("hash_at[total] %x != hash %x", da.HashAt[2], da.Hash)
	}
	if _, ok := da.HashAt[3]; ok {
		t.Fatal("hash_at beyond the total must be absent")
	}
	// Segment hashes cover only the deliveries after a configuration
	// change, so nodes with different histories compare equal there.
	a.config("regular", "1.2", []uint32{1, 2})
	b.config("regular", "1.2", []uint32{1, 2})
	a.deliver(1, msg(1, 2, 64))
	b.deliver(1, msg(1, 2, 64))
	sa, sb := a.digest(nil).Segments[0], b.digest(nil).Segments[0]
	if sa.Count != 1 || sa.At != 2 || sa.Hash != sb.Hash {
		t.Fatalf("segments %+v and %+v: want count 1 at 2 with equal hashes", sa, sb)
	}
	c.deliver(1, msg(1, 1, 65)) // same sender and seq, other size
	c2 := newRecorder(3, fixedClock())
	c2.deliver(1, msg(1, 1, 64))
	c2.deliver(1, msg(1, 1, 64))
	if c.digest(nil).Hash == c2.digest(nil).Hash {
		t.Fatal("the payload size is not part of the hash")
	}
}

// TestRecorderChecks: FIFO violations and bad payloads are counted.
func TestRecorderChecks(t *testing.T) {
	tests := []struct {
		name          string
		deliver       func(r *recorder)
		fifo, badPays uint64
	}{
		{"in order", func(r *recorder) { r.deliver(1, msg(1, 1, 32)); r.deliver(1, msg(1, 2, 32)) }, 0, 0},
		{"gap is fine", func(r *recorder) { r.deliver(1, msg(1, 1, 32)); r.deliver(1, msg(1, 5, 32)) }, 0, 0},
		{"duplicate", func(r *recorder) { r.deliver(1, msg(1, 1, 32)); r.deliver(1, msg(1, 1, 32)) }, 1, 0},
		{"reordered", func(r *recorder) { r.deliver(1, msg(1, 2, 32)); r.deliver(1, msg(1, 1, 32)) }, 1, 0},
		{"wrong sender", func(r *recorder) { r.deliver(2, msg(1, 1, 32)) }, 0, 1},
		{"short", func(r *recorder) { r.deliver(1, []byte("x")) }, 0, 1},
		{"corrupt filler", func(r *recorder) { p := msg(1, 1, 32); p[31]++; r.deliver(1, p) }, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRecorder(9, fixedClock())
			tt.deliver(r)
			d := r.digest(nil)
			if d.FIFOViolations != tt.fifo || d.BadPayloads != tt.badPays {
				t.Fatalf("fifo violations %d, bad payloads %d; want %d, %d", d.FIFOViolations, d.BadPayloads, tt.fifo, tt.badPays)
			}
		})
	}
}

// TestRecorderWaits: waitRing and waitTotal return once the event happened
// and time out otherwise.
func TestRecorderWaits(t *testing.T) {
	r := newRecorder(1, fixedClock())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 2)
	go func() {
		s, err := r.waitRing(ctx, []uint32{1, 2}, 0)
		if err == nil && s.Ring != "1.8" {
			t.Errorf("waitRing returned ring %s, want 1.8", s.Ring)
		}
		done <- err
	}()
	go func() { done <- r.waitTotal(ctx, 1) }()
	r.config("regular", "1.4", []uint32{1, 2, 3})
	r.config("regular", "1.8", []uint32{1, 2})
	r.deliver(1, msg(1, 1, 32))
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	short, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	if _, err := r.waitRing(short, []uint32{1}, 0); err == nil {
		t.Fatal("waitRing for a configuration that never came returned no error")
	}
	r.mu.Lock()
	r.segments = nil
	r.mu.Unlock()
	if got := r.regulars(); got != 0 {
		t.Fatalf("regulars %d after clearing", got)
	}
}

// TestPercentiles: nearest-rank percentiles of nanosecond samples in ms.
func TestPercentiles(t *testing.T) {
	var l []int64
	for i := 1; i <= 100; i++ {
		l = append(l, int64(i)*1e6)
	}
	st := percentiles(l)
	if st.N != 100 || st.P50 != 51 || st.P99 != 100 || st.Max != 100 {
		t.Fatalf("got %+v", st)
	}
	if st := percentiles(nil); st.N != 0 {
		t.Fatalf("empty: %+v", st)
	}
}
