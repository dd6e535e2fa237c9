package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/ovsha/ovsha/appliance"
	"github.com/ovsha/ovsha/cluster/cib"
	"github.com/spf13/cobra"
)

func newResourceCmd() *cobra.Command {
	rc := &cobra.Command{
		Use:   "resource",
		Short: "Create, change and operate resources (like pcs resource)",
		Args:  cobra.NoArgs,
	}
	rc.AddCommand(
		newResourceCreateCmd(),
		newResourceUpdateCmd(),
		newResourceDeleteCmd(),
		newTargetRoleCmd("enable", "Let the cluster start a resource again (removes target-role)", ""),
		newTargetRoleCmd("disable", "Stop a resource and keep it stopped (target-role=Stopped)", "Stopped"),
		newResourceMoveCmd(),
		newResourceClearCmd(),
		newResourceCleanupCmd(),
		newResourceRestartCmd(),
		newResourceShowCmd(),
		newListAgentsCmd(),
		newDescribeCmd(),
	)
	for _, action := range []string{"start", "stop", "monitor", "validate-all"} {
		rc.AddCommand(newDebugCmd(action))
	}
	return rc
}

// createFlags are the flags of `resource create` and `stonith create`.
type createFlags struct {
	writeFlags
	group string
	clone bool
	force bool
}

func newResourceCreateCmd() *cobra.Command {
	var f createFlags
	cmd := &cobra.Command{
		Use:   "create ID AGENT [key=value…] [op NAME key=value…]… [meta key=value…]",
		Short: "Create a primitive resource",
		Long: `Create a primitive resource. AGENT is class:provider:type (ocf:heartbeat:IPaddr2,
lsb:NAME, systemd:UNIT) or a built-in: ovs-bridge, ovs-port, ovs-interface (written as
ocf:ovsha:NAME) and vip (written as ocf:heartbeat:IPaddr2, which it implements).
Parameters are checked against the agent's metadata when ovshad can supply it: required
parameters must be given and unknown ones are refused (--force accepts them).
Without an op monitor, a monitor every 10s (timeout 20s) is added.`,
		Example: `  ovsha resource create gw-vip vip ip=192.0.2.1 cidr_netmask=24 op monitor interval=5s timeout=20s --group gateway
  ovsha resource create web systemd:nginx meta resource-stickiness=100`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			spec, err := parseCreate(args, f)
			if err != nil {
				return err
			}
			spec.DefaultOps = []opArg{{Name: "monitor", Attrs: []kv{{"interval", "10s"}, {"timeout", "20s"}}}}
			return createVerb(cmd, &f, spec)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&f.group, "group", "", "add the resource to this group (created when missing)")
	cmd.Flags().BoolVar(&f.clone, "clone", false, "run the resource on every node (wrapped in ID-clone)")
	cmd.Flags().BoolVar(&f.force, "force", false, "accept parameters the agent does not declare")
	return cmd
}

// parseCreate checks everything `create` can check from its arguments.
func parseCreate(args []string, f createFlags) (createSpec, error) {
	id := args[0]
	if err := checkID("resource", id); err != nil {
		return createSpec{}, err
	}
	ag, err := parseAgent(args[1])
	if err != nil {
		return createSpec{}, err
	}
	ra, err := parseRscArgs(args[2:])
	if err != nil {
		return createSpec{}, err
	}
	for _, p := range append(append([]kv(nil), ra.Params...), ra.Meta...) {
		if p.Value == "" {
			return createSpec{}, usageErrorf("resource %s: %s has an empty value", id, p.Key)
		}
	}
	for _, m := range ra.Meta {
		if err := checkNameValue("meta attribute", rscDefaultNames, m.Key, m.Value, true); err != nil {
			return createSpec{}, err
		}
	}
	if f.group != "" && f.clone {
		return createSpec{}, usageErrorf("resource %s: --group and --clone exclude each other (clone the group instead)", id)
	}
	if f.group != "" {
		if err := checkID("group", f.group); err != nil {
			return createSpec{}, err
		}
	}
	return createSpec{ID: id, Agent: ag, Args: ra, Group: f.group, Clone: f.clone}, nil
}

// createVerb checks the agent with the daemon, then writes the resource.
func createVerb(cmd *cobra.Command, f *createFlags, spec createSpec) error {
	ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
	defer cancel()
	meta, err := agentMeta(ctx, f.client(), spec.Agent.String())
	if err != nil {
		return unreachable(err)
	}
	params := map[string]string{}
	for _, p := range spec.Args.Params {
		params[p.Key] = p.Value
	}
	if err := checkParams(spec.ID, spec.Agent.String(), meta, params, f.force); err != nil {
		return err
	}
	verb := "resource"
	if spec.Agent.Class == "stonith" {
		verb = "stonith"
	}
	return runEdit(cmd, &f.writeFlags, verb+" create "+spec.ID, func(c *cib.CIB) error { return createResource(c, spec) })
}

func newResourceUpdateCmd() *cobra.Command {
	var f createFlags
	cmd := &cobra.Command{
		Use:   "update ID [key=value…] [op NAME key=value…]… [meta key=value…]",
		Short: "Change a resource's parameters, operations or meta attributes (key= removes)",
		Example: `  ovsha resource update gw-vip cidr_netmask=25 op monitor interval=3s
  ovsha resource update gw-vip meta resource-stickiness=`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := args[0]
			ra, err := parseRscArgs(args[1:])
			if err != nil {
				return err
			}
			for _, m := range ra.Meta {
				if err := checkNameValue("meta attribute", rscDefaultNames, m.Key, m.Value, true); err != nil {
					return err
				}
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
			defer cancel()
			// The agent check needs the resource's agent and its
			// parameters after the update: read the CIB first.
			if len(ra.Params) > 0 {
				cur, _, err := readCIB(ctx, f.client())
				if err != nil {
					return unreachable(err)
				}
				r := cur.FindResource(id)
				if r == nil {
					return unknownResource(cur, id)
				}
				if r.Kind == cib.KindPrimitive {
					spec := agentRef{r.Class, r.Provider, r.Type}.String()
					meta, err := agentMeta(ctx, f.client(), spec)
					if err != nil {
						return unreachable(err)
					}
					params := resourceParams(r)
					for _, p := range ra.Params {
						if p.Value == "" {
							delete(params, p.Key)
						} else {
							params[p.Key] = p.Value
						}
					}
					if err := checkParams(id, spec, meta, params, f.force); err != nil {
						return err
					}
				}
			}
			return runEdit(cmd, &f.writeFlags, "resource update "+id, func(c *cib.CIB) error { return updateResource(c, id, ra) })
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&f.force, "force", false, "accept parameters the agent does not declare")
	return cmd
}

func newResourceDeleteCmd() *cobra.Command {
	var f writeFlags
	cmd := &cobra.Command{
		Use:     "delete ID",
		Aliases: []string{"remove"},
		Short:   "Delete a resource and the constraints that name it",
		Example: "  ovsha resource delete gw-vip",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := args[0]
			var dropped []string
			err := runEdit(cmd, &f, "resource delete "+id, func(c *cib.CIB) error {
				var err error
				dropped, err = deleteResource(c, id)
				return err
			})
			if err == nil && len(dropped) > 0 {
				report(cmd.ErrOrStderr(), "removed %s\n", plural("constraint", dropped))
			}
			return err
		},
	}
	f.register(cmd)
	return cmd
}

func newTargetRoleCmd(verb, short, role string) *cobra.Command {
	var f writeFlags
	cmd := &cobra.Command{
		Use:     verb + " ID…",
		Short:   short,
		Example: "  ovsha resource " + verb + " gw-vip",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runEdit(cmd, &f, "resource "+verb+" "+strings.Join(args, " "), func(c *cib.CIB) error {
				changed := 0
				var already error
				for _, id := range args {
					err := setTargetRole(c, id, role)
					if _, ok := err.(noChange); ok {
						already = err
						continue
					}
					if err != nil {
						return err
					}
					changed++
				}
				if changed == 0 {
					return already
				}
				return nil
			})
		},
	}
	f.register(cmd)
	return cmd
}

func newResourceMoveCmd() *cobra.Command {
	var f writeFlags
	cmd := &cobra.Command{
		Use:   "move ID [NODE]",
		Short: "Move a resource to NODE (cli-prefer-ID, INFINITY), or away from where it runs (cli-ban-ID-on-NODE)",
		Long: `Move a resource. With NODE the resource is pinned there by the location constraint
cli-prefer-ID (score INFINITY); without, it is banned from the node it runs on now
(cli-ban-ID-on-NODE, -INFINITY). Both stay until 'ovsha resource clear ID'.`,
		Example: "  ovsha resource move gateway n2\n  ovsha resource move gateway",
		Args:    cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := args[0]
			if len(args) == 2 {
				node := args[1]
				return runEdit(cmd, &f, "resource move "+id+" to "+node, func(c *cib.CIB) error { return moveResource(c, id, node, false) })
			}
			node, err := runningOn(cmd.Context(), f, id)
			if err != nil {
				return err
			}
			return runEdit(cmd, &f, "resource move "+id+" away from "+node, func(c *cib.CIB) error { return moveResource(c, id, node, true) })
		},
	}
	f.register(cmd)
	return cmd
}

// runningOn asks the CRM where a (non-cloned) resource runs.
func runningOn(ctx context.Context, f writeFlags, id string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	st, err := f.client().CRMStatus(ctx)
	if err != nil {
		return "", fmt.Errorf("finding where %s runs: %w (name the target: ovsha resource move %s NODE)", id, unreachable(err), id)
	}
	nodes := map[string]bool{}
	for _, r := range st.Resources {
		if r.ID == id || r.Group == id {
			for _, n := range r.Nodes {
				nodes[n] = true
			}
		}
	}
	switch len(nodes) {
	case 0:
		return "", fmt.Errorf("%s is not running anywhere: name the target (ovsha resource move %s NODE)", id, id)
	case 1:
		for n := range nodes {
			return n, nil
		}
	}
	return "", fmt.Errorf("%s runs on several nodes: name the target (ovsha resource move %s NODE)", id, id)
}

func newResourceClearCmd() *cobra.Command {
	var f writeFlags
	cmd := &cobra.Command{
		Use:     "clear ID",
		Short:   "Remove the constraints 'resource move' made (cli-prefer-ID, cli-ban-ID-on-*)",
		Example: "  ovsha resource clear gateway",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := args[0]
			var cleared []string
			err := runEdit(cmd, &f, "resource clear "+id, func(c *cib.CIB) error {
				var err error
				cleared, err = clearResource(c, id)
				return err
			})
			if err == nil && len(cleared) > 0 {
				report(cmd.ErrOrStderr(), "removed %s\n", plural("constraint", cleared))
			}
			return err
		},
	}
	f.register(cmd)
	return cmd
}

func newResourceCleanupCmd() *cobra.Command {
	var f writeFlags
	var node string
	cmd := &cobra.Command{
		Use:     "cleanup [ID]",
		Short:   "Forget failures (failcounts, failed operations) of one or every resource",
		Example: "  ovsha resource cleanup gw-vip --node n1\n  ovsha resource cleanup",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
			defer cancel()
			req := appliance.CleanupRequest{Node: node}
			if len(args) == 1 {
				req.Resource = args[0]
				cur, _, err := readCIB(ctx, f.client())
				if err != nil {
					return unreachable(err)
				}
				if cur.FindResource(req.Resource) == nil {
					return unknownResource(cur, req.Resource)
				}
			}
			if err := f.client().Cleanup(ctx, req); err != nil {
				return unreachable(err)
			}
			report(cmd.ErrOrStderr(), "cleaned up %s on %s\n", orDefault(req.Resource, "every resource"), orDefault(node, "every node"))
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&node, "node", "", "only on this node")
	return cmd
}

func newDebugCmd(action string) *cobra.Command {
	var f writeFlags
	cmd := &cobra.Command{
		Use:     "debug-" + strings.TrimSuffix(action, "-all") + " ID",
		Short:   "Run the agent's " + action + " for ID on this node, outside the cluster's control (crm_resource --force-" + action + ")",
		Example: "  ovsha resource debug-" + strings.TrimSuffix(action, "-all") + " gw-vip",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
			defer cancel()
			resp, err := f.client().Debug(ctx, appliance.DebugRequest{Resource: args[0], Action: action})
			if err != nil {
				return unreachable(err)
			}
			out := cmd.OutOrStdout()
			if resp.Output != "" {
				fmt.Fprint(out, strings.TrimRight(resp.Output, "\n")+"\n")
			}
			fmt.Fprintf(out, "%s %s: %s (rc=%d)\n", args[0], action, resp.RCText, resp.RC)
			if resp.RC != 0 {
				return exitError{1}
			}
			return nil
		},
	}
	f.register(cmd)
	return cmd
}
