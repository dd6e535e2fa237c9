package totem

import (
	"slices"
	"time"

	"github.com/ovsha/ovsha/cluster/totem/wire"
)

// maxRtr bounds the retransmission list a token carries.
const maxRtr = 1024

// tokenState is the per-ring token bookkeeping of this node.
type tokenState struct {
	lastSeq uint64 // highest TokenSeq processed on the active ring

	// retrans is the last token or commit token passed on, resent every
	// TokenRetransmit until there is evidence the successor has it.
	retrans      wire.Message
	retransTo    NodeID
	retransCount int // retransmissions of retrans so far

	held *wire.Token // idle token held by the representative
	self *wire.Token // single-member ring: the token passed to ourselves

	prevAru        uint64 // token aru at my previous visit (safe delivery)
	lastAru        uint64 // for fail_recv_const
	aruStuck       int
	lastSeqSeen    uint64 // token seq at my previous visit (idle detection)
	idleRotations  int
	myLastSent     int // frames I broadcast on my previous visit (fcc)
	myLastBacklog  int
	holdCancelSent bool
	lastArrival    time.Duration // e.now at the previous token arrival
	arrived        bool          // lastArrival is set
}

// handleToken handles an ORF token from the network.
func (e *Engine) handleToken(from NodeID, t *wire.Token) {
	if e.state != StateOperational && e.state != StateRecovery {
		return
	}
	if t.Ring != e.active().id {
		return // another ring's
	}
	if t.TokenSeq <= e.tok.lastSeq {
		// A retransmitted copy of a token we already have: tell the
		// sender, so that it stops and does not suspect us.
		e.emitTo(from, &wire.TokenAck{Sender: e.cfg.ID, Ring: t.Ring, TokenSeq: t.TokenSeq}, false)
		return
	}
	c := *t
	c.Rtr = slices.Clone(t.Rtr)
	e.processToken(&c)
}

// processToken is one token visit: retransmit what others miss, ask for
// what this node misses, broadcast new frames, update aru and flow control,
// deliver, and pass the token on (or hold it while the ring is idle).
func (e *Engine) processToken(t *wire.Token) {
	e.tok.lastSeq = t.TokenSeq
	e.cancelRetransmit()
	e.timers.tokenLoss.set(e.now + e.cfg.Token)
	e.stats.TokensReceived++
	if e.tok.arrived {
		e.stats.LastRotation = e.now - e.tok.lastArrival
	}
	e.tok.lastArrival, e.tok.arrived = e.now, true
	e.tok.holdCancelSent = false

	if e.state == StateRecovery {
		e.recoveryVisit(t)
	}
	r := e.active()

	retransmitted := e.serviceRtr(t, r)
	e.requestMissing(t, r)
	sent := e.sendFrames(t, r, retransmitted)
	e.updateFlow(t, sent)
	e.updateAru(t, r)
	if e.checkFailRecv(t, r) {
		return
	}
	e.updateSafe(t, r)
	e.deliver()
	if e.state == StateRecovery && len(e.recov.queue) > 0 {
		t.RetransFlg = true
	}
	if e.shouldHold(t, r, sent) {
		e.tok.held = t
		e.timers.hold.set(e.now + e.cfg.Hold)
		return
	}
	e.passToken(t)
}

// serviceRtr re-broadcasts frames that others asked for and this node has.
func (e *Engine) serviceRtr(t *wire.Token, r *ring) int {
	if len(t.Rtr) == 0 {
		return 0
	}
	n := 0
	keep := t.Rtr[:0]
	for _, s := range t.Rtr {
		if f := r.frames[s]; f != nil && n < e.cfg.MaxMessages {
			e.emit(r.others, f, false)
			n++
			continue
		}
		keep = append(keep, s)
	}
	t.Rtr = keep
	e.stats.FramesRetransmitted += uint64(n)
	return n
}

// requestMissing adds the frames this node lacks to the token's list.
func (e *Engine) requestMissing(t *wire.Token, r *ring) {
	added := 0
	for s := r.aru + 1; s <= t.Seq && len(t.Rtr) < maxRtr && added < e.cfg.WindowSize; s++ {
		if _, ok := r.frames[s]; ok || slices.Contains(t.Rtr, s) {
			continue
		}
		t.Rtr = append(t.Rtr, s)
		added++
	}
	e.stats.RtrRequested += uint64(added)
}

// allowed is how many new frames this visit may broadcast (max_messages,
// window_size flow control, and a bound on frames not yet held by all).
func (e *Engine) allowed(t *wire.Token, retransmitted int) int {
	n := e.cfg.MaxMessages - retransmitted
	if w := e.cfg.WindowSize - (int(t.Fcc) - e.tok.myLastSent) - retransmitted; w < n {
		n = w
	}
	inflight := int(t.Seq - min(t.Aru, t.Seq))
	if w := 4*e.cfg.WindowSize - inflight; w < n {
		n = w
	}
	return max(n, 0)
}

// sendFrames broadcasts new frames: application data when operational, the
// old ring's frames (encapsulated) during recovery.
func (e *Engine) sendFrames(t *wire.Token, r *ring, retransmitted int) int {
	allowed := e.allowed(t, retransmitted)
	sent := 0
	defer func() { e.stats.FramesSent += uint64(sent) }()
	for sent < allowed {
		var f *wire.Mcast
		switch e.state {
		case StateOperational:
			if e.send.len() == 0 {
				return sent
			}
			frags, safe := e.send.frame(e.cfg.MaxFrame)
			if len(frags) == 0 {
				return sent
			}
			f = &wire.Mcast{Frags: frags}
			if safe {
				f.Flags |= wire.FlagSafe
			}
		case StateRecovery:
			if len(e.recov.queue) == 0 {
				return sent
			}
			f = &wire.Mcast{Encap: e.recov.queue[0]}
			e.recov.queue = e.recov.queue[1:]
		default:
			return sent
		}
		t.Seq++
		f.Ring, f.Seq, f.Sender = r.id, t.Seq, e.cfg.ID
		r.store(f)
		e.emit(r.others, f, false)
		sent++
	}
	return sent
}

// updateFlow replaces this node's contribution to the token's flow-control
// count and backlog with this visit's.
func (e *Engine) updateFlow(t *wire.Token, sent int) {
	fcc := int(t.Fcc) - e.tok.myLastSent + sent
	t.Fcc = uint32(max(fcc, 0))
	e.tok.myLastSent = sent
	backlog := e.send.len()
	b := int(t.Backlog) - e.tok.myLastBacklog + backlog
	t.Backlog = uint32(max(b, 0))
	e.tok.myLastBacklog = backlog
}

// updateAru lowers the token's aru to this node's, or raises it when this
// node was the one holding it back (corosync's rule).
func (e *Engine) updateAru(t *wire.Token, r *ring) {
	if r.aru < t.Aru || t.AruAddr == e.cfg.ID || t.AruAddr == 0 {
		t.Aru = min(r.aru, t.Seq)
		if t.Aru == t.Seq {
			t.AruAddr = 0
		} else {
			t.AruAddr = e.cfg.ID
		}
	}
}

// checkFailRecv implements fail_recv_const: when this node has held the
// ring's aru back for that many rotations it cannot receive what the
// others send, and it leaves the ring rather than stall everyone.
func (e *Engine) checkFailRecv(t *wire.Token, r *ring) bool {
	if t.AruAddr == e.cfg.ID && t.Aru == e.tok.lastAru && t.Aru < t.Seq {
		e.tok.aruStuck++
	} else {
		e.tok.aruStuck = 0
	}
	e.tok.lastAru = t.Aru
	if e.tok.aruStuck <= e.cfg.FailRecvConst {
		return false
	}
	e.log.Warn("failed to receive: leaving the ring", "aru", t.Aru, "seq", t.Seq)
	e.memb.failedToRecv = true
	e.enterGather("fail_recv_const", r.others)
	return true
}

// updateSafe advances the safe point: a frame is held by every member once
// it is at or below the token's aru on two consecutive visits.
func (e *Engine) updateSafe(t *wire.Token, r *ring) {
	safe := min(t.Aru, e.tok.prevAru)
	if len(r.members) == 1 {
		safe = r.aru
	}
	e.tok.prevAru = t.Aru
	if safe > r.safe {
		r.safe = safe
	}
}

// shouldHold: the representative keeps the token while the ring has been
// idle for seqno_unchanged_const rotations; HoldCancel or a local
// Broadcast releases it at once.
func (e *Engine) shouldHold(t *wire.Token, r *ring, sent int) bool {
	if e.state != StateOperational || e.cfg.Hold == 0 || len(r.members) < 2 || r.rep() != e.cfg.ID {
		return false
	}
	idle := sent == 0 && e.send.len() == 0 && len(t.Rtr) == 0 && t.Aru == t.Seq && t.Fcc == 0 && t.Backlog == 0 && t.Seq == e.tok.lastSeqSeen
	e.tok.lastSeqSeen = t.Seq
	if !idle {
		e.tok.idleRotations = 0
		return false
	}
	e.tok.idleRotations++
	return e.tok.idleRotations >= e.cfg.SeqnoUnchangedConst
}

// passToken sends the token to this node's successor.
func (e *Engine) passToken(t *wire.Token) {
	r := e.active()
	if e.state == StateRecovery && r.rep() == e.cfg.ID {
		e.recov.seqAtPass = t.Seq
		e.recov.quietAtPass = t.Aru == t.Seq && r.aru == t.Seq && len(t.Rtr) == 0 && len(e.recov.queue) == 0
	}
	t.TokenSeq++
	e.tok.lastSeq = t.TokenSeq
	if len(r.members) == 1 {
		// Alone: the token comes straight back. While there is nothing
		// to do it waits like a held token (a Broadcast releases it at
		// once); otherwise it is processed at the next Tick.
		if e.state == StateOperational && e.send.len() == 0 {
			e.tok.held = t
			e.timers.hold.set(e.now + max(e.cfg.Hold, e.cfg.Token/10))
			return
		}
		e.tok.self = t
		return
	}
	retrans := e.cfg.TokenRetransmit
	if e.cfg.Hold > 0 && t.Fcc == 0 && t.Backlog == 0 && t.Aru == t.Seq && len(t.Rtr) == 0 {
		// An idle token may be held by the representative for Hold before
		// it comes back: do not mistake that for a loss.
		retrans += e.cfg.Hold
	}
	e.sendRetransmittableAfter(r.next, t, retrans)
}

// sendRetransmittable sends a token or commit token and arms the
// retransmit timer.
func (e *Engine) sendRetransmittable(to NodeID, m wire.Message) {
	e.sendRetransmittableAfter(to, m, e.cfg.TokenRetransmit)
}

func (e *Engine) sendRetransmittableAfter(to NodeID, m wire.Message, after time.Duration) {
	e.emitTo(to, m, true)
	e.tok.retrans, e.tok.retransTo, e.tok.retransCount = m, to, 0
	e.timers.tokenRetrans.set(e.now + after)
}

func (e *Engine) cancelRetransmit() {
	e.tok.retrans = nil
	e.timers.tokenRetrans.stop()
}

func (e *Engine) onTokenRetransmit() {
	if e.tok.retrans == nil {
		return
	}
	e.emitTo(e.tok.retransTo, e.tok.retrans, true)
	e.tok.retransCount++
	e.stats.TokensRetransmitted++
	e.timers.tokenRetrans.set(e.now + e.cfg.TokenRetransmit)
}

// releaseHeld passes on a held token, first broadcasting anything queued.
// demand: released because someone has data (not because the hold timer
// expired), so the ring is busy again.
func (e *Engine) releaseHeld(demand bool) {
	t := e.tok.held
	e.tok.held = nil
	e.timers.hold.stop()
	if t == nil {
		return
	}
	if demand {
		e.tok.idleRotations = 0
	}
	if len(e.active().members) == 1 {
		t.TokenSeq++ // alone: a full visit right now
		e.processToken(t)
		return
	}
	if e.state == StateOperational && e.send.len() > 0 {
		r := e.active()
		sent := e.sendFrames(t, r, 0)
		e.updateFlow(t, sent)
		e.updateAru(t, r)
		e.deliver()
	}
	e.passToken(t)
}

// wantToken is called when the application queued data: release a held
// token, or ask the representative to release it.
func (e *Engine) wantToken() {
	if e.state != StateOperational {
		return
	}
	if e.tok.held != nil {
		e.releaseHeld(true)
		return
	}
	r := &e.reg
	if len(r.members) > 1 && r.rep() != e.cfg.ID && !e.tok.holdCancelSent {
		e.emitTo(r.rep(), &wire.HoldCancel{Sender: e.cfg.ID, Ring: r.id}, false)
		e.tok.holdCancelSent = true
	}
}

// handleTokenAck: our successor already has the token we keep resending.
// The ack names the copy it answers: a late ack for an earlier token must
// not stop the retransmission of a newer one that may well be lost.
func (e *Engine) handleTokenAck(m *wire.TokenAck) {
	if tk, ok := e.tok.retrans.(*wire.Token); ok && tk.Ring == m.Ring && e.tok.retransTo == m.Sender && tk.TokenSeq == m.TokenSeq {
		e.cancelRetransmit()
	}
}

func (e *Engine) handleHoldCancel(m *wire.HoldCancel) {
	if e.state == StateOperational && m.Ring == e.reg.id && e.tok.held != nil {
		e.releaseHeld(true)
	}
}

// handleMcast stores a frame of the regular ring (in any state: stragglers
// help recovery) or of the recovery ring.
func (e *Engine) handleMcast(m *wire.Mcast) {
	var r *ring
	switch {
	case m.Ring == e.reg.id && !m.Ring.IsZero():
		if e.state == StateCommit || e.state == StateRecovery {
			// This node reported what it holds of the old ring in the
			// commit token; from then on only recovery (encapsulated
			// frames) may add to it, so that every member coming from
			// that ring ends up with the same set.
			return
		}
		r = &e.reg
	case e.state == StateRecovery && m.Ring == e.rec.id:
		r = &e.rec
	default:
		if e.state == StateOperational && !e.reg.isMember(m.Sender) && e.isConfigured(m.Sender) && e.reg.id.Less(m.Ring) {
			e.memb.proc = setUnion(e.memb.proc, []NodeID{m.Sender})
			e.enterGather("frame from another ring", nil)
		}
		return
	}
	if tk, ok := e.tok.retrans.(*wire.Token); ok && tk.Ring == m.Ring && m.Seq > tk.Seq {
		e.cancelRetransmit() // someone after us has broadcast: the token moved on
	}
	e.stats.FramesReceived++
	if !r.store(m) {
		return
	}
	if m.Encap != nil && r == &e.rec && m.Encap.Ring == e.reg.id {
		e.reg.store(m.Encap)
	}
	if r == &e.reg {
		e.deliver()
	}
}
