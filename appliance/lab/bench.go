package lab

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/ovsha/ovsha/appliance"
)

// BenchOptions configure Bench.
type BenchOptions struct {
	Runs int
	// Planned moves the gateway away with `ovsha resource move` instead
	// of powering its node off.
	Planned bool
	// Ovsha is the CLI binary (for move/clear).
	Ovsha string
	// Interval is the probe period (default 1 ms).
	Interval time.Duration
	// RunTimeout bounds one failover (default 15 s).
	RunTimeout time.Duration
	// Progress, when set, is called after every run.
	Progress func(BenchRun)
}

// BenchRun is one measured failover.
type BenchRun struct {
	From string `json:"from"`
	To   string `json:"to"`
	// At is when the fault (or the move command) started: to find the run
	// in the nodes' logs.
	At time.Time `json:"at"`
	// GapMS is how long the VIP went unanswered: from the fault (a
	// poweroff) or, for a planned switchover, from the old node's last
	// reply, to the new node's first reply.
	GapMS float64 `json:"gap_ms"`
	// CommandMS (planned) is from the move command to the new node's
	// first reply: the command, the CIB write, scheduling, bringing the
	// chain up on the new node while the old one still serves, and the
	// VIP's hand-over.
	CommandMS float64           `json:"command_ms,omitempty"`
	Trigger   string            `json:"trigger,omitempty"`
	Phases    []appliance.Phase `json:"phases,omitempty"`
}

// BenchResult is `ovsha lab bench failover --json`.
type BenchResult struct {
	Runs      int       `json:"runs"`
	Planned   bool      `json:"planned"`
	MinMS     float64   `json:"min_ms"`
	P50MS     float64   `json:"p50_ms"`
	P99MS     float64   `json:"p99_ms"`
	MaxMS     float64   `json:"max_ms"`
	SamplesMS []float64 `json:"samples_ms"`
	// Command* (planned): from the move command to the first reply of the
	// new node.
	CommandP50MS float64    `json:"command_p50_ms,omitempty"`
	CommandP99MS float64    `json:"command_p99_ms,omitempty"`
	PerRun       []BenchRun `json:"per_run"`
}

// Bench measures gateway failovers from the client: each run kills
// (poweroff) or moves the gateway away from its node while the client asks
// for the LAN VIP by ARP every Interval, and records the time from the
// fault until a node other than the old one answers. Between runs the lab
// is restored (poweron, or `resource clear`) and left to settle.
func Bench(ctx context.Context, st *State, o BenchOptions) (BenchResult, error) {
	if !st.Gateway {
		return BenchResult{}, fmt.Errorf("lab %s is engine-only: bench needs a gateway lab", st.Name)
	}
	if o.Interval <= 0 {
		o.Interval = time.Millisecond
	}
	if o.RunTimeout <= 0 {
		o.RunTimeout = 15 * time.Second
	}
	probe, err := NewARPProber(st.Hosts["client"], clientIf, netip.MustParseAddr(LANVIP))
	if err != nil {
		return BenchResult{}, err
	}
	defer probe.Close()
	res := BenchResult{Runs: o.Runs, Planned: o.Planned, SamplesMS: []float64{}}
	for range o.Runs {
		if err := Settle(ctx, st, 30*time.Second); err != nil {
			return res, fmt.Errorf("before run %d: %w", len(res.PerRun)+1, err)
		}
		r, err := benchRun(ctx, st, o, probe)
		if err != nil {
			return res, fmt.Errorf("run %d: %w", len(res.PerRun)+1, err)
		}
		res.PerRun = append(res.PerRun, r)
		res.SamplesMS = append(res.SamplesMS, r.GapMS)
		if o.Progress != nil {
			o.Progress(r)
		}
		if err := restore(ctx, st, o, r.From); err != nil {
			return res, fmt.Errorf("restoring after run %d: %w", len(res.PerRun), err)
		}
	}
	s := slices.Sorted(slices.Values(res.SamplesMS))
	if len(s) > 0 {
		res.MinMS, res.MaxMS = s[0], s[len(s)-1]
		res.P50MS, res.P99MS = Percentile(s, 50), Percentile(s, 99)
	}
	if o.Planned && len(res.PerRun) > 0 {
		var cmd []float64
		for _, r := range res.PerRun {
			cmd = append(cmd, r.CommandMS)
		}
		slices.Sort(cmd)
		res.CommandP50MS, res.CommandP99MS = Percentile(cmd, 50), Percentile(cmd, 99)
	}
	return res, Settle(ctx, st, 30*time.Second)
}

// Percentile of sorted samples (nearest rank).
func Percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func benchRun(ctx context.Context, st *State, o BenchOptions, probe *ARPProber) (BenchRun, error) {
	from, oldMAC := Holder(st)
	if from == "" {
		return BenchRun{}, fmt.Errorf("no node holds the gateway")
	}
	other := otherNode(st, from)
	rctx, cancel := context.WithTimeout(ctx, o.RunTimeout)
	defer cancel()
	type answer struct {
		sw  Switch
		err error
	}
	got := make(chan answer, 1)
	start := make(chan struct{})
	go func() {
		<-start
		sw, err := probe.Watch(rctx, o.Interval, func(m net.HardwareAddr) bool { return !bytes.Equal(m, oldMAC) })
		got <- answer{sw, err}
	}()
	t0 := time.Now()
	close(start)
	var ferr error
	if o.Planned {
		ferr = runCLI(rctx, o.Ovsha, other.Socket, "resource", "move", GatewayGroup)
	} else {
		ferr = Fault(rctx, st, from, FaultPowerOff, "")
	}
	a := <-got
	if ferr != nil {
		return BenchRun{}, ferr
	}
	if a.err != nil {
		return BenchRun{}, fmt.Errorf("gateway never answered from a node other than %s: %w", from, a.err)
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	r := BenchRun{From: from, At: t0, GapMS: ms(a.sw.At.Sub(t0))}
	if o.Planned {
		r.CommandMS = r.GapMS
		if !a.sw.LastRejected.IsZero() {
			r.GapMS = ms(a.sw.At.Sub(a.sw.LastRejected))
		}
	}
	r.To, _ = Holder(st)
	// The history lives on the DC.
	if s, err := appliance.NewClient(other.Socket).CRMStatus(ctx); err == nil {
		if dc, ok := st.Node(s.DC); ok {
			if h, err := appliance.NewClient(dc.Socket).CRMHistory(ctx, 10); err == nil {
				if t, ok := failoverTransition(h.Transitions, r.To, t0); ok {
					r.Trigger, r.Phases = t.Trigger, t.Phases
				}
			}
		}
	}
	return r, nil
}

// failoverTransition picks, among transitions (newest first), the one that
// started the LAN VIP on node to after t0 (other transitions, such as a
// bond attribute appearing, may come before or after it).
func failoverTransition(ts []appliance.Transition, to string, t0 time.Time) (appliance.Transition, bool) {
	want := "start lan-vip on " + to
	for _, t := range ts {
		if t.Started.Before(t0.Add(-time.Second)) {
			continue
		}
		if slices.Contains(t.Actions, want) {
			return t, true
		}
	}
	return appliance.Transition{}, false
}

// otherNode returns a node other than name that is not faulted.
func otherNode(st *State, name string) NodeState {
	for _, n := range st.Nodes {
		if n.Name != name && n.Fault == "" {
			return n
		}
	}
	return st.Nodes[0]
}

func restore(ctx context.Context, st *State, o BenchOptions, from string) error {
	if o.Planned {
		return runCLI(ctx, o.Ovsha, otherNode(st, from).Socket, "resource", "clear", GatewayGroup)
	}
	return Fault(ctx, st, from, FaultPowerOn, "")
}

// Settle waits until every node is up in one quorate ring, the DC runs no
// transition, every gateway resource is started on one and the same node,
// and the client reaches wan through it.
func Settle(ctx context.Context, st *State, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	if err := WaitRing(ctx, st, len(st.Nodes)); err != nil {
		return err
	}
	var last string
	for {
		s, err := appliance.NewClient(st.Nodes[0].Socket).CRMStatus(ctx)
		if err == nil {
			last = settled(s)
			if last == "" {
				break
			}
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the cluster did not settle (%s): %w", last, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	return WaitGateway(ctx, st)
}

// settled returns "" when s shows the gateway group started on one node
// with no transition running, else what is not settled yet.
func settled(s appliance.CRMStatusResponse) string {
	if s.TransitionInProgress {
		return "transition in progress"
	}
	node := ""
	for _, id := range GatewayResources {
		found := false
		for _, r := range s.Resources {
			if r.ID != id {
				continue
			}
			found = true
			if r.Role != "Started" || len(r.Nodes) != 1 || (node != "" && r.Nodes[0] != node) {
				return fmt.Sprintf("%s is %s on %v", id, r.Role, r.Nodes)
			}
			node = r.Nodes[0]
		}
		if !found {
			return id + " is not configured"
		}
	}
	return ""
}
