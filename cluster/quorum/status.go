package quorum

import (
	"slices"
	"strings"
)

// Flags are the votequorum info flags shown by corosync-quorumtool -s.
type Flags uint32

const (
	// FlagTwoNode: two_node is configured.
	FlagTwoNode Flags = 1 << iota
	// FlagQuorate: the partition is quorate.
	FlagQuorate
	// FlagWaitForAll: wait_for_all is enabled (configured or implied by two_node).
	FlagWaitForAll
	// FlagLastManStanding: last_man_standing is enabled.
	FlagLastManStanding
	// FlagAutoTieBreaker: auto_tie_breaker is enabled.
	FlagAutoTieBreaker
	// FlagAllowDownscale: allow_downscale is enabled.
	FlagAllowDownscale
)

var flagNames = []struct {
	f    Flags
	name string
}{
	{FlagTwoNode, "2Node"},
	{FlagQuorate, "Quorate"},
	{FlagWaitForAll, "WaitForAll"},
	{FlagLastManStanding, "LastManStanding"},
	{FlagAutoTieBreaker, "AutoTieBreaker"},
	{FlagAllowDownscale, "AllowDownscale"},
}

// String lists the set flags in corosync-quorumtool's order and spelling,
// separated by single spaces: "2Node Quorate WaitForAll".
func (f Flags) String() string {
	var names []string
	for _, fn := range flagNames {
		if f&fn.f != 0 {
			names = append(names, fn.name)
		}
	}
	return strings.Join(names, " ")
}

// Member is one node of the current view and the votes it contributes.
type Member struct {
	ID    NodeID
	Votes uint32
}

// Status is this node's view of quorum, the data of corosync-quorumtool -s.
type Status struct {
	// Quorate reports whether this partition may run resources.
	Quorate bool
	// ExpectedVotes is the current expected votes.
	ExpectedVotes uint32
	// HighestExpected is what corosync-quorumtool prints as "Highest
	// expected" (the highest expected votes among the members). All members
	// of an ovsha view hold the same value, so it equals ExpectedVotes.
	HighestExpected uint32
	// TotalVotes is the sum of the votes of the current members.
	TotalVotes uint32
	// Quorum is the number of votes needed to be quorate.
	Quorum uint32
	// Flags are the enabled options plus FlagQuorate.
	Flags Flags
	// WaitForAllPending is corosync's runtime.votequorum.wait_for_all_status:
	// wait_for_all is enabled and not yet satisfied, so the partition cannot
	// be quorate until every node has been seen at once.
	WaitForAllPending bool
	// Members is the current view, sorted by node ID.
	Members []Member
}

// Equal reports whether two statuses are identical.
func (s Status) Equal(o Status) bool {
	return s.Quorate == o.Quorate && s.ExpectedVotes == o.ExpectedVotes &&
		s.HighestExpected == o.HighestExpected && s.TotalVotes == o.TotalVotes &&
		s.Quorum == o.Quorum && s.Flags == o.Flags &&
		s.WaitForAllPending == o.WaitForAllPending && slices.Equal(s.Members, o.Members)
}
