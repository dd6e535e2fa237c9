package quorum

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// ErrInvalidExpected is returned by SetExpected for a value corosync refuses.
var ErrInvalidExpected = errors.New("invalid expected votes")

// Quorum is one node's votequorum state. It is not safe for concurrent use;
// the daemon drives it from a single goroutine.
type Quorum struct {
	s settings

	expected   uint32 // current expected votes
	floor      uint32 // allow_downscale floor: configured or last SetExpected value
	quorum     uint32
	quorate    bool
	wfaPending bool

	members []NodeID // current view, sorted, unique
	prev    []NodeID // previous view: holds the auto_tie_breaker node

	// prevQuorate: this node was quorate in the previous view, the only
	// case in which auto_tie_breaker may keep it quorate.
	prevQuorate bool

	lmsArmed    bool
	lmsDeadline time.Duration
}

// New validates cfg and returns the cold-start state: no members, not
// quorate, wait_for_all pending when enabled.
func New(cfg Config) (*Quorum, error) {
	s, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	q := &Quorum{s: s, expected: s.expected, floor: s.expected, wfaPending: s.waitForAll}
	q.recalculate(0)
	return q, nil
}

// SetMembers applies a new agreed membership (this node included). left
// lists the nodes of the previous view that shut down cleanly (they announced
// their departure); only allow_downscale uses it, and IDs that are still
// members or were not members are ignored. now drives the
// last_man_standing timer.
func (q *Quorum) SetMembers(now time.Duration, members []NodeID, left []NodeID) Status {
	next := normalize(members)
	oldQuorum := q.quorum

	anyLeft, cleanLeave := false, false
	var cleanVotes uint32
	for _, id := range q.members {
		if _, ok := slices.BinarySearch(next, id); ok {
			continue
		}
		anyLeft = true
		if slices.Contains(left, id) {
			cleanLeave = true
			cleanVotes += q.votesOf(id)
		}
	}
	q.prev, q.members = q.members, next
	q.prevQuorate = q.quorate

	if q.s.lms {
		// Corosync arms the timer in sync_init, before quorum is recomputed.
		n := uint32(len(next))
		if (n >= oldQuorum && anyLeft) || (n <= oldQuorum && q.s.atb && q.prevQuorate && q.holdsTieBreaker()) {
			q.lmsArmed = true
			q.lmsDeadline = now + q.s.lmsWindow
		}
	}

	if q.s.allowDownscale && cleanLeave {
		q.recalculate(max(q.floor, q.expected-min(cleanVotes, q.expected)))
	} else {
		q.recalculate(0)
	}
	return q.Status()
}

// Tick fires the last_man_standing timer when its window has elapsed: if the
// partition is quorate, expected votes drop to the number of current members.
// changed reports whether the status differs from before the call.
func (q *Quorum) Tick(now time.Duration) (Status, bool) {
	if !q.lmsArmed || now < q.lmsDeadline {
		return q.Status(), false
	}
	before := q.Status()
	q.lmsArmed = false
	if q.quorate {
		maxExpected := uint32(len(q.members))
		if q.s.allowDownscale {
			maxExpected = max(maxExpected, q.floor)
		}
		q.recalculate(maxExpected)
	}
	after := q.Status()
	return after, !after.Equal(before)
}

// Deadline returns when the last_man_standing timer fires, if it is armed, so
// the caller knows when Tick has work to do.
func (q *Quorum) Deadline() (time.Duration, bool) {
	return q.lmsDeadline, q.lmsArmed
}

// SetExpected changes expected votes at runtime (corosync-quorumtool -e n).
// It refuses 0 and any value whose quorum would exceed the votes present;
// a value below the votes present is raised to them. The value also becomes
// the allow_downscale floor.
func (q *Quorum) SetExpected(n uint32) error {
	total := q.totalVotes()
	if n == 0 {
		return fmt.Errorf("%w: 0 (want at least 1)", ErrInvalidExpected)
	}
	if newQuorum := q.computeQuorum(n, total); newQuorum > total {
		return fmt.Errorf("%w: %d would need quorum %d but only %d votes are present", ErrInvalidExpected, n, newQuorum, total)
	}
	q.expected = n
	q.floor = n
	q.recalculate(0)
	return nil
}

// PeerQuorate records that member peer reports being quorate (with
// wait_for_all satisfied) with the given expected votes — corosync's nodeinfo
// message from a quorate node. A node that is not quorate adopts the peer's
// expected votes and clears its own wait_for_all, so a node restarting into a
// running cluster agrees with it. A quorate node ignores the report, as does
// any node for a peer that is not a current member.
func (q *Quorum) PeerQuorate(peer NodeID, expected uint32) Status {
	if _, ok := slices.BinarySearch(q.members, peer); !ok || q.quorate {
		return q.Status()
	}
	if expected > 0 {
		q.expected = expected
	}
	q.wfaPending = false
	q.recalculate(0)
	return q.Status()
}

// CancelWaitForAll clears a pending wait_for_all (corosync's
// quorum.cancel_wait_for_all), letting the partition become quorate by votes
// alone.
func (q *Quorum) CancelWaitForAll() Status {
	q.wfaPending = false
	q.recalculate(0)
	return q.Status()
}

// Status returns the current state.
func (q *Quorum) Status() Status {
	st := Status{
		Quorate:           q.quorate,
		ExpectedVotes:     q.expected,
		HighestExpected:   q.expected,
		TotalVotes:        q.totalVotes(),
		Quorum:            q.quorum,
		WaitForAllPending: q.s.waitForAll && q.wfaPending,
		Members:           make([]Member, len(q.members)),
	}
	for i, id := range q.members {
		st.Members[i] = Member{ID: id, Votes: q.votesOf(id)}
	}
	if q.s.twoNode {
		st.Flags |= FlagTwoNode
	}
	if q.quorate {
		st.Flags |= FlagQuorate
	}
	if q.s.waitForAll {
		st.Flags |= FlagWaitForAll
	}
	if q.s.lms {
		st.Flags |= FlagLastManStanding
	}
	if q.s.atb {
		st.Flags |= FlagAutoTieBreaker
	}
	if q.s.allowDownscale {
		st.Flags |= FlagAllowDownscale
	}
	return st
}

// recalculate is corosync's recalculate_quorum: keep expected votes at least
// the votes present (after optionally forcing them to maxExpected),
// recompute quorum, then decide quorate. Corosync also keeps quorum from
// decreasing outside SetExpected/LMS/downscale; here that follows from
// expected votes only decreasing on those paths, so it is not re-checked.
func (q *Quorum) recalculate(maxExpected uint32) {
	total := q.totalVotes()
	if maxExpected > 0 {
		q.expected = maxExpected
	}
	if total > q.expected {
		q.expected = total
	}
	q.quorum = q.computeQuorum(q.expected, total)
	q.decide(total)
}

// computeQuorum is corosync's calculate_quorum for the given expected votes.
func (q *Quorum) computeQuorum(expected, total uint32) uint32 {
	if q.twoNodeActive() {
		return 1
	}
	return max(half(expected), half(total))
}

// half is a strict majority of n: n/2+1, computed without overflow.
func half(n uint32) uint32 { return uint32((uint64(n) + 2) / 2) }

// twoNodeActive: two_node applies while the view has at most two members.
func (q *Quorum) twoNodeActive() bool { return q.s.twoNode && len(q.members) <= 2 }

// decide is corosync's are_we_quorate.
func (q *Quorum) decide(total uint32) {
	if q.s.waitForAll && q.wfaPending {
		if total != q.expected {
			q.quorate = false
			return
		}
		q.wfaPending = false
	}

	quorate := total >= q.quorum
	// auto_tie_breaker keeps quorum on an exact half. Corosync also accepts
	// total == expected/2 for odd expected votes when few enough nodes
	// departed; TestNoSplitBrain shows that lets a minority stay quorate
	// while a node it never saw joins the majority, so ovsha does not.
	if !quorate && q.s.atb && q.prevQuorate && uint64(total)*2 == uint64(q.expected) && q.holdsTieBreaker() {
		quorate = true
	}
	q.quorate = quorate
	if q.s.waitForAll {
		q.wfaPending = !quorate
	}
}

// holdsTieBreaker reports whether the current view holds the
// auto_tie_breaker node of the previous view: its lowest or highest node ID,
// or the first listed node that was a member of it.
func (q *Quorum) holdsTieBreaker() bool {
	if len(q.prev) == 0 {
		return false
	}
	var tb NodeID
	switch q.s.tieBreaker.Mode {
	case TieBreakLowest:
		tb = q.prev[0]
	case TieBreakHighest:
		tb = q.prev[len(q.prev)-1]
	default:
		for _, id := range q.s.tieBreaker.Nodes {
			if _, ok := slices.BinarySearch(q.prev, id); ok {
				tb = id
				break
			}
		}
	}
	_, ok := slices.BinarySearch(q.members, tb)
	return tb != 0 && ok
}

func (q *Quorum) votesOf(id NodeID) uint32 {
	if v, ok := q.s.votes[id]; ok {
		return v
	}
	return 1
}

// totalVotes sums the current members' votes, saturating at MaxUint32.
func (q *Quorum) totalVotes() uint32 {
	var sum uint64
	for _, id := range q.members {
		sum += uint64(q.votesOf(id))
	}
	return uint32(min(sum, uint64(^uint32(0))))
}

// normalize returns a sorted, duplicate-free copy of ids.
func normalize(ids []NodeID) []NodeID {
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}
