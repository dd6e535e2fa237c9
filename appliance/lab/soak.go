package lab

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ovsha/ovsha/appliance"
)

// SoakOptions configure Soak.
type SoakOptions struct {
	// Loss is the random loss, in percent, on every node's own IP traffic
	// each way (the heartbeat links' Totem traffic; 0: none).
	Loss int
	// Duration of the soak (default 10 minutes).
	Duration time.Duration
	// Progress, when set, is called about every Every with the figures so
	// far.
	Progress func(SoakResult)
	Every    time.Duration
}

// SoakNode is one node's engine counters over the soak.
type SoakNode struct {
	Name              string  `json:"name"`
	MembershipChanges uint64  `json:"membership_changes"`
	TokenLosses       uint64  `json:"token_losses"`
	TokensRetransmit  uint64  `json:"tokens_retransmitted"`
	FramesRetransmit  uint64  `json:"frames_retransmitted"`
	Stalls            uint64  `json:"stalls"`
	StalledForMS      float64 `json:"stalled_for_ms"`
}

// SoakResult is `ovsha lab bench soak --json`.
type SoakResult struct {
	LossPct   int     `json:"loss_pct"`
	DurationS float64 `json:"duration_s"`
	Holder    string  `json:"holder"`
	// FalseFailovers counts the times the gateway left its node (or no
	// node held it) although every node was up.
	FalseFailovers int `json:"false_failovers"`
	// GatewayDownMS is how long, in total, no node held the LAN VIP.
	GatewayDownMS float64 `json:"gateway_down_ms"`
	// MembershipChanges is the highest count of ring changes any node saw.
	MembershipChanges uint64     `json:"membership_changes"`
	Nodes             []SoakNode `json:"nodes"`
}

// Soak applies random loss to every node and watches the gateway for
// Duration: every 50 ms which node holds the LAN VIP, and at the end each
// node's Totem counters. With sane timers nothing must move: a failover
// while every node is up is a false one. The loss is removed afterwards,
// also when ctx ends.
func Soak(ctx context.Context, st *State, o SoakOptions) (SoakResult, error) {
	if !st.Gateway {
		return SoakResult{}, fmt.Errorf("lab %s is engine-only: soak needs a gateway lab", st.Name)
	}
	if o.Duration <= 0 {
		o.Duration = 10 * time.Minute
	}
	if o.Every <= 0 {
		o.Every = 10 * time.Second
	}
	for _, n := range st.Nodes {
		if n.Fault != "" {
			return SoakResult{}, fmt.Errorf("node %s is faulted (%s): heal it first", n.Name, n.Fault)
		}
	}
	if err := Settle(ctx, st, 30*time.Second); err != nil {
		return SoakResult{}, fmt.Errorf("before the soak: %w", err)
	}
	res := SoakResult{LossPct: o.Loss}
	res.Holder, _ = Holder(st)
	before, err := engineCounters(ctx, st)
	if err != nil {
		return res, err
	}
	if err := setAllLoss(ctx, st, o.Loss); err != nil {
		return res, errors.Join(err, setAllLoss(context.WithoutCancel(ctx), st, 0))
	}
	start := time.Now()
	werr := soakWatch(ctx, st, o, start, before, &res)
	res.DurationS = time.Since(start).Seconds()
	err = setAllLoss(context.WithoutCancel(ctx), st, 0)
	if cerr := soakCounters(context.WithoutCancel(ctx), st, before, &res); cerr != nil && err == nil {
		err = cerr
	}
	return res, errors.Join(werr, err)
}

func soakWatch(ctx context.Context, st *State, o SoakOptions, start time.Time, before map[string]appliance.EngineStats, res *SoakResult) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	holder, downSince := res.Holder, time.Time{}
	nextReport := start.Add(o.Every)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case now := <-tick.C:
			// A failover shows as the VIP held by no node (counted once,
			// however long) or by another node than before.
			h, _ := Holder(st)
			switch {
			case h == "":
				if downSince.IsZero() {
					downSince = now
					res.FalseFailovers++
				}
			case !downSince.IsZero():
				res.GatewayDownMS += float64(now.Sub(downSince).Microseconds()) / 1000
				downSince = time.Time{}
			case h != holder:
				res.FalseFailovers++
			}
			if h != "" {
				holder = h
			}
			if now.Sub(start) >= o.Duration {
				if !downSince.IsZero() {
					res.GatewayDownMS += float64(now.Sub(downSince).Microseconds()) / 1000
				}
				res.Holder = holder
				return nil
			}
			if o.Progress != nil && now.After(nextReport) {
				nextReport = nextReport.Add(o.Every)
				r := *res
				r.DurationS = now.Sub(start).Seconds()
				_ = soakCounters(ctx, st, before, &r)
				o.Progress(r)
			}
		}
	}
}

// setAllLoss sets pct % loss on every node (0 removes it).
func setAllLoss(ctx context.Context, st *State, pct int) error {
	var errs []error
	for _, n := range st.Nodes {
		errs = append(errs, Fault(ctx, st, n.Name, FaultLoss, strconv.Itoa(pct)))
	}
	return errors.Join(errs...)
}

func engineCounters(ctx context.Context, st *State) (map[string]appliance.EngineStats, error) {
	out := map[string]appliance.EngineStats{}
	for _, n := range st.Nodes {
		r, err := appliance.NewClient(n.Socket).Ring(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading the ring of %s: %w", n.Name, err)
		}
		out[n.Name] = r.Engine
	}
	return out, nil
}

// soakCounters fills res.Nodes and res.MembershipChanges with the
// counters' growth since before.
func soakCounters(ctx context.Context, st *State, before map[string]appliance.EngineStats, res *SoakResult) error {
	now, err := engineCounters(ctx, st)
	if err != nil {
		return err
	}
	res.Nodes, res.MembershipChanges = nil, 0
	for _, n := range st.Nodes {
		a, b := before[n.Name], now[n.Name]
		sn := SoakNode{Name: n.Name,
			MembershipChanges: b.MembershipChanges - a.MembershipChanges,
			TokenLosses:       b.TokenLosses - a.TokenLosses,
			TokensRetransmit:  b.TokensRetransmitted - a.TokensRetransmitted,
			FramesRetransmit:  b.FramesRetransmitted - a.FramesRetransmitted,
			Stalls:            b.Stalls - a.Stalls,
			StalledForMS:      b.StalledForMS - a.StalledForMS,
		}
		res.Nodes = append(res.Nodes, sn)
		res.MembershipChanges = max(res.MembershipChanges, sn.MembershipChanges)
	}
	return nil
}
