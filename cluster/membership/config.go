package membership

import (
	"errors"
	"log/slog"
	"time"

	"github.com/ovsha/ovsha/cluster/totem"
	"github.com/ovsha/ovsha/cluster/transport"
)

// DefaultTickInterval is the period of the runtime's clock ticks.
//
// The engine's timers are tens of milliseconds or more (token 200 ms, token
// retransmit 25 ms, hold 20 ms, join 15 ms), and every wake-up for a packet
// or a broadcast request also ticks the engine, so a timer fires at most one
// tick interval late. 5 ms keeps that error below a quarter of the shortest
// default timer while costing ~200 wake-ups per second on an idle node; a
// 1 ms ticker would cost five times more CPU for no protocol benefit.
const DefaultTickInterval = 5 * time.Millisecond

// DefaultEventBuffer is the capacity of the channel returned by Events.
const DefaultEventBuffer = 1024

// Config configures a Runtime.
type Config struct {
	// Engine configures the Totem engine that the runtime owns.
	Engine totem.Config
	// Transport carries the engine's datagrams. The runtime does not close
	// it: the caller that created it does, after Run has returned.
	Transport transport.Transport
	// TickInterval is the clock tick period (0: DefaultTickInterval).
	TickInterval time.Duration
	// EventBuffer is the capacity of the Events channel (0:
	// DefaultEventBuffer). Events beyond it wait in an unbounded queue
	// inside the runtime; see Runtime.Events for the policy.
	EventBuffer int
	// Logger receives runtime diagnostics; nil discards them.
	Logger *slog.Logger
}

func (c *Config) setDefaults() error {
	if c.Transport == nil {
		return errors.New("membership: Config.Transport is required")
	}
	if c.TickInterval < 0 {
		return errors.New("membership: TickInterval must not be negative")
	}
	if c.TickInterval == 0 {
		c.TickInterval = DefaultTickInterval
	}
	if c.EventBuffer < 0 {
		return errors.New("membership: EventBuffer must not be negative")
	}
	if c.EventBuffer == 0 {
		c.EventBuffer = DefaultEventBuffer
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Engine.Logger == nil {
		c.Engine.Logger = c.Logger
	}
	return nil
}
