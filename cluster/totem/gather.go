package totem

import (
	"github.com/ovsha/ovsha/cluster/totem/wire"
)

// gatherState is the membership protocol's view while forming a ring.
type gatherState struct {
	proc      []NodeID // processors this node believes are alive (includes itself)
	fail      []NodeID // processors it has given up on
	consensus map[NodeID]bool
	// failedToRecv: this node left its ring because it could not receive
	// (fail_recv_const); it forms a ring of its own before merging again.
	failedToRecv bool
}

// enterGather starts (or restarts) the GATHER state: broadcast a join with
// the proc and fail sets and wait for every live processor to agree.
func (e *Engine) enterGather(reason string, addFail []NodeID) {
	from := e.state
	if from == StateRecovery {
		// Abandon the recovery ring. The regular ring keeps every old-ring
		// frame received so far (encapsulated ones included) for the next
		// attempt.
		e.rec = ring{}
	}
	if from == StateOperational || from == StateRecovery {
		if s := e.suspect(); s != nil {
			e.log.Info("successor never answered the token: suspected", "node", s[0])
			addFail = append(addFail, s...)
		}
	}
	if from != StateGather {
		e.memb.proc = setUnion(e.memb.proc, e.reg.members)
		e.timers.tokenLoss.stop()
		e.timers.merge.stop()
		e.tok.held, e.tok.self = nil, nil
		e.timers.hold.stop()
		e.cancelRetransmit()
		e.commit = commitState{}
		e.recov = recoveryState{}
		e.log.Info("entering gather", "reason", reason, "from", from.String())
	}
	e.state = StateGather
	e.memb.proc = setUnion(e.memb.proc, []NodeID{e.cfg.ID})
	e.memb.fail = setMinus(setUnion(e.memb.fail, sortedCopy(addFail)), []NodeID{e.cfg.ID})
	e.memb.consensus = map[NodeID]bool{e.cfg.ID: true}
	e.sendJoin()
	e.timers.join.set(e.now + e.cfg.Join)
	e.timers.consensus.set(e.now + e.cfg.Consensus)
}

func (e *Engine) sendJoin() { e.emit(e.others, e.joinMsg(), true) }

func (e *Engine) joinMsg() *wire.Join {
	return &wire.Join{
		Sender:  e.cfg.ID,
		RingSeq: e.highestRingSeq,
		Proc:    append([]NodeID(nil), e.memb.proc...),
		Fail:    append([]NodeID(nil), e.memb.fail...),
	}
}

// live is proc minus fail: the processors the next ring should contain.
func (e *Engine) live() []NodeID {
	if e.memb.failedToRecv {
		return []NodeID{e.cfg.ID}
	}
	return setMinus(e.memb.proc, e.memb.fail)
}

// handleJoin processes a join in any state.
func (e *Engine) handleJoin(j *wire.Join) {
	if !validSet(j.Proc) || !validSet(j.Fail) {
		return
	}
	e.noteRingSeq(j.RingSeq)
	if e.state != StateGather {
		// A join from a member of the current (or forming) ring that was
		// sent before that ring existed is stale.
		cur, members := e.reg.id.Seq, e.reg.members
		switch e.state {
		case StateRecovery:
			cur, members = e.rec.id.Seq, e.rec.members
		case StateCommit:
			cur, members = e.commit.ring.Seq, e.commit.members
		}
		member := setHas(members, j.Sender)
		switch {
		case member && j.RingSeq < cur:
			return
		case !member && e.state != StateOperational:
			// A ring being committed or recovered completes first; the
			// outsider is merged afterwards (merge detect), as in corosync.
			return
		case !member && setHas(j.Fail, e.cfg.ID):
			// An outsider that has given up on us forms its own ring;
			// tearing ours down now would only fail it back. Merge
			// detection joins the two rings afterwards.
			return
		case !member && j.RingSeq < cur:
			// An outsider that has not heard of our ring yet (it was
			// frozen or cut off while we formed it) is still settling its
			// own membership; every change of its view would tear our ring
			// down again. Tell it about our ring; its joins are taken once
			// they show it knows.
			if e.state == StateOperational && e.now-e.mergeReplied[j.Sender] >= e.cfg.Join {
				e.mergeReplied[j.Sender] = e.now
				e.emitTo(j.Sender, &wire.MergeDetect{Sender: e.cfg.ID, Ring: e.reg.id}, false)
			}
			return
		}
		e.enterGather("join from "+itoa(j.Sender), nil)
	}
	e.processJoin(j)
}

// processJoin merges a join into this node's view (corosync's
// memb_join_process).
func (e *Engine) processJoin(j *wire.Join) {
	me := e.cfg.ID
	e.log.Debug("join", "from", j.Sender, "ring_seq", j.RingSeq, "proc", j.Proc, "fail", j.Fail, "my_proc", e.memb.proc, "my_fail", e.memb.fail)
	if setEqual(j.Proc, e.memb.proc) && setEqual(j.Fail, e.memb.fail) {
		if !e.memb.consensus[j.Sender] {
			// First agreement from this sender in this round: our last
			// join may predate its view, so answer once with ours rather
			// than leave it waiting for the join timer.
			e.memb.consensus[j.Sender] = true
			e.emitTo(j.Sender, e.joinMsg(), true)
		}
		e.checkConsensus()
		return
	}
	if setSubset(j.Proc, e.memb.proc) && setSubset(j.Fail, e.memb.fail) {
		return // the sender will catch up with us
	}
	if setHas(e.memb.fail, j.Sender) {
		return
	}
	proc := setUnion(e.memb.proc, j.Proc)
	var addFail []NodeID
	switch {
	case j.RingSeq < e.reg.id.Seq:
		// The sender had not seen our current ring when it wrote this
		// join: its fail set predates it (a late join of an earlier
		// gather round) and must not split us again.
	case setHas(j.Fail, me):
		// The sender has given up on us: give up on it too, so that both
		// sides agree quickly and merge afterwards.
		addFail = []NodeID{j.Sender}
	case e.reg.isMember(j.Sender):
		addFail = setMinus(j.Fail, []NodeID{me})
	}
	if setEqual(proc, e.memb.proc) && setSubset(addFail, e.memb.fail) {
		// Nothing new: answering would only echo joins back and forth.
		// Disagreement that remains is settled by the consensus timeout.
		return
	}
	e.memb.proc = proc
	e.enterGather("membership changed by join", addFail)
}

// checkConsensus: when every live processor agrees, the lowest one creates
// the commit token.
func (e *Engine) checkConsensus() bool {
	live := e.live()
	for _, n := range live {
		if !e.memb.consensus[n] {
			return false
		}
	}
	if live[0] == e.cfg.ID {
		e.createCommit(live)
	}
	return true
}

func (e *Engine) onJoinTimeout() {
	if e.state != StateGather {
		return
	}
	e.sendJoin()
	e.timers.join.set(e.now + e.cfg.Join)
}

// onConsensusTimeout declares the processors that did not agree failed.
func (e *Engine) onConsensusTimeout() {
	if e.state != StateGather {
		return
	}
	e.stats.ConsensusTimeouts++
	live := e.live()
	var silent []NodeID
	for _, n := range live {
		if !e.memb.consensus[n] {
			silent = append(silent, n)
		}
	}
	if len(silent) == 0 {
		if live[0] == e.cfg.ID {
			e.createCommit(live)
			return
		}
		// Everyone agreed but the commit token never came: start over.
		e.enterGather("commit token did not arrive", nil)
		return
	}
	e.log.Info("consensus timeout", "failed", silent)
	e.enterGather("consensus timeout", silent)
	if len(e.live()) == 1 {
		e.checkConsensus() // alone: nobody to wait for
	}
}

// onTokenLoss: no token (or commit token) for Config.Token.
func (e *Engine) onTokenLoss() {
	switch e.state {
	case StateOperational, StateRecovery, StateCommit:
		e.stats.TokenLosses++
		e.log.Warn("token lost", "state", e.state.String(), "ring", e.active().id)
		e.enterGather("token lost", nil)
		if len(e.live()) == 1 {
			e.checkConsensus() // alone: nobody to wait for
		}
	}
}

// suspect returns the successor this node has been sending the token to
// without any answer — no frame broadcast after it, no token back, no
// TokenAck to a retransmitted copy — for at least two retransmissions.
// When the ring breaks, that successor goes into the fail set at once, so
// the survivors agree on the new ring in one exchange of joins instead of
// waiting for the consensus timeout. A live successor that was wrongly
// suspected merges back like any partitioned node.
func (e *Engine) suspect() []NodeID {
	if _, ok := e.tok.retrans.(*wire.Token); ok && e.tok.retransCount >= 2 {
		return []NodeID{e.tok.retransTo}
	}
	return nil
}

// handleLeave: a member leaves on purpose; reconfigure without waiting for
// the token timeout.
func (e *Engine) handleLeave(m *wire.Leave) {
	switch e.state {
	case StateOperational, StateRecovery:
		r := e.active()
		if m.Ring != r.id || !r.isMember(m.Sender) {
			return
		}
		e.enterGather("node "+itoa(m.Sender)+" left", []NodeID{m.Sender})
	case StateGather, StateCommit:
		if !setHas(e.memb.proc, m.Sender) || setHas(e.memb.fail, m.Sender) {
			return
		}
		e.enterGather("node "+itoa(m.Sender)+" left", []NodeID{m.Sender})
	}
}

// handleMergeDetect: another ring's representative can reach us.
func (e *Engine) handleMergeDetect(m *wire.MergeDetect) {
	e.noteRingSeq(m.Ring.Seq)
	if e.state != StateOperational || m.Ring == e.reg.id || e.reg.isMember(m.Sender) {
		return
	}
	e.memb.proc = setUnion(e.memb.proc, []NodeID{m.Sender})
	e.enterGather("merge detect from "+itoa(m.Sender), nil)
}

// onMergeTimeout: the representative tells configured nodes outside the
// ring that it exists, so separated rings merge when they can talk again.
func (e *Engine) onMergeTimeout() {
	if e.state != StateOperational {
		return
	}
	r := &e.reg
	if r.rep() == e.cfg.ID {
		if outside := setMinus(e.cfg.Nodes, r.members); len(outside) > 0 {
			e.emit(outside, &wire.MergeDetect{Sender: e.cfg.ID, Ring: r.id}, false)
		}
	}
	e.timers.merge.set(e.now + e.cfg.Merge)
}

func validSet(s []NodeID) bool {
	for i, n := range s {
		if n == 0 || (i > 0 && s[i-1] >= n) {
			return false
		}
	}
	return true
}

func sortedCopy(s []NodeID) []NodeID { return setUnion(nil, s) }

func itoa(n NodeID) string {
	var b [10]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}
