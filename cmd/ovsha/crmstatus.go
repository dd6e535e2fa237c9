package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/ovsha/ovsha/appliance"
	"github.com/spf13/cobra"
)

type statusFlags struct {
	clientFlags
	watch    bool
	interval time.Duration
	history  bool
	limit    int
}

// clusterStatus is what `ovsha status --json` prints: the daemon's
// status (ring, quorum) with the resource manager's view folded in. dc,
// quorate, nodes and resources are always present; without the resource
// manager, nodes come from the ring and resources is empty.
type clusterStatus struct {
	appliance.StatusResponse
	// CRM is true when the daemon runs the resource manager.
	CRM                  bool                     `json:"crm"`
	CRMError             string                   `json:"crm_error,omitempty"`
	DC                   string                   `json:"dc"`
	Quorate              bool                     `json:"quorate"`
	Nodes                []appliance.CRMNode      `json:"nodes"`
	Resources            []appliance.CRMResource  `json:"resources"`
	FailedActions        []appliance.FailedAction `json:"failed_actions"`
	CIBVersion           *appliance.CIBVersion    `json:"cib_version,omitempty"`
	LastChange           time.Time                `json:"last_change,omitzero"`
	LastChangeNode       string                   `json:"last_change_node,omitempty"`
	TransitionInProgress bool                     `json:"transition_in_progress"`
}

// fetchStatus reads /v1/status and, when the daemon has it, the CRM view.
func fetchStatus(ctx context.Context, c *appliance.Client) (clusterStatus, error) {
	st, err := c.Status(ctx)
	if err != nil {
		return clusterStatus{}, unreachable(err)
	}
	out := clusterStatus{StatusResponse: st, Quorate: st.Quorum.Quorate, Resources: []appliance.CRMResource{}, FailedActions: []appliance.FailedAction{}}
	crm, err := c.CRMStatus(ctx)
	switch {
	case errors.Is(err, appliance.ErrNotFound):
		out.Nodes = ringNodes(st)
		return out, nil
	case err != nil:
		out.Nodes = ringNodes(st)
		out.CRMError = err.Error()
		return out, nil
	}
	out.CRM = true
	out.DC, out.Quorate = crm.DC, crm.Quorate
	out.Nodes = orEmpty(crm.Nodes)
	out.Resources = orEmpty(crm.Resources)
	out.FailedActions = orEmpty(crm.FailedActions)
	v := crm.CIBVersion
	out.CIBVersion = &v
	out.LastChange, out.LastChangeNode = crm.LastChange, crm.LastChangeNode
	out.TransitionInProgress = crm.TransitionInProgress
	return out, nil
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// ringNodes lists the configured nodes, online when in the ring.
func ringNodes(st appliance.StatusResponse) []appliance.CRMNode {
	members := map[uint32]bool{}
	for _, m := range st.Ring.Members {
		members[m.NodeID] = true
	}
	nodes := []appliance.CRMNode{}
	for _, n := range st.Ring.Nodes {
		nodes = append(nodes, appliance.CRMNode{ID: n.NodeID, Name: n.Name, Online: members[n.NodeID]})
	}
	return nodes
}

func runStatus(cmd *cobra.Command, f *statusFlags) error {
	client := appliance.NewClient(f.socket)
	out := cmd.OutOrStdout()
	if f.history {
		if f.watch {
			return usageErrorf("status: --history and --watch exclude each other")
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
		defer cancel()
		h, err := client.CRMHistory(ctx, f.limit)
		if errors.Is(err, appliance.ErrNotFound) {
			return fmt.Errorf("ovshad at %s has no transition history (it runs without the resource manager)", f.socket)
		}
		if err != nil {
			return unreachable(err)
		}
		if f.json {
			h.Transitions = orEmpty(h.Transitions)
			return printJSON(out, h)
		}
		return renderHistory(out, h)
	}
	frame := func(ctx context.Context) ([]byte, error) {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		st, err := fetchStatus(ctx, client)
		if err != nil {
			return nil, err
		}
		var b bytes.Buffer
		if f.json {
			err = printJSON(&b, st)
		} else {
			err = renderClusterStatus(&b, st, time.Now())
		}
		return b.Bytes(), err
	}
	if !f.watch {
		b, err := frame(cmd.Context())
		if err != nil {
			return err
		}
		_, err = out.Write(b)
		return err
	}
	if f.interval <= 0 {
		return usageErrorf("status: --interval must be positive, got %s", f.interval)
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return watchStatus(ctx, out, f.interval, frame)
}

// clearScreen moves the cursor home and clears the terminal.
const clearScreen = "\x1b[H\x1b[2J"

// watchStatus redraws frame every interval until ctx ends (Ctrl-C), which
// is a normal end. A failing frame is shown and retried, so the watch
// survives a daemon restart.
func watchStatus(ctx context.Context, w io.Writer, interval time.Duration, frame func(context.Context) ([]byte, error)) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		b, err := frame(ctx)
		if ctx.Err() != nil {
			return nil
		}
		io.WriteString(w, clearScreen)
		if err != nil {
			fmt.Fprintf(w, "ovsha: %v (retrying every %s)\n", err, interval)
		} else {
			w.Write(b)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// renderClusterStatus prints today's ring/quorum summary and, when the
// daemon runs the resource manager, the crm_mon-style section.
func renderClusterStatus(w io.Writer, st clusterStatus, now time.Time) error {
	if err := renderStatus(w, st.StatusResponse); err != nil {
		return err
	}
	if st.CRMError != "" {
		fmt.Fprintf(w, "\nResource manager: unavailable: %s\n", st.CRMError)
		return nil
	}
	if !st.CRM {
		return nil
	}
	fmt.Fprintln(w)
	return renderCRM(w, st, now)
}

func renderCRM(w io.Writer, st clusterStatus, now time.Time) error {
	dc := st.DC
	if dc == "" {
		dc = "NONE"
	}
	quorum := "partition WITHOUT quorum"
	if st.Quorate {
		quorum = "partition with quorum"
	}
	fmt.Fprintf(w, "Cluster Summary:\n  * Current DC: %s (%s)\n", dc, quorum)
	if st.CIBVersion != nil {
		v := st.CIBVersion
		fmt.Fprintf(w, "  * CIB version: %d.%d.%d\n", v.AdminEpoch, v.Epoch, v.NumUpdates)
	}
	if !st.LastChange.IsZero() {
		by := ""
		if st.LastChangeNode != "" {
			by = " by " + st.LastChangeNode
		}
		fmt.Fprintf(w, "  * Last change: %s%s (%s ago)\n", st.LastChange.Local().Format(time.DateTime), by, now.Sub(st.LastChange).Round(time.Second))
	}
	if st.TransitionInProgress {
		fmt.Fprintln(w, "  * Transition in progress")
	}
	fmt.Fprintf(w, "  * %d nodes configured, %d resource instances configured\n", len(st.Nodes), len(st.Resources))
	fmt.Fprintln(w, "\nNode List:")
	groups := map[string][]string{}
	for _, n := range st.Nodes {
		state := "OFFLINE"
		switch {
		case n.Unclean:
			state = "UNCLEAN"
		case !n.Online:
		case n.Maintenance:
			state = "Maintenance"
		case n.Standby:
			state = "Standby"
		default:
			state = "Online"
		}
		groups[state] = append(groups[state], n.Name)
	}
	for _, state := range []string{"Online", "Standby", "Maintenance", "OFFLINE", "UNCLEAN"} {
		if names := groups[state]; len(names) > 0 {
			fmt.Fprintf(w, "  * %s: [ %s ]\n", state, strings.Join(names, " "))
		}
	}
	fmt.Fprintln(w, "\nFull List of Resources:")
	if len(st.Resources) == 0 {
		fmt.Fprintln(w, "  * No resources")
	}
	tw := tabwriter.NewWriter(w, 0, 4, 1, ' ', 0)
	lastParent := ""
	for _, r := range st.Resources {
		parent, indent := "", "  "
		switch {
		case r.Group != "":
			parent, indent = "Resource Group: "+r.Group+":", "    "
		case r.Clone != "":
			parent, indent = "Clone Set: "+r.Clone+" ["+r.ID+"]:", "    "
		}
		if parent != lastParent {
			tw.Flush()
			if parent != "" {
				fmt.Fprintf(w, "  * %s\n", parent)
			}
		}
		lastParent = parent
		fmt.Fprintf(tw, "%s* %s\t(%s):\t%s\n", indent, r.ID, r.Agent, resourceState(r))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(st.FailedActions) > 0 {
		fmt.Fprintln(w, "\nFailed Resource Actions:")
		for _, a := range st.FailedActions {
			op := a.Op
			if a.Interval != "" && a.Interval != "0" && a.Interval != "0s" {
				op += " (interval " + a.Interval + ")"
			}
			reason := ""
			if a.Reason != "" {
				reason = ": " + a.Reason
			}
			fmt.Fprintf(w, "  * %s %s on %s returned '%s' (%d)%s at %s\n", a.Resource, op, a.Node, a.RCText, a.RC, reason, a.At.Local().Format(time.DateTime))
		}
	}
	return nil
}

func resourceState(r appliance.CRMResource) string {
	s := r.Role
	if len(r.Nodes) > 0 {
		s += " " + strings.Join(r.Nodes, " ")
	}
	if r.Disabled {
		s += " (disabled)"
	}
	if !r.Managed {
		s += " (unmanaged)"
	}
	if len(r.FailCount) > 0 {
		nodes := make([]string, 0, len(r.FailCount))
		for n := range r.FailCount {
			nodes = append(nodes, n)
		}
		sort.Strings(nodes)
		var parts []string
		for _, n := range nodes {
			parts = append(parts, fmt.Sprintf("%s=%d", n, r.FailCount[n]))
		}
		s += " (failcount " + strings.Join(parts, " ") + ")"
	}
	return s
}

// renderHistory prints transitions newest last, with their trigger and
// phase durations.
func renderHistory(w io.Writer, h appliance.HistoryResponse) error {
	if len(h.Transitions) == 0 {
		fmt.Fprintln(w, "no transitions yet")
		return nil
	}
	for i, t := range h.Transitions {
		if i > 0 {
			fmt.Fprintln(w)
		}
		took := "running"
		if !t.Finished.IsZero() {
			took = "took " + t.Finished.Sub(t.Started).String()
		}
		fmt.Fprintf(w, "Transition %d on DC %s: %s, started %s, %s\n", t.ID, t.DC, orDefault(t.Result, "in progress"), t.Started.Local().Format("2006-01-02 15:04:05.000"), took)
		fmt.Fprintf(w, "  trigger: %s\n", t.Trigger)
		if len(t.Phases) > 0 {
			parts := make([]string, len(t.Phases))
			for j, p := range t.Phases {
				parts[j] = fmt.Sprintf("%s %s", p.Name, p.Duration)
			}
			fmt.Fprintf(w, "  phases:  %s\n", strings.Join(parts, ", "))
		}
		if len(t.Actions) > 0 {
			fmt.Fprintf(w, "  actions: %s\n", strings.Join(t.Actions, "; "))
		}
	}
	return nil
}
