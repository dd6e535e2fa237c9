package config

import "time"

// Effective returns t with the timers the protocol runs with, for a
// nodelist of nodes nodes, computed as corosync computes them:
//
//   - Token: token + (nodes - 2) × token_coefficient when nodes >= 3,
//     else token (corosync's runtime.config.totem.token).
//   - TokenRetransmit, if unset: effective token /
//     (token_retransmits_before_loss_const + 0.2), as corosync
//     (27 ms with ovsha's defaults).
//   - Hold, if unset: effective token / 10 (20 ms with ovsha's defaults;
//     corosync uses about 0.8 × token_retransmit). An idle ring then passes
//     the token about 50 times per second, and a node with data cancels the
//     hold at once, so holding costs no latency.
//   - Consensus, if unset: 0.3 × effective token (60 ms with ovsha's
//     defaults; corosync 1.2 × token). corosync(5): for small clusters "a
//     consensus larger than the join timeout but less than token is safe";
//     ovsha clusters are small LAN rings and consensus adds directly to
//     failover time.
//   - LinkTimeout, if unset: 4 × heartbeat_interval.
//
// Derived values are truncated to whole milliseconds, as in corosync, so
// they can be written back to the file unchanged.
func (t Totem) Effective(nodes int) Totem {
	e := t
	if nodes >= 3 {
		e.Token = t.Token + time.Duration(nodes-2)*t.TokenCoefficient
	}
	if e.TokenRetransmit == 0 {
		e.TokenRetransmit = truncMs(time.Duration(float64(e.Token) / (float64(e.TokenRetransmitsBeforeLossConst) + 0.2)))
	}
	if e.Hold == 0 {
		e.Hold = truncMs(e.Token / 10)
	}
	if e.Consensus == 0 {
		e.Consensus = truncMs(e.Token * 3 / 10)
	}
	if e.LinkTimeout == 0 {
		e.LinkTimeout = DefaultLinkTimeoutFactor * e.HeartbeatInterval
	}
	return e
}

func truncMs(d time.Duration) time.Duration { return d.Truncate(time.Millisecond) }

// ms renders a duration as the file writes it.
func ms(d time.Duration) int64 { return d.Milliseconds() }
