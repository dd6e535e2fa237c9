package totemtest

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ovsha/ovsha/cluster/totem"
	"github.com/ovsha/ovsha/cluster/totem/wire"
	"github.com/ovsha/ovsha/cluster/transport"
)

// SimConfig configures one simulation run.
type SimConfig struct {
	// Seed drives everything: network, faults, workload, engines' Rand.
	Seed uint64
	// Nodes is the number of nodes, with ids 1..Nodes.
	Nodes int
	// Duration is the simulated time of a Run (default 10 s).
	Duration time.Duration
	// Faults is the set of faults injected before Quiet.
	Faults Faults
	// Loss, when positive, is the loss probability used by every loss
	// phase (FaultLoss); 0 picks a rate per phase from the seed (0-30%).
	Loss float64
	// Quiet is when every fault stops: partitions heal, frozen nodes thaw,
	// crashed nodes restart, the links become loss-free (default 60% of
	// Duration).
	Quiet time.Duration
	// TickInterval is the simulated time between engine ticks (default 1 ms).
	TickInterval time.Duration
	// MeanInterval is the mean time between two broadcasts of one node
	// (default 25 ms); negative disables the workload.
	MeanInterval time.Duration
	// Latency is the one-way link latency (default: from the seed, 50-500
	// µs); Jitter adds up to this much at random (default: from the seed;
	// negative: none).
	Latency, Jitter time.Duration
	// Links is the number of links between each pair of nodes (default:
	// 1 or 2, from the seed).
	Links int
	// StaggerStart starts the nodes at random times in the first 300 ms.
	StaggerStart bool
	// Engine, if set, adjusts each engine's configuration (the simulator
	// sets Rand and Logger first).
	Engine func(*totem.Config)
	// Trace, if set, receives a readable trace of the run.
	Trace io.Writer
}

func (c *SimConfig) setDefaults() {
	if c.Nodes <= 0 {
		c.Nodes = 3
	}
	if c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.Quiet <= 0 {
		c.Quiet = c.Duration * 6 / 10
	}
	if c.TickInterval <= 0 {
		c.TickInterval = time.Millisecond
	}
	if c.MeanInterval == 0 {
		c.MeanInterval = 25 * time.Millisecond
	}
}

// Sim runs N engines over a simulated network in simulated time. It is
// deterministic: the same SimConfig gives the same run.
type Sim struct {
	cfg   SimConfig
	ids   []totem.NodeID
	nodes map[totem.NodeID]*simNode
	net   *memNet
	link  transport.MemLink // current link parameters
	calm  transport.MemLink // link parameters without faults
	chk   *Checker
	tr    *tracer
	now   time.Duration

	nextTick time.Duration
	agenda   []action
	agendaN  int
	wrng     *rand.Rand // workload

	workloadStop time.Duration
	liveAt       time.Duration
	liveRing     totem.RingID
	liveOK       bool

	buf    []byte
	toBuf  []totem.NodeID
	cur    totem.NodeID // node whose engine is being called (for panics)
	failed bool
	sent   int
	// tickSends counts datagrams sent since the last tick.
	tickSends int
	onEvent   func(id totem.NodeID, ev totem.Event)
}

type action struct {
	at  time.Duration
	seq int
	do  func()
}

type simNode struct {
	id       totem.NodeID
	eng      *totem.Engine
	proc     ProcID
	inc      int
	up       bool // started and not crashed
	frozen   bool
	counter  uint64 // workload message counter, across incarnations
	nextSend time.Duration
	pending  []byte // payload refused with ErrQueueFull, retried
	// own lists the messages this incarnation's Broadcast accepted.
	own   []ownMsg
	state totem.State
	ring  totem.RingID
}

type ownMsg struct {
	id MsgID
	at time.Duration
}

// NewSim returns a simulator with the nodes not yet started. Use Run for a
// seeded run with workload and faults, or the manual operations (Start,
// RunFor, Partition, ...) for scripted scenarios.
func NewSim(cfg SimConfig) *Sim {
	cfg.setDefaults()
	s := &Sim{
		cfg:   cfg,
		nodes: make(map[totem.NodeID]*simNode),
		chk:   NewChecker(cfg.Seed),
		wrng:  rand.New(rand.NewPCG(mix64(cfg.Seed^0x776f726b), cfg.Seed)),
	}
	nrng := rand.New(rand.NewPCG(mix64(cfg.Seed^0x6c696e6b), cfg.Seed))
	lat, jit := cfg.Latency, cfg.Jitter
	if lat == 0 {
		lat = 50*time.Microsecond + time.Duration(nrng.Int64N(int64(450*time.Microsecond)))
	}
	if jit == 0 {
		jit = time.Duration(nrng.Int64N(int64(lat)))
	}
	s.calm = transport.MemLink{Latency: lat, Jitter: max(jit, 0)}
	s.link = s.calm
	for i := 1; i <= cfg.Nodes; i++ {
		id := totem.NodeID(i)
		s.ids = append(s.ids, id)
		s.nodes[id] = &simNode{id: id}
	}
	links := cfg.Links
	if links <= 0 {
		links = 1 + nrng.IntN(2)
	}
	s.net = newMemNet(mix64(cfg.Seed^0x6e6574), s.calm, links, s.ids)
	for _, id := range s.ids {
		s.net.crash(id) // not started yet
	}
	if cfg.Trace != nil {
		s.tr = &tracer{w: cfg.Trace, now: func() time.Duration { return s.now }}
		s.tr.logf(0, "sim seed=%d nodes=%d duration=%v quiet=%v faults=%v latency=%v jitter=%v",
			cfg.Seed, cfg.Nodes, cfg.Duration, cfg.Quiet, cfg.Faults, lat, jit)
	}
	return s
}

// Checker returns the simulator's invariant checker.
func (s *Sim) Checker() *Checker { return s.chk }

// Now is the current simulated time.
func (s *Sim) Now() time.Duration { return s.now }

// IDs lists the node ids.
func (s *Sim) IDs() []totem.NodeID { return s.ids }

// Failed reports whether the run stopped because an engine panicked or
// could not be created.
func (s *Sim) Failed() bool { return s.failed }

// LivenessBound is how long after Quiet every node must be operational in
// one ring of all nodes. A node that was frozen or whose peers were
// partitioned away needs at most: one merge-detect interval to notice the
// other ring (Merge), a token timeout to notice a lost token, up to three
// gather/commit rounds (Token+Consensus each) when joins cross, four join
// intervals of join traffic, one stall threshold for a node thawed at Quiet,
// plus 500 ms of margin for loss before Quiet and recovery traffic.
func LivenessBound(c totem.Config) time.Duration {
	return c.Merge + 3*(c.Token+c.Consensus) + 4*c.Join + c.StallThreshold + 500*time.Millisecond
}

// maxTickSends bounds the datagrams (per destination) sent between two
// ticks; more means the engines are in a send storm, and the run stops
// rather than exhaust memory.
const maxTickSends = 100000

// drainTime is how long before the end of a run the workload stops, so
// that every message broadcast can be delivered before the final checks.
const drainTime = time.Second

func (s *Sim) engineConfig(n *simNode) totem.Config {
	c := totem.DefaultConfig(n.id, s.ids)
	c.Rand = rand.New(rand.NewPCG(mix64(s.cfg.Seed^uint64(n.id)<<20), uint64(n.inc)))
	// Like the runtime, derive the initial ring sequence from the clock so
	// that a restarted node does not reuse its earlier ring ids.
	c.InitialRingSeq = uint64(s.now / time.Millisecond)
	if s.tr != nil {
		c.Logger = s.tr.logger(n.id)
	}
	if s.cfg.Engine != nil {
		s.cfg.Engine(&c)
	}
	return c
}

// Run performs the seeded run: nodes start, the workload and fault
// schedule run until Duration, and the final checks (self-delivery,
// liveness) are made. It returns the checker with every violation.
func (s *Sim) Run() *Checker {
	frng := rand.New(rand.NewPCG(mix64(s.cfg.Seed^0x666175), s.cfg.Seed))
	for _, id := range s.ids {
		t := time.Duration(0)
		if s.cfg.StaggerStart {
			t = time.Duration(frng.Int64N(int64(300 * time.Millisecond)))
		}
		s.at(t, func() { s.Start(id) })
	}
	s.scheduleFaults(frng)
	s.at(s.cfg.Quiet, s.quiet)
	ec := s.engineConfig(s.nodes[s.ids[0]])
	s.liveAt = s.cfg.Quiet + LivenessBound(ec)
	s.workloadStop = s.cfg.Duration - drainTime
	if s.cfg.MeanInterval > 0 {
		for _, id := range s.ids {
			s.nodes[id].nextSend = s.expDelay()
		}
	}
	if s.liveAt <= s.cfg.Duration {
		s.at(s.liveAt, s.checkLiveRing)
	}
	s.RunFor(s.cfg.Duration - s.now)
	if !s.failed {
		s.finalChecks()
	}
	return s.chk
}

func (s *Sim) expDelay() time.Duration {
	return time.Duration(s.wrng.ExpFloat64() * float64(s.cfg.MeanInterval))
}

// at schedules do at simulated time t.
func (s *Sim) at(t time.Duration, do func()) {
	s.agendaN++
	a := action{at: t, seq: s.agendaN, do: do}
	i := sort.Search(len(s.agenda), func(i int) bool {
		x := s.agenda[i]
		return x.at > t || (x.at == t && x.seq > a.seq)
	})
	s.agenda = slices.Insert(s.agenda, i, a)
}

// RunFor advances simulated time by d, delivering datagrams at their due
// times and ticking every engine every TickInterval.
func (s *Sim) RunFor(d time.Duration) {
	end := s.now + d
	defer s.recoverPanic()
	for !s.failed {
		t := s.nextTick
		if nd, ok := s.net.nextDelivery(); ok && nd < t {
			t = nd
		}
		if len(s.agenda) > 0 && s.agenda[0].at < t {
			t = s.agenda[0].at
		}
		if s.cfg.MeanInterval > 0 && s.now < s.workloadStop {
			for _, id := range s.ids {
				if ns := s.nodes[id].nextSend; ns < t {
					t = ns
				}
			}
		}
		t = max(t, s.now)
		if t > end {
			s.now = end
			s.net.advance(end)
			return
		}
		s.now = t
		s.net.advance(t)
		s.receive()
		for len(s.agenda) > 0 && s.agenda[0].at <= t && !s.failed {
			a := s.agenda[0]
			s.agenda = s.agenda[1:]
			a.do()
		}
		if s.cfg.MeanInterval > 0 && t < s.workloadStop {
			for _, id := range s.ids {
				if n := s.nodes[id]; n.nextSend <= t {
					s.workload(n)
					n.nextSend = t + max(s.expDelay(), time.Microsecond)
				}
			}
		}
		if t >= s.nextTick {
			for _, id := range s.ids {
				if n := s.nodes[id]; n.up && !n.frozen {
					s.cur = id
					n.eng.Tick(t)
					s.drain(n)
				}
			}
			s.nextTick = t + s.cfg.TickInterval
			s.tickSends = 0
		}
	}
}

func (s *Sim) recoverPanic() {
	if r := recover(); r != nil {
		s.failed = true
		st := strings.Split(string(debug.Stack()), "\n")
		if len(st) > 24 {
			st = st[:24]
		}
		s.chk.Report(InvPanic, s.now, s.cur, "%v\n%s", r, strings.Join(st, "\n"))
		if s.tr != nil {
			s.tr.logf(s.cur, "PANIC %v", r)
		}
	}
}

// receive hands every due datagram to its node.
func (s *Sim) receive() {
	for _, id := range s.ids {
		n := s.nodes[id]
		if !n.up || n.frozen {
			continue
		}
		for _, p := range s.net.receive(id) {
			s.step(n, p)
		}
	}
}

func (s *Sim) step(n *simNode, p packet) {
	m, err := wire.Decode(p.data)
	if err != nil {
		s.chk.Report(InvCodec, s.now, n.id, "datagram of %d bytes from %d does not decode: %v", len(p.data), p.from, err)
		return
	}
	if s.tr != nil {
		s.tr.logf(n.id, "recv %s from %d", describe(m), p.from)
	}
	s.cur = n.id
	n.eng.Step(p.from, m)
	s.drain(n)
}

// drain sends what n's engine wants sent and checks its events.
func (s *Sim) drain(n *simNode) {
	rd := n.eng.Ready()
	for _, o := range rd.Messages {
		if err := wire.Validate(o.Msg); err != nil {
			s.chk.Report(InvCodec, s.now, n.id, "engine produced an invalid %T: %v", o.Msg, err)
			continue
		}
		if s.tickSends += len(o.To); s.tickSends > maxTickSends && !s.failed {
			s.chk.Report(InvEngine, s.now, n.id, "datagram storm: more than %d datagrams sent within one tick (last: %s); run stopped", maxTickSends, describe(o.Msg))
			s.failed = true
		}
		s.buf = wire.Append(s.buf[:0], o.Msg)
		if s.tr != nil {
			s.tr.logf(n.id, "send %s to %v%s", describe(o.Msg), o.To, map[bool]string{true: " critical"}[o.Critical])
		}
		if err := s.net.send(n.id, o.To, s.buf, o.Critical); err != nil {
			s.chk.Report(InvCodec, s.now, n.id, "sending %s: %v", describe(o.Msg), err)
		}
	}
	for _, ev := range rd.Events {
		s.chk.Event(s.now, n.proc, ev)
		if s.tr != nil {
			s.tr.event(n.id, ev)
		}
		if s.onEvent != nil {
			s.onEvent(n.id, ev)
		}
	}
	if s.tr != nil {
		st := n.eng.Status()
		if st.State != n.state || st.Ring != n.ring {
			s.tr.logf(n.id, "state %v -> %v ring %v members %v", n.state, st.State, ringStr(st.Ring), st.Members)
			n.state, n.ring = st.State, st.Ring
		}
	}
}

// Start starts node id with a fresh engine (a new incarnation).
func (s *Sim) Start(id totem.NodeID) {
	n := s.nodes[id]
	if n == nil || n.up {
		return
	}
	n.inc++
	n.proc = s.chk.AddProc(id)
	n.frozen, n.pending, n.own = false, nil, nil
	s.net.restart(id)
	n.state, n.ring = 0, totem.RingID{}
	eng, err := totem.New(s.engineConfig(n))
	if err != nil {
		s.chk.Report(InvEngine, s.now, id, "creating engine: %v", err)
		s.failed = true
		return
	}
	n.eng, n.up = eng, true
	if s.tr != nil {
		s.tr.logf(id, "start (incarnation %d)", n.inc)
	}
	s.cur = id
	eng.Tick(s.now)
	s.drain(n)
}

// Crash stops node id: its engine and buffered datagrams are discarded.
func (s *Sim) Crash(id totem.NodeID) {
	n := s.nodes[id]
	if n == nil || !n.up {
		return
	}
	if s.tr != nil {
		s.tr.logf(id, "fault crash")
	}
	n.up, n.eng, n.frozen, n.pending = false, nil, false, nil
	s.net.crash(id)
}

// Restart starts a crashed node again with a fresh engine.
func (s *Sim) Restart(id totem.NodeID) { s.Start(id) }

// Freeze stops node id's clock and packet processing; the network holds
// the datagrams for it.
func (s *Sim) Freeze(id totem.NodeID) {
	n := s.nodes[id]
	if n == nil || !n.up || n.frozen {
		return
	}
	if s.tr != nil {
		s.tr.logf(id, "fault freeze")
	}
	n.frozen = true
	s.net.freeze(id)
}

// Thaw resumes a frozen node: it processes its buffered datagrams, then
// gets one tick at the current (jumped) time.
func (s *Sim) Thaw(id totem.NodeID) {
	n := s.nodes[id]
	if n == nil || !n.frozen {
		return
	}
	n.frozen = false
	s.net.thaw(id)
	q := s.net.receive(id)
	if s.tr != nil {
		s.tr.logf(id, "fault thaw (%d buffered datagrams)", len(q))
	}
	for _, p := range q {
		s.step(n, p)
	}
	s.cur = id
	n.eng.Tick(s.now)
	s.drain(n)
}

// Partition splits the network into groups.
func (s *Sim) Partition(groups [][]totem.NodeID) {
	if s.tr != nil {
		s.tr.logf(0, "fault partition %s", FormatGroups(groups))
	}
	s.net.partition(groups)
}

// Heal removes any partition.
func (s *Sim) Heal() {
	if s.tr != nil {
		s.tr.logf(0, "fault heal")
	}
	s.net.heal()
}

func (s *Sim) applyLink(what string) {
	if s.tr != nil {
		s.tr.logf(0, "fault %s: loss=%.2f dup=%.2f reorder=%.2f", what, s.link.Loss, s.link.Dup, s.link.Reorder)
	}
	s.net.setAll(s.link)
}

// quiet ends every fault.
func (s *Sim) quiet() {
	if s.tr != nil {
		s.tr.logf(0, "quiet: faults stop")
	}
	s.Heal()
	s.link = s.calm
	s.applyLink("calm")
	for _, id := range s.ids {
		s.Thaw(id)
		s.Start(id)
	}
}

// Broadcast asks node id to broadcast a workload message with body; it
// returns the message id.
func (s *Sim) Broadcast(id totem.NodeID, body []byte, safe bool) (MsgID, error) {
	n := s.nodes[id]
	if n == nil || !n.up || n.frozen {
		return MsgID{}, fmt.Errorf("node %d is not running", id)
	}
	mid := MsgID{Sender: id, Counter: n.counter + 1}
	p := encodePayload(nil, mid, safe, body)
	if err := s.broadcast(n, p); err != nil {
		return MsgID{}, err
	}
	return mid, nil
}

func (s *Sim) broadcast(n *simNode, p []byte) error {
	id, safe, _, _ := decodePayload(p)
	g := totem.Agreed
	if safe {
		g = totem.Safe
	}
	s.cur = n.id
	if err := n.eng.Broadcast(p, g); err != nil {
		return fmt.Errorf("node %d broadcast: %w", n.id, err)
	}
	n.counter = id.Counter
	s.chk.Broadcast(s.now, p)
	n.own = append(n.own, ownMsg{id: id, at: s.now})
	s.sent++
	if s.tr != nil {
		s.tr.logf(n.id, "broadcast %v (%d bytes, %v)", id, len(p), g2s(safe))
	}
	s.drain(n)
	return nil
}

func g2s(safe bool) string {
	if safe {
		return "safe"
	}
	return "agreed"
}

// workload broadcasts the node's next message (or retries a refused one).
func (s *Sim) workload(n *simNode) {
	if !n.up || n.frozen {
		return
	}
	p := n.pending
	if p == nil {
		var size int
		switch r := s.wrng.IntN(100); {
		case r < 60:
			size = 1 + s.wrng.IntN(200)
		case r < 85:
			size = 200 + s.wrng.IntN(1200)
		default:
			size = 1400 + s.wrng.IntN(4096-1400+1)
		}
		size = max(size-payloadHeaderSize, 0)
		body := make([]byte, size)
		for i := range body {
			body[i] = byte(s.wrng.Uint32())
		}
		p = encodePayload(nil, MsgID{Sender: n.id, Counter: n.counter + 1}, s.wrng.IntN(10) < 3, body)
	}
	err := s.broadcast(n, p)
	switch {
	case err == nil:
		n.pending = nil
	case errors.Is(err, totem.ErrQueueFull):
		n.pending = p
	default:
		s.chk.Report(InvEngine, s.now, n.id, "%v", err)
		n.pending = nil
	}
}

// checkLiveRing is the liveness check at Quiet + LivenessBound: every node
// is operational in one ring of all nodes.
func (s *Sim) checkLiveRing() {
	var bad []string
	var ring totem.RingID
	for i, id := range s.ids {
		st := s.nodes[id].eng.Status()
		if i == 0 {
			ring = st.Ring
		}
		if st.State != totem.StateOperational || st.Ring != ring || !slices.Equal(st.Members, s.ids) {
			bad = append(bad, fmt.Sprintf("node %d %v ring %v members %v", id, st.State, ringStr(st.Ring), st.Members))
		}
	}
	if len(bad) > 0 {
		s.chk.Report(InvLiveness, s.now, 0, "%v after quiet (bound %v) the nodes are not one operational ring of %v: %s",
			s.now-s.cfg.Quiet, s.liveAt-s.cfg.Quiet, s.ids, strings.Join(bad, "; "))
		return
	}
	s.liveOK, s.liveRing = true, ring
	if s.tr != nil {
		s.tr.logf(0, "liveness: one ring %v of %v", ringStr(ring), s.ids)
	}
}

// finalChecks runs at the end of Run: self-delivery, ring stability since
// the liveness check, and delivery of every message broadcast after it.
func (s *Sim) finalChecks() {
	end := s.now
	for _, id := range s.ids {
		n := s.nodes[id]
		if !n.up {
			continue
		}
		var missing []MsgID
		for _, m := range n.own {
			if m.at < s.workloadStop && !s.chk.Delivered(n.proc, m.id) {
				missing = append(missing, m.id)
			}
		}
		if len(missing) > 0 {
			s.chk.Report(InvSelfDelivery, end, id, "did not deliver %d of its own messages: %s (status %s)", len(missing), fmtIDs(missing), statusStr(n.eng.Status()))
		}
	}
	if !s.liveOK {
		return
	}
	for _, id := range s.ids {
		st := s.nodes[id].eng.Status()
		if st.Ring != s.liveRing || st.State != totem.StateOperational {
			s.chk.Report(InvLiveness, end, id, "ring changed after the liveness check: %v then %s", ringStr(s.liveRing), statusStr(st))
		}
	}
	for _, sender := range s.ids {
		for _, m := range s.nodes[sender].own {
			if m.at < s.liveAt || m.at >= s.workloadStop {
				continue
			}
			for _, id := range s.ids {
				if !s.chk.Delivered(s.nodes[id].proc, m.id) {
					s.chk.Report(InvLiveness, end, id, "did not deliver %v, broadcast at %v after the ring formed", m.id, m.at)
				}
			}
		}
	}
}

// Status returns node id's engine status and whether it is running.
func (s *Sim) Status(id totem.NodeID) (totem.Status, bool) {
	n := s.nodes[id]
	if n == nil || !n.up {
		return totem.Status{ID: id}, false
	}
	return n.eng.Status(), true
}

// Frozen reports whether node id is frozen.
func (s *Sim) Frozen(id totem.NodeID) bool { n := s.nodes[id]; return n != nil && n.frozen }

// Sent is the number of messages accepted by Broadcast.
func (s *Sim) Sent() int { return s.sent }

func ringStr(r totem.RingID) string { return fmt.Sprintf("%d.%d", r.Rep, r.Seq) }

func statusStr(st totem.Status) string {
	return fmt.Sprintf("%v ring %v members %v seq %d aru %d delivered %d queued %d",
		st.State, ringStr(st.Ring), st.Members, st.Seq, st.Aru, st.HighDelivered, st.Queued)
}
