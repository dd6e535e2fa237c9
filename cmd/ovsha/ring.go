package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/ovsha/ovsha/appliance"
	"github.com/spf13/cobra"
)

func newRingCmd() *cobra.Command {
	ring := &cobra.Command{
		Use:   "ring",
		Short: "Totem ring and link state (like corosync-cfgtool)",
		Args:  cobra.NoArgs,
	}
	var f clientFlags
	status := &cobra.Command{
		Use:   "status",
		Short: "Show the ring and, per node and link, connectivity, latency and counters (corosync-cfgtool -s)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := fetch(cmd, &f, (*appliance.Client).Ring)
			if err != nil {
				return err
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), r)
			}
			return renderRing(cmd.OutOrStdout(), r)
		},
	}
	f.register(status)
	ring.AddCommand(status)
	return ring
}

func renderRing(w io.Writer, r appliance.RingResponse) error {
	fmt.Fprintf(w, "Local node: %s (nodeid %d)\n", r.Node.Name, r.Node.NodeID)
	fmt.Fprintf(w, "Ring:       %s, ring id %s, %d member(s): %s\n", r.State, r.RingID, len(r.Members), memberList(r.Members))
	fmt.Fprintf(w, "Sequence:   seq %d, aru %d, delivered %d, queued %d\n", r.Seq, r.Aru, r.HighDelivered, r.Queued)
	e := r.Engine
	fmt.Fprintf(w, "Engine:     tokens %d (retransmitted %d), last rotation %.3f ms, frames sent %d received %d retransmitted %d, delivered %d\n",
		e.TokensReceived, e.TokensRetransmitted, e.LastRotationMS, e.FramesSent, e.FramesReceived, e.FramesRetransmitted, e.MessagesDelivered)
	fmt.Fprintf(w, "            membership changes %d, token losses %d, consensus timeouts %d, own stalls %d (%.1f ms)\n",
		e.MembershipChanges, e.TokenLosses, e.ConsensusTimeouts, e.Stalls, e.StalledForMS)
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tNODEID\tLINK\tSTATUS\tLATENCY\tLOCAL\tREMOTE\tTX PKTS\tRX PKTS\tRX ERR\tAUTH FAIL\tREPLAYS")
	for _, n := range r.Nodes {
		if n.Local {
			fmt.Fprintf(tw, "%s\t%d\t-\tlocalhost\t-\t-\t-\t-\t-\t-\t-\t-\n", n.Name, n.NodeID)
			continue
		}
		if len(n.Links) == 0 {
			fmt.Fprintf(tw, "%s\t%d\t-\tno links\t-\t-\t-\t-\t-\t-\t-\t-\n", n.Name, n.NodeID)
		}
		for _, l := range n.Links {
			state, lat := "down", "-"
			if l.Connected {
				state, lat = "connected", fmt.Sprintf("%.3fms", l.LatencyMS)
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\n", n.Name, n.NodeID, l.Link, state, lat,
				l.Local, l.Remote, l.TxPackets, l.RxPackets, l.RxErrors, l.AuthFailures, l.Replays)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	rt := r.Runtime
	fmt.Fprintf(w, "\nRuntime:    packets received %d, decode errors %d, messages sent %d, send errors %d, event backlog %d\n",
		rt.PacketsReceived, rt.DecodeErrors, rt.MessagesSent, rt.SendErrors, rt.EventBacklog)
	if len(r.Transport) > 0 {
		t := r.Transport
		fmt.Fprintf(w, "Transport:  auth failures %d, malformed %d, replays %d, duplicates %d, unknown sender %d, oversize %d, send errors %d, queue full %d\n",
			t["auth_failures"], t["malformed"], t["replays"], t["duplicates"], t["unknown_sender"], t["oversize"], t["send_errors"], t["queue_full"])
	}
	return nil
}
