package totemtest

import (
	"io"
	"slices"
	"sync"
	"time"
)

// Options configures Run over many seeds.
type Options struct {
	// Nodes is the cluster size of every seed; 0 varies it from 2 to
	// MaxNodes with the seed.
	Nodes int
	// MaxNodes bounds the varied cluster size (default 5).
	MaxNodes int
	// FirstSeed and Seeds: the seeds run are FirstSeed .. FirstSeed+Seeds-1.
	FirstSeed uint64
	Seeds     int
	// Duration, Faults, Loss, MeanInterval: as in SimConfig.
	Duration     time.Duration
	Faults       Faults
	Loss         float64
	MeanInterval time.Duration
	// Parallel is the number of seeds run at once (default 2).
	Parallel int
	// Trace, if set, receives the trace of every seed (use with one seed).
	Trace io.Writer
	// Progress, if set, is called after each seed completes (from the
	// goroutine that ran it, serialised).
	Progress func(seed uint64, r SeedResult)
}

// SeedResult is the outcome of one seed.
type SeedResult struct {
	Seed       uint64
	Nodes      int
	Counts     map[string]int
	Violations []Violation
	Delivered  int
	Sent       int
	SimTime    time.Duration
}

// InvariantResult aggregates one invariant over all seeds.
type InvariantResult struct {
	Count int      `json:"count"`
	Seeds []uint64 `json:"failing_seeds"`
}

// Result aggregates a Run.
type Result struct {
	Seeds        int                         `json:"seeds"`
	Violations   int                         `json:"violations"`
	PerInvariant map[string]*InvariantResult `json:"invariants"`
	// FailingSeeds lists every seed with at least one violation.
	FailingSeeds []uint64 `json:"failing_seeds"`
	// First holds the first violations found (by seed order), at most 20.
	First     []Violation `json:"first_violations"`
	Sent      int         `json:"messages_broadcast"`
	Delivered int         `json:"messages_delivered"`
	// SimTime is the simulated time summed over seeds.
	SimTime time.Duration `json:"sim_time_ns"`
	// Wall is the wall-clock time of the Run.
	Wall time.Duration `json:"wall_ns"`
	// MsgsPerSimSecond is deliveries per second of simulated time, per node.
	MsgsPerSimSecond float64 `json:"msgs_per_sim_second"`
	// SeedsPerSecond is seeds completed per wall-clock second.
	SeedsPerSecond float64 `json:"seeds_per_second"`
}

// NodesFor is the cluster size Run uses for seed.
func (o Options) NodesFor(seed uint64) int {
	if o.Nodes > 0 {
		return o.Nodes
	}
	m := o.MaxNodes
	if m < 2 {
		m = 5
	}
	return 2 + int(seed%uint64(m-1))
}

// RunSeed runs one seed.
func RunSeed(o Options, seed uint64) SeedResult {
	s := NewSim(SimConfig{
		Seed:         seed,
		Nodes:        o.NodesFor(seed),
		Duration:     o.Duration,
		Faults:       o.Faults,
		Loss:         o.Loss,
		MeanInterval: o.MeanInterval,
		StaggerStart: true,
		Trace:        o.Trace,
	})
	chk := s.Run()
	r := SeedResult{Seed: seed, Nodes: len(s.IDs()), Counts: chk.Counts(), Violations: chk.Violations(), Sent: s.Sent(), SimTime: s.Now()}
	for p := range chk.procs {
		r.Delivered += chk.DeliveredCount(ProcID(p))
	}
	return r
}

// Run runs o.Seeds seeds, o.Parallel at a time, and aggregates them. Each
// seed is deterministic; the aggregate does not depend on scheduling.
func Run(o Options) Result {
	start := time.Now()
	par := max(o.Parallel, 1)
	if o.Parallel == 0 {
		par = 2
	}
	results := make([]SeedResult, o.Seeds)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		next int
	)
	for range par {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= o.Seeds {
					return
				}
				seed := o.FirstSeed + uint64(i)
				results[i] = RunSeed(o, seed)
				if o.Progress != nil {
					mu.Lock()
					o.Progress(seed, results[i])
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	res := Result{Seeds: o.Seeds, PerInvariant: make(map[string]*InvariantResult)}
	var nodeSimTime float64
	for _, r := range results {
		res.Sent += r.Sent
		res.Delivered += r.Delivered
		res.SimTime += r.SimTime
		nodeSimTime += r.SimTime.Seconds() * float64(r.Nodes)
		failed := false
		for inv, c := range r.Counts {
			if c == 0 {
				continue
			}
			failed = true
			ir := res.PerInvariant[inv]
			if ir == nil {
				ir = &InvariantResult{}
				res.PerInvariant[inv] = ir
			}
			ir.Count += c
			ir.Seeds = append(ir.Seeds, r.Seed)
			res.Violations += c
		}
		if failed {
			res.FailingSeeds = append(res.FailingSeeds, r.Seed)
		}
		for _, v := range r.Violations {
			if len(res.First) < 20 {
				res.First = append(res.First, v)
			}
		}
	}
	for _, ir := range res.PerInvariant {
		slices.Sort(ir.Seeds)
	}
	res.Wall = time.Since(start)
	if nodeSimTime > 0 {
		res.MsgsPerSimSecond = float64(res.Delivered) / nodeSimTime
	}
	if res.Wall > 0 {
		res.SeedsPerSecond = float64(o.Seeds) / res.Wall.Seconds()
	}
	return res
}
