package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ovsha/ovsha/cluster/totem/totemtest"
)

// simJSON is the --json output of `ovsha sim`.
type simJSON struct {
	Seeds            int                                   `json:"seeds"`
	Violations       int                                   `json:"violations"`
	Nodes            int                                   `json:"nodes"`
	FirstSeed        uint64                                `json:"first_seed"`
	DurationNS       int64                                 `json:"duration_ns"`
	Faults           string                                `json:"faults"`
	Invariants       map[string]*totemtest.InvariantResult `json:"invariants"`
	FailingSeeds     []uint64                              `json:"failing_seeds"`
	FirstViolations  []totemtest.Violation                 `json:"first_violations"`
	Broadcast        int                                   `json:"messages_broadcast"`
	Delivered        int                                   `json:"messages_delivered"`
	MsgsPerSimSecond float64                               `json:"deliveries_per_node_sim_second"`
	SeedsPerSecond   float64                               `json:"seeds_per_second"`
}

func newSimCmd() *cobra.Command {
	var (
		nodes, seeds, parallel int
		seed                   uint64
		duration               time.Duration
		faults                 string
		loss                   float64
		asJSON, trace          bool
	)
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Run the seeded Totem simulator and check its invariants",
		Long: `Run the Totem engine on a simulated network, one seed at a time, with faults
(loss, partitions, crashes, freezes, reordering, duplication) drawn from the
seed, and check agreed order, virtual synchrony, safe delivery, no duplicates,
no phantom messages, configuration sanity and liveness after the faults stop.

A failing seed is replayed, with a readable trace, by
  ovsha sim --nodes N --duration D --seed S --trace
Exit status: 0 no violation, 1 violations found, 2 usage error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := totemtest.ParseFaults(faults)
			if err != nil {
				return usageErrorf("--faults: %v", err)
			}
			if nodes < 0 || nodes > 64 {
				return usageErrorf("--nodes %d: expected 1..64 (0 varies 2..5 with the seed)", nodes)
			}
			if seeds <= 0 {
				return usageErrorf("--seeds %d: expected a positive number", seeds)
			}
			if duration < time.Second {
				return usageErrorf("--duration %v: expected at least 1s", duration)
			}
			if loss < 0 || loss > 100 {
				return usageErrorf("--loss %v: expected a percentage 0..100", loss)
			}
			first := uint64(1)
			if cmd.Flags().Changed("seed") {
				first = seed
				if !cmd.Flags().Changed("seeds") {
					seeds = 1
				}
			}
			if trace && seeds != 1 {
				return usageErrorf("--trace replays one seed: give --seed S (and no --seeds)")
			}
			o := totemtest.Options{
				Nodes: nodes, FirstSeed: first, Seeds: seeds, Duration: duration,
				Faults: f, Loss: loss / 100, Parallel: parallel,
			}
			out := cmd.OutOrStdout()
			if trace {
				o.Trace = out
			}
			res := totemtest.Run(o)
			if asJSON {
				j := simJSON{
					Seeds: res.Seeds, Violations: res.Violations, Nodes: nodes, FirstSeed: first,
					DurationNS: int64(duration), Faults: f.String(), Invariants: res.PerInvariant,
					FailingSeeds: res.FailingSeeds, FirstViolations: res.First,
					Broadcast: res.Sent, Delivered: res.Delivered,
					MsgsPerSimSecond: res.MsgsPerSimSecond, SeedsPerSecond: res.SeedsPerSecond,
				}
				if j.FailingSeeds == nil {
					j.FailingSeeds = []uint64{}
				}
				if j.FirstViolations == nil {
					j.FirstViolations = []totemtest.Violation{}
				}
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(j); err != nil {
					return fmt.Errorf("writing json: %w", err)
				}
			} else {
				printSim(out, o, res)
			}
			if res.Violations > 0 {
				return exitError{1}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&nodes, "nodes", 3, "cluster size (node ids 1..N); 0 varies it from 2 to 5 with the seed")
	fl.IntVar(&seeds, "seeds", 100, "number of seeds to run")
	fl.Uint64Var(&seed, "seed", 1, "first (or only, without --seeds) seed")
	fl.DurationVar(&duration, "duration", 10*time.Second, "simulated time per seed; faults stop at 60%")
	fl.StringVar(&faults, "faults", "all", "faults to inject: comma-separated loss,partition,crash,freeze,reorder,dup (or all, none)")
	fl.Float64Var(&loss, "loss", 0, "loss percentage of every loss phase (0: 0-30% chosen by the seed)")
	fl.BoolVar(&asJSON, "json", false, "print one JSON object")
	fl.BoolVar(&trace, "trace", false, "print a readable trace of the one seed run")
	fl.IntVar(&parallel, "parallel", 2, "seeds run at once")
	return cmd
}

func printSim(w io.Writer, o totemtest.Options, res totemtest.Result) {
	n := fmt.Sprint(o.Nodes)
	if o.Nodes == 0 {
		n = "2-5"
	}
	fmt.Fprintf(w, "%d seeds (%d..%d), %s nodes, %v simulated each, faults %v\n",
		res.Seeds, o.FirstSeed, o.FirstSeed+uint64(res.Seeds)-1, n, o.Duration, o.Faults)
	fmt.Fprintf(w, "%-18s %10s  %s\n", "INVARIANT", "VIOLATIONS", "FAILING SEEDS")
	for _, inv := range totemtest.Invariants() {
		ir := res.PerInvariant[inv]
		if ir == nil {
			fmt.Fprintf(w, "%-18s %10d\n", inv, 0)
			continue
		}
		seeds := make([]string, 0, 10)
		for i, s := range ir.Seeds {
			if i == 10 {
				seeds = append(seeds, fmt.Sprintf("… (%d seeds)", len(ir.Seeds)))
				break
			}
			seeds = append(seeds, fmt.Sprint(s))
		}
		fmt.Fprintf(w, "%-18s %10d  %s\n", inv, ir.Count, strings.Join(seeds, " "))
	}
	fmt.Fprintf(w, "total: %d violations in %d of %d seeds\n", res.Violations, len(res.FailingSeeds), res.Seeds)
	for i, v := range res.First {
		if i == 0 {
			fmt.Fprintln(w, "first violations:")
		}
		if i == 8 {
			break
		}
		detail, _, _ := strings.Cut(v.Detail, "\n")
		fmt.Fprintf(w, "  seed %d t=%v node %d %s: %s\n", v.Seed, v.Time, v.Node, v.Invariant, detail)
	}
	fmt.Fprintf(w, "throughput: %d messages broadcast, %d deliveries, %.0f deliveries per node per simulated second, %.1f seeds/s (wall %v)\n",
		res.Sent, res.Delivered, res.MsgsPerSimSecond, res.SeedsPerSecond, res.Wall.Round(time.Millisecond))
	if len(res.FailingSeeds) > 0 {
		s := res.FailingSeeds[0]
		fmt.Fprintf(w, "replay: ovsha sim --nodes %d --duration %v --faults %v --seed %d --trace\n", o.NodesFor(s), o.Duration, o.Faults, s)
	}
}
