package totemtest

import (
	"bytes"
	"flag"
	"fmt"
	"strings"
	"testing"
	"time"
)

var (
	soakSeeds = flag.Int("soak-seeds", 0, "run TestSoak with this many seeds (e.g. 20000); 0 skips it")
	firstSeed = flag.Uint64("first-seed", 1, "first seed of TestSimSeeds and TestSoak")
)

// reportResult fails t with every failing seed and how to replay it.
func reportResult(t *testing.T, res Result, nodes int, dur time.Duration) {
	t.Helper()
	t.Logf("%d seeds, %d broadcast, %d delivered, %.0f deliveries/node/sim-s, %.1f seeds/s",
		res.Seeds, res.Sent, res.Delivered, res.MsgsPerSimSecond, res.SeedsPerSecond)
	if res.Violations == 0 {
		return
	}
	for _, inv := range Invariants() {
		if ir := res.PerInvariant[inv]; ir != nil {
			t.Errorf("%s: %d violations, seeds %v", inv, ir.Count, firstN(ir.Seeds, 10))
		}
	}
	for _, v := range firstN(res.First, 8) {
		t.Errorf("%v", v)
	}
	n := fmt.Sprint(Options{Nodes: nodes}.NodesFor(res.FailingSeeds[0]))
	t.Errorf("replay: go run ./cmd/ovsha sim --nodes %s --duration %v --seed %d --trace", n, dur, res.FailingSeeds[0])
}

func firstN[T any](s []T, n int) []T {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// TestSimSeeds runs a few hundred seeds over 2..5 nodes with every fault.
func TestSimSeeds(t *testing.T) {
	for nodes := 2; nodes <= 5; nodes++ {
		t.Run(fmt.Sprintf("nodes=%d", nodes), func(t *testing.T) {
			seeds := 100
			if testing.Short() {
				seeds = 10
			}
			dur := 6 * time.Second
			res := Run(Options{Nodes: nodes, FirstSeed: *firstSeed, Seeds: seeds, Duration: dur, Faults: AllFaults})
			reportResult(t, res, nodes, dur)
		})
	}
}

// TestSoak is the 20,000-seed soak: go test ./cluster/totem/totemtest -run Soak -soak-seeds=20000 -timeout 10h
func TestSoak(t *testing.T) {
	if *soakSeeds == 0 {
		t.Skip("soak: enable with -soak-seeds=20000")
	}
	res := Run(Options{FirstSeed: *firstSeed, Seeds: *soakSeeds, Faults: AllFaults})
	reportResult(t, res, 0, 10*time.Second)
}

// TestSimDeterministic: one seed gives the same trace twice.
func TestSimDeterministic(t *testing.T) {
	trace := func() string {
		var b bytes.Buffer
		RunSeed(Options{Nodes: 3, Duration: 2 * time.Second, Faults: AllFaults, Trace: &b}, 42)
		return b.String()
	}
	a, b := trace(), trace()
	if a != b {
		t.Fatalf("two runs of seed 42 differ:\n%s", firstDiff(a, b))
	}
	if !strings.Contains(a, "sim seed=42 nodes=3") {
		t.Fatalf("trace lacks its header:\n%.300s", a)
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\n  %s\n  %s", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("lengths %d vs %d lines", len(al), len(bl))
}

// TestSimDetectsLivenessFailure plants a liveness violation in a real run:
// after quiet the links are made to drop everything again, so no ring of
// all nodes can form.
func TestSimDetectsLivenessFailure(t *testing.T) {
	s := NewSim(SimConfig{Seed: 1, Nodes: 3, Duration: 6 * time.Second})
	s.at(s.cfg.Quiet+time.Millisecond, func() { s.link.Loss = 1; s.applyLink("loss") })
	chk := s.Run()
	if chk.Counts()[InvLiveness] == 0 {
		t.Fatalf("a dead network passed liveness: %v", chk.Violations())
	}
}
