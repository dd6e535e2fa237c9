package totemtest

import (
	"fmt"
	"slices"
	"time"

	"github.com/ovsha/ovsha/cluster/totem"
)

// ProcID names one incarnation of a node in a Checker: a node that crashes
// and restarts is a new process with an empty delivery history.
type ProcID int

// Checker verifies the safety invariants incrementally, one event at a time,
// in O(number of processes) per delivery. It is fed with every accepted
// broadcast (Broadcast) and every event an engine returns (Event).
//
// What is checked, precisely:
//
//   - agreed order: for every pair of processes a, b, the messages both
//     delivered appear in the same relative order. For each ordered pair the
//     checker keeps maxPos[a][b], the highest position in a's delivery
//     sequence of a message b also delivered. When a delivers m, m is last
//     in a's sequence, so for every b that delivered m earlier at position
//     pb, m must also be last among the common messages in b's sequence:
//     pb > maxPos[b][a]. By induction this is necessary and sufficient for
//     pairwise agreement.
//   - virtual synchrony: the period of a process in regular configuration
//     C1 is every message it delivers after C1's EventRegular and before its
//     next EventRegular (C2); the EventTransitional between them and the
//     messages after it belong to C1's period. Processes whose periods
//     share (C1, C2) must have delivered the same set of messages in it and
//     report the same transitional members. Moreover every node listed in
//     a transitional configuration of C2 must itself have come into C2
//     from the same C1 (a node that restarted, or came from another ring,
//     is not transitional with the old members).
//   - safe delivery: a message marked safe and delivered by some process in
//     the regular part of C (before that process's EventTransitional) must
//     be in the period of C of every process that closes its C period (that
//     is, installs a next configuration rather than crashing).
//   - no duplicate: a process delivers each message id at most once.
//   - no phantom: every delivered message was accepted by Broadcast, from
//     the same sender, with the same bytes.
//   - config: ring ids of one process increase; a process is a member of
//     each configuration it installs; two processes installing the same ring
//     id report the same members; Joined and Left match the previous regular
//     configuration (from the second configuration on); the transitional
//     members are a subset of both configurations and include the process;
//     every configuration after the first is preceded by a transitional
//     one (a fresh node's first transitional configuration is just
//     itself); no delivery happens before the first configuration; a
//     restarted node does not reuse a ring id of its earlier incarnation.
type Checker struct {
	seed  uint64
	procs []*procState
	sent  map[MsgID]sentMsg
	// where lists, per message, the processes that delivered it and at
	// which position of their sequence.
	where  map[MsgID][]deliveryRef
	maxPos map[[2]ProcID]int
	rings  map[totem.RingID]*ringRecord
	// firstPeriod is the first closed period seen for each (C1, C2).
	firstPeriod map[[2]totem.RingID]*period

	counts     map[string]int
	violations []Violation
	// MaxStored bounds the violations kept per invariant (all are counted).
	MaxStored int
}

type sentMsg struct {
	hash uint64
	safe bool
	at   time.Duration
}

type deliveryRef struct {
	proc ProcID
	pos  int
}

type procState struct {
	node      totem.NodeID
	seq       []MsgID
	pos       map[MsgID]int
	hasReg    bool
	reg       totem.Event // current regular configuration
	trans     *totem.Event
	cur       *period
	delivered int
}

// period is one process's deliveries in one regular configuration.
type period struct {
	proc  ProcID
	from  totem.RingID
	to    totem.RingID
	trans []totem.NodeID
	set   map[MsgID]struct{}
	hash  uint64
}

type ringRecord struct {
	members     []totem.NodeID
	installedBy ProcID
	// safeRegular: safe messages delivered by someone in the regular part.
	safeRegular map[MsgID]ProcID
	closed      []*period
	// procs: which process of each node installed the ring.
	procs map[totem.NodeID]ProcID
	// arrivals: the configuration each node came from into this ring
	// (zero for a node's first configuration); claims: what a transitional
	// configuration said a node came from.
	arrivals map[totem.NodeID]totem.RingID
	claims   map[totem.NodeID]claim
}

type claim struct {
	from totem.RingID
	by   ProcID
}

// NewChecker returns a checker that tags violations with seed.
func NewChecker(seed uint64) *Checker {
	return &Checker{
		seed:        seed,
		sent:        make(map[MsgID]sentMsg),
		where:       make(map[MsgID][]deliveryRef),
		maxPos:      make(map[[2]ProcID]int),
		rings:       make(map[totem.RingID]*ringRecord),
		firstPeriod: make(map[[2]totem.RingID]*period),
		counts:      make(map[string]int),
		MaxStored:   20,
	}
}

// AddProc registers a new process (a node's incarnation) and returns its id.
func (c *Checker) AddProc(node totem.NodeID) ProcID {
	c.procs = append(c.procs, &procState{node: node, pos: make(map[MsgID]int)})
	return ProcID(len(c.procs) - 1)
}

// Node returns the node id of process p.
func (c *Checker) Node(p ProcID) totem.NodeID { return c.procs[p].node }

// Broadcast records that payload (a workload payload) was accepted by
// Broadcast at time at.
func (c *Checker) Broadcast(at time.Duration, payload []byte) {
	id, safe, _, err := decodePayload(payload)
	if err != nil {
		return
	}
	c.sent[id] = sentMsg{hash: payloadHash(payload), safe: safe, at: at}
}

// Delivered reports whether process p delivered message id.
func (c *Checker) Delivered(p ProcID, id MsgID) bool {
	_, ok := c.procs[p].pos[id]
	return ok
}

// DeliveredCount is the number of messages process p delivered.
func (c *Checker) DeliveredCount(p ProcID) int { return c.procs[p].delivered }

// Counts returns the number of violations per invariant.
func (c *Checker) Counts() map[string]int { return c.counts }

// Violations returns the stored violations in the order found.
func (c *Checker) Violations() []Violation { return c.violations }

// Total is the number of violations found.
func (c *Checker) Total() int {
	n := 0
	for _, v := range c.counts {
		n += v
	}
	return n
}

// Report records a violation found outside the checker (liveness, codec,
// panics).
func (c *Checker) Report(inv string, at time.Duration, node totem.NodeID, format string, a ...any) {
	c.counts[inv]++
	if c.counts[inv] > c.MaxStored {
		return
	}
	c.violations = append(c.violations, Violation{Invariant: inv, Seed: c.seed, Time: at, Node: node, Detail: fmt.Sprintf(format, a...)})
}

// Event checks one event returned by process p's engine at time at.
func (c *Checker) Event(at time.Duration, p ProcID, ev totem.Event) {
	switch ev.Kind {
	case totem.EventDeliver:
		c.deliver(at, p, ev)
	case totem.EventTransitional:
		c.transitional(at, p, ev)
	case totem.EventRegular:
		c.regular(at, p, ev)
	default:
		c.Report(InvConfig, at, c.procs[p].node, "event of unknown kind %d", ev.Kind)
	}
}

func (c *Checker) deliver(at time.Duration, p ProcID, ev totem.Event) {
	ps := c.procs[p]
	id, safe, _, err := decodePayload(ev.Payload)
	if err != nil {
		c.Report(InvPhantom, at, ps.node, "delivered a message from %d that no one broadcast: %v", ev.Sender, err)
		return
	}
	sm, ok := c.sent[id]
	switch {
	case !ok:
		c.Report(InvPhantom, at, ps.node, "delivered %v, which was never broadcast", id)
		return
	case ev.Sender != id.Sender:
		c.Report(InvPhantom, at, ps.node, "delivered %v with sender %d", id, ev.Sender)
	case sm.hash != payloadHash(ev.Payload):
		c.Report(InvPhantom, at, ps.node, "delivered %v with different bytes (%d bytes)", id, len(ev.Payload))
	}
	if prev, dup := ps.pos[id]; dup {
		c.Report(InvDuplicate, at, ps.node, "delivered %v twice (first at position %d)", id, prev)
		return
	}
	if !ps.hasReg {
		c.Report(InvConfig, at, ps.node, "delivered %v before installing any configuration", id)
	}
	pa := len(ps.seq)
	ps.seq = append(ps.seq, id)
	ps.pos[id] = pa
	ps.delivered++

	// Agreed order against every process that delivered id before.
	for _, ref := range c.where[id] {
		b := ref.proc
		if b == p {
			continue
		}
		if mp, ok := c.maxPos[[2]ProcID{b, p}]; ok && ref.pos < mp {
			other := c.procs[b].seq[mp]
			c.Report(InvAgreedOrder, at, ps.node, "node %d delivered %v then %v; node %d delivered %v then %v",
				ps.node, other, id, c.procs[b].node, id, other)
		}
		if mp, ok := c.maxPos[[2]ProcID{b, p}]; !ok || ref.pos > mp {
			c.maxPos[[2]ProcID{b, p}] = ref.pos
		}
		c.maxPos[[2]ProcID{p, b}] = pa
	}
	c.where[id] = append(c.where[id], deliveryRef{proc: p, pos: pa})

	if ps.cur == nil {
		return
	}
	ps.cur.set[id] = struct{}{}
	ps.cur.hash += id.hash()
	if safe && ps.trans == nil {
		c.safeDelivered(at, p, id)
	}
}

// safeDelivered handles a safe message delivered by p in the regular part of
// its current configuration.
func (c *Checker) safeDelivered(at time.Duration, p ProcID, id MsgID) {
	rr := c.rings[c.procs[p].reg.Ring]
	if _, seen := rr.safeRegular[id]; seen {
		return
	}
	rr.safeRegular[id] = p
	for _, cl := range rr.closed {
		if _, ok := cl.set[id]; !ok {
			c.Report(InvSafe, at, c.procs[p].node, "delivered safe %v in regular ring %v, but node %d left that ring for %v without delivering it",
				id, ringStr(cl.from), c.procs[cl.proc].node, ringStr(cl.to))
		}
	}
}

func (c *Checker) transitional(at time.Duration, p ProcID, ev totem.Event) {
	ps := c.procs[p]
	if !ps.hasReg {
		// A fresh node is in an implicit singleton configuration of
		// itself: its first transitional configuration is just itself.
		if !slices.Equal(ev.Members, []totem.NodeID{ps.node}) {
			c.Report(InvConfig, at, ps.node, "first transitional configuration %v has members %v, expected only itself", ringStr(ev.Ring), ev.Members)
		}
		if ps.trans != nil {
			c.Report(InvConfig, at, ps.node, "second transitional configuration %v before any regular configuration", ringStr(ev.Ring))
		}
		evc := cloneEvent(ev)
		ps.trans = &evc
		return
	}
	if ps.trans != nil {
		c.Report(InvConfig, at, ps.node, "second transitional configuration %v in ring %v", ringStr(ev.Ring), ringStr(ps.reg.Ring))
	}
	evc := cloneEvent(ev)
	ps.trans = &evc
	if !slices.Contains(ev.Members, ps.node) {
		c.Report(InvConfig, at, ps.node, "not a member of its transitional configuration %v %v", ringStr(ev.Ring), ev.Members)
	}
	if !isSubset(ev.Members, ps.reg.Members) {
		c.Report(InvConfig, at, ps.node, "transitional members %v not a subset of the regular configuration %v %v", ev.Members, ringStr(ps.reg.Ring), ps.reg.Members)
	}
}

func (c *Checker) regular(at time.Duration, p ProcID, ev totem.Event) {
	ps := c.procs[p]
	ev = cloneEvent(ev)
	if !slices.Contains(ev.Members, ps.node) {
		c.Report(InvConfig, at, ps.node, "not a member of its regular configuration %v %v", ringStr(ev.Ring), ev.Members)
	}
	if !slices.IsSorted(ev.Members) {
		c.Report(InvConfig, at, ps.node, "members of %v not sorted: %v", ringStr(ev.Ring), ev.Members)
	}
	rr, ok := c.rings[ev.Ring]
	if !ok {
		rr = &ringRecord{members: ev.Members, installedBy: p, safeRegular: make(map[MsgID]ProcID),
			procs: make(map[totem.NodeID]ProcID), arrivals: make(map[totem.NodeID]totem.RingID), claims: make(map[totem.NodeID]claim)}
		c.rings[ev.Ring] = rr
	} else if !slices.Equal(rr.members, ev.Members) {
		c.Report(InvConfig, at, ps.node, "installed ring %v with members %v; node %d installed it with %v",
			ringStr(ev.Ring), ev.Members, c.procs[rr.installedBy].node, rr.members)
	}
	if q, ok := rr.procs[ps.node]; ok && q != p {
		c.Report(InvConfig, at, ps.node, "ring id %v reused: an earlier incarnation of this node installed it too", ringStr(ev.Ring))
	}
	rr.procs[ps.node] = p
	if ps.hasReg {
		c.closePeriod(at, p, ev)
	} else {
		c.checkTransOrigin(at, p, ev.Ring, totem.RingID{}, []totem.NodeID{ps.node})
	}
	ps.hasReg = true
	ps.reg = ev
	ps.trans = nil
	ps.cur = &period{proc: p, from: ev.Ring, set: make(map[MsgID]struct{})}
}

// closePeriod ends p's period in its current configuration as it installs
// next.
func (c *Checker) closePeriod(at time.Duration, p ProcID, next totem.Event) {
	ps := c.procs[p]
	old := ps.reg
	if !old.Ring.Less(next.Ring) {
		c.Report(InvConfig, at, ps.node, "ring id went from %v to %v", ringStr(old.Ring), ringStr(next.Ring))
	}
	if j := setDiff(next.Members, old.Members); !slices.Equal(j, next.Joined) {
		c.Report(InvConfig, at, ps.node, "ring %v: joined %v, expected %v (previous %v %v)", ringStr(next.Ring), next.Joined, j, ringStr(old.Ring), old.Members)
	}
	if l := setDiff(old.Members, next.Members); !slices.Equal(l, next.Left) {
		c.Report(InvConfig, at, ps.node, "ring %v: left %v, expected %v (previous %v %v)", ringStr(next.Ring), next.Left, l, ringStr(old.Ring), old.Members)
	}
	pr := ps.cur
	pr.to = next.Ring
	if ps.trans == nil {
		c.Report(InvConfig, at, ps.node, "installed %v after %v without a transitional configuration", ringStr(next.Ring), ringStr(old.Ring))
	} else {
		pr.trans = ps.trans.Members
		if !isSubset(ps.trans.Members, next.Members) {
			c.Report(InvConfig, at, ps.node, "transitional members %v not a subset of the new ring %v %v", ps.trans.Members, ringStr(next.Ring), next.Members)
		}
	}

	c.checkTransOrigin(at, p, next.Ring, old.Ring, pr.trans)

	// Virtual synchrony: same (C1, C2) ⇒ same set and same transitional members.
	key := [2]totem.RingID{old.Ring, next.Ring}
	if first, ok := c.firstPeriod[key]; !ok {
		c.firstPeriod[key] = pr
	} else {
		if first.hash != pr.hash || len(first.set) != len(pr.set) {
			missing, extra := periodDiff(first.set, pr.set)
			c.Report(InvVirtualSynchrony, at, ps.node, "moved from %v to %v with node %d but delivered %d messages vs %d: missing %s, extra %s",
				ringStr(old.Ring), ringStr(next.Ring), c.procs[first.proc].node, len(pr.set), len(first.set), fmtIDs(missing), fmtIDs(extra))
		}
		if !slices.Equal(first.trans, pr.trans) {
			c.Report(InvVirtualSynchrony, at, ps.node, "moved from %v to %v with node %d but transitional members %v vs %v",
				ringStr(old.Ring), ringStr(next.Ring), c.procs[first.proc].node, pr.trans, first.trans)
		}
	}

	// Safe delivery: every safe message delivered in the regular part of
	// old by anyone must be in this period.
	rr := c.rings[old.Ring]
	var missed []MsgID
	for id := range rr.safeRegular {
		if _, ok := pr.set[id]; !ok {
			missed = append(missed, id)
		}
	}
	sortIDs(missed)
	for _, id := range missed {
		by := rr.safeRegular[id]
		{
			c.Report(InvSafe, at, ps.node, "left ring %v for %v without delivering safe %v, which node %d delivered in that ring's regular configuration",
				ringStr(old.Ring), ringStr(next.Ring), id, c.procs[by].node)
		}
	}
	rr.closed = append(rr.closed, pr)
}

func cloneEvent(ev totem.Event) totem.Event {
	ev.Members = slices.Clone(ev.Members)
	ev.Joined = slices.Clone(ev.Joined)
	ev.Left = slices.Clone(ev.Left)
	if len(ev.Joined) == 0 {
		ev.Joined = nil
	}
	if len(ev.Left) == 0 {
		ev.Left = nil
	}
	return ev
}

// isSubset reports whether every element of a is in b.
func isSubset(a, b []totem.NodeID) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// setDiff returns the elements of a not in b, sorted; nil if none.
func setDiff(a, b []totem.NodeID) []totem.NodeID {
	var d []totem.NodeID
	for _, x := range a {
		if !slices.Contains(b, x) {
			d = append(d, x)
		}
	}
	slices.Sort(d)
	return d
}

// periodDiff returns the ids in want but not in got, and in got but not in
// want, sorted.
func periodDiff(want, got map[MsgID]struct{}) (missing, extra []MsgID) {
	for id := range want {
		if _, ok := got[id]; !ok {
			missing = append(missing, id)
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			extra = append(extra, id)
		}
	}
	sortIDs(missing)
	sortIDs(extra)
	return missing, extra
}

func sortIDs(ids []MsgID) {
	slices.SortFunc(ids, func(a, b MsgID) int {
		if a.Sender != b.Sender {
			return int(a.Sender) - int(b.Sender)
		}
		if a.Counter < b.Counter {
			return -1
		}
		if a.Counter > b.Counter {
			return 1
		}
		return 0
	})
}

// fmtIDs prints up to 5 ids.
func fmtIDs(ids []MsgID) string {
	if len(ids) == 0 {
		return "[]"
	}
	s := "["
	for i, id := range ids {
		if i == 5 {
			s += fmt.Sprintf(" …+%d", len(ids)-5)
			break
		}
		if i > 0 {
			s += " "
		}
		s += id.String()
	}
	return s + "]"
}

// checkTransOrigin checks that process p, moving from ring from into ring
// to with transitional members trans, agrees with everyone else on where
// each node came from: a node in p's transitional configuration must
// itself have moved into to from the same ring as p.
func (c *Checker) checkTransOrigin(at time.Duration, p ProcID, to, from totem.RingID, trans []totem.NodeID) {
	ps := c.procs[p]
	rr := c.rings[to]
	rr.arrivals[ps.node] = from
	if cl, ok := rr.claims[ps.node]; ok && cl.from != from {
		c.Report(InvVirtualSynchrony, at, ps.node, "came into %v from %v, but node %d's transitional configuration lists it as coming from %v",
			ringStr(to), ringStr(from), c.procs[cl.by].node, ringStr(cl.from))
	}
	for _, q := range trans {
		if q == ps.node {
			continue
		}
		if arr, ok := rr.arrivals[q]; ok {
			if arr != from {
				c.Report(InvVirtualSynchrony, at, ps.node, "transitional configuration of %v (from %v) lists node %d, which came into %v from %v",
					ringStr(to), ringStr(from), q, ringStr(to), ringStr(arr))
			}
			continue
		}
		if _, ok := rr.claims[q]; !ok {
			rr.claims[q] = claim{from: from, by: p}
		}
	}
}
