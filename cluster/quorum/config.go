package quorum

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// NodeID is a corosync node ID (nodelist.node.N.nodeid). 0 is not a valid ID.
type NodeID = uint32

// DefaultLastManStandingWindow is corosync's last_man_standing_window default
// (10000 ms): long enough for a flapping node to come back before the
// cluster shrinks its expected votes.
const DefaultLastManStandingWindow = 10 * time.Second

// ErrInvalidConfig is wrapped by every error New returns.
var ErrInvalidConfig = errors.New("invalid quorum configuration")

// Setting is an option that may be left to its documented default.
type Setting uint8

const (
	// Default means the option was not given in corosync.conf.
	Default Setting = iota
	// On means the option was set to 1.
	On
	// Off means the option was set to 0 explicitly.
	Off
)

// TieBreakerMode selects how auto_tie_breaker picks the surviving half.
type TieBreakerMode uint8

const (
	// TieBreakLowest keeps the half holding the lowest node ID (default).
	TieBreakLowest TieBreakerMode = iota
	// TieBreakHighest keeps the half holding the highest node ID.
	TieBreakHighest
	// TieBreakList keeps the half holding the first listed node present.
	TieBreakList
)

// TieBreaker is quorum.auto_tie_breaker_node. The zero value is "lowest".
type TieBreaker struct {
	Mode TieBreakerMode
	// Nodes is the ordered node ID list; used only with TieBreakList.
	Nodes []NodeID
}

// String renders the tie-breaker the way corosync.conf spells it.
func (t TieBreaker) String() string {
	switch t.Mode {
	case TieBreakHighest:
		return "highest"
	case TieBreakList:
		parts := make([]string, len(t.Nodes))
		for i, n := range t.Nodes {
			parts[i] = strconv.FormatUint(uint64(n), 10)
		}
		return strings.Join(parts, " ")
	default:
		return "lowest"
	}
}

// ParseTieBreaker parses an auto_tie_breaker_node value: "lowest", "highest"
// or a space-separated list of node IDs.
func ParseTieBreaker(s string) (TieBreaker, error) {
	switch strings.TrimSpace(s) {
	case "lowest":
		return TieBreaker{Mode: TieBreakLowest}, nil
	case "highest":
		return TieBreaker{Mode: TieBreakHighest}, nil
	}
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return TieBreaker{}, fmt.Errorf("auto_tie_breaker_node %q: want lowest, highest or a list of node IDs", s)
	}
	t := TieBreaker{Mode: TieBreakList}
	for _, f := range fields {
		n, err := strconv.ParseUint(f, 10, 32)
		if err != nil || n == 0 {
			return TieBreaker{}, fmt.Errorf("auto_tie_breaker_node %q: %q is not a node ID (want lowest, highest or a list of node IDs 1..4294967295)", s, f)
		}
		t.Nodes = append(t.Nodes, NodeID(n))
	}
	return t, nil
}

// Config is the quorum { } section plus the nodelist votes of corosync.conf.
// Only ExpectedVotes and TwoNode can change at runtime in corosync; ovsha
// changes expected votes at runtime through SetExpected.
type Config struct {
	// Votes maps each nodelist node to its quorum_votes (corosync default 1;
	// 0 makes a non-voting node). May be empty when ExpectedVotes is set
	// (no nodelist). Members missing from this map vote 1.
	Votes map[NodeID]uint32
	// ExpectedVotes is quorum.expected_votes; 0 derives it from the sum of
	// Votes. When both are present this value wins, as in corosync.
	ExpectedVotes uint32
	// TwoNode is quorum.two_node: quorum is 1 while at most two nodes are
	// members. Implies WaitForAll unless WaitForAll is Off.
	TwoNode bool
	// WaitForAll is quorum.wait_for_all. Default means On with TwoNode and
	// Off otherwise.
	WaitForAll Setting
	// LastManStanding is quorum.last_man_standing; every node must vote 1.
	LastManStanding bool
	// LastManStandingWindow is quorum.last_man_standing_window; 0 means
	// DefaultLastManStandingWindow.
	LastManStandingWindow time.Duration
	// AutoTieBreaker is quorum.auto_tie_breaker.
	AutoTieBreaker bool
	// TieBreaker is quorum.auto_tie_breaker_node; meaningful only with
	// AutoTieBreaker.
	TieBreaker TieBreaker
	// AllowDownscale is quorum.allow_downscale.
	AllowDownscale bool
}

// settings is a validated Config with defaults applied.
type settings struct {
	votes          map[NodeID]uint32
	expected       uint32 // initial expected votes
	twoNode        bool
	waitForAll     bool
	lms            bool
	lmsWindow      time.Duration
	atb            bool
	tieBreaker     TieBreaker
	allowDownscale bool
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...))
}

// validate checks cfg the way corosync's votequorum_readconfig does, but
// rejects the combinations corosync would silently disable.
func (cfg Config) validate() (settings, error) {
	s := settings{
		votes:          make(map[NodeID]uint32, len(cfg.Votes)),
		twoNode:        cfg.TwoNode,
		lms:            cfg.LastManStanding,
		lmsWindow:      cfg.LastManStandingWindow,
		atb:            cfg.AutoTieBreaker,
		allowDownscale: cfg.AllowDownscale,
	}
	var sum uint64
	for id, v := range cfg.Votes {
		if id == 0 {
			return s, invalid("nodelist node ID 0 is reserved; node IDs start at 1")
		}
		s.votes[id] = v
		sum += uint64(v)
	}
	if sum > math.MaxUint32 {
		return s, invalid("nodelist quorum_votes add up to %d, more than %d", sum, uint32(math.MaxUint32))
	}
	s.expected = cfg.ExpectedVotes
	if s.expected == 0 {
		s.expected = uint32(sum)
	}
	if s.expected == 0 {
		return s, invalid("nodelist or quorum.expected_votes must be configured (no voting nodes and no expected_votes)")
	}

	switch cfg.WaitForAll {
	case Default:
		s.waitForAll = cfg.TwoNode
	case On:
		s.waitForAll = true
	case Off:
		s.waitForAll = false
	default:
		return s, invalid("quorum.wait_for_all setting %d is not Default, On or Off", cfg.WaitForAll)
	}

	if s.lmsWindow < 0 {
		return s, invalid("quorum.last_man_standing_window %v is negative", s.lmsWindow)
	}
	if s.lmsWindow == 0 {
		s.lmsWindow = DefaultLastManStandingWindow
	}
	if s.lms {
		for _, id := range sortedIDs(s.votes) {
			if v := s.votes[id]; v != 1 {
				return s, invalid("quorum.last_man_standing needs every node to have quorum_votes 1, node %d has %d", id, v)
			}
		}
	}

	if !s.atb {
		if cfg.TieBreaker.Mode != TieBreakLowest || len(cfg.TieBreaker.Nodes) > 0 {
			return s, invalid("quorum.auto_tie_breaker_node %q is set but auto_tie_breaker is off", cfg.TieBreaker)
		}
	} else {
		if err := validateTieBreaker(cfg.TieBreaker); err != nil {
			return s, err
		}
		s.tieBreaker = TieBreaker{Mode: cfg.TieBreaker.Mode, Nodes: slices.Clone(cfg.TieBreaker.Nodes)}
		if s.twoNode {
			return s, invalid("quorum.two_node and quorum.auto_tie_breaker cannot be combined (two_node relies on a fence race); disable one of them")
		}
	}
	return s, nil
}

func validateTieBreaker(t TieBreaker) error {
	switch t.Mode {
	case TieBreakLowest, TieBreakHighest:
		if len(t.Nodes) > 0 {
			return invalid("quorum.auto_tie_breaker_node: a node list is given with mode %q; use TieBreakList", t)
		}
	case TieBreakList:
		if len(t.Nodes) == 0 {
			return invalid("quorum.auto_tie_breaker_node: empty node list")
		}
		seen := make(map[NodeID]bool, len(t.Nodes))
		for _, n := range t.Nodes {
			if n == 0 {
				return invalid("quorum.auto_tie_breaker_node %q: node ID 0 is reserved", t)
			}
			if seen[n] {
				return invalid("quorum.auto_tie_breaker_node %q: node %d is listed twice", t, n)
			}
			seen[n] = true
		}
	default:
		return invalid("quorum.auto_tie_breaker_node: unknown mode %d", t.Mode)
	}
	return nil
}

func sortedIDs(m map[NodeID]uint32) []NodeID {
	ids := make([]NodeID, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
