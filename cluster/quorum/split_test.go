package quorum

import (
	"flag"
	"math/rand/v2"
	"testing"
	"time"
)

var splitSeed = flag.Uint64("quorum.seed", 1, "seed for TestNoSplitBrain")

// TestNoSplitBrain drives every node of a cluster through seeded random
// partitions (each node sees only its own group) and checks the property
// quorum exists for: at no step are nodes of two different groups quorate.
// two_node (fence race) and last_man_standing (which trades this property
// for availability) are left out on purpose.
func TestNoSplitBrain(t *testing.T) {
	configs := []struct {
		name string
		n    int
		cfg  Config
	}{
		{"plain 5", 5, Config{Votes: votes(5)}},
		{"plain 4", 4, Config{Votes: votes(4)}},
		{"unequal", 4, Config{Votes: map[NodeID]uint32{1: 3, 2: 1, 3: 2, 4: 1}}},
		{"wfa 5", 5, Config{Votes: votes(5), WaitForAll: On}},
		{"atb lowest 4", 4, Config{Votes: votes(4), AutoTieBreaker: true}},
		{"atb highest 6", 6, Config{Votes: votes(6), AutoTieBreaker: true, TieBreaker: TieBreaker{Mode: TieBreakHighest}}},
		{"atb list 4", 4, Config{Votes: votes(4), AutoTieBreaker: true, TieBreaker: TieBreaker{Mode: TieBreakList, Nodes: ids(3, 1)}}},
		{"atb lowest 5 wfa", 5, Config{Votes: votes(5), AutoTieBreaker: true, WaitForAll: On}},
	}
	const steps = 2000
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(*splitSeed, 0))
			nodes := make(map[NodeID]*Quorum, c.n)
			for id := NodeID(1); id <= NodeID(c.n); id++ {
				q, err := New(c.cfg)
				if err != nil {
					t.Fatal(err)
				}
				nodes[id] = q
			}
			for step := range steps {
				// Assign each node to one of 1..3 groups; mostly heal.
				groups := 1
				if rng.IntN(3) > 0 {
					groups = 1 + rng.IntN(3)
				}
				group := make(map[NodeID]int, c.n)
				members := make([][]NodeID, groups)
				for id := NodeID(1); id <= NodeID(c.n); id++ {
					g := rng.IntN(groups)
					group[id] = g
					members[g] = append(members[g], id)
				}
				quorateGroup := -1
				for id := NodeID(1); id <= NodeID(c.n); id++ {
					st := nodes[id].SetMembers(time.Duration(step)*time.Second, members[group[id]], nil)
					if !st.Quorate {
						continue
					}
					if quorateGroup >= 0 && quorateGroup != group[id] {
						t.Fatalf("seed %d step %d: split brain: groups %v and %v both quorate", *splitSeed, step, members[quorateGroup], members[group[id]])
					}
					quorateGroup = group[id]
				}
			}
		})
	}
}
