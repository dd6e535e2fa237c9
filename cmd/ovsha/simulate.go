package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/ovsha/ovsha/cluster/cib"
	"github.com/ovsha/ovsha/cluster/scheduler"
	"github.com/spf13/cobra"
)

func newSimulateCmd() *cobra.Command {
	var (
		xmlPath    string
		asJSON     bool
		showScores bool
	)
	cmd := &cobra.Command{
		Use:   "simulate --xml CIB.xml [--json] [--show-scores]",
		Short: "Run one scheduler pass over a Pacemaker CIB and show the transition",
		Long: "simulate runs the scheduler once, as the DC would, over a CIB with its status\n" +
			"section (e.g. `pcs cluster cib > cib.xml`) and prints the current status, the\n" +
			"Transition Summary, the ordered actions and the revised status.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if xmlPath == "" {
				return usageErrorf("simulate: --xml CIB.xml is required")
			}
			data, err := os.ReadFile(xmlPath)
			if err != nil {
				return fmt.Errorf("reading %s: %w", xmlPath, err)
			}
			c, err := cib.Parse(data)
			if err != nil {
				return fmt.Errorf("%s: %w", xmlPath, err)
			}
			for _, verr := range c.Validate() {
				fmt.Fprintf(cmd.ErrOrStderr(), "ovsha: warning: %s: %v\n", xmlPath, verr)
			}
			now := time.Now().Unix()
			if v := cibAttr(c, "execution-date"); v != "" {
				fmt.Sscan(v, &now)
			}
			res, err := scheduler.Run(scheduler.Input{CIB: c, Now: now, Scores: showScores})
			if err != nil {
				return fmt.Errorf("%s: %w", xmlPath, err)
			}
			for _, w := range res.Warnings {
				fmt.Fprintf(cmd.ErrOrStderr(), "ovsha: warning: %s: %s\n", xmlPath, w)
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			printSimulation(out, res, showScores)
			return nil
		},
	}
	cmd.Flags().StringVar(&xmlPath, "xml", "", "Pacemaker CIB XML file (configuration and status)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object (resources, actions, transition)")
	cmd.Flags().BoolVar(&showScores, "show-scores", false, "show allocation scores")
	return cmd
}

func cibAttr(c *cib.CIB, name string) string {
	for _, a := range c.Other {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func printSimulation(w io.Writer, res *scheduler.Result, showScores bool) {
	fmt.Fprintln(w, "Current cluster status:")
	printStatus(w, res.Current)
	if showScores {
		fmt.Fprintln(w, "\nAllocation scores:")
		ids := make([]string, 0, len(res.Scores))
		for id := range res.Scores {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			nodes := make([]string, 0, len(res.Scores[id]))
			for n := range res.Scores[id] {
				nodes = append(nodes, n)
			}
			sort.Strings(nodes)
			for _, n := range nodes {
				fmt.Fprintf(w, "  %s allocation score on %s: %s\n", id, n, scoreString(res.Scores[id][n]))
			}
		}
	}
	fmt.Fprintln(w, "\nTransition Summary:")
	for _, c := range res.Summary {
		switch c.Verb {
		case "Fence":
			fmt.Fprintf(w, "  * Fence (reboot) %s '%s'\n", c.To, c.Reason)
		case "Start":
			fmt.Fprintf(w, "  * %-10s %-15s ( %s )\n", c.Verb, c.Resource, c.To)
		case "Stop", "Restart":
			fmt.Fprintf(w, "  * %-10s %-15s ( %s )\n", c.Verb, c.Resource, c.From)
		case "Recover":
			if c.From == c.To {
				fmt.Fprintf(w, "  * %-10s %-15s ( %s )\n", c.Verb, c.Resource, c.From)
			} else {
				fmt.Fprintf(w, "  * %-10s %-15s ( %s -> %s )\n", c.Verb, c.Resource, c.From, c.To)
			}
		default:
			fmt.Fprintf(w, "  * %-10s %-15s ( %s -> %s )\n", c.Verb, c.Resource, c.From, c.To)
		}
	}
	fmt.Fprintln(w, "\nExecuting Cluster Transition:")
	for _, a := range res.Actions {
		switch {
		case a.Task == "fence":
			fmt.Fprintf(w, "  * Fencing %s (reboot)\n", a.Node)
		case a.Pseudo:
			fmt.Fprintf(w, "  * Pseudo action:   %s_%s_0\n", a.Resource, a.Task)
		case a.Interval > 0:
			fmt.Fprintf(w, "  * Resource action: %-15s %s=%d on %s\n", a.Resource, a.Task, a.Interval, a.Node)
		default:
			fmt.Fprintf(w, "  * Resource action: %-15s %s on %s\n", a.Resource, a.Task, a.Node)
		}
	}
	fmt.Fprintln(w, "\nRevised Cluster Status:")
	printStatus(w, res.Revised)
}

func scoreString(s int) string {
	switch {
	case s >= cib.Infinity:
		return "INFINITY"
	case s <= -cib.Infinity:
		return "-INFINITY"
	}
	return fmt.Sprint(s)
}

func printStatus(w io.Writer, st scheduler.Status) {
	fmt.Fprintln(w, "  * Node List:")
	byState := map[string][]string{}
	var states []string
	for _, n := range st.Nodes {
		if _, ok := byState[n.State]; !ok {
			states = append(states, n.State)
		}
		byState[n.State] = append(byState[n.State], n.Name)
	}
	for _, s := range states {
		label := strings.ToUpper(s[:1]) + s[1:]
		if strings.HasPrefix(s, "UNCLEAN") {
			for _, n := range byState[s] {
				fmt.Fprintf(w, "    * Node %s: %s\n", n, s)
			}
			continue
		}
		fmt.Fprintf(w, "    * %s: [ %s ]\n", label, strings.Join(byState[s], " "))
	}
	fmt.Fprintln(w, "\n  * Full List of Resources:")
	for _, r := range st.Resources {
		state := "Stopped"
		if len(r.Nodes) > 0 {
			state = "Started " + strings.Join(r.Nodes, " ")
			if r.Failed {
				state = "FAILED " + strings.Join(r.Nodes, " ")
			}
		}
		if !r.Managed {
			state += " (unmanaged)"
		}
		indent := "    "
		if r.Parent != "" {
			indent = "      "
		}
		fmt.Fprintf(w, "%s* %s\t(%s):\t %s\n", indent, r.ID, r.Agent, state)
	}
}
