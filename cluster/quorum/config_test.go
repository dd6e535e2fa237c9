package quorum

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string // substring of the error
	}{
		{"nothing to count", Config{}, "nodelist or quorum.expected_votes must be configured"},
		{"only zero-vote nodes", Config{Votes: map[NodeID]uint32{1: 0}}, "must be configured"},
		{"node id 0", Config{Votes: map[NodeID]uint32{0: 1, 1: 1}}, "node ID 0 is reserved"},
		{"negative window", Config{Votes: votes(3), LastManStanding: true, LastManStandingWindow: -time.Second}, "negative"},
		{"lms with unequal votes", Config{Votes: map[NodeID]uint32{1: 1, 2: 2}, LastManStanding: true}, "node 2 has 2"},
		{"two_node with atb", Config{Votes: votes(2), TwoNode: true, AutoTieBreaker: true}, "cannot be combined"},
		{"tie-breaker without atb", Config{Votes: votes(4), TieBreaker: TieBreaker{Mode: TieBreakHighest}}, "auto_tie_breaker is off"},
		{"empty list", Config{Votes: votes(4), AutoTieBreaker: true, TieBreaker: TieBreaker{Mode: TieBreakList}}, "empty node list"},
		{"list with 0", Config{Votes: votes(4), AutoTieBreaker: true, TieBreaker: TieBreaker{Mode: TieBreakList, Nodes: ids(1, 0)}}, "node ID 0"},
		{"list duplicate", Config{Votes: votes(4), AutoTieBreaker: true, TieBreaker: TieBreaker{Mode: TieBreakList, Nodes: ids(1, 1)}}, "listed twice"},
		{"nodes with lowest", Config{Votes: votes(4), AutoTieBreaker: true, TieBreaker: TieBreaker{Nodes: ids(1)}}, "node list is given"},
		{"bad wfa setting", Config{Votes: votes(3), WaitForAll: Setting(7)}, "not Default, On or Off"},
		{"overflowing votes", Config{Votes: map[NodeID]uint32{1: 1 << 31, 2: 1 << 31}}, "add up to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if err == nil {
				t.Fatalf("New succeeded, want error containing %q", tt.want)
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("error %v does not wrap ErrInvalidConfig", err)
			}
			if !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q, want one line containing %q", err, tt.want)
			}
		})
	}
}

func TestNewAcceptsDocumentedConfigs(t *testing.T) {
	tests := []struct {
		name      string
		cfg       Config
		wantFlags string
		wantEV    uint32
		wantQ     uint32
	}{
		{"8 nodes by expected_votes", Config{ExpectedVotes: 8}, "", 8, 5},
		{"3 node nodelist", Config{Votes: votes(3)}, "", 3, 2},
		{"two_node implies wfa", Config{Votes: votes(2), TwoNode: true}, "2Node WaitForAll", 2, 1},
		{"two_node by expected_votes", Config{ExpectedVotes: 2, TwoNode: true}, "2Node WaitForAll", 2, 1},
		{"two_node wfa off", Config{Votes: votes(2), TwoNode: true, WaitForAll: Off}, "2Node", 2, 1},
		{"atb odd with wfa", Config{Votes: votes(3), AutoTieBreaker: true, WaitForAll: On}, "WaitForAll AutoTieBreaker", 3, 2},
		{"atb odd without wfa", Config{Votes: votes(3), AutoTieBreaker: true}, "AutoTieBreaker", 3, 2},
		{"atb list", Config{ExpectedVotes: 8, AutoTieBreaker: true, TieBreaker: TieBreaker{Mode: TieBreakList, Nodes: ids(1, 3, 5)}}, "AutoTieBreaker", 8, 5},
		{"all features", Config{Votes: votes(4), WaitForAll: On, LastManStanding: true, AutoTieBreaker: true, AllowDownscale: true},
			"WaitForAll LastManStanding AutoTieBreaker AllowDownscale", 4, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := New(tt.cfg)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			st := q.Status()
			if st.Quorate || len(st.Members) != 0 {
				t.Errorf("cold start: quorate %v members %v, want not quorate and no members", st.Quorate, st.Members)
			}
			if got := st.Flags.String(); got != tt.wantFlags {
				t.Errorf("flags %q, want %q", got, tt.wantFlags)
			}
			if st.ExpectedVotes != tt.wantEV || st.Quorum != tt.wantQ {
				t.Errorf("expected %d quorum %d, want %d %d", st.ExpectedVotes, st.Quorum, tt.wantEV, tt.wantQ)
			}
		})
	}
}

func TestParseTieBreaker(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{"lowest", "lowest", false},
		{"highest", "highest", false},
		{" 1 3  5 ", "1 3 5", false},
		{"7", "7", false},
		{"", "", true},
		{"low", "", true},
		{"1 x", "", true},
		{"0", "", true},
		{"-1", "", true},
		{"4294967296", "", true},
	}
	for _, tt := range tests {
		got, err := ParseTieBreaker(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseTieBreaker(%q) err = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if err == nil && got.String() != tt.want {
			t.Errorf("ParseTieBreaker(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFlagsString(t *testing.T) {
	all := FlagTwoNode | FlagQuorate | FlagWaitForAll | FlagLastManStanding | FlagAutoTieBreaker | FlagAllowDownscale
	tests := []struct {
		f    Flags
		want string
	}{
		{0, ""},
		{FlagQuorate, "Quorate"},
		{FlagWaitForAll | FlagQuorate | FlagTwoNode, "2Node Quorate WaitForAll"},
		{all, "2Node Quorate WaitForAll LastManStanding AutoTieBreaker AllowDownscale"},
	}
	for _, tt := range tests {
		if got := tt.f.String(); got != tt.want {
			t.Errorf("Flags(%b).String() = %q, want %q", tt.f, got, tt.want)
		}
	}
}

func TestStatusMembersAndTickChanged(t *testing.T) {
	q, err := New(Config{Votes: map[NodeID]uint32{1: 1, 2: 1, 3: 1, 4: 1}, LastManStanding: true, LastManStandingWindow: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	st := q.SetMembers(0, ids(4, 2, 1, 2, 3), nil) // unsorted, duplicate
	want := []Member{{1, 1}, {2, 1}, {3, 1}, {4, 1}}
	if len(st.Members) != len(want) {
		t.Fatalf("members %v, want %v", st.Members, want)
	}
	for i := range want {
		if st.Members[i] != want[i] {
			t.Fatalf("members %v, want %v", st.Members, want)
		}
	}
	if _, armed := q.Deadline(); armed {
		t.Fatal("LMS timer armed without any node leaving")
	}
	if _, changed := q.Tick(time.Hour); changed {
		t.Fatal("Tick changed state with no timer armed")
	}
	q.SetMembers(10*time.Second, ids(1, 2, 3), nil)
	dl, armed := q.Deadline()
	if !armed || dl != 11*time.Second {
		t.Fatalf("Deadline = %v, %v; want 11s, true", dl, armed)
	}
	if _, changed := q.Tick(11*time.Second - 1); changed {
		t.Fatal("Tick before the deadline changed state")
	}
	st, changed := q.Tick(11 * time.Second)
	if !changed || st.ExpectedVotes != 3 {
		t.Fatalf("Tick at deadline: changed %v expected %d; want true, 3", changed, st.ExpectedVotes)
	}
	if _, armed := q.Deadline(); armed {
		t.Fatal("LMS timer still armed after firing")
	}
	if _, changed := q.Tick(12 * time.Second); changed {
		t.Fatal("second Tick changed state")
	}
}

func TestSetExpectedErrorWrapsSentinel(t *testing.T) {
	q, err := New(Config{Votes: votes(3)})
	if err != nil {
		t.Fatal(err)
	}
	q.SetMembers(0, ids(1, 2), nil)
	err = q.SetExpected(9)
	if !errors.Is(err, ErrInvalidExpected) || !strings.Contains(err.Error(), "only 2 votes are present") {
		t.Fatalf("SetExpected(9) = %v, want ErrInvalidExpected naming the 2 votes present", err)
	}
}
