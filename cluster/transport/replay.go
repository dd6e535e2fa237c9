package transport

// Replay protection: a sliding window over the counters of one sender's
// current boot, kept as a ring of 64-bit blocks (RFC 6479). Counters more
// than replayWindow behind the highest seen are rejected as replays; inside
// the window each counter is accepted once. The window also remembers on
// which link each counter was first accepted, so that a second copy of a
// datagram sent on several links (Send with all set) is told apart
// (verdictDuplicate, expected with redundant links) from a copy replayed
// on the same link (verdictReplay).
const (
	replayBlocks   = 32
	replayRingBits = replayBlocks * 64
	// replayWindowLen is how far behind the newest counter a datagram may
	// still arrive (reordering tolerance).
	replayWindowLen = (replayBlocks - 1) * 64
)

type verdict uint8

const (
	verdictAccept verdict = iota
	verdictDuplicate
	verdictReplay
)

type replayWindow struct {
	started bool
	top     uint64
	bits    [replayBlocks]uint64
	link    [replayRingBits]uint8
}

func (w *replayWindow) reset() { *w = replayWindow{} }

// check records counter c received on link and tells whether it is new.
func (w *replayWindow) check(c uint64, link uint8) verdict {
	if !w.started {
		w.started = true
		w.top = c
	} else if c > w.top {
		cur, next := w.top>>6, c>>6
		n := next - cur
		if n > replayBlocks {
			n = replayBlocks
		}
		for i := uint64(1); i <= n; i++ {
			w.bits[(cur+i)%replayBlocks] = 0
		}
		w.top = c
	} else if w.top-c >= replayWindowLen {
		return verdictReplay
	}
	blk, bit := (c>>6)%replayBlocks, uint64(1)<<(c&63)
	slot := c % replayRingBits
	if w.bits[blk]&bit != 0 {
		if w.link[slot] != link {
			return verdictDuplicate
		}
		return verdictReplay
	}
	w.bits[blk] |= bit
	w.link[slot] = link
	return verdictAccept
}
