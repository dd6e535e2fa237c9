package transport

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Counters are the transport-wide drop and error counts of a UDP
// transport. Per-link traffic counts are in LinkStatus.
type Counters struct {
	// AuthFailures: datagrams whose AEAD tag did not verify (wrong authkey,
	// wrong cluster name, corruption, forgery).
	AuthFailures uint64
	// Malformed: datagrams too short, with a bad magic, version or flags, or
	// an authenticated body of the wrong size for its kind.
	Malformed uint64
	// Replays: authenticated datagrams already seen on the same link, too
	// old for the replay window, or from an older boot of the sender.
	Replays uint64
	// Duplicates: authenticated datagrams already received over another
	// link. Expected with Send(all=true) on redundant links.
	Duplicates uint64
	// UnknownSender: datagrams naming a node id not in the nodelist, or
	// arriving from an address that is not that node's address on the link.
	UnknownSender uint64
	// Oversize: datagrams larger than MaxDatagram.
	Oversize uint64
	// SendErrors: datagrams the kernel refused to send.
	SendErrors uint64
	// QueueFull: verified payloads dropped because the Receive channel was
	// full (the consumer is too slow).
	QueueFull uint64
}

type counterSet struct {
	authFailures, malformed, replays, duplicates, unknownSender, oversize, sendErrors, queueFull atomic.Uint64
}

func (c *counterSet) snapshot() Counters {
	return Counters{
		AuthFailures:  c.authFailures.Load(),
		Malformed:     c.malformed.Load(),
		Replays:       c.replays.Load(),
		Duplicates:    c.duplicates.Load(),
		UnknownSender: c.unknownSender.Load(),
		Oversize:      c.oversize.Load(),
		SendErrors:    c.sendErrors.Load(),
		QueueFull:     c.queueFull.Load(),
	}
}

// logLimiter lets through at most one log record per reason per period,
// and reports how many were suppressed in between, so a flood of bad
// datagrams cannot flood the log.
type logLimiter struct {
	log    *slog.Logger
	period time.Duration
	mu     sync.Mutex
	last   map[string]limitState
}

type limitState struct {
	at         time.Time
	suppressed uint64
}

func newLogLimiter(log *slog.Logger, period time.Duration) *logLimiter {
	return &logLimiter{log: log, period: period, last: make(map[string]limitState)}
}

// warn logs msg under reason unless a record with the same reason was
// logged less than one period ago.
func (l *logLimiter) warn(reason, msg string, args ...any) {
	now := time.Now()
	l.mu.Lock()
	st, seen := l.last[reason]
	if seen && now.Sub(st.at) < l.period {
		st.suppressed++
		l.last[reason] = st
		l.mu.Unlock()
		return
	}
	l.last[reason] = limitState{at: now}
	l.mu.Unlock()
	args = append(args, "reason", reason)
	if st.suppressed > 0 {
		args = append(args, "suppressed", st.suppressed)
	}
	l.log.Warn(msg, args...)
}
