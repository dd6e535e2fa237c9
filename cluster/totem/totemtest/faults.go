package totemtest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/ovsha/ovsha/cluster/totem"
)

// Faults is a set of fault kinds the simulator may inject.
type Faults uint8

// Fault kinds.
const (
	// FaultLoss drops datagrams at random (a loss rate that changes over time).
	FaultLoss Faults = 1 << iota
	// FaultPartition splits the nodes into groups that cannot talk, then heals.
	FaultPartition
	// FaultCrash stops a node (its engine is discarded) and later restarts
	// it with a fresh engine.
	FaultCrash
	// FaultFreeze stops a node's clock and packet processing for a while
	// (a descheduled process or paused VM); on thaw it gets its buffered
	// datagrams and then one tick with the jumped clock.
	FaultFreeze
	// FaultReorder delays some datagrams past later ones.
	FaultReorder
	// FaultDup delivers some datagrams twice.
	FaultDup

	// AllFaults is every fault kind.
	AllFaults = FaultLoss | FaultPartition | FaultCrash | FaultFreeze | FaultReorder | FaultDup
)

var faultNames = [...]string{"loss", "partition", "crash", "freeze", "reorder", "dup"}

// ParseFaults parses a comma-separated list of fault names ("all" and
// "none" are accepted too).
func ParseFaults(s string) (Faults, error) {
	var f Faults
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		switch name {
		case "", "none":
			continue
		case "all":
			f |= AllFaults
			continue
		}
		i := slices.Index(faultNames[:], name)
		if i < 0 {
			return 0, fmt.Errorf("unknown fault %q: expected a comma-separated list of %s, all or none", name, strings.Join(faultNames[:], ", "))
		}
		f |= 1 << i
	}
	return f, nil
}

func (f Faults) String() string {
	var names []string
	for i, n := range faultNames {
		if f&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ",")
}

// scheduleFaults adds the seed's fault schedule, between startup and quiet,
// to the simulator's agenda.
func (s *Sim) scheduleFaults(rng *rand.Rand) {
	quiet := s.cfg.Quiet
	uniform := func(lo, hi time.Duration) time.Duration {
		if hi <= lo {
			return lo
		}
		return lo + time.Duration(rng.Int64N(int64(hi-lo)))
	}
	f := s.cfg.Faults
	if f&FaultLoss != 0 {
		for t := uniform(100*time.Millisecond, time.Second); t < quiet; t += uniform(200*time.Millisecond, 2*time.Second) {
			p := s.cfg.Loss
			if p == 0 {
				p = []float64{0, 0.01, 0.05, 0.1, 0.2, 0.3}[rng.IntN(6)]
			}
			s.at(t, func() { s.link.Loss = p; s.applyLink("loss") })
		}
	}
	if f&FaultReorder != 0 {
		for t := uniform(100*time.Millisecond, time.Second); t < quiet; t += uniform(200*time.Millisecond, 2*time.Second) {
			p := []float64{0, 0.05, 0.2}[rng.IntN(3)]
			s.at(t, func() { s.link.Reorder = p; s.applyLink("reorder") })
		}
	}
	if f&FaultDup != 0 {
		for t := uniform(100*time.Millisecond, time.Second); t < quiet; t += uniform(200*time.Millisecond, 2*time.Second) {
			p := []float64{0, 0.02, 0.1}[rng.IntN(3)]
			s.at(t, func() { s.link.Dup = p; s.applyLink("dup") })
		}
	}
	if f&FaultPartition != 0 && s.cfg.Nodes > 1 {
		for t := uniform(200*time.Millisecond, 2*time.Second); t < quiet; {
			groups := randomGroups(rng, s.ids)
			s.at(t, func() { s.Partition(groups) })
			t += uniform(50*time.Millisecond, 1500*time.Millisecond)
			s.at(min(t, quiet), s.Heal)
			t += uniform(100*time.Millisecond, 3*time.Second)
		}
	}
	for _, id := range s.ids {
		if f&FaultCrash != 0 {
			for t := uniform(200*time.Millisecond, 4*time.Second); t < quiet; {
				s.at(t, func() { s.Crash(id) })
				t += uniform(10*time.Millisecond, 1500*time.Millisecond)
				s.at(min(t, quiet), func() { s.Restart(id) })
				t += uniform(500*time.Millisecond, 5*time.Second)
			}
		}
		if f&FaultFreeze != 0 {
			for t := uniform(100*time.Millisecond, 3*time.Second); t < quiet; {
				s.at(t, func() { s.Freeze(id) })
				switch rng.IntN(3) {
				case 0: // below the stall threshold
					t += uniform(2*time.Millisecond, 40*time.Millisecond)
				case 1: // a stall shorter than the token timeout
					t += uniform(40*time.Millisecond, 200*time.Millisecond)
				default: // long enough for the others to declare it failed
					t += uniform(200*time.Millisecond, 1500*time.Millisecond)
				}
				s.at(min(t, quiet), func() { s.Thaw(id) })
				t += uniform(300*time.Millisecond, 4*time.Second)
			}
		}
	}
}

// randomGroups splits ids into 2 or 3 non-empty groups.
func randomGroups(rng *rand.Rand, ids []totem.NodeID) [][]totem.NodeID {
	p := slices.Clone(ids)
	rng.Shuffle(len(p), func(i, j int) { p[i], p[j] = p[j], p[i] })
	k := 2
	if len(p) >= 3 && rng.IntN(3) == 0 {
		k = 3
	}
	groups := make([][]totem.NodeID, k)
	for i := range groups {
		groups[i] = []totem.NodeID{p[i]}
	}
	for _, id := range p[k:] {
		g := rng.IntN(k)
		groups[g] = append(groups[g], id)
	}
	for _, g := range groups {
		slices.Sort(g)
	}
	slices.SortFunc(groups, func(a, b []totem.NodeID) int { return int(a[0]) - int(b[0]) })
	return groups
}

// FormatGroups prints groups as (1,2)|(3).
func FormatGroups(groups [][]totem.NodeID) string {
	var b strings.Builder
	for i, g := range groups {
		if i > 0 {
			b.WriteByte('|')
		}
		b.WriteByte('(')
		for j, id := range g {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprint(&b, id)
		}
		b.WriteByte(')')
	}
	return b.String()
}

// ParseGroups parses (1,2)|(3).
func ParseGroups(s string) ([][]totem.NodeID, error) {
	var groups [][]totem.NodeID
	for _, part := range strings.Split(s, "|") {
		part = strings.TrimSpace(part)
		if !strings.HasPrefix(part, "(") || !strings.HasSuffix(part, ")") {
			return nil, fmt.Errorf("partition group %q: expected (id,id,...)", part)
		}
		var g []totem.NodeID
		for _, f := range strings.Split(part[1:len(part)-1], ",") {
			var id uint32
			if _, err := fmt.Sscan(strings.TrimSpace(f), &id); err != nil || id == 0 {
				return nil, fmt.Errorf("partition group %q: %q is not a node id", part, f)
			}
			g = append(g, totem.NodeID(id))
		}
		groups = append(groups, g)
	}
	return groups, nil
}
