package totem

import (
	"time"

	"github.com/ovsha/ovsha/cluster/totem/wire"
)

// Engine is one node's Totem single-ring protocol state machine. It is not
// safe for concurrent use: the runtime calls it from one goroutine.
type Engine struct {
	cfg Config
}

// New returns an engine in the GATHER state, ready to form or join a ring.
func New(cfg Config) (*Engine, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Engine{cfg: cfg}, nil
}

// Step handles one message received from node from.
func (e *Engine) Step(from NodeID, m wire.Message) {}

// Tick advances the engine's clock to now (monotonic, arbitrary origin) and
// fires due timers.
func (e *Engine) Tick(now time.Duration) {}

// Broadcast queues payload for delivery in total order to every member.
func (e *Engine) Broadcast(payload []byte, g Guarantee) error { return nil }

// Ready returns and clears the messages to send and the events to deliver.
func (e *Engine) Ready() Ready { return Ready{} }

// Leave announces a graceful departure to the ring.
func (e *Engine) Leave() {}

// Status returns a snapshot of the engine's state.
func (e *Engine) Status() Status { return Status{ID: e.cfg.ID} }
