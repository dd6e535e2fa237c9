package enginetest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Test payload layout: sender (4 bytes), per-sender sequence number (8),
// send time in Unix nanoseconds (8), then filler up to the message size.
const headerSize = 20

// encodePayload fills p (len(p) >= headerSize) for message seq of sender.
func encodePayload(p []byte, sender uint32, seq uint64, sentNs int64) {
	binary.BigEndian.PutUint32(p[0:], sender)
	binary.BigEndian.PutUint64(p[4:], seq)
	binary.BigEndian.PutUint64(p[12:], uint64(sentNs))
	for i := headerSize; i < len(p); i++ {
		p[i] = byte(seq) + byte(i)
	}
}

type payloadHeader struct {
	sender uint32
	seq    uint64
	sentNs int64
}

func decodePayload(p []byte) (payloadHeader, error) {
	if len(p) < headerSize {
		return payloadHeader{}, fmt.Errorf("payload of %d bytes, want at least %d", len(p), headerSize)
	}
	h := payloadHeader{
		sender: binary.BigEndian.Uint32(p[0:]),
		seq:    binary.BigEndian.Uint64(p[4:]),
		sentNs: int64(binary.BigEndian.Uint64(p[12:])),
	}
	// Check the filler at both ends only: cheap even at 16 KiB.
	for _, i := range []int{headerSize, len(p) - 1} {
		if i >= headerSize && i < len(p) && p[i] != byte(h.seq)+byte(i) {
			return h, fmt.Errorf("payload byte %d of message %d/%d is %#x, want %#x", i, h.sender, h.seq, p[i], byte(h.seq)+byte(i))
		}
	}
	return h, nil
}

// maxLatencySamples bounds the memory of latency recording.
const maxLatencySamples = 4 << 20

// recorder keeps what one node delivered: a running FNV-1a hash of the
// (sender, sequence, size) sequence, the running hash after every delivery
// (for prefix comparisons between nodes), per-sender counts, configuration
// changes and latencies. It is safe for concurrent use.
type recorder struct {
	self uint32
	now  func() time.Time

	mu        sync.Mutex
	changed   *sync.Cond
	total     uint64
	hash      uint64
	hashes    []uint64 // hashes[i] = hash after i+1 deliveries
	entries   []entry  // entries[i] = the i+1-th delivery
	perSender map[uint32]uint64
	lastSeq   map[uint32]uint64
	fifoBad   uint64
	badPay    uint64
	segments  []segment
	firstNs   int64
	lastNs    int64
	latencies []int64
	ownDeliv  uint64
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func newRecorder(self uint32, now func() time.Time) *recorder {
	r := &recorder{self: self, now: now, hash: fnvOffset, perSender: map[uint32]uint64{}, lastSeq: map[uint32]uint64{}}
	r.changed = sync.NewCond(&r.mu)
	return r
}

func fnvAdd(h uint64, v uint64, n int) uint64 {
	for i := range n {
		h ^= (v >> (8 * i)) & 0xff
		h *= fnvPrime
	}
	return h
}

// deliver records one delivered message from sender.
func (r *recorder) deliver(sender uint32, payload []byte) {
	now := r.now().UnixNano()
	h, err := decodePayload(payload)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil || h.sender != sender {
		r.badPay++
	}
	r.hash = fnvAdd(fnvAdd(fnvAdd(r.hash, uint64(sender), 4), h.seq, 8), uint64(len(payload)), 4)
	r.hashes = append(r.hashes, r.hash)
	r.entries = append(r.entries, entry{Sender: sender, Seq: h.seq})
	r.total++
	r.perSender[sender]++
	if last, ok := r.lastSeq[sender]; ok && h.seq <= last {
		r.fifoBad++
	}
	r.lastSeq[sender] = h.seq
	if r.firstNs == 0 {
		r.firstNs = now
	}
	r.lastNs = now
	if h.sentNs > 0 && len(r.latencies) < maxLatencySamples {
		r.latencies = append(r.latencies, now-h.sentNs)
	}
	if sender == r.self {
		r.ownDeliv++
	}
	if n := len(r.segments); n > 0 {
		sg := &r.segments[n-1]
		sg.Count++
		sg.Hash = fnvAdd(fnvAdd(fnvAdd(sg.Hash, uint64(sender), 4), h.seq, 8), uint64(len(payload)), 4)
	}
	r.changed.Broadcast()
}

// config records a configuration change.
func (r *recorder) config(kind, ring string, members []uint32) {
	now := r.now().UnixNano()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.segments = append(r.segments, segment{Kind: kind, Ring: ring, Members: slices.Clone(members), At: r.total, TimeNs: now, Hash: fnvOffset})
	r.changed.Broadcast()
}

// regulars returns the number of regular configurations seen.
func (r *recorder) regulars() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, s := range r.segments {
		if s.Kind == "regular" {
			n++
		}
	}
	return n
}

// waitLocked waits, with r.mu held, until cond() holds or ctx ends.
func (r *recorder) waitLocked(ctx context.Context, cond func() bool) error {
	stop := context.AfterFunc(ctx, func() {
		r.mu.Lock()
		r.changed.Broadcast()
		r.mu.Unlock()
	})
	defer stop()
	for !cond() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.changed.Wait()
	}
	return nil
}

// waitOwn waits until at most window of the sent own messages are not yet
// delivered locally (flow control for the senders).
func (r *recorder) waitOwn(ctx context.Context, sent uint64, window int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.waitLocked(ctx, func() bool { return sent-r.ownDeliv <= uint64(window) })
}

// waitTotal waits until total messages have been delivered.
func (r *recorder) waitTotal(ctx context.Context, total uint64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	err := r.waitLocked(ctx, func() bool { return r.total >= total })
	if err != nil {
		return fmt.Errorf("waiting for %d deliveries, have %d: %w", total, r.total, err)
	}
	return nil
}

// waitSeqs waits until, for every sender in seqs, the message with that
// per-sender sequence number (or a later one) has been delivered.
func (r *recorder) waitSeqs(ctx context.Context, seqs map[uint32]uint64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	err := r.waitLocked(ctx, func() bool {
		for s, q := range seqs {
			if r.lastSeq[s] < q {
				return false
			}
		}
		return true
	})
	if err != nil {
		return fmt.Errorf("waiting for sequence numbers %v, have %v: %w", seqs, r.lastSeq, err)
	}
	return nil
}

// waitRing waits for a regular configuration with exactly members,
// installed at or after sinceNs, and returns it.
func (r *recorder) waitRing(ctx context.Context, members []uint32, sinceNs int64) (segment, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var found segment
	err := r.waitLocked(ctx, func() bool {
		for _, s := range r.segments {
			if s.Kind == "regular" && s.TimeNs >= sinceNs && slices.Equal(s.Members, members) {
				found = s
				return true
			}
		}
		return false
	})
	if err != nil {
		last := "none"
		if n := len(r.segments); n > 0 {
			last = fmt.Sprintf("%s %s %v", r.segments[n-1].Kind, r.segments[n-1].Ring, r.segments[n-1].Members)
		}
		return found, fmt.Errorf("waiting for a regular configuration %v (last configuration: %s): %w", members, last, err)
	}
	return found, nil
}

func (r *recorder) digest(hashAt []uint64) *digest {
	r.mu.Lock()
	defer r.mu.Unlock()
	d := &digest{
		Total: r.total, Hash: r.hash, PerSender: map[uint32]uint64{},
		FIFOViolations: r.fifoBad, BadPayloads: r.badPay,
		Segments: slices.Clone(r.segments), FirstNs: r.firstNs, LastNs: r.lastNs,
	}
	for k, v := range r.perSender {
		d.PerSender[k] = v
	}
	if len(hashAt) > 0 {
		d.HashAt = map[uint64]uint64{}
		for _, n := range hashAt {
			switch {
			case n == 0:
				d.HashAt[0] = fnvOffset
			case n <= uint64(len(r.hashes)):
				d.HashAt[n] = r.hashes[n-1]
			}
		}
	}
	return d
}

// entriesIn returns deliveries [from, to) (clipped to what exists).
func (r *recorder) entriesIn(from, to uint64) []entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	to = min(to, uint64(len(r.entries)))
	if from >= to {
		return nil
	}
	return slices.Clone(r.entries[from:to])
}

// latency returns percentiles of the recorded latencies and optionally
// clears them.
func (r *recorder) latency(reset bool) *latencyStat {
	r.mu.Lock()
	l := slices.Clone(r.latencies)
	if reset {
		r.latencies = r.latencies[:0]
	}
	r.mu.Unlock()
	return percentiles(l)
}

func percentiles(l []int64) *latencyStat {
	st := &latencyStat{N: len(l)}
	if len(l) == 0 {
		return st
	}
	slices.Sort(l)
	ms := func(ns int64) float64 { return float64(ns) / 1e6 }
	at := func(q float64) float64 { return ms(l[min(len(l)-1, int(q*float64(len(l))))]) }
	st.P50, st.P90, st.P99, st.Max = at(0.50), at(0.90), at(0.99), ms(l[len(l)-1])
	return st
}

// errBadPayload is returned when a payload is too small for the header.
var errBadPayload = errors.New("payload smaller than the test header")
