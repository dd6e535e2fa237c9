package main

import (
	"fmt"
	"io"
	"time"

	"github.com/ovsha/ovsha/appliance"
	"github.com/spf13/cobra"
)

func newQuorumCmd() *cobra.Command {
	q := &cobra.Command{
		Use:   "quorum",
		Short: "Votequorum state (like corosync-quorumtool)",
		Args:  cobra.NoArgs,
	}
	var f clientFlags
	status := &cobra.Command{
		Use:   "status",
		Short: "Show votes, quorum, flags and membership (corosync-quorumtool -s)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := fetch(cmd, &f, (*appliance.Client).Quorum)
			if err != nil {
				return err
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), r)
			}
			return renderQuorum(cmd.OutOrStdout(), r, time.Now())
		},
	}
	f.register(status)
	q.AddCommand(status, newQuorumExpectedCmd())
	return q
}

func renderQuorum(w io.Writer, q appliance.QuorumResponse, now time.Time) error {
	yes := "No"
	if q.Quorate {
		yes = "Yes"
	}
	fmt.Fprintf(w, "Quorum information\n------------------\n")
	fmt.Fprintf(w, "Date:             %s\n", now.Format(time.ANSIC))
	fmt.Fprintf(w, "Quorum provider:  ovsha votequorum\n")
	fmt.Fprintf(w, "Nodes:            %d\n", len(q.Members))
	fmt.Fprintf(w, "Node ID:          %d\n", q.Node.NodeID)
	fmt.Fprintf(w, "Ring ID:          %s\n", q.RingID)
	fmt.Fprintf(w, "Quorate:          %s\n\n", yes)
	fmt.Fprintf(w, "Votequorum information\n----------------------\n")
	fmt.Fprintf(w, "Expected votes:   %d\n", q.ExpectedVotes)
	fmt.Fprintf(w, "Total votes:      %d\n", q.TotalVotes)
	fmt.Fprintf(w, "Quorum:           %d\n", q.Quorum)
	fmt.Fprintf(w, "Flags:            %s\n\n", flagList(q.Flags))
	fmt.Fprintf(w, "Membership information\n----------------------\n")
	fmt.Fprintf(w, "%10s %10s Name\n", "Nodeid", "Votes")
	for _, m := range q.Members {
		local := ""
		if m.Local {
			local = " (local)"
		}
		fmt.Fprintf(w, "%10d %10d %s%s\n", m.NodeID, m.Votes, m.Name, local)
	}
	return nil
}
