package membership

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/ovsha/ovsha/cluster/totem"
)

// States of a broadcast request. The caller and the Run goroutine race to
// move a pending request: the loop to taken (it will answer), the caller to
// abandoned (its ctx ended; the loop must drop it). Exactly one wins, so a
// Broadcast that returned an error never reaches the ring.
const (
	reqPending int32 = iota
	reqTaken
	reqAbandoned
)

type bcastReq struct {
	payload []byte
	g       totem.Guarantee
	state   atomic.Int32
	done    chan error // capacity 1
}

func (q *bcastReq) finish(err error) {
	if q.state.CompareAndSwap(reqPending, reqTaken) {
		q.done <- err
	}
}

// Broadcast queues payload for delivery in total order to every member of
// the ring (including this node, through Events). When the engine's queue
// is full it waits for space until ctx ends, so callers feel the ring's
// back-pressure. The payload must not be modified after Broadcast returns.
// Broadcasts from one goroutine are delivered in the order they were made.
func (r *Runtime) Broadcast(ctx context.Context, payload []byte, g totem.Guarantee) error {
	if !r.running.Load() {
		return ErrStopped
	}
	req := &bcastReq{payload: payload, g: g, done: make(chan error, 1)}
	select {
	case r.bcastc <- req:
	case <-r.done:
		return ErrStopped
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		if req.state.CompareAndSwap(reqPending, reqAbandoned) {
			return ctx.Err()
		}
		return <-req.done
	case <-r.done:
		// Run answers every request it took before closing done.
		return <-req.done
	}
}

// submit hands a new request to the engine, behind any that are waiting.
func (r *Runtime) submit(req *bcastReq) {
	if len(r.waiting) > 0 {
		r.waiting = append(r.waiting, req)
		return
	}
	if !r.try(req) {
		r.waiting = append(r.waiting, req)
	}
}

// retryWaiting offers the waiting requests to the engine in order until the
// queue is full again.
func (r *Runtime) retryWaiting() {
	n := 0
	for _, req := range r.waiting {
		if !r.try(req) {
			break
		}
		n++
	}
	if n > 0 {
		clear(r.waiting[:n])
		r.waiting = r.waiting[n:]
	}
}

// try reports whether req is finished (answered or abandoned); false means
// the engine queue is full and req must wait.
func (r *Runtime) try(req *bcastReq) bool {
	// Claim the request first so that a caller whose ctx ends meanwhile
	// cannot be told "cancelled" for a message that was in fact queued.
	if !req.state.CompareAndSwap(reqPending, reqTaken) {
		return true // abandoned by its caller
	}
	err := r.eng.Broadcast(req.payload, req.g)
	if errors.Is(err, totem.ErrQueueFull) {
		req.state.Store(reqPending) // the caller may abandon it while it waits
		return false
	}
	req.done <- err
	return true
}
