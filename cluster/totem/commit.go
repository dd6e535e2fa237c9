package totem

import (
	"slices"

	"github.com/ovsha/ovsha/cluster/totem/wire"
)

// commitState tracks the commit token of the ring being formed.
type commitState struct {
	ring     RingID
	members  []NodeID
	rotation uint8
}

// createCommit: this node is the lowest live processor and every live
// processor agrees; form the new ring.
func (e *Engine) createCommit(live []NodeID) {
	seq := max(e.highestRingSeq, e.reg.id.Seq) + 1
	e.noteRingSeq(seq)
	c := &wire.Commit{
		Ring:     RingID{Rep: e.cfg.ID, Seq: seq},
		Rotation: 1,
		Members:  slices.Clone(live),
		Entries:  make([]wire.CommitEntry, len(live)),
	}
	e.log.Debug("creating commit token", "ring", c.Ring, "members", live)
	e.acceptCommit(c, 0)
}

// acceptCommit fills this node's entry and enters COMMIT.
func (e *Engine) acceptCommit(c *wire.Commit, idx int) {
	c.Entries[idx] = wire.CommitEntry{
		Filled:        true,
		OldRing:       e.reg.id,
		Aru:           e.reg.aru,
		HighDelivered: e.reg.highDelivered,
		HighReceived:  e.reg.highSeq,
	}
	e.state = StateCommit
	e.commit = commitState{ring: c.Ring, members: c.Members, rotation: 1}
	e.timers.join.stop()
	e.timers.consensus.stop()
	e.timers.tokenLoss.set(e.now + e.cfg.Token)
	e.passCommit(c)
}

// handleCommit processes a commit token from the network (or from this
// node itself when the new ring has one member).
func (e *Engine) handleCommit(in *wire.Commit) {
	if len(in.Members) != len(in.Entries) || !validSet(in.Members) {
		return
	}
	idx := slices.Index(in.Members, e.cfg.ID)
	if idx < 0 {
		return
	}
	e.noteRingSeq(in.Ring.Seq)
	c := cloneCommit(in)
	isRep := c.Ring.Rep == e.cfg.ID
	switch e.state {
	case StateGather:
		if c.Rotation != 1 || isRep || c.Ring.Seq <= e.reg.id.Seq || !setEqual(c.Members, e.live()) {
			return
		}
		e.acceptCommit(c, idx)
	case StateCommit:
		if c.Ring != e.commit.ring {
			return
		}
		switch {
		case isRep && c.Rotation == 1 && allFilled(c):
			c.Rotation = 2
			e.enterRecovery(c)
			e.passCommit(c)
		case !isRep && c.Rotation == 2 && e.commit.rotation == 1:
			e.commit.rotation = 2
			e.enterRecovery(c)
			e.passCommit(c)
		}
	case StateRecovery:
		if isRep && c.Rotation == 2 && c.Ring == e.rec.id && !e.recov.started {
			// Both rotations done: the commit token becomes the first
			// ORF token of the new ring.
			e.recov.started = true
			e.processToken(&wire.Token{Ring: e.rec.id, TokenSeq: 1})
		}
	}
}

// passCommit sends the commit token to the next member of the new ring.
func (e *Engine) passCommit(c *wire.Commit) {
	i := slices.Index(c.Members, e.cfg.ID)
	next := c.Members[(i+1)%len(c.Members)]
	c.TokenSeq++
	if next == e.cfg.ID {
		e.handleCommit(c)
		return
	}
	e.sendRetransmittable(next, c)
}

func allFilled(c *wire.Commit) bool {
	for _, en := range c.Entries {
		if !en.Filled {
			return false
		}
	}
	return true
}

func cloneCommit(c *wire.Commit) *wire.Commit {
	d := *c
	d.Members = slices.Clone(c.Members)
	d.Entries = slices.Clone(c.Entries)
	return &d
}
