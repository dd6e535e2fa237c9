package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/ovsha/ovsha/cluster/cib"
	"github.com/spf13/cobra"
)

func newConstraintCmd() *cobra.Command {
	cc := &cobra.Command{
		Use:   "constraint",
		Short: "Order, colocation and location constraints (like pcs constraint)",
		Args:  cobra.NoArgs,
	}
	cc.AddCommand(newOrderCmd(), newColocationCmd(), newLocationCmd(), newConstraintListCmd(), newConstraintDeleteCmd())
	return cc
}

func newOrderCmd() *cobra.Command {
	var f writeFlags
	cmd := &cobra.Command{
		Use:   "order [ACTION] A then [ACTION] B [kind=Mandatory|Optional|Serialize] [symmetrical=true|false]",
		Short: "Start B only after A (ACTION: start, stop, promote, demote; default start)",
		Long: `Add an order constraint (id order-A-B-KIND). Both resources must exist, and the new
order may not close a loop with the existing ones (A then B then A): such a request is
refused before anything changes.`,
		Example: "  ovsha constraint order bond0 then gw-vip\n  ovsha constraint order start db then start web kind=Optional",
		Args:    cobra.MinimumNArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := parseOrderArgs(args)
			if err != nil {
				return err
			}
			var id string
			err = runEdit(cmd, &f, "constraint order "+s.First+" then "+s.Then, func(c *cib.CIB) error {
				var err error
				id, err = addOrder(c, s)
				return err
			})
			if err == nil && id != "" {
				report(cmd.ErrOrStderr(), "added %s\n", id)
			}
			return err
		},
	}
	f.register(cmd)
	return cmd
}

func newColocationCmd() *cobra.Command {
	var f writeFlags
	cmd := &cobra.Command{
		Use:     "colocation add A with B [SCORE]",
		Short:   "Keep A on the node where B runs (SCORE default INFINITY; negative keeps them apart)",
		Example: "  ovsha constraint colocation add gw-vip with bond0\n  ovsha constraint colocation add web with db -INFINITY",
		Args:    cobra.MinimumNArgs(4),
		RunE: func(cmd *cobra.Command, args []string) error {
			rsc, with, score, err := parseColocationArgs(args)
			if err != nil {
				return err
			}
			var id string
			err = runEdit(cmd, &f, "constraint colocation "+rsc+" with "+with, func(c *cib.CIB) error {
				var err error
				id, err = addColocation(c, rsc, with, score)
				return err
			})
			if err == nil && id != "" {
				report(cmd.ErrOrStderr(), "added %s\n", id)
			}
			return err
		},
	}
	f.register(cmd)
	// "-INFINITY" must reach the arguments, not the flag parser.
	cmd.Flags().SetInterspersed(false)
	return cmd
}

func newLocationCmd() *cobra.Command {
	var f writeFlags
	cmd := &cobra.Command{
		Use:     "location ID prefers|avoids NODE[=SCORE]…",
		Short:   "Prefer or avoid nodes for a resource (score default INFINITY)",
		Example: "  ovsha constraint location gateway prefers n1=100\n  ovsha constraint location gateway avoids n3",
		Args:    cobra.MinimumNArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			rsc, prefs, err := parseLocationArgs(args)
			if err != nil {
				return err
			}
			var ids []string
			err = runEdit(cmd, &f, "constraint location "+strings.Join(args, " "), func(c *cib.CIB) error {
				var err error
				ids, err = addLocation(c, rsc, prefs)
				return err
			})
			if err == nil && len(ids) > 0 {
				report(cmd.ErrOrStderr(), "added %s\n", strings.Join(ids, ", "))
			}
			return err
		},
	}
	f.register(cmd)
	return cmd
}

func newConstraintListCmd() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"show", "config"},
		Short:   "List the constraints with their ids",
		Example: "  ovsha constraint list\n  ovsha constraint list --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cur, err := fetchCIB(cmd, &f)
			if err != nil {
				return err
			}
			items := cur.Config.Constraints.Items
			if f.json {
				if items == nil {
					items = []cib.Constraint{}
				}
				return printJSON(cmd.OutOrStdout(), items)
			}
			renderConstraints(cmd.OutOrStdout(), items)
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

// renderConstraints prints constraints grouped by kind, as pcs does.
func renderConstraints(w io.Writer, items []cib.Constraint) {
	for _, sec := range []struct{ kind, title string }{
		{cib.KindLocation, "Location Constraints:"},
		{cib.KindOrder, "Ordering Constraints:"},
		{cib.KindColocation, "Colocation Constraints:"},
	} {
		fmt.Fprintln(w, sec.title)
		for _, k := range items {
			if k.Kind != sec.kind {
				continue
			}
			fmt.Fprintf(w, "  %s (id:%s)\n", constraintText(k), k.ID)
		}
	}
}

func constraintText(k cib.Constraint) string {
	if len(k.Sets) > 0 {
		var sets []string
		for _, s := range k.Sets {
			var refs []string
			for _, r := range s.Refs {
				refs = append(refs, r.ID)
			}
			sets = append(sets, "("+strings.Join(refs, " ")+")")
		}
		return "set " + strings.Join(sets, " ") + scoreSuffix(k.Score)
	}
	switch k.Kind {
	case cib.KindLocation:
		if len(k.Rules) > 0 {
			return fmt.Sprintf("%s: rule-based (%d rules)", k.Rsc, len(k.Rules))
		}
		verb := "prefers"
		if s, err := cib.ParseScore(k.Score); err == nil && s < 0 {
			verb = "avoids"
		}
		return fmt.Sprintf("%s %s %s%s", orDefault(k.Rsc, k.RscPattern), verb, k.Node, scoreSuffix(k.Score))
	case cib.KindOrder:
		fa := orDefault(k.FirstAction, "start")
		s := fmt.Sprintf("%s %s then %s %s (kind:%s)", fa, k.First, orDefault(k.ThenAction, fa), k.Then, orDefault(k.OrderKind, "Mandatory"))
		if k.Symmetrical != "" {
			s += " (symmetrical:" + k.Symmetrical + ")"
		}
		return s
	case cib.KindColocation:
		return fmt.Sprintf("%s with %s%s", k.Rsc, k.WithRsc, scoreSuffix(k.Score))
	}
	return k.Kind
}

func scoreSuffix(s string) string {
	if s == "" {
		return ""
	}
	return " (score:" + s + ")"
}

func newConstraintDeleteCmd() *cobra.Command {
	var f writeFlags
	cmd := &cobra.Command{
		Use:     "delete CONSTRAINT_ID…",
		Aliases: []string{"remove"},
		Short:   "Delete constraints by id (see constraint list)",
		Example: "  ovsha constraint delete order-bond0-gw-vip-mandatory",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runEdit(cmd, &f, "constraint delete "+strings.Join(args, " "), func(c *cib.CIB) error {
				for _, id := range args {
					if err := deleteConstraint(c, id); err != nil {
						return err
					}
				}
				return nil
			})
		},
	}
	f.register(cmd)
	return cmd
}
