package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/ovsha/ovsha/appliance"
	"github.com/spf13/cobra"
)

// advise adds the "is ovshad running?" hint to unreachable-daemon errors.
func advise(err error) error {
	if errors.Is(err, appliance.ErrUnreachable) {
		return fmt.Errorf("%v — is ovshad running? (select another daemon with --socket or %s)", err, socketEnv)
	}
	return err
}

func printCompactJSON(w io.Writer, v any) error {
	return json.NewEncoder(w).Encode(v)
}

func newReloadCmd() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "reload",
		Short: "Make ovshad re-read its configuration (like corosync-cfgtool -R); lists what needs a restart",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := fetch(cmd, &f, (*appliance.Client).Reload)
			if err != nil {
				return err
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), r)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "Reloaded %s: %d change(s) applied, %d need a restart of ovshad\n", r.Config, len(r.Applied), len(r.NeedsRestart))
			for _, c := range r.Applied {
				fmt.Fprintf(w, "  applied       %s: %q -> %q\n", c.Key, c.Old, c.New)
			}
			for _, c := range r.NeedsRestart {
				fmt.Fprintf(w, "  needs restart %s: %q -> %q\n", c.Key, c.Old, c.New)
			}
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

func newQuorumExpectedCmd() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "expected N",
		Short: "Set expected votes on every member of the view (corosync-quorumtool -e)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := strconv.ParseUint(args[0], 10, 32)
			if err != nil || n == 0 {
				return usageErrorf("expected votes %q: want a positive integer", args[0])
			}
			q, err := fetch(cmd, &f, func(c *appliance.Client, ctx context.Context) (appliance.QuorumResponse, error) {
				return c.SetExpected(ctx, uint32(n))
			})
			if err != nil {
				return err
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), q)
			}
			state := "NOT quorate"
			if q.Quorate {
				state = "quorate"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Expected votes %d, total votes %d, quorum %d: %s\n", q.ExpectedVotes, q.TotalVotes, q.Quorum, state)
			return nil
		},
	}
	f.register(cmd)
	return cmd
}
