package totem

import "github.com/ovsha/ovsha/cluster/totem/wire"

// fragOverhead is what one fragment costs in a frame beyond its data:
// wire.FragmentOverhead(1) (checked by a test).
const fragOverhead = 3

// outMsg is an application message waiting for the token; off is how much
// of it is already in sequenced frames.
type outMsg struct {
	data []byte
	safe bool
	off  int
}

// sendQueue holds application messages until the token lets them out.
type sendQueue struct {
	msgs []outMsg
	head int
}

func (q *sendQueue) len() int { return len(q.msgs) - q.head }

func (q *sendQueue) push(b []byte, safe bool) { q.msgs = append(q.msgs, outMsg{data: b, safe: safe}) }

// restartPartial makes a message whose first fragments went out on a ring
// that is gone start again from its first byte: receivers discard partial
// messages at every configuration change.
func (q *sendQueue) restartPartial() {
	if q.len() > 0 {
		q.msgs[q.head].off = 0
	}
}

// frame takes up to max bytes (data plus per-fragment overhead) of queued
// messages. A message that does not fit in what is left of this frame but
// would fit whole in a fresh frame is left for the next frame, so small
// messages are never split.
func (q *sendQueue) frame(max int) (frags []wire.Fragment, safe bool) {
	room := max
	for q.len() > 0 && room > fragOverhead {
		m := &q.msgs[q.head]
		rest := len(m.data) - m.off
		n := min(rest, room-fragOverhead)
		if n < rest && len(frags) > 0 && rest <= max-fragOverhead {
			break
		}
		frags = append(frags, wire.Fragment{Start: m.off == 0, End: n == rest, Data: m.data[m.off : m.off+n]})
		safe = safe || m.safe
		m.off += n
		room -= n + fragOverhead
		if m.off == len(m.data) {
			q.msgs[q.head] = outMsg{}
			q.head++
		}
	}
	if q.head > 1024 && q.head*2 > len(q.msgs) {
		n := copy(q.msgs, q.msgs[q.head:])
		clear(q.msgs[n:])
		q.msgs, q.head = q.msgs[:n], 0
	}
	return frags, safe
}
