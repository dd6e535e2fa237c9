package totem

import (
	"log/slog"
	"slices"
	"time"

	"github.com/ovsha/ovsha/cluster/totem/wire"
)

// Engine is one node's Totem single-ring protocol state machine. It is not
// safe for concurrent use: the runtime calls it from one goroutine. It never
// blocks, reads no clock and starts no goroutine: time comes in through
// Tick, messages through Step, and everything it wants done comes out of
// Ready.
type Engine struct {
	cfg    Config
	log    *slog.Logger
	others []NodeID // cfg.Nodes without cfg.ID

	now      time.Duration
	lastTick time.Duration
	ticked   bool

	state State

	// reg is the last installed regular ring: its frames, aru and delivery
	// point. In OPERATIONAL it is also the ring the token circulates on.
	reg ring
	// rec is the ring being recovered onto (RECOVERY only).
	rec ring
	// highestRingSeq is the highest ring sequence number seen anywhere.
	highestRingSeq uint64

	tok    tokenState
	memb   gatherState
	commit commitState
	recov  recoveryState

	send  sendQueue
	reasm map[NodeID][]byte // partial application messages per sender

	timers timers

	out    []Outgoing
	events []Event
	stats  Stats

	// regMembers are the members of the last regular configuration
	// delivered to the application.
	regMembers []NodeID

	// mergeReplied: when this node last told an outsider about its ring
	// in answer to a join (rate limit).
	mergeReplied map[NodeID]time.Duration

	left bool // Leave was called: the engine is inert
}

// New returns an engine in the GATHER state: it will form a ring with the
// configured nodes it can reach, or alone.
func New(cfg Config) (*Engine, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg.Nodes = slices.Clone(cfg.Nodes)
	slices.Sort(cfg.Nodes)
	cfg.Nodes = slices.Compact(cfg.Nodes)
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Engine{
		cfg:          cfg,
		log:          log.With("component", "totem", "node", cfg.ID),
		reasm:        make(map[NodeID][]byte),
		mergeReplied: make(map[NodeID]time.Duration),
	}
	for _, n := range cfg.Nodes {
		if n != cfg.ID {
			e.others = append(e.others, n)
		}
	}
	e.reg = newRing(RingID{}, []NodeID{cfg.ID}, cfg.ID)
	e.highestRingSeq = cfg.InitialRingSeq
	e.memb.proc = []NodeID{cfg.ID}
	e.enterGather("start", nil)
	return e, nil
}

// Tick advances the engine's clock to now (monotonic, arbitrary origin) and
// fires due timers. The runtime should tick every few milliseconds, well
// below Config.StallThreshold.
func (e *Engine) Tick(now time.Duration) {
	if e.left {
		return
	}
	if e.ticked {
		gap := now - e.lastTick
		if gap > e.cfg.StallThreshold {
			// This node was not running (or not ticked) for gap. Its peers
			// may have been fine all along: push every timer back so the
			// time we did not run is not counted against them. Messages that
			// queued up meanwhile are processed as usual.
			e.timers.shift(gap)
			e.stats.Stalls++
			e.stats.StalledFor += gap
			e.log.Warn("own scheduling gap detected; timers pushed back", "gap", gap)
		}
	}
	if now < e.lastTick {
		now = e.lastTick // never go backwards
	}
	e.now, e.lastTick, e.ticked = now, now, true
	e.fireTimers()
}

// Step handles one message received from node from. The transport has
// authenticated from; messages from nodes outside the nodelist are dropped.
func (e *Engine) Step(from NodeID, m wire.Message) {
	if e.left || from == e.cfg.ID || !e.isConfigured(from) {
		return
	}
	switch m := m.(type) {
	case *wire.Token:
		e.handleToken(from, m)
	case *wire.TokenAck:
		if m.Sender == from {
			e.handleTokenAck(m)
		}
	case *wire.Mcast:
		e.handleMcast(m)
	case *wire.Join:
		if m.Sender == from {
			e.handleJoin(m)
		}
	case *wire.Commit:
		e.handleCommit(m)
	case *wire.MergeDetect:
		if m.Sender == from {
			e.handleMergeDetect(m)
		}
	case *wire.HoldCancel:
		if m.Sender == from {
			e.handleHoldCancel(m)
		}
	case *wire.Leave:
		if m.Sender == from {
			e.handleLeave(m)
		}
	}
}

// Broadcast queues payload for delivery in total order to every member of
// the ring. The payload is copied. Messages queued while no ring is
// operational are sent once one is. A message broadcast but not yet
// delivered when the configuration changes may be dropped if a gap precedes
// it in the old ring (Totem semantics); callers that need every message
// delivered wait for their own delivery and retry.
func (e *Engine) Broadcast(payload []byte, g Guarantee) error {
	if len(payload) > MaxMessageSize {
		return ErrTooLarge
	}
	if e.send.len() >= e.cfg.MaxQueue {
		return ErrQueueFull
	}
	e.send.push(slices.Clone(payload), g == Safe)
	e.wantToken()
	return nil
}

// NextDeadline returns when the engine next needs a Tick: the earliest
// armed timer, or the current time when a Tick has work waiting. ok is
// false when no timer is armed (the engine was left). The runtime may sleep
// until then, but not much longer than StallThreshold/2 at a time, or its
// own scheduling-gap detection would take idle sleep for a stall.
func (e *Engine) NextDeadline() (at time.Duration, ok bool) {
	if e.left {
		return 0, false
	}
	if e.tok.self != nil {
		return e.now, true
	}
	for _, t := range e.timers.all() {
		if t.on && (!ok || t.at < at) {
			at, ok = t.at, true
		}
	}
	return at, ok
}

// Ready returns and clears the messages to send and the events to deliver.
func (e *Engine) Ready() Ready {
	r := Ready{Messages: e.out, Events: e.events}
	e.out, e.events = nil, nil
	return r
}

// Leave announces a graceful departure to the ring; the engine then does
// nothing more. The runtime sends the Ready messages and stops.
func (e *Engine) Leave() {
	if e.left {
		return
	}
	if e.state == StateOperational || e.state == StateRecovery {
		r := e.active()
		e.emit(r.others, &wire.Leave{Sender: e.cfg.ID, Ring: r.id}, true)
	}
	e.left = true
	e.timers = timers{}
}

// Status returns a snapshot of the engine's state.
func (e *Engine) Status() Status {
	r := &e.reg
	return Status{
		ID:            e.cfg.ID,
		State:         e.state,
		Ring:          r.id,
		Members:       slices.Clone(r.members),
		Seq:           r.highSeq,
		Aru:           r.aru,
		HighDelivered: r.highDelivered,
		Queued:        e.send.len(),
		Stats:         e.stats,
	}
}

// active is the ring the token circulates on: the recovery ring in
// RECOVERY, the regular ring otherwise.
func (e *Engine) active() *ring {
	if e.state == StateRecovery {
		return &e.rec
	}
	return &e.reg
}

func (e *Engine) isConfigured(n NodeID) bool {
	_, ok := slices.BinarySearch(e.cfg.Nodes, n)
	return ok
}

func (e *Engine) emit(to []NodeID, m wire.Message, critical bool) {
	if len(to) == 0 {
		return
	}
	e.out = append(e.out, Outgoing{To: to, Msg: m, Critical: critical})
}

func (e *Engine) emitTo(to NodeID, m wire.Message, critical bool) {
	e.emit([]NodeID{to}, m, critical)
}

func (e *Engine) noteRingSeq(s uint64) {
	if s > e.highestRingSeq {
		e.highestRingSeq = s
	}
}
