package membership

import (
	"log/slog"
	"sync"

	"github.com/ovsha/ovsha/cluster/totem"
)

// eventQueue decouples the protocol loop from the application.
//
// Policy: the Run goroutine never blocks on the application. Events go into
// this unbounded FIFO and a forwarding goroutine feeds them into the Events
// channel as fast as the application reads. Events are never dropped while
// Run is active: a dropped delivery or configuration change would break the
// total order and virtual synchrony that the application relies on. A slow
// consumer therefore costs memory, not protocol liveness (a stalled loop
// would miss tokens and be expelled from the ring); the backlog is reported
// in Status.EventBacklog and logged at each power of ten.
type eventQueue struct {
	log    *slog.Logger
	mu     sync.Mutex
	q      []totem.Event
	head   int
	warned int           // highest backlog threshold already logged
	signal chan struct{} // capacity 1: "something was pushed"
}

func newEventQueue(log *slog.Logger) *eventQueue {
	return &eventQueue{log: log, signal: make(chan struct{}, 1), warned: 1000}
}

func (e *eventQueue) push(evs []totem.Event) {
	e.mu.Lock()
	e.q = append(e.q, evs...)
	n := len(e.q) - e.head
	if n >= e.warned*10 {
		e.warned *= 10
		e.log.Warn("application is slow to consume cluster events", "backlog", n)
	}
	e.mu.Unlock()
	select {
	case e.signal <- struct{}{}:
	default:
	}
}

func (e *eventQueue) pop() (totem.Event, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.head == len(e.q) {
		e.q, e.head = e.q[:0], 0
		if cap(e.q) > 4096 {
			e.q = nil // give back the memory of a past backlog
		}
		return totem.Event{}, false
	}
	ev := e.q[e.head]
	e.q[e.head] = totem.Event{}
	e.head++
	return ev, true
}

func (e *eventQueue) len() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.q) - e.head
}

// forward moves events to out until stop is closed, then closes out.
// Events still queued when stop closes are discarded.
func (e *eventQueue) forward(out chan<- totem.Event, stop <-chan struct{}) {
	defer close(out)
	for {
		ev, ok := e.pop()
		if !ok {
			select {
			case <-e.signal:
				continue
			case <-stop:
				return
			}
		}
		select {
		case out <- ev:
		case <-stop:
			return
		}
	}
}

// Events returns the channel of deliveries and configuration changes, in
// the order the engine produced them. It is closed when Run returns; events
// not yet received by then are discarded. See eventQueue for the policy
// towards slow consumers: the protocol loop never waits for the reader.
func (r *Runtime) Events() <-chan totem.Event { return r.out }
