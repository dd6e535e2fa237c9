package totem

import (
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"
)

var chaosSeeds = flag.Int("chaos-seeds", 40, "seeds for TestMiniChaos")

// TestMiniChaos is a quick randomized check of ordering and liveness on
// the engine's own mini network; the seeded simulator in totemtest checks
// all invariants (virtual synchrony included) over many more schedules.
func TestMiniChaos(t *testing.T) {
	for seed := uint64(1); seed <= uint64(*chaosSeeds); seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			n := 2 + int(seed%4)
			net := newMiniNet(t, n)
			net.rng = rand.New(rand.NewPCG(seed, 9))
			var logOn bool
			if testing.Verbose() {
				for _, e := range net.nodes {
					e.log = slog.New(slog.NewTextHandler(tlogWriter{t, net, &logOn}, &slog.HandlerOptions{Level: slog.LevelDebug})).With("node", e.cfg.ID)
				}
			}
			msg := 0
			for step := 0; step < 40; step++ {
				switch rng.IntN(4) {
				case 0:
					id := NodeID(1 + rng.IntN(n))
					net.cut[id] = !net.cut[id]
				case 1:
					net.loss = float64(rng.IntN(20)) / 100
				case 2:
					id := NodeID(1 + rng.IntN(n))
					net.stopped[id] = !net.stopped[id]
				}
				for i := 0; i < 20; i++ {
					id := NodeID(1 + rng.IntN(n))
					msg++
					net.nodes[id].Broadcast([]byte(fmt.Sprintf("%d:%d", id, msg)), Guarantee(rng.IntN(2)))
					net.collect(id)
				}
				net.run(time.Duration(20+rng.IntN(300)) * time.Millisecond)
			}
			net.cut = map[NodeID]bool{}
			net.stopped = map[NodeID]bool{}
			net.loss = 0
			logOn = true
			net.run(3 * time.Second)
			ring := net.nodes[1].Status().Ring
			for _, id := range net.ids {
				st := net.nodes[id].Status()
				if st.State != StateOperational || len(st.Members) != n || st.Ring != ring {
					dumpNet(t, net)
					t.Fatalf("node %d not in the full ring: %v %v %v (node 1: %v)", id, st.State, st.Ring, st.Members, ring)
				}
			}
			// agreed order: common messages in the same relative order; no duplicates
			pos := map[NodeID]map[string]int{}
			for _, id := range net.ids {
				pos[id] = map[string]int{}
				for i, m := range net.delivered(id) {
					if _, dup := pos[id][m]; dup {
						t.Fatalf("node %d delivered %q twice", id, m)
					}
					pos[id][m] = i
				}
			}
			for _, a := range net.ids {
				for _, b := range net.ids {
					if a >= b {
						continue
					}
					da := net.delivered(a)
					last := -1
					for _, m := range da {
						if p, ok := pos[b][m]; ok {
							if p < last {
								t.Fatalf("nodes %d and %d disagree on the order around %q", a, b, m)
							}
							last = p
						}
					}
				}
			}
		})
	}
}
