package quorum

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// step is one input to a Quorum followed by the state expected after it.
// Exactly one of members (a view change), tick, expect (SetExpected) or
// peer (PeerQuorate) is the input; at is the time of SetMembers and Tick.
type step struct {
	at      time.Duration
	members []NodeID
	left    []NodeID
	tick    bool
	expect  uint32 // SetExpected(expect); wantErr says whether it must fail
	wantErr bool
	peer    NodeID // PeerQuorate(peer, peerExpected)
	peerEV  uint32
	cancel  bool // CancelWaitForAll

	want string // "Q|-- ev=E q=Q tv=T [wfa]"
}

func ids(n ...NodeID) []NodeID { return n }

// summary renders the fields the scenarios check, compactly.
func summary(st Status) string {
	q := "--"
	if st.Quorate {
		q = "Q"
	}
	s := fmt.Sprintf("%s ev=%d q=%d tv=%d", q, st.ExpectedVotes, st.Quorum, st.TotalVotes)
	if st.WaitForAllPending {
		s += " wfa"
	}
	return s
}

func runScenario(t *testing.T, cfg Config, steps []step) {
	t.Helper()
	q, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	for i, s := range steps {
		var st Status
		var desc string
		switch {
		case s.tick:
			st, _ = q.Tick(s.at)
			desc = fmt.Sprintf("Tick(%v)", s.at)
		case s.expect != 0 || s.wantErr:
			err := q.SetExpected(s.expect)
			desc = fmt.Sprintf("SetExpected(%d)", s.expect)
			if (err != nil) != s.wantErr {
				t.Fatalf("step %d %s: err = %v, want error %v", i, desc, err, s.wantErr)
			}
			st = q.Status()
		case s.peer != 0:
			st = q.PeerQuorate(s.peer, s.peerEV)
			desc = fmt.Sprintf("PeerQuorate(%d, %d)", s.peer, s.peerEV)
		case s.cancel:
			st = q.CancelWaitForAll()
			desc = "CancelWaitForAll()"
		default:
			st = q.SetMembers(s.at, s.members, s.left)
			desc = fmt.Sprintf("SetMembers(%v, %v, left %v)", s.at, s.members, s.left)
		}
		if got := summary(st); got != s.want {
			t.Fatalf("step %d %s:\n got  %s\n want %s", i, desc, got, s.want)
		}
		if st.Quorate != (st.Flags&FlagQuorate != 0) {
			t.Fatalf("step %d %s: Quorate %v but flags %q", i, desc, st.Quorate, st.Flags)
		}
		if strings.Contains(s.want, "wfa") && !st.WaitForAllPending {
			t.Fatalf("step %d: want wait_for_all pending", i)
		}
	}
}

func votes(n int) map[NodeID]uint32 {
	m := make(map[NodeID]uint32, n)
	for i := 1; i <= n; i++ {
		m[NodeID(i)] = 1
	}
	return m
}

func TestScenarios(t *testing.T) {
	sec := time.Second
	tests := []struct {
		name  string
		cfg   Config
		steps []step
	}{
		{
			name: "three nodes: lose one stays quorate, lose two does not",
			cfg:  Config{Votes: votes(3)},
			steps: []step{
				{members: ids(1, 2, 3), want: "Q ev=3 q=2 tv=3"},
				{members: ids(1, 2), want: "Q ev=3 q=2 tv=2"},
				{members: ids(1), want: "-- ev=3 q=2 tv=1"},
				{members: ids(1, 3), want: "Q ev=3 q=2 tv=2"},
			},
		},
		{
			name: "no wait_for_all: a majority is quorate at cold start",
			cfg:  Config{Votes: votes(3)},
			steps: []step{
				{members: ids(1), want: "-- ev=3 q=2 tv=1"},
				{members: ids(1, 2), want: "Q ev=3 q=2 tv=2"},
			},
		},
		{
			name: "configured expected_votes overrides the nodelist sum",
			cfg:  Config{Votes: votes(3), ExpectedVotes: 5},
			steps: []step{
				{members: ids(1, 2), want: "-- ev=5 q=3 tv=2"},
				{members: ids(1, 2, 3), want: "Q ev=5 q=3 tv=3"},
			},
		},
		{
			name: "expected_votes without nodelist: every node votes 1",
			cfg:  Config{ExpectedVotes: 8},
			steps: []step{
				{members: ids(1, 2, 3, 4), want: "-- ev=8 q=5 tv=4"},
				{members: ids(1, 2, 3, 4, 5), want: "Q ev=8 q=5 tv=5"},
			},
		},
		{
			name: "expected votes rise to the votes present and never fall back",
			cfg:  Config{Votes: votes(2), ExpectedVotes: 3},
			steps: []step{
				{members: ids(1, 2, 3, 4, 5), want: "Q ev=5 q=3 tv=5"},
				{members: ids(1, 2, 3), want: "Q ev=5 q=3 tv=3"},
				{members: ids(1, 2), want: "-- ev=5 q=3 tv=2"},
			},
		},
		{
			name: "unequal votes: the heavy node plus one is quorate, the light pair is not",
			cfg:  Config{Votes: map[NodeID]uint32{1: 3, 2: 1, 3: 1}},
			steps: []step{
				{members: ids(1, 2, 3), want: "Q ev=5 q=3 tv=5"},
				{members: ids(2, 3), want: "-- ev=5 q=3 tv=2"},
				{members: ids(1), want: "Q ev=5 q=3 tv=3"},
			},
		},
		{
			name: "zero-vote node does not count",
			cfg:  Config{Votes: map[NodeID]uint32{1: 1, 2: 1, 3: 0}},
			steps: []step{
				{members: ids(1, 2, 3), want: "Q ev=2 q=2 tv=2"},
				{members: ids(1, 3), want: "-- ev=2 q=2 tv=1"},
			},
		},
		{
			name: "two_node: a single node is not quorate at cold start",
			cfg:  Config{Votes: votes(2), TwoNode: true},
			steps: []step{
				{members: ids(1), want: "-- ev=2 q=1 tv=1 wfa"},
				{members: ids(1, 2), want: "Q ev=2 q=1 tv=2"},
			},
		},
		{
			name: "two_node split: each side alone stays quorate once WFA was satisfied",
			cfg:  Config{Votes: votes(2), TwoNode: true},
			steps: []step{
				{members: ids(1, 2), want: "Q ev=2 q=1 tv=2"},
				{members: ids(1), want: "Q ev=2 q=1 tv=1"},
				{members: ids(1, 2), want: "Q ev=2 q=1 tv=2"},
				{members: ids(2), want: "Q ev=2 q=1 tv=1"},
			},
		},
		{
			name: "two_node with wait_for_all explicitly off: quorate alone at cold start",
			cfg:  Config{Votes: votes(2), TwoNode: true, WaitForAll: Off},
			steps: []step{
				{members: ids(1), want: "Q ev=2 q=1 tv=1"},
			},
		},
		{
			name: "two_node is inactive while three nodes are members",
			cfg:  Config{Votes: votes(2), TwoNode: true},
			steps: []step{
				{members: ids(1, 2), want: "Q ev=2 q=1 tv=2"},
				{members: ids(1, 2, 3), want: "Q ev=3 q=2 tv=3"},
				{members: ids(1, 2), want: "Q ev=3 q=1 tv=2"},
				{members: ids(1), want: "Q ev=3 q=1 tv=1"},
			},
		},
		{
			name: "wait_for_all: not quorate until every node was seen together",
			cfg:  Config{Votes: votes(3), WaitForAll: On},
			steps: []step{
				{members: ids(1), want: "-- ev=3 q=2 tv=1 wfa"},
				{members: ids(1, 2), want: "-- ev=3 q=2 tv=2 wfa"},
				{members: ids(1, 2, 3), want: "Q ev=3 q=2 tv=3"},
				{members: ids(1, 2), want: "Q ev=3 q=2 tv=2"},
			},
		},
		{
			name: "wait_for_all re-arms when the partition loses quorum",
			cfg:  Config{Votes: votes(3), WaitForAll: On},
			steps: []step{
				{members: ids(1, 2, 3), want: "Q ev=3 q=2 tv=3"},
				{members: ids(1), want: "-- ev=3 q=2 tv=1 wfa"},
				{members: ids(1, 2), want: "-- ev=3 q=2 tv=2 wfa"},
				{members: ids(1, 2, 3), want: "Q ev=3 q=2 tv=3"},
			},
		},
		{
			name: "wait_for_all: joining a quorate partition adopts its state",
			cfg:  Config{Votes: votes(3), WaitForAll: On},
			steps: []step{
				{members: ids(1, 2), want: "-- ev=3 q=2 tv=2 wfa"},
				{peer: 9, peerEV: 3, want: "-- ev=3 q=2 tv=2 wfa"}, // not a member: ignored
				{peer: 1, peerEV: 3, want: "Q ev=3 q=2 tv=2"},
			},
		},
		{
			name: "a restarted node adopts a last_man_standing reduced expected votes",
			cfg:  Config{Votes: votes(5), WaitForAll: On, LastManStanding: true},
			steps: []step{
				{members: ids(2, 3), want: "-- ev=5 q=3 tv=2 wfa"},
				{peer: 2, peerEV: 3, want: "Q ev=3 q=2 tv=2"},
			},
		},
		{
			name: "CancelWaitForAll lets votes alone decide",
			cfg:  Config{Votes: votes(3), WaitForAll: On},
			steps: []step{
				{members: ids(1, 2), want: "-- ev=3 q=2 tv=2 wfa"},
				{cancel: true, want: "Q ev=3 q=2 tv=2"},
			},
		},
		{
			name: "last_man_standing shrinks expected votes 5→4→3→2 one window at a time",
			cfg:  Config{Votes: votes(5), LastManStanding: true, LastManStandingWindow: 10 * sec},
			steps: []step{
				{at: 0, members: ids(1, 2, 3, 4, 5), want: "Q ev=5 q=3 tv=5"},
				{at: 1 * sec, members: ids(1, 2, 3, 4), want: "Q ev=5 q=3 tv=4"},
				{at: 5 * sec, tick: true, want: "Q ev=5 q=3 tv=4"},
				{at: 11*sec - 1, tick: true, want: "Q ev=5 q=3 tv=4"},
				{at: 11 * sec, tick: true, want: "Q ev=4 q=3 tv=4"},
				{at: 20 * sec, members: ids(1, 2, 3), want: "Q ev=4 q=3 tv=3"},
				{at: 30 * sec, tick: true, want: "Q ev=3 q=2 tv=3"},
				{at: 40 * sec, members: ids(1, 2), want: "Q ev=3 q=2 tv=2"},
				{at: 50 * sec, tick: true, want: "Q ev=2 q=2 tv=2"},
				// Without auto_tie_breaker the last node cannot go on alone.
				{at: 60 * sec, members: ids(1), want: "-- ev=2 q=2 tv=1"},
				{at: 99 * sec, tick: true, want: "-- ev=2 q=2 tv=1"},
			},
		},
		{
			name: "last_man_standing: a further loss inside the window restarts it",
			cfg:  Config{Votes: votes(5), LastManStanding: true, LastManStandingWindow: 10 * sec},
			steps: []step{
				{at: 0, members: ids(1, 2, 3, 4, 5), want: "Q ev=5 q=3 tv=5"},
				{at: 1 * sec, members: ids(1, 2, 3, 4), want: "Q ev=5 q=3 tv=4"},
				{at: 6 * sec, members: ids(1, 2, 3), want: "Q ev=5 q=3 tv=3"},
				{at: 11 * sec, tick: true, want: "Q ev=5 q=3 tv=3"},
				{at: 16 * sec, tick: true, want: "Q ev=3 q=2 tv=3"},
			},
		},
		{
			name: "last_man_standing does nothing when quorum was lost before the window",
			cfg:  Config{Votes: votes(5), LastManStanding: true, LastManStandingWindow: 10 * sec},
			steps: []step{
				{at: 0, members: ids(1, 2, 3, 4, 5), want: "Q ev=5 q=3 tv=5"},
				{at: 1 * sec, members: ids(1, 2), want: "-- ev=5 q=3 tv=2"},
				{at: 20 * sec, tick: true, want: "-- ev=5 q=3 tv=2"},
			},
		},
		{
			name: "last_man_standing with auto_tie_breaker goes down to one node",
			cfg: Config{Votes: votes(4), LastManStanding: true, LastManStandingWindow: 10 * sec,
				AutoTieBreaker: true},
			steps: []step{
				{at: 0, members: ids(1, 2, 3, 4), want: "Q ev=4 q=3 tv=4"},
				{at: 1 * sec, members: ids(1, 2, 3), want: "Q ev=4 q=3 tv=3"},
				{at: 11 * sec, tick: true, want: "Q ev=3 q=2 tv=3"},
				{at: 12 * sec, members: ids(1, 2), want: "Q ev=3 q=2 tv=2"},
				{at: 22 * sec, tick: true, want: "Q ev=2 q=2 tv=2"},
				// 1 == 2/2 and node 1 is the lowest of the last quorate view.
				{at: 23 * sec, members: ids(1), want: "Q ev=2 q=2 tv=1"},
				{at: 33 * sec, tick: true, want: "Q ev=1 q=1 tv=1"},
			},
		},
		{
			name: "auto_tie_breaker lowest: 2|2 split of 4, the half with node 1 stays",
			cfg:  Config{Votes: votes(4), AutoTieBreaker: true},
			steps: []step{
				{members: ids(1, 2, 3, 4), want: "Q ev=4 q=3 tv=4"},
				{members: ids(1, 3), want: "Q ev=4 q=3 tv=2"},
			},
		},
		{
			name: "auto_tie_breaker lowest: the half without node 1 is inquorate",
			cfg:  Config{Votes: votes(4), AutoTieBreaker: true},
			steps: []step{
				{members: ids(1, 2, 3, 4), want: "Q ev=4 q=3 tv=4"},
				{members: ids(2, 4), want: "-- ev=4 q=3 tv=2"},
			},
		},
		{
			name: "auto_tie_breaker lowest means lowest of the last quorate view",
			cfg:  Config{Votes: votes(4), AutoTieBreaker: true},
			steps: []step{
				{members: ids(2, 3, 4), want: "Q ev=4 q=3 tv=3"},
				{members: ids(2), want: "-- ev=4 q=3 tv=1"}, // 1 != 4/2: no tie
				{members: ids(2, 3, 4), want: "Q ev=4 q=3 tv=3"},
				{members: ids(2, 3), want: "Q ev=4 q=3 tv=2"},
			},
		},
		{
			name: "auto_tie_breaker lowest: no tie-breaker known at cold start",
			cfg:  Config{Votes: votes(4), AutoTieBreaker: true},
			steps: []step{
				{members: ids(1, 2), want: "-- ev=4 q=3 tv=2"},
			},
		},
		{
			name: "auto_tie_breaker highest: the half with node 4 stays",
			cfg:  Config{Votes: votes(4), AutoTieBreaker: true, TieBreaker: TieBreaker{Mode: TieBreakHighest}},
			steps: []step{
				{members: ids(1, 2, 3, 4), want: "Q ev=4 q=3 tv=4"},
				{members: ids(1, 2), want: "-- ev=4 q=3 tv=2"},
			},
		},
		{
			name: "auto_tie_breaker highest: the other half",
			cfg:  Config{Votes: votes(4), AutoTieBreaker: true, TieBreaker: TieBreaker{Mode: TieBreakHighest}},
			steps: []step{
				{members: ids(1, 2, 3, 4), want: "Q ev=4 q=3 tv=4"},
				{members: ids(3, 4), want: "Q ev=4 q=3 tv=2"},
			},
		},
		{
			name: "auto_tie_breaker list 3 1: the half with node 3 stays",
			cfg: Config{Votes: votes(4), AutoTieBreaker: true,
				TieBreaker: TieBreaker{Mode: TieBreakList, Nodes: ids(3, 1)}},
			steps: []step{
				{members: ids(1, 2, 3, 4), want: "Q ev=4 q=3 tv=4"},
				{members: ids(3, 4), want: "Q ev=4 q=3 tv=2"},
			},
		},
		{
			name: "auto_tie_breaker list 3 1: node 1's half loses while 3 may be on the other side",
			cfg: Config{Votes: votes(4), AutoTieBreaker: true,
				TieBreaker: TieBreaker{Mode: TieBreakList, Nodes: ids(3, 1)}},
			steps: []step{
				{members: ids(1, 2, 3, 4), want: "Q ev=4 q=3 tv=4"},
				{members: ids(1, 2), want: "-- ev=4 q=3 tv=2"},
			},
		},
		{
			name: "auto_tie_breaker list 3 1: node 1 decides when 3 was not in the cluster",
			cfg: Config{Votes: votes(4), AutoTieBreaker: true,
				TieBreaker: TieBreaker{Mode: TieBreakList, Nodes: ids(3, 1)}},
			steps: []step{
				{members: ids(1, 2, 4), want: "Q ev=4 q=3 tv=3"},
				{members: ids(1, 2), want: "Q ev=4 q=3 tv=2"},
			},
		},
		{
			name: "auto_tie_breaker list never grants quorum at cold start (stricter than corosync)",
			cfg: Config{Votes: votes(4), AutoTieBreaker: true,
				TieBreaker: TieBreaker{Mode: TieBreakList, Nodes: ids(3, 1)}},
			steps: []step{
				{members: ids(3, 4), want: "-- ev=4 q=3 tv=2"},
			},
		},
		{
			name: "auto_tie_breaker keeps quorum across a repeated view and until heal",
			cfg:  Config{Votes: votes(4), AutoTieBreaker: true},
			steps: []step{
				{members: ids(1, 2, 3, 4), want: "Q ev=4 q=3 tv=4"},
				{members: ids(1, 2), want: "Q ev=4 q=3 tv=2"},
				{members: ids(1, 2), want: "Q ev=4 q=3 tv=2"},
				{members: ids(1, 2, 3, 4), want: "Q ev=4 q=3 tv=4"},
			},
		},
		{
			name: "auto_tie_breaker in an odd cluster: the half-minus-one side stays inquorate (stricter than corosync)",
			cfg:  Config{Votes: votes(5), AutoTieBreaker: true, WaitForAll: On},
			steps: []step{
				{members: ids(1, 2, 3, 4, 5), want: "Q ev=5 q=3 tv=5"},
				{members: ids(1, 2, 3, 4), want: "Q ev=5 q=3 tv=4"},
				{members: ids(1, 2), want: "-- ev=5 q=3 tv=2 wfa"},
			},
		},
		{
			name: "auto_tie_breaker does not apply unless the split is exactly half",
			cfg:  Config{Votes: votes(6), AutoTieBreaker: true},
			steps: []step{
				{members: ids(1, 2, 3, 4, 5, 6), want: "Q ev=6 q=4 tv=6"},
				{members: ids(1, 2), want: "-- ev=6 q=4 tv=2"},
			},
		},
		{
			name: "allow_downscale: clean shutdowns shrink expected votes down to the configured value",
			cfg:  Config{ExpectedVotes: 3, AllowDownscale: true},
			steps: []step{
				{members: ids(1, 2, 3, 4, 5), want: "Q ev=5 q=3 tv=5"},
				{members: ids(1, 2, 3, 4), left: ids(5), want: "Q ev=4 q=3 tv=4"},
				{members: ids(1, 2, 3), left: ids(4), want: "Q ev=3 q=2 tv=3"},
				{members: ids(1, 2), left: ids(3), want: "Q ev=3 q=2 tv=2"},
			},
		},
		{
			name: "allow_downscale: a crash (not a clean leave) keeps expected votes",
			cfg:  Config{ExpectedVotes: 3, AllowDownscale: true},
			steps: []step{
				{members: ids(1, 2, 3, 4, 5), want: "Q ev=5 q=3 tv=5"},
				{members: ids(1, 2, 3, 4), want: "Q ev=5 q=3 tv=4"},
				{members: ids(1, 2, 3), left: ids(3), want: "Q ev=5 q=3 tv=3"}, // 3 is still a member
			},
		},
		{
			name: "allow_downscale: only clean leavers' votes come off; a crashed node still counts",
			cfg:  Config{ExpectedVotes: 3, AllowDownscale: true},
			steps: []step{
				{members: ids(1, 2, 3, 4, 5), want: "Q ev=5 q=3 tv=5"},
				{members: ids(1, 2, 3, 4), want: "Q ev=5 q=3 tv=4"},            // 5 crashed
				{members: ids(1, 2, 3), left: ids(4), want: "Q ev=4 q=3 tv=3"}, // 4 left cleanly
			},
		},
		{
			name: "allow_downscale: a clean leave and a join in one view never leave expected below the votes present",
			cfg:  Config{ExpectedVotes: 3, AllowDownscale: true},
			steps: []step{
				{members: ids(1, 2, 3, 4, 5), want: "Q ev=5 q=3 tv=5"},
				{members: ids(1, 2, 3, 4, 6), left: ids(5), want: "Q ev=5 q=3 tv=5"},
			},
		},
		{
			name: "without allow_downscale a clean leave keeps expected votes",
			cfg:  Config{ExpectedVotes: 3},
			steps: []step{
				{members: ids(1, 2, 3, 4, 5), want: "Q ev=5 q=3 tv=5"},
				{members: ids(1, 2, 3, 4), left: ids(5), want: "Q ev=5 q=3 tv=4"},
			},
		},
		{
			name: "SetExpected: lower expected votes to keep a shrunken cluster quorate",
			cfg:  Config{Votes: votes(5)},
			steps: []step{
				{members: ids(1, 2, 3, 4, 5), want: "Q ev=5 q=3 tv=5"},
				{members: ids(1, 2, 3), want: "Q ev=5 q=3 tv=3"},
				{expect: 3, want: "Q ev=3 q=2 tv=3"},
				{members: ids(1, 2), want: "Q ev=3 q=2 tv=2"},
			},
		},
		{
			name: "SetExpected: force quorum on a lone node",
			cfg:  Config{Votes: votes(3), WaitForAll: On},
			steps: []step{
				{members: ids(1), want: "-- ev=3 q=2 tv=1 wfa"},
				{expect: 1, want: "Q ev=1 q=1 tv=1"},
			},
		},
		{
			name: "SetExpected: below the votes present is raised to them",
			cfg:  Config{Votes: votes(5)},
			steps: []step{
				{members: ids(1, 2, 3, 4), want: "Q ev=5 q=3 tv=4"},
				{expect: 2, want: "Q ev=4 q=3 tv=4"},
			},
		},
		{
			name: "SetExpected errors: zero, and a value whose quorum exceeds the votes present",
			cfg:  Config{Votes: votes(3)},
			steps: []step{
				{members: ids(1, 2, 3), want: "Q ev=3 q=2 tv=3"},
				{expect: 0, wantErr: true, want: "Q ev=3 q=2 tv=3"},
				{expect: 6, wantErr: true, want: "Q ev=3 q=2 tv=3"}, // quorum 4 > 3 votes
				{expect: 5, want: "Q ev=5 q=3 tv=3"},                // quorum 3 == 3 votes
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { runScenario(t, tt.cfg, tt.steps) })
	}
}
