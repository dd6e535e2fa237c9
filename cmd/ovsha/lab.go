package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ovsha/ovsha/appliance"
	"github.com/ovsha/ovsha/appliance/lab"
	"github.com/spf13/cobra"
)

// labFlags are shared by every lab verb.
type labFlags struct {
	name string
	dir  string
}

func (f *labFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.name, "name", lab.DefaultName, "lab name (prefixes its namespaces and interfaces; two labs may coexist)")
	cmd.Flags().StringVar(&f.dir, "dir", lab.DefaultBaseDir, "base directory of lab state")
}

func needRoot() error {
	if os.Geteuid() != 0 {
		return errors.New("ovsha lab needs root (it creates network namespaces): run it with sudo")
	}
	return nil
}

func newLabCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lab",
		Short: "Run a test cluster of ovshad nodes in network namespaces on this machine",
		Long: `ovsha lab builds a whole gateway cluster on one machine, in network
namespaces: nodes n1..nN, each with its own OVS (userspace datapath) and
ovshad, two heartbeat networks (10.201.0.0/24 = link 0, 10.202.0.0/24 =
link 1), two LAN switches sw1/sw2 with every node's uplinks bonded across
them, a LAN host client and an upstream host wan, and the gateway group
(ovs-bridge -> ovs-port bond -> ovs-interface -> LAN VIP -> WAN VIP) as
ordinary resources. --engine-only builds just the heartbeat networks and
ovshad. State lives in /run/ovsha-lab/<name>/. Needs root. See docs/lab.md.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newLabUpCmd(), newLabStatusCmd(), newLabDownCmd(), newLabExecCmd(), newLabFaultCmd(), newLabBenchCmd(), newLabFenceAgentCmd())
	return cmd
}

func newLabUpCmd() *cobra.Command {
	var (
		f       labFlags
		nodes   int
		ovshad  string
		timeout time.Duration
		engine  bool
		fencing bool
	)
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Build the lab, start ovshad on every node, wait for a quorate ring and print its status",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := needRoot(); err != nil {
				return err
			}
			if nodes < lab.MinNodes || nodes > lab.MaxNodes {
				return usageErrorf("--nodes %d: a lab has %d to %d nodes", nodes, lab.MinNodes, lab.MaxNodes)
			}
			bin, err := findOvshad(ovshad)
			if err != nil {
				return err
			}
			self, err := os.Executable()
			if err != nil {
				return fmt.Errorf("finding the ovsha binary: %w", err)
			}
			if !cmd.Flags().Changed("fencing") {
				fencing = nodes == 2
			}
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			st, err := lab.Up(cmd.Context(), lab.Spec{Name: f.name, Nodes: nodes, BaseDir: f.dir, Ovshad: bin, Timeout: timeout, Logger: log,
				Gateway: !engine, Ovsha: self, Fencing: fencing})
			if err != nil {
				return err
			}
			n1 := st.Nodes[0]
			if st.Gateway {
				return printGatewayUp(cmd.Context(), cmd.OutOrStdout(), st)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
			defer cancel()
			s, err := appliance.NewClient(n1.Socket).Status(ctx)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "lab %s is up: %d nodes, state in %s\n\n", st.Name, len(st.Nodes), st.Dir)
			if err := renderStatus(out, s); err != nil {
				return err
			}
			fmt.Fprintf(out, "\nTry: ovsha lab exec %s -- ovsha ring status    (or OVSHA_SOCKET=%s ovsha quorum status)\n", n1.Name, n1.Socket)
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().IntVar(&nodes, "nodes", 3, fmt.Sprintf("number of nodes (%d-%d)", lab.MinNodes, lab.MaxNodes))
	cmd.Flags().StringVar(&ovshad, "ovshad", "", "ovshad binary (default: next to this ovsha, else on PATH)")
	cmd.Flags().DurationVar(&timeout, "timeout", 60*time.Second, "how long to wait for a quorate ring on every node and for the gateway")
	cmd.Flags().BoolVar(&engine, "engine-only", false, "only the heartbeat network and ovshad (no OVS, switches, client, wan or gateway resources)")
	cmd.Flags().BoolVar(&fencing, "fencing", false, "give the lab a fence device: one stonith device per node whose \"off\" is 'lab fault NODE poweroff',\n"+
		"fencing-enabled=true, fencing-action=off, priority-fencing-delay="+lab.PriorityFencingDelay+" (the gateway holder wins a split)\n"+
		"and pcmk_delay_base="+lab.FenceDelayBase+" on n1's device (n1 wins a tie); default on for 2 nodes, off for 3 or more")
	return cmd
}

// newLabFenceAgentCmd is the lab's fence agent, run by the script `lab up
// --fencing` writes (lab.FenceAgent).
func newLabFenceAgentCmd() *cobra.Command {
	var f labFlags
	cmd := &cobra.Command{
		Use:    "fence-agent",
		Short:  "The lab's fence agent: reads a fence-agents request (action=, plug=) on stdin",
		Hidden: true, // run by <lab dir>/fence/fence_ovshalab
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if code := lab.FenceAgent(cmd.Context(), f.dir, f.name, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr()); code != 0 {
				return exitError{code}
			}
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

// findOvshad resolves the daemon binary: the flag, else next to this
// executable, else PATH.
func findOvshad(flag string) (string, error) {
	if flag != "" {
		p, err := filepath.Abs(flag)
		if err != nil {
			return "", fmt.Errorf("--ovshad %s: %w", flag, err)
		}
		return p, nil
	}
	if self, err := os.Executable(); err == nil {
		if self, err = filepath.EvalSymlinks(self); err == nil {
			p := filepath.Join(filepath.Dir(self), "ovshad")
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
		}
	}
	p, err := exec.LookPath("ovshad")
	if err != nil {
		return "", errors.New("cannot find the ovshad binary next to ovsha or on PATH: run `make build` or pass --ovshad")
	}
	return filepath.Abs(p)
}

func newLabStatusCmd() *cobra.Command {
	var (
		f    labFlags
		json bool
	)
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show every lab node: namespace, daemon, ring and quorum",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := lab.Load(f.dir, f.name)
			if err != nil {
				return err
			}
			ns := lab.Status(cmd.Context(), st)
			if json {
				var gw *lab.GatewayStatus
				if st.Gateway {
					g := lab.Gateway(st)
					gw = &g
				}
				return printJSON(cmd.OutOrStdout(), struct {
					Name    string             `json:"name"`
					Dir     string             `json:"dir"`
					Gateway *lab.GatewayStatus `json:"gateway,omitempty"`
					Nodes   []lab.NodeStatus   `json:"nodes"`
				}{st.Name, st.Dir, gw, ns})
			}
			return renderLabStatus(cmd.OutOrStdout(), st, ns)
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&json, "json", false, "print JSON instead of text")
	return cmd
}

func renderLabStatus(w io.Writer, st *lab.State, ns []lab.NodeStatus) error {
	fmt.Fprintf(w, "lab %s (state in %s, created %s)\n", st.Name, st.Dir, st.Created.Local().Format(time.DateTime))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tNODEID\tNAMESPACE\tPID\tOVSHAD\tRING\tQUORATE\tMEMBERS\tGATEWAY\tFAULT")
	for _, n := range ns {
		daemon := "running"
		if !n.Running {
			daemon = "NOT RUNNING"
		}
		nsName := n.Namespace
		if !n.NSExists {
			nsName += " (missing)"
		}
		ring, quorate, members := "-", "-", "-"
		if n.Error == "" {
			ring, quorate = n.Ring, "no"
			if n.Quorate {
				quorate = "yes"
			}
			m := make([]string, len(n.Members))
			for i, id := range n.Members {
				m[i] = fmt.Sprint(id)
			}
			members = strings.Join(m, ",")
		}
		gw := "-"
		if n.Gateway {
			gw = "yes"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", n.Name, n.NodeID, nsName, n.PID, daemon, ring, quorate, members, gw, cmp.Or(n.Fault, "-"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if st.Gateway {
		g := lab.Gateway(st)
		fmt.Fprintf(w, "gateway: LAN VIP %s, WAN VIP %s, held by %s; client %s, wan %s\n", g.LANVIP, g.WANVIP, cmp.Or(g.Holder, "NOBODY"), g.Client, g.WAN)
	}
	for _, n := range ns {
		if n.Error != "" {
			fmt.Fprintf(w, "%s: %s\n", n.Name, n.Error)
		}
	}
	return nil
}

func newLabDownCmd() *cobra.Command {
	var f labFlags
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Stop the lab's daemons and remove everything the lab created",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := needRoot(); err != nil {
				return err
			}
			err := lab.Down(cmd.Context(), f.dir, f.name, slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil)))
			if errors.Is(err, lab.ErrNoLab) {
				fmt.Fprintf(cmd.OutOrStdout(), "lab %s is not up: nothing to do\n", f.name)
				return nil
			}
			return err
		},
	}
	f.register(cmd)
	return cmd
}

func newLabExecCmd() *cobra.Command {
	var f labFlags
	cmd := &cobra.Command{
		Use:   "exec NODE -- COMMAND [ARG...]",
		Short: "Run a command inside a lab node's network namespace (OVSHA_SOCKET points at its ovshad)",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := needRoot(); err != nil {
				return err
			}
			st, err := lab.Load(f.dir, f.name)
			if err != nil {
				return err
			}
			argv := args[1:]
			if argv[0] == "--" { // kept by cobra when flags stop at NODE
				argv = argv[1:]
			}
			code, err := lab.Exec(cmd.Context(), st, args[0], argv, os.Stdin, os.Stdout, os.Stderr)
			if err != nil {
				return err
			}
			if code != 0 {
				return exitError{code}
			}
			return nil
		},
	}
	cmd.Flags().SetInterspersed(false)
	f.register(cmd)
	return cmd
}
