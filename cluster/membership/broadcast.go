package membership

import (
	"context"
	"sync"

	"github.com/ovsha/ovsha/cluster/totem"
)

// maxPending bounds the broadcasts accepted by Broadcast but not yet handed
// to the engine. Beyond it Broadcast waits: that, with the engine's own
// queue limit, is the ring's back-pressure.
const maxPending = 4096

type pendingMsg struct {
	payload []byte
	g       totem.Guarantee
}

// outbox is the hand-off from Broadcast callers to the Run goroutine: a
// bounded FIFO under a mutex, so a caller never waits for a round trip
// through the loop while there is room.
type outbox struct {
	mu     sync.Mutex
	msgs   []pendingMsg
	space  chan struct{} // closed and replaced whenever room is made
	notify chan struct{} // capacity 1: "there is something to take"
}

func newOutbox() *outbox {
	return &outbox{space: make(chan struct{}), notify: make(chan struct{}, 1)}
}

// put queues m, or returns the channel that is closed when room is made.
func (o *outbox) put(m pendingMsg) (queued bool, wait <-chan struct{}) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.msgs) >= maxPending {
		return false, o.space
	}
	o.msgs = append(o.msgs, m)
	select {
	case o.notify <- struct{}{}:
	default:
	}
	return true, nil
}

// feed hands queued messages to the engine in order until it is full, and
// wakes waiting callers when it made room.
func (o *outbox) feed(eng *totem.Engine) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, m := range o.msgs {
		if err := eng.Broadcast(m.payload, m.g); err != nil {
			break // ErrQueueFull: the engine takes more as the token moves
		}
		n++
	}
	if n == 0 {
		return
	}
	clear(o.msgs[:n])
	o.msgs = o.msgs[n:]
	if len(o.msgs) == 0 {
		o.msgs = nil
	}
	close(o.space)
	o.space = make(chan struct{})
}

func (o *outbox) len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.msgs)
}

// Broadcast queues payload for delivery in total order to every member of
// the ring (including this node, through Events). It returns as soon as the
// message is queued; when the queue is full it waits for room until ctx
// ends, so callers feel the ring's back-pressure. A Broadcast that returned
// an error queued nothing. The payload must not be modified after
// Broadcast returns. Broadcasts from one goroutine are delivered in the
// order they were made.
func (r *Runtime) Broadcast(ctx context.Context, payload []byte, g totem.Guarantee) error {
	if len(payload) > totem.MaxMessageSize {
		return totem.ErrTooLarge
	}
	for {
		if !r.running.Load() {
			return ErrStopped
		}
		select {
		case <-r.done:
			return ErrStopped
		default:
		}
		queued, wait := r.outbox.put(pendingMsg{payload: payload, g: g})
		if queued {
			return nil
		}
		select {
		case <-wait:
		case <-r.done:
			return ErrStopped
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
