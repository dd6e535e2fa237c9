package membership

import (
	"errors"
	"log/slog"
	"time"

	"github.com/ovsha/ovsha/cluster/totem"
	"github.com/ovsha/ovsha/cluster/transport"
)

// The runtime does not tick on a fixed period: it sleeps until the
// engine's next deadline (totem.Engine.NextDeadline), so timers fire on
// time and an idle node wakes only for its own timers and the packets it
// receives. It never sleeps longer than TickInterval, which defaults to
// half of the engine's StallThreshold: the engine takes a gap between two
// ticks longer than StallThreshold for its own scheduling stall, so an idle
// sleep must stay well below it.

// DefaultEventBuffer is the capacity of the channel returned by Events.
const DefaultEventBuffer = 1024

// Config configures a Runtime.
type Config struct {
	// Engine configures the Totem engine that the runtime owns.
	Engine totem.Config
	// Transport carries the engine's datagrams. The runtime does not close
	// it: the caller that created it does, after Run has returned.
	Transport transport.Transport
	// TickInterval is the longest the runtime sleeps between two ticks
	// (0: half of Engine.StallThreshold).
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
		c.TickInterval = max(c.Engine.StallThreshold/2, time.Millisecond)
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
