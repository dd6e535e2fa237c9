package membership

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/ovsha/ovsha/cluster/totem"
	"github.com/ovsha/ovsha/cluster/totem/wire"
	"github.com/ovsha/ovsha/cluster/transport"
)

// ErrStopped is returned by calls made after Run has returned (or before a
// request could be served because Run returned).
var ErrStopped = errors.New("membership: runtime stopped")

// ErrTransportClosed is returned by Run when the transport's receive
// channel is closed under it.
var ErrTransportClosed = errors.New("membership: transport receive channel closed")

// maxBatch bounds how many queued datagrams one wake-up hands to the engine
// before the loop looks at its other inputs again.
const maxBatch = 256

// Runtime runs one Totem engine. Create it with New, then call Run.
type Runtime struct {
	cfg Config
	eng *totem.Engine
	tr  transport.Transport
	log *slog.Logger

	outbox  *outbox
	statusc chan chan Status
	leavec  chan struct{}

	events *eventQueue
	out    chan totem.Event

	running atomic.Bool
	done    chan struct{}          // closed when Run returns
	final   atomic.Pointer[Status] // last snapshot, stored when Run returns

	// Owned by the Run goroutine.
	buf      []byte
	to       []transport.NodeID
	counters Counters
}

// Counters are the runtime's own cumulative counters (the engine's are in
// totem.Stats, the links' in transport.LinkStatus).
type Counters struct {
	// PacketsReceived counts datagrams taken from the transport.
	PacketsReceived uint64
	// DecodeErrors counts datagrams that did not decode as a Totem message;
	// they are dropped.
	DecodeErrors uint64
	// MessagesSent counts engine messages handed to the transport.
	MessagesSent uint64
	// SendErrors counts messages the transport refused.
	SendErrors uint64
	// BroadcastsWaiting is the number of broadcasts accepted by Broadcast
	// but not yet taken by the engine (its queue is full, or the loop has
	// not run since).
	BroadcastsWaiting int
}

// Status is a snapshot of the runtime.
type Status struct {
	// Running is false before Run starts and after it returns; the rest is
	// then the state at the time Run returned.
	Running  bool
	Engine   totem.Status
	Links    []transport.LinkStatus
	Counters Counters
	// EventBacklog is the number of events the application has not yet
	// received from Events.
	EventBacklog int
}

// New validates cfg and creates the engine. Nothing runs until Run.
func New(cfg Config) (*Runtime, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	eng, err := totem.New(cfg.Engine)
	if err != nil {
		return nil, fmt.Errorf("creating totem engine: %w", err)
	}
	log := cfg.Logger.With("component", "membership")
	return &Runtime{
		cfg:     cfg,
		eng:     eng,
		tr:      cfg.Transport,
		log:     log,
		outbox:  newOutbox(),
		statusc: make(chan chan Status),
		leavec:  make(chan struct{}),
		events:  newEventQueue(log),
		out:     make(chan totem.Event, cfg.EventBuffer),
		done:    make(chan struct{}),
	}, nil
}

// Run owns the engine until ctx ends, Leave completes, or the transport's
// receive channel closes (ErrTransportClosed). It returns nil on the first
// two. Run may be called once.
func (r *Runtime) Run(ctx context.Context) error {
	if !r.running.CompareAndSwap(false, true) {
		return errors.New("membership: Run called twice")
	}
	stopFwd := make(chan struct{})
	fwdDone := make(chan struct{})
	go func() {
		defer close(fwdDone)
		r.events.forward(r.out, stopFwd)
	}()
	err := r.loop(ctx)
	st := r.snapshot()
	st.Running = false
	r.final.Store(&st)
	close(stopFwd)
	<-fwdDone
	close(r.done)
	return err
}

func (r *Runtime) loop(ctx context.Context) error {
	start := time.Now()
	timer := time.NewTimer(r.cfg.TickInterval)
	defer timer.Stop()
	recv := r.tr.Receive()
	r.eng.Tick(0)
	r.flush()
	for {
		// Sleep until the engine's next deadline, at most TickInterval.
		sleep := r.cfg.TickInterval
		if at, ok := r.eng.NextDeadline(); ok {
			sleep = min(sleep, max(at-time.Since(start), 0))
		}
		timer.Reset(sleep)
		var (
			pkt      transport.Packet
			havePkt  bool
			statusCh chan Status
			leave    bool
		)
		select {
		case <-ctx.Done():
			return nil
		case p, ok := <-recv:
			if !ok {
				return ErrTransportClosed
			}
			pkt, havePkt = p, true
		case <-timer.C:
		case <-r.outbox.notify:
		case statusCh = <-r.statusc:
		case <-r.leavec:
			leave = true
		}
		// The clock first: timers that are due fire before the batch, and
		// the engine sees its own scheduling gaps from the Tick times.
		r.eng.Tick(time.Since(start))
		if havePkt {
			r.step(pkt)
			r.drain(recv)
		}
		r.outbox.feed(r.eng)
		if leave {
			r.log.Info("leaving the ring")
			r.eng.Leave()
			r.flush()
			return nil
		}
		r.flush()
		if statusCh != nil {
			statusCh <- r.snapshot()
		}
	}
}

// drain hands every datagram already queued (up to maxBatch) to the engine.
func (r *Runtime) drain(recv <-chan transport.Packet) {
	for range maxBatch - 1 {
		select {
		case p, ok := <-recv:
			if !ok {
				return // Run's select sees the closed channel next
			}
			r.step(p)
		default:
			return
		}
	}
}

func (r *Runtime) step(p transport.Packet) {
	r.counters.PacketsReceived++
	m, err := wire.Decode(p.Data)
	if err != nil {
		r.counters.DecodeErrors++
		r.log.Debug("dropping undecodable datagram", "from", p.From, "link", p.Link, "reason", err)
		return
	}
	r.eng.Step(totem.NodeID(p.From), m)
}

// flush sends what the engine produced and queues its events.
func (r *Runtime) flush() {
	rd := r.eng.Ready()
	if bs, ok := r.tr.(transport.BatchSender); ok && len(rd.Messages) > 1 {
		r.sendMany(bs, rd.Messages)
	} else {
		for _, o := range rd.Messages {
			r.buf = wire.Append(r.buf[:0], o.Msg)
			r.to = r.to[:0]
			for _, id := range o.To {
				r.to = append(r.to, transport.NodeID(id))
			}
			r.counters.MessagesSent++
			if err := r.tr.Send(r.to, r.buf, o.Critical); err != nil {
				r.counters.SendErrors++
				r.log.Debug("send failed", "kind", o.Msg.Kind(), "to", o.To, "reason", err)
			}
		}
	}
	for _, ev := range rd.Events {
		switch ev.Kind {
		case totem.EventRegular:
			r.log.Info("new configuration", "ring_rep", ev.Ring.Rep, "ring_seq", ev.Ring.Seq,
				"members", ev.Members, "joined", ev.Joined, "left", ev.Left)
		case totem.EventTransitional:
			r.log.Debug("transitional configuration", "members", ev.Members, "left", ev.Left)
		}
	}
	if len(rd.Events) > 0 {
		r.events.push(rd.Events)
	}
}

// sendMany encodes every message into one buffer and hands them to the
// transport together: a token visit's frames then leave in a few sendmmsg
// calls instead of one system call each.
func (r *Runtime) sendMany(bs transport.BatchSender, msgs []totem.Outgoing) {
	r.buf = r.buf[:0]
	r.to = r.to[:0]
	ends := make([]int, len(msgs))
	toEnds := make([]int, len(msgs))
	for i, o := range msgs {
		r.buf = wire.Append(r.buf, o.Msg)
		ends[i] = len(r.buf)
		for _, id := range o.To {
			r.to = append(r.to, transport.NodeID(id))
		}
		toEnds[i] = len(r.to)
	}
	ds := make([]transport.Datagram, len(msgs))
	start, toStart := 0, 0
	for i, o := range msgs {
		ds[i] = transport.Datagram{To: r.to[toStart:toEnds[i]], Data: r.buf[start:ends[i]], All: o.Critical}
		start, toStart = ends[i], toEnds[i]
	}
	r.counters.MessagesSent += uint64(len(msgs))
	if err := bs.SendMany(ds); err != nil {
		r.counters.SendErrors++
		r.log.Debug("send failed", "messages", len(msgs), "reason", err)
	}
}

func (r *Runtime) snapshot() Status {
	c := r.counters
	c.BroadcastsWaiting = r.outbox.len()
	return Status{
		Running:      true,
		Engine:       r.eng.Status(),
		Counters:     c,
		EventBacklog: r.events.len() + len(r.out),
	}
}

// Status returns a snapshot of the engine, the runtime counters and the
// transport's links. While Run is active the engine part is taken by the
// Run goroutine; otherwise it is the state when Run returned (or the zero
// engine status before Run started).
func (r *Runtime) Status(ctx context.Context) (Status, error) {
	var st Status
	if r.running.Load() {
		ch := make(chan Status, 1)
		select {
		case r.statusc <- ch:
			select {
			case st = <-ch:
			case <-ctx.Done():
				return Status{}, ctx.Err()
			}
		case <-r.done:
			st = *r.final.Load()
		case <-ctx.Done():
			return Status{}, ctx.Err()
		}
	} else {
		st = Status{Engine: totem.Status{ID: r.cfg.Engine.ID}}
	}
	st.Links = r.tr.Links()
	return st, nil
}

// Leave announces a graceful departure to the ring, sends it, and makes Run
// return. It waits until Run has returned or ctx ends.
func (r *Runtime) Leave(ctx context.Context) error {
	if !r.running.Load() {
		return ErrStopped
	}
	select {
	case r.leavec <- struct{}{}:
	case <-r.done:
		return ErrStopped
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Done is closed when Run has returned.
func (r *Runtime) Done() <-chan struct{} { return r.done }
