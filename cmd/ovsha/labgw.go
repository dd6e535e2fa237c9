package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ovsha/ovsha/appliance"
	"github.com/ovsha/ovsha/appliance/lab"
	"github.com/spf13/cobra"
)

// printGatewayUp prints what `ovsha lab up` made of a gateway lab, then
// `ovsha status` of the node holding the gateway.
func printGatewayUp(ctx context.Context, out io.Writer, st *lab.State) error {
	holder, _ := lab.Holder(st)
	n, ok := st.Node(holder)
	if !ok {
		n = st.Nodes[0]
	}
	fmt.Fprintf(out, "lab %s is up: %d nodes, gateway on %s (LAN VIP %s, WAN VIP %s); client %s reaches wan %s through it.\nState in %s.\n\n",
		st.Name, len(st.Nodes), holder, lab.LANVIP, lab.WANVIP, lab.ClientAddr, lab.WANAddr, st.Dir)
	if err := statusOf(ctx, out, n.Socket); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nTry:\n  export OVSHA_SOCKET=%s\n  ovsha status\n  ovsha lab fault %s freeze      # then: ovsha status --watch (from another node: OVSHA_SOCKET=%s)\n  ovsha lab exec client -- ping %s\n  ovsha lab down\n",
		n.Socket, holder, st.Nodes[len(st.Nodes)-1].Socket, lab.WANAddr)
	return nil
}

// statusOf prints `ovsha status` of the daemon at socket.
func statusOf(ctx context.Context, out io.Writer, socket string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s, err := fetchStatus(ctx, appliance.NewClient(socket))
	if err != nil {
		return err
	}
	return renderClusterStatus(out, s, time.Now())
}

func newLabFaultCmd() *cobra.Command {
	var f labFlags
	cmd := &cobra.Command{
		Use:   "fault NODE poweroff|poweron|freeze|thaw|isolate|split|heal|link-down IF|link-up IF|loss PCT",
		Short: "Inject or undo a fault on a lab node",
		Long: `poweroff  cut every link of the node (at the far end) and SIGSTOP all its processes at once
poweron   reboot it: kill what runs, drop the addresses it held, links up, start OVS and ovshad
freeze    SIGSTOP only ovshad (OVS keeps forwarding); thaw continues it
isolate   cut every link of the node, processes keep running; heal restores them
split     cut only the node's heartbeat links (<lab>-l0, <lab>-l1): a split brain, LAN and WAN stay; heal restores them
link-down IF, link-up IF   the far end of one node interface (u0, u1, w0, <lab>-l0, <lab>-l1)
loss PCT  drop PCT % of the node's own IP traffic each way (nft); loss 0 removes it`,
		Args: cobra.RangeArgs(2, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := needRoot(); err != nil {
				return err
			}
			st, err := lab.Load(f.dir, f.name)
			if err != nil {
				return err
			}
			arg := ""
			if len(args) == 3 {
				arg = args[2]
			}
			return lab.Fault(cmd.Context(), st, args[0], args[1], arg)
		},
	}
	f.register(cmd)
	return cmd
}

func newLabBenchCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "bench", Short: "Measure the lab gateway", Args: cobra.NoArgs}
	var (
		f       labFlags
		runs    int
		planned bool
		asJSON  bool
	)
	failover := &cobra.Command{
		Use:   "failover",
		Short: "Kill (poweroff) or move away the gateway node N times; measure from the client how long the VIP is silent",
		Long: `Each run powers off the node holding the gateway (--planned: ovsha resource move gateway)
while the client asks for the LAN VIP by ARP every 1 ms, and measures how long the VIP
goes unanswered: from the poweroff until another node answers; for --planned, from the
old node's last reply until the new node's first (the outage; the time from the move
command to the new node's first reply is printed too). Between runs the node is powered on again (--planned:
ovsha resource clear) and the cluster left to settle. Prints min/p50/p99/max and, per run,
the phases of the DC's transition (ovsha status --history).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := needRoot(); err != nil {
				return err
			}
			if runs < 1 {
				return usageErrorf("--runs %d: want at least 1", runs)
			}
			st, err := lab.Load(f.dir, f.name)
			if err != nil {
				return err
			}
			self, err := os.Executable()
			if err != nil {
				return fmt.Errorf("finding the ovsha binary: %w", err)
			}
			out := cmd.OutOrStdout()
			o := lab.BenchOptions{Runs: runs, Planned: planned, Ovsha: self}
			if !asJSON {
				o.Progress = func(r lab.BenchRun) {
					cmdTime := ""
					if planned {
						cmdTime = fmt.Sprintf("  (%.1f ms after the command)", r.CommandMS)
					}
					fmt.Fprintf(out, "run: %s -> %s  %8.1f ms%s  %s\n", r.From, r.To, r.GapMS, cmdTime, phaseList(r.Phases))
				}
			}
			res, err := lab.Bench(cmd.Context(), st, o)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(out, res)
			}
			kind := "unplanned (poweroff) failover: VIP unanswered from the fault"
			if planned {
				kind = "planned switchover (resource move): VIP unanswered between the two nodes' replies"
			}
			fmt.Fprintf(out, "%s, %d runs, ARP probe every 1 ms from the client:\n  min %.1f ms  p50 %.1f ms  p99 %.1f ms  max %.1f ms\n",
				kind, res.Runs, res.MinMS, res.P50MS, res.P99MS, res.MaxMS)
			if planned {
				fmt.Fprintf(out, "  from the move command to the new node's first reply: p50 %.1f ms  p99 %.1f ms\n", res.CommandP50MS, res.CommandP99MS)
			}
			return nil
		},
	}
	f.register(failover)
	failover.Flags().IntVar(&runs, "runs", 5, "number of failovers")
	failover.Flags().BoolVar(&planned, "planned", false, "move the gateway with `ovsha resource move` instead of powering its node off")
	failover.Flags().BoolVar(&asJSON, "json", false, `print {"runs","p50_ms","p99_ms","max_ms","samples_ms",...}`)
	cmd.AddCommand(failover, newLabSoakCmd())
	return cmd
}

func newLabSoakCmd() *cobra.Command {
	var (
		f        labFlags
		loss     int
		duration time.Duration
		asJSON   bool
	)
	soak := &cobra.Command{
		Use:   "soak",
		Short: "Put random loss on every node for a while and count false failovers",
		Long: `Drops --loss percent of every node's own IP traffic each way (the Totem heartbeat
traffic; nftables in each node's namespace) for --duration while watching, every 50 ms,
which node holds the LAN VIP. Every node stays up, so any move of the gateway (or a moment
without it) is a false failover. Prints the count, the time without a gateway and each
node's Totem counters (membership changes, token losses, retransmissions, own scheduling
stalls). The loss is removed at the end, also on Ctrl-C.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := needRoot(); err != nil {
				return err
			}
			if loss < 0 || loss > 100 {
				return usageErrorf("--loss %d: want a percentage from 0 to 100", loss)
			}
			if duration <= 0 {
				return usageErrorf("--duration %s: want a positive duration such as 10m", duration)
			}
			st, err := lab.Load(f.dir, f.name)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			o := lab.SoakOptions{Loss: loss, Duration: duration}
			if !asJSON {
				o.Progress = func(r lab.SoakResult) {
					fmt.Fprintf(out, "%6.0fs  false failovers %d  membership changes %d\n", r.DurationS, r.FalseFailovers, r.MembershipChanges)
				}
			}
			res, err := lab.Soak(ctx, st, o)
			if asJSON {
				if perr := printJSON(out, res); perr != nil {
					return perr
				}
				return err
			}
			fmt.Fprintf(out, "soak: %d%% loss each way on every node for %.0f s: %d false failover(s), gateway absent %.1f ms, holder %s\n",
				res.LossPct, res.DurationS, res.FalseFailovers, res.GatewayDownMS, res.Holder)
			for _, n := range res.Nodes {
				fmt.Fprintf(out, "  %s: membership changes %d, token losses %d, tokens retransmitted %d, frames retransmitted %d, own stalls %d (%.0f ms)\n",
					n.Name, n.MembershipChanges, n.TokenLosses, n.TokensRetransmit, n.FramesRetransmit, n.Stalls, n.StalledForMS)
			}
			return err
		},
	}
	f.register(soak)
	soak.Flags().IntVar(&loss, "loss", 10, "random loss in percent on every node's own IP traffic, each way")
	soak.Flags().DurationVar(&duration, "duration", 10*time.Minute, "how long to soak")
	soak.Flags().BoolVar(&asJSON, "json", false, `print {"loss_pct","duration_s","false_failovers","gateway_down_ms","membership_changes","nodes",...}`)
	return soak
}

func phaseList(ps []appliance.Phase) string {
	s := ""
	for _, p := range ps {
		s += fmt.Sprintf("%s=%s ", p.Name, p.Duration.Round(100*time.Microsecond))
	}
	return s
}
