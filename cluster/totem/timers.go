package totem

import "time"

// timer is a deadline on the engine's own clock.
type timer struct {
	at time.Duration
	on bool
}

func (t *timer) set(at time.Duration) { t.at, t.on = at, true }
func (t *timer) stop()                { t.on = false }

// due reports whether the timer has expired at now, and disarms it if so.
func (t *timer) due(now time.Duration) bool {
	if t.on && now >= t.at {
		t.on = false
		return true
	}
	return false
}

// timers are all of the engine's timers. Each fires at most once per Tick.
type timers struct {
	tokenLoss    timer // no token (or commit token) for Config.Token
	tokenRetrans timer // resend the last token / commit token
	hold         timer // release an idle token the representative holds
	join         timer // resend join in GATHER
	consensus    timer // GATHER consensus deadline
	merge        timer // representative's merge-detect interval
}

func (ts *timers) all() []*timer {
	return []*timer{&ts.tokenLoss, &ts.tokenRetrans, &ts.hold, &ts.join, &ts.consensus, &ts.merge}
}

// shift pushes every armed timer back by d: time this node did not run.
func (ts *timers) shift(d time.Duration) {
	for _, t := range ts.all() {
		if t.on {
			t.at += d
		}
	}
}

// fireTimers runs the handlers of every expired timer, in a fixed order.
func (e *Engine) fireTimers() {
	now := e.now
	if e.timers.tokenRetrans.due(now) {
		e.onTokenRetransmit()
	}
	if e.timers.hold.due(now) {
		e.releaseHeld(false)
	}
	if e.tok.self != nil {
		t := e.tok.self
		e.tok.self = nil
		t.TokenSeq++
		e.processToken(t)
	}
	if e.timers.tokenLoss.due(now) {
		e.onTokenLoss()
	}
	if e.timers.join.due(now) {
		e.onJoinTimeout()
	}
	if e.timers.consensus.due(now) {
		e.onConsensusTimeout()
	}
	if e.timers.merge.due(now) {
		e.onMergeTimeout()
	}
}
