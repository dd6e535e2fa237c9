package totem

import (
	"slices"

	"github.com/ovsha/ovsha/cluster/totem/wire"
)

// recoveryState tracks the RECOVERY state.
type recoveryState struct {
	// queue holds old-ring frames that some member of the new ring coming
	// from the same old ring may lack; they are re-broadcast, encapsulated,
	// on the new ring.
	queue []*wire.Mcast
	// started: the representative has turned the commit token into the
	// first ORF token.
	started bool
	// Representative only: visits so far and the token seq when it last
	// passed the token (to see whether a whole rotation was quiet).
	visits    int
	seqAtPass uint64
	// quietAtPass: when the representative last passed the token, its aru
	// equalled its seq with nothing missing and nothing left to re-send.
	quietAtPass bool
	// trans are the members of the new ring that come from this node's
	// old ring (their commit entries name the same old ring): the
	// transitional configuration.
	trans []NodeID
}

// enterRecovery installs the new ring as the recovery ring and works out
// which old-ring frames to re-broadcast.
func (e *Engine) enterRecovery(c *wire.Commit) {
	e.state = StateRecovery
	e.cancelRetransmit()
	e.rec = newRing(c.Ring, c.Members, e.cfg.ID)
	e.tok = tokenState{}
	e.recov = recoveryState{}
	e.timers.tokenLoss.set(e.now + e.cfg.Token)

	lowAru := e.reg.aru
	for i, en := range c.Entries {
		if c.Members[i] == e.cfg.ID || (en.Filled && en.OldRing == e.reg.id && !e.reg.id.IsZero()) {
			e.recov.trans = append(e.recov.trans, c.Members[i])
			lowAru = min(lowAru, en.Aru)
		}
	}
	for s := lowAru + 1; s <= e.reg.highSeq; s++ {
		if f := e.reg.frames[s]; f != nil {
			e.recov.queue = append(e.recov.queue, f)
		}
	}
	e.log.Debug("entering recovery", "ring", c.Ring, "members", c.Members, "old_ring", e.reg.id,
		"low_aru", lowAru, "to_resend", len(e.recov.queue))
}

// recoveryVisit runs at the start of every token visit in RECOVERY. The
// representative declares recovery complete once a whole rotation went by
// that started with the token's aru equal to its seq and in which nobody
// broadcast or re-sent anything and nobody lowered the aru: a member
// lacking a frame would have lowered it, since nobody else could raise it
// above the seq. Every member then installs the new ring when the token
// shows the install point.
func (e *Engine) recoveryVisit(t *wire.Token) {
	r := &e.rec
	if t.InstallSeq == 0 && r.rep() == e.cfg.ID {
		if e.recov.visits > 0 && e.recov.quietAtPass && !t.RetransFlg && len(e.recov.queue) == 0 &&
			t.Aru == t.Seq && len(t.Rtr) == 0 && t.Seq == e.recov.seqAtPass && r.aru == t.Seq {
			t.InstallSeq = t.Seq + 1
		}
		e.recov.visits++
		t.RetransFlg = false
	}
	if t.InstallSeq != 0 && r.aru >= t.InstallSeq-1 {
		e.enterOperational(t.InstallSeq - 1)
	}
}

// enterOperational delivers what is left of the old ring, then the
// transitional and the regular configuration (extended virtual synchrony),
// and makes the recovery ring the regular ring.
func (e *Engine) enterOperational(install uint64) {
	old := e.reg
	next := e.rec
	e.state = StateOperational

	// Every member coming from the same old ring holds the same set of its
	// frames now, so all deliver the same ones: the frames up to the first
	// gap, then — in the transitional configuration — the frames after it
	// whose senders are in the transitional configuration. A frame missing
	// everywhere was never held by any of those senders, so nothing they
	// sent can depend on it; frames of departed senders after the gap might,
	// and are dropped (extended virtual synchrony). Frames not known to be
	// safe on the old ring are delivered in the transitional configuration
	// too.
	trans := Event{
		Kind:    EventTransitional,
		Ring:    next.id,
		Members: e.recov.trans,
		Left:    setMinus(old.members, e.recov.trans),
	}
	transDone := false
	gap := false
	for s := old.highDelivered + 1; s <= old.highSeq; s++ {
		f := old.frames[s]
		switch {
		case f == nil:
			gap = true
			continue
		case gap && !setHas(trans.Members, f.Sender):
			continue
		}
		if !transDone && (gap || (f.Flags&wire.FlagSafe != 0 && f.Seq > old.safe)) {
			e.events = append(e.events, trans)
			transDone = true
		}
		e.deliverFrame(f)
	}
	if !transDone {
		e.events = append(e.events, trans)
	}
	clear(e.reasm)
	e.send.restartPartial()

	prev := e.regMembers
	e.events = append(e.events, Event{
		Kind:    EventRegular,
		Ring:    next.id,
		Members: slices.Clone(next.members),
		Joined:  setMinus(next.members, prev),
		Left:    setMinus(prev, next.members),
	})
	e.regMembers = slices.Clone(next.members)

	// The recovery frames (up to install) were consumed above.
	next.highDelivered = install
	next.release(install)
	e.reg = next
	e.rec = ring{}
	e.reg.safe = install
	e.memb.proc = slices.Clone(next.members)
	e.memb.fail = nil
	e.memb.failedToRecv = false
	e.stats.MembershipChanges++
	e.tok.prevAru = install
	if next.rep() == e.cfg.ID {
		e.timers.merge.set(e.now + e.cfg.Merge)
	}
	e.recov = recoveryState{}
	e.log.Info("ring installed", "ring", next.id, "members", next.members, "left", trans.Left)
	e.deliver()
}
