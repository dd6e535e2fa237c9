package main

import (
	"cmp"
	"context"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ovsha/ovsha/appliance"
	"github.com/ovsha/ovsha/cluster/cib"
	"github.com/spf13/cobra"
)

func newNodeCmd() *cobra.Command {
	nc := &cobra.Command{
		Use:   "node",
		Short: "Put nodes in standby or maintenance (like pcs node)",
		Args:  cobra.NoArgs,
	}
	for _, v := range []struct{ verb, attr, value, short string }{
		{"standby", "standby", "on", "Move every resource off NODE and keep them off"},
		{"unstandby", "standby", "", "Let NODE run resources again"},
		{"maintenance", "maintenance", "on", "Stop managing (starting, stopping, monitoring) resources on NODE"},
		{"unmaintenance", "maintenance", "", "Manage resources on NODE again"},
	} {
		nc.AddCommand(newNodeAttrCmd(v.verb, v.attr, v.value, v.short))
	}
	return nc
}

func newNodeAttrCmd(verb, attr, value, short string) *cobra.Command {
	var f writeFlags
	cmd := &cobra.Command{
		Use:     verb + " [NODE]",
		Short:   short + " (default NODE: this node)",
		Example: "  ovsha node " + verb + " n2\n  ovsha node " + verb,
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var node string
			if len(args) == 1 {
				node = args[0]
			} else {
				ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
				st, err := f.client().Status(ctx)
				cancel()
				if err != nil {
					return fmt.Errorf("finding this node's name: %w", unreachable(err))
				}
				node = st.Node.Name
			}
			return runEdit(cmd, &f, "node "+verb+" "+node, func(c *cib.CIB) error { return setNodeAttr(c, node, attr, value) })
		},
	}
	f.register(cmd)
	return cmd
}

func newPropertyCmd() *cobra.Command {
	pc := &cobra.Command{
		Use:   "property",
		Short: "Cluster properties: fencing-enabled, no-quorum-policy, maintenance-mode, … (like pcs property)",
		Args:  cobra.NoArgs,
	}
	var sf writeFlags
	var force bool
	set := &cobra.Command{
		Use:   "set NAME=VALUE…",
		Short: "Set cluster properties (stonith-* names are accepted for fencing-*)",
		Long: `Set cluster properties. Names and values are checked before anything changes: the
known properties are fencing-enabled (stonith-enabled), fencing-action, fencing-timeout,
no-quorum-policy (stop, freeze, ignore, demote, suicide), symmetric-cluster,
maintenance-mode, stop-all-resources, cluster-recheck-interval, start-failure-is-fatal,
placement-strategy, node-health-strategy and more (an unknown name lists them all).
--force sets an unknown name anyway.`,
		Example: "  ovsha property set no-quorum-policy=ignore fencing-enabled=false",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var pairs []kv
			for _, a := range args {
				p, err := parseKV(a, "property set")
				if err != nil {
					return err
				}
				p.Key = cib.CanonicalProperty(p.Key)
				if p.Value == "" {
					return usageErrorf("property %s: empty value (use ovsha property unset %s)", p.Key, p.Key)
				}
				if err := checkNameValue("property", clusterProperties, p.Key, p.Value, force); err != nil {
					return err
				}
				pairs = append(pairs, p)
			}
			return runEdit(cmd, &sf, "property set "+strings.Join(args, " "), func(c *cib.CIB) error {
				for _, p := range pairs {
					if err := setProperty(c, p.Key, p.Value); err != nil {
						return err
					}
				}
				return nil
			})
		},
	}
	sf.register(set)
	set.Flags().BoolVar(&force, "force", false, "set a property ovsha does not know")
	var uf writeFlags
	unset := &cobra.Command{
		Use:     "unset NAME…",
		Short:   "Remove cluster properties (back to their defaults)",
		Example: "  ovsha property unset maintenance-mode",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runEdit(cmd, &uf, "property unset "+strings.Join(args, " "), func(c *cib.CIB) error {
				for _, n := range args {
					if err := setProperty(c, n, ""); err != nil && len(args) == 1 {
						return err
					}
				}
				return nil
			})
		},
	}
	uf.register(unset)
	var lf clientFlags
	list := &cobra.Command{
		Use:     "list",
		Aliases: []string{"show", "config"},
		Short:   "List the cluster properties that are set",
		Example: "  ovsha property list --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cur, err := fetchCIB(cmd, &lf)
			if err != nil {
				return err
			}
			return printNV(cmd, lf.json, "Cluster Properties:", properties(cur))
		},
	}
	lf.register(list)
	pc.AddCommand(set, unset, list)
	return pc
}

// printNV prints name/value pairs as text or one JSON object.
func printNV(cmd *cobra.Command, asJSON bool, title string, pairs []kv) error {
	if asJSON {
		m := map[string]string{}
		for _, p := range pairs {
			m[p.Key] = p.Value
		}
		return printJSON(cmd.OutOrStdout(), m)
	}
	w := cmd.OutOrStdout()
	fmt.Fprintln(w, title)
	sort.SliceStable(pairs, func(i, j int) bool { return pairs[i].Key < pairs[j].Key })
	for _, p := range pairs {
		fmt.Fprintf(w, "  %s: %s\n", p.Key, p.Value)
	}
	return nil
}

func newRscDefaultsCmd() *cobra.Command {
	var f writeFlags
	var asJSON, force bool
	cmd := &cobra.Command{
		Use:   "rsc-defaults [NAME=VALUE…]",
		Short: "Show, or set (NAME= removes), the meta attributes every resource inherits",
		Long: `Without arguments, list the resource defaults. With NAME=VALUE arguments, set them
(NAME= removes one). Known names: resource-stickiness, migration-threshold,
failure-timeout, target-role, is-managed, maintenance, priority, multiple-active,
allow-migrate, critical, requires (--force sets another).`,
		Example: "  ovsha rsc-defaults resource-stickiness=100 migration-threshold=3\n  ovsha rsc-defaults",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
				defer cancel()
				cur, _, err := readCIB(ctx, f.client())
				if err != nil {
					return unreachable(err)
				}
				var pairs []kv
				if d := cur.Config.RscDefaults; d != nil {
					pairs = nvList(d.Meta)
				}
				return printNV(cmd, asJSON, "Resource Defaults:", pairs)
			}
			var pairs []kv
			for _, a := range args {
				p, err := parseKV(a, "rsc-defaults")
				if err != nil {
					return err
				}
				if err := checkNameValue("resource default", rscDefaultNames, p.Key, p.Value, force); err != nil {
					return err
				}
				pairs = append(pairs, p)
			}
			return runEdit(cmd, &f, "rsc-defaults "+strings.Join(args, " "), func(c *cib.CIB) error {
				for _, p := range pairs {
					if err := setRscDefault(c, p.Key, p.Value); err != nil {
						return err
					}
				}
				return nil
			})
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of text (listing)")
	cmd.Flags().BoolVar(&force, "force", false, "set a name ovsha does not know")
	return cmd
}

func newStonithCmd() *cobra.Command {
	sc := &cobra.Command{
		Use:   "stonith",
		Short: "Fence devices and fencing (like pcs stonith)",
		Args:  cobra.NoArgs,
	}
	var cf createFlags
	create := &cobra.Command{
		Use:     "create ID fence_AGENT [key=value…] [op NAME key=value…]… [meta key=value…]",
		Short:   "Create a fence device (class stonith; a monitor every 60s is added)",
		Example: "  ovsha stonith create fence-n1 fence_ipmilan ip=10.0.0.11 username=admin password=secret pcmk_host_list=n1",
		Args:    cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			agent := args[1]
			if !strings.HasPrefix(agent, "fence_") && !strings.HasPrefix(agent, "stonith:") {
				return usageErrorf("stonith create %s: agent %q: want fence_NAME (e.g. fence_ipmilan)", args[0], agent)
			}
			if !strings.HasPrefix(agent, "stonith:") {
				agent = "stonith:" + agent
			}
			spec, err := parseCreate(append([]string{args[0], agent}, args[2:]...), cf)
			if err != nil {
				return err
			}
			spec.DefaultOps = []opArg{{Name: "monitor", Attrs: []kv{{"interval", "60s"}}}}
			return createVerb(cmd, &cf, spec)
		},
	}
	cf.register(create)
	create.Flags().BoolVar(&cf.force, "force", false, "accept parameters the agent does not declare")
	var lf clientFlags
	list := &cobra.Command{
		Use:     "list",
		Aliases: []string{"show", "config"},
		Short:   "List the fence devices",
		Example: "  ovsha stonith list",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cur, err := fetchCIB(cmd, &lf)
			if err != nil {
				return err
			}
			var devs []cib.Resource
			cur.Walk(func(r, _ *cib.Resource) {
				if r.Kind == cib.KindPrimitive && r.Class == "stonith" {
					devs = append(devs, *r)
				}
			})
			if lf.json {
				if devs == nil {
					devs = []cib.Resource{}
				}
				return printJSON(cmd.OutOrStdout(), devs)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tAGENT\tPARAMETERS")
			for _, d := range devs {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", d.ID, d.Type, kvText(nvList(d.Instance)))
			}
			return tw.Flush()
		},
	}
	lf.register(list)
	var ff writeFlags
	var off bool
	fence := &cobra.Command{
		Use:     "fence NODE",
		Short:   "Fence NODE now (reboot, or power off with --off); returns when done",
		Example: "  ovsha stonith fence n3 --off",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := appliance.FenceRequest{Node: args[0], Action: "reboot"}
			if off {
				req.Action = "off"
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), ff.timeout)
			defer cancel()
			if err := ff.client().Fence(ctx, req); err != nil {
				if ctx.Err() != nil {
					return fmt.Errorf("fencing %s: no answer within %s (raise --timeout); check ovsha status", args[0], ff.timeout)
				}
				return unreachable(err)
			}
			report(cmd.ErrOrStderr(), "node %s fenced (%s)\n", args[0], req.Action)
			return nil
		},
	}
	ff.register(fence)
	fence.Flags().BoolVar(&off, "off", false, "power the node off instead of rebooting it")
	var hf clientFlags
	history := &cobra.Command{
		Use:     "history",
		Short:   "Show the fencing attempts, newest first (like pcs stonith history)",
		Example: "  ovsha stonith history",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			h, err := fetch(cmd, &hf, (*appliance.Client).FenceHistory)
			if err != nil {
				return err
			}
			if hf.json {
				return printJSON(cmd.OutOrStdout(), h)
			}
			if len(h.Events) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "No fencing yet")
				return nil
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "WHEN\tTARGET\tACTION\tBY\tDEVICE\tRESULT\tTOOK")
			for _, e := range h.Events {
				result := "ok"
				if !e.OK {
					result = "failed: " + e.Reason
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.At.Local().Format("2006-01-02 15:04:05.000"), e.Target, e.Action,
					e.By, cmp.Or(e.Device, "-"), result, e.Duration.Round(time.Millisecond))
			}
			return tw.Flush()
		},
	}
	hf.register(history)
	sc.AddCommand(create, list, fence, history)
	return sc
}
