package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ovsha/ovsha/appliance"
	"github.com/ovsha/ovsha/cluster/cib"
	"github.com/spf13/cobra"
)

func newResourceShowCmd() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:     "show [ID]",
		Aliases: []string{"config"},
		Short:   "Show the configuration of one or every resource (pcs resource config)",
		Example: "  ovsha resource show\n  ovsha resource show gw-vip --json",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cur, err := fetchCIB(cmd, &f)
			if err != nil {
				return err
			}
			list := cur.Config.Resources.Items
			if len(args) == 1 {
				r := cur.FindResource(args[0])
				if r == nil {
					return unknownResource(cur, args[0])
				}
				list = []cib.Resource{*r}
			}
			if f.json {
				if list == nil {
					list = []cib.Resource{}
				}
				return printJSON(cmd.OutOrStdout(), list)
			}
			for i := range list {
				renderResourceConfig(cmd.OutOrStdout(), &list[i], " ")
			}
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

// fetchCIB reads the CIB for a read verb.
func fetchCIB(cmd *cobra.Command, f *clientFlags) (*cib.CIB, error) {
	ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
	defer cancel()
	c, _, err := readCIB(ctx, appliance.NewClient(f.socket))
	if err != nil {
		return nil, unreachable(err)
	}
	return c, nil
}

// renderResourceConfig prints a resource as pcs resource config does.
func renderResourceConfig(w io.Writer, r *cib.Resource, indent string) {
	switch r.Kind {
	case cib.KindPrimitive:
		agent := "class=" + r.Class
		if r.Provider != "" {
			agent += " provider=" + r.Provider
		}
		fmt.Fprintf(w, "%sResource: %s (%s type=%s)\n", indent, r.ID, agent, r.Type)
	case cib.KindGroup:
		fmt.Fprintf(w, "%sGroup: %s\n", indent, r.ID)
	default:
		fmt.Fprintf(w, "%sClone: %s\n", indent, r.ID)
	}
	in := indent + "  "
	if p := nvList(r.Instance); len(p) > 0 {
		fmt.Fprintf(w, "%sAttributes: %s\n", in, kvText(p))
	}
	if p := nvList(r.Meta); len(p) > 0 {
		fmt.Fprintf(w, "%sMeta Attrs: %s\n", in, kvText(p))
	}
	if r.Ops != nil && len(r.Ops.Ops) > 0 {
		for i, op := range r.Ops.Ops {
			label := "Operations:"
			if i > 0 {
				label = strings.Repeat(" ", len(label))
			}
			parts := []string{op.Name, "interval=" + op.Interval}
			for _, a := range []struct{ k, v string }{{"timeout", op.Timeout}, {"on-fail", op.OnFail}, {"role", op.Role}, {"enabled", op.Enabled}} {
				if a.v != "" {
					parts = append(parts, a.k+"="+a.v)
				}
			}
			for _, a := range op.Other {
				parts = append(parts, a.Name.Local+"="+a.Value)
			}
			fmt.Fprintf(w, "%s%s %s (%s)\n", in, label, strings.Join(parts, " "), op.ID)
		}
	}
	for i := range r.Children {
		renderResourceConfig(w, &r.Children[i], in)
	}
}

func kvText(p []kv) string {
	s := make([]string, len(p))
	for i, x := range p {
		s[i] = x.Key + "=" + x.Value
	}
	return strings.Join(s, " ")
}

func newListAgentsCmd() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:     "list-agents",
		Short:   "List the agents ovshad can run (built-ins, OCF, LSB, fence agents)",
		Example: "  ovsha resource list-agents",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := fetch(cmd, &f, (*appliance.Client).Agents)
			if err != nil {
				return err
			}
			if f.json {
				if r.Agents == nil {
					r.Agents = []string{}
				}
				return printJSON(cmd.OutOrStdout(), r)
			}
			for _, a := range r.Agents {
				fmt.Fprintln(cmd.OutOrStdout(), a)
			}
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

func newDescribeCmd() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:     "describe AGENT",
		Short:   "Show an agent's parameters (type, default, required) and actions",
		Example: "  ovsha resource describe vip\n  ovsha resource describe ocf:heartbeat:IPaddr2 --json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ag, err := parseAgent(args[0])
			if err != nil {
				return err
			}
			m, err := fetch(cmd, &f, func(c *appliance.Client, ctx context.Context) (appliance.AgentResponse, error) {
				return c.Agent(ctx, ag.String())
			})
			if errors.Is(err, appliance.ErrNotFound) {
				return fmt.Errorf("unknown agent %q (see `ovsha resource list-agents`)", ag)
			}
			if err != nil {
				return err
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), m)
			}
			return renderAgent(cmd.OutOrStdout(), m)
		},
	}
	f.register(cmd)
	return cmd
}

func renderAgent(w io.Writer, m appliance.AgentResponse) error {
	if m.Text != "" {
		fmt.Fprint(w, strings.TrimRight(m.Text, "\n")+"\n")
		return nil
	}
	fmt.Fprintf(w, "%s", m.Name)
	if m.Desc != "" {
		fmt.Fprintf(w, " - %s", m.Desc)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "\nParameters:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  NAME\tTYPE\tDEFAULT\tREQUIRED\tDESCRIPTION")
	for _, p := range m.Params {
		req := ""
		if p.Required {
			req = "required"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", p.Name, p.Type, orDefault(p.Default, "-"), req, p.Desc)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nActions: %s\n", strings.Join(m.Actions, ", "))
	return nil
}

// restartFlags configure `resource restart`.
type restartFlags struct {
	writeFlags
	wait time.Duration
	poll time.Duration
}

func newResourceRestartCmd() *cobra.Command {
	var f restartFlags
	cmd := &cobra.Command{
		Use:   "restart ID",
		Short: "Stop a resource and start it again, waiting for each (disable, then enable)",
		Long: `Restart a resource: disable it (target-role=Stopped), wait until the cluster reports
every instance stopped, then enable it and wait until it runs again. When the stop does
not finish within --wait, the resource is enabled again and the command fails.`,
		Example: "  ovsha resource restart gw-vip --wait 2m",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return restartResource(cmd, &f, args[0])
		},
	}
	f.register(cmd)
	cmd.Flags().DurationVar(&f.wait, "wait", 60*time.Second, "how long to wait for the stop and then for the start")
	cmd.Flags().DurationVar(&f.poll, "poll", 500*time.Millisecond, "how often to read the cluster status while waiting")
	_ = cmd.Flags().MarkHidden("poll")
	return cmd
}

func restartResource(cmd *cobra.Command, f *restartFlags, id string) error {
	ctx := cmd.Context()
	rctx, cancel := context.WithTimeout(ctx, f.timeout)
	cur, _, err := readCIB(rctx, f.client())
	cancel()
	if err != nil {
		return unreachable(err)
	}
	r := cur.FindResource(id)
	if r == nil {
		return unknownResource(cur, id)
	}
	if v, _ := cib.Lookup(r.Meta, "target-role"); strings.EqualFold(v, "Stopped") {
		return fmt.Errorf("%s is disabled: enable it instead (ovsha resource enable %s)", id, id)
	}
	prims := primitivesUnder(r)
	if err := runEdit(cmd, &f.writeFlags, "resource restart "+id+" (stop)", func(c *cib.CIB) error { return setTargetRole(c, id, "Stopped") }); err != nil {
		return err
	}
	stopErr := waitResources(ctx, f.client(), prims, false, f.wait, f.poll)
	if err := runEdit(cmd, &f.writeFlags, "resource restart "+id+" (start)", func(c *cib.CIB) error { return setTargetRole(c, id, "") }); err != nil {
		return fmt.Errorf("%w; %s stays disabled: run ovsha resource enable %s", err, id, id)
	}
	if stopErr != nil {
		return fmt.Errorf("restarting %s: %w; it was enabled again", id, stopErr)
	}
	if err := waitResources(ctx, f.client(), prims, true, f.wait, f.poll); err != nil {
		return fmt.Errorf("restarting %s: %w", id, err)
	}
	report(cmd.ErrOrStderr(), "%s restarted\n", id)
	return nil
}

// waitResources polls the CRM status until every primitive in prims runs
// (started) or none does, or wait passes.
func waitResources(ctx context.Context, c *appliance.Client, prims []string, started bool, wait, poll time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	want := "stopped"
	if started {
		want = "started"
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	pending := append([]string(nil), prims...)
	for {
		st, err := c.CRMStatus(ctx)
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("reading the cluster status: %w", unreachable(err))
		}
		if err == nil {
			pending = pending[:0]
			for _, id := range prims {
				rs := findCRMResource(st, id)
				running := rs != nil && len(rs.Nodes) > 0 && !strings.EqualFold(rs.Role, "Stopped")
				if started && rs != nil && strings.Contains(strings.ToUpper(rs.Role), "FAILED") {
					return fmt.Errorf("%s failed (see ovsha status)", id)
				}
				if running != started {
					pending = append(pending, id)
				}
			}
			if len(pending) == 0 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			sort.Strings(pending)
			return fmt.Errorf("%s not %s after %s", strings.Join(pending, ", "), want, wait)
		case <-t.C:
		}
	}
}

func findCRMResource(st appliance.CRMStatusResponse, id string) *appliance.CRMResource {
	for i := range st.Resources {
		if st.Resources[i].ID == id {
			return &st.Resources[i]
		}
	}
	return nil
}
