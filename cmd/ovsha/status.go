package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ovsha/ovsha/appliance"
	"github.com/spf13/cobra"
)

// socketEnv names the environment variable that selects the daemon.
const socketEnv = "OVSHA_SOCKET"

// clientFlags are the flags every read verb shares.
type clientFlags struct {
	socket string
	json   bool
}

func (f *clientFlags) register(cmd *cobra.Command) {
	def := os.Getenv(socketEnv)
	if def == "" {
		def = appliance.DefaultSocket
	}
	cmd.Flags().StringVar(&f.socket, "socket", def, "ovshad control socket (env "+socketEnv+")")
	cmd.Flags().BoolVar(&f.json, "json", false, "print JSON instead of text")
}

// fetch calls one control API read and turns transport errors into the
// one-line advice the operator needs.
func fetch[T any](cmd *cobra.Command, f *clientFlags, get func(*appliance.Client, context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
	defer cancel()
	v, err := get(appliance.NewClient(f.socket), ctx)
	if errors.Is(err, appliance.ErrUnreachable) {
		return v, fmt.Errorf("%v — is ovshad running? (select another daemon with --socket or %s)", err, socketEnv)
	}
	return v, err
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func newStatusCmd() *cobra.Command {
	var f statusFlags
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the cluster at a glance: ring, quorum, links and, with the resource manager, nodes and resources (crm_mon --one-shot)",
		Long: `Show the cluster at a glance: ring, quorum and links, and when ovshad runs the resource
manager also the DC, nodes (online, standby, maintenance, offline), resources with their
role and node, failed actions and the last CIB change, like crm_mon --one-shot.
--watch refreshes the screen every --interval until Ctrl-C. --history prints the recent
transitions with what triggered them and how long each phase took.
--json prints one object: the daemon status plus dc, quorate, nodes and resources.`,
		Example: "  ovsha status\n  ovsha status --watch --interval 1s\n  ovsha status --history --limit 5\n  ovsha status --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runStatus(cmd, &f)
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&f.watch, "watch", false, "refresh until Ctrl-C")
	cmd.Flags().DurationVar(&f.interval, "interval", 2*time.Second, "refresh interval with --watch")
	cmd.Flags().BoolVar(&f.history, "history", false, "print recent transitions instead")
	cmd.Flags().IntVar(&f.limit, "limit", 10, "how many transitions --history prints")
	return cmd
}

// renderStatus prints the summary that `ovsha status` and `ovsha lab up`
// show.
func renderStatus(w io.Writer, st appliance.StatusResponse) error {
	q, r := st.Quorum, st.Ring
	fmt.Fprintf(w, "Cluster: %s    Node: %s (nodeid %d)    ovshad up since %s\n",
		st.ClusterName, st.Node.Name, st.Node.NodeID, st.StartedAt.Local().Format(time.DateTime))
	fmt.Fprintf(w, "Ring:    %s, ring id %s, %d member(s): %s\n", r.State, r.RingID, len(r.Members), memberList(r.Members))
	quorate := "NOT quorate"
	if q.Quorate {
		quorate = "quorate"
	}
	fmt.Fprintf(w, "Quorum:  %s (total votes %d, expected votes %d, quorum %d) flags: %s\n",
		quorate, q.TotalVotes, q.ExpectedVotes, q.Quorum, flagList(q.Flags))
	fmt.Fprintln(w, "Links:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, n := range r.Nodes {
		if n.Local {
			fmt.Fprintf(tw, "  %s\t(nodeid %d)\tlocal node\n", n.Name, n.NodeID)
			continue
		}
		var parts []string
		for _, l := range n.Links {
			parts = append(parts, fmt.Sprintf("link%d %s", l.Link, linkState(l)))
		}
		if len(parts) == 0 {
			parts = []string{"no links"}
		}
		fmt.Fprintf(tw, "  %s\t(nodeid %d)\t%s\n", n.Name, n.NodeID, strings.Join(parts, ", "))
	}
	return tw.Flush()
}

func linkState(l appliance.Link) string {
	if !l.Connected {
		return "down"
	}
	return fmt.Sprintf("connected %.3f ms", l.LatencyMS)
}

func memberList(ms []appliance.Member) string {
	if len(ms) == 0 {
		return "-"
	}
	s := make([]string, len(ms))
	for i, m := range ms {
		s[i] = fmt.Sprintf("%s(%d)", m.Name, m.NodeID)
	}
	return strings.Join(s, " ")
}

func flagList(f []string) string {
	if len(f) == 0 {
		return "-"
	}
	return strings.Join(f, " ")
}
