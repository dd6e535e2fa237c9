package scheduler_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ovsha/ovsha/cluster/cib"
	"github.com/ovsha/ovsha/cluster/scheduler"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// gatewayCIB builds the appliance's default configuration: one group
// ovs-bridge → ovs-port (bond) → ovs-interface → VIP on n nodes, plus a
// fencing device, with the group running on node1 (or where running says).
type gatewayOpts struct {
	nodes          int
	running        string // node the group runs on ("" = stopped)
	lost           []string
	standby        []string
	quorum         bool
	noQuorumPolicy string
	threshold      int
	failedMonitor  string // member whose 10s monitor failed
	failCount      int
	prefer         string // cli-prefer location (a "move")
	stickiness     int
}

var members = []struct{ id, typ string }{
	{"br-ex", "ovs-bridge"}, {"bond0", "ovs-port"}, {"gw-iface", "ovs-interface"}, {"gw-vip", "IPaddr2"},
}

func gatewayCIB(o gatewayOpts) *cib.CIB {
	c := &cib.CIB{AdminEpoch: 0, Epoch: 1, ValidateWith: "pacemaker-3.9", HaveQuorum: "0"}
	if o.quorum {
		c.HaveQuorum = "1"
	}
	props := []cib.NVPair{{Name: "fencing-enabled", Value: "true"}}
	if o.noQuorumPolicy != "" {
		props = append(props, cib.NVPair{Name: "no-quorum-policy", Value: o.noQuorumPolicy})
	}
	c.Config.CRMConfig = []cib.NVSet{{ID: "cib-bootstrap-options", Pairs: props}}
	meta := []cib.NVPair{{Name: "resource-stickiness", Value: fmt.Sprint(o.stickiness)}}
	if o.threshold > 0 {
		meta = append(meta, cib.NVPair{Name: "migration-threshold", Value: fmt.Sprint(o.threshold)})
	}
	c.Config.RscDefaults = &cib.Defaults{Meta: []cib.NVSet{{ID: "rsc-options", Pairs: meta}}}
	group := cib.Resource{Kind: cib.KindGroup, ID: "gateway"}
	for _, m := range members {
		group.Children = append(group.Children, cib.Resource{
			Kind: cib.KindPrimitive, ID: m.id, Class: "ocf", Provider: "ovsha", Type: m.typ,
			Ops: &cib.Operations{Ops: []cib.Op{{Name: "monitor", Interval: "10s", Timeout: "20s"}}},
		})
	}
	c.Config.Resources.Items = []cib.Resource{
		{Kind: cib.KindPrimitive, ID: "fence", Class: "stonith", Type: "fence_ovsha"},
		group,
	}
	if o.prefer != "" {
		c.Config.Constraints.Items = append(c.Config.Constraints.Items, cib.Constraint{
			Kind: cib.KindLocation, ID: "cli-prefer-gateway", Rsc: "gateway", Node: o.prefer, Score: "INFINITY", Role: "Started"})
	}
	has := func(list []string, s string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	}
	for i := 1; i <= o.nodes; i++ {
		name := fmt.Sprintf("node%d", i)
		c.Config.Nodes = append(c.Config.Nodes, cib.Node{ID: fmt.Sprint(i), Uname: name})
		ns := cib.NodeState{ID: fmt.Sprint(i), Uname: name, InCCM: "true", Crmd: "online", Join: "member", Expected: "member"}
		if has(o.lost, name) {
			ns.InCCM, ns.Crmd = "false", "offline"
		}
		var attrs []cib.NVPair
		if has(o.standby, name) {
			attrs = append(attrs, cib.NVPair{Name: "standby", Value: "on"})
		}
		lrm := &cib.LRM{ID: fmt.Sprint(i)}
		call := 1
		op := func(rsc, task string, interval, rc int) cib.LRMOp {
			call++
			return cib.LRMOp{ID: fmt.Sprintf("%s_%s_%d", rsc, task, interval), Operation: task,
				Interval: fmt.Sprint(interval), OpStatus: "0", RCCode: fmt.Sprint(rc), CallID: fmt.Sprint(call),
				TransitionKey: fmt.Sprintf("%d:1:0:00000000-0000-0000-0000-000000000000", call)}
		}
		if i == 1 {
			lrm.Resources = append(lrm.Resources, cib.LRMResource{ID: "fence", Class: "stonith", Type: "fence_ovsha",
				Ops: []cib.LRMOp{op("fence", "start", 0, 0)}})
		}
		if name == o.running {
			for _, m := range members {
				ops := []cib.LRMOp{op(m.id, "start", 0, 0)}
				if m.id == o.failedMonitor {
					ops = append(ops, op(m.id, "monitor", 10000, 7))
					attrs = append(attrs, cib.NVPair{Name: "fail-count-" + m.id + "#monitor_10000", Value: fmt.Sprint(o.failCount)})
				} else {
					ops = append(ops, op(m.id, "monitor", 10000, 0))
				}
				lrm.Resources = append(lrm.Resources, cib.LRMResource{ID: m.id, Class: "ocf", Provider: "ovsha", Type: m.typ, Ops: ops})
			}
		}
		ns.LRM = lrm
		if len(attrs) > 0 {
			ns.Transient = &cib.Transient{Attrs: []cib.NVSet{{ID: "status-" + name, Pairs: attrs}}}
		}
		c.Status.Nodes = append(c.Status.Nodes, ns)
	}
	return c
}

// render is the golden form: Pacemaker-style summary, actions, placement.
func render(res *scheduler.Result) string {
	var b strings.Builder
	b.WriteString("Transition Summary:\n")
	for _, c := range res.Summary {
		switch {
		case c.Verb == "Fence":
			fmt.Fprintf(&b, "  * Fence (reboot) %s\n", c.To)
		case c.From != "" && c.To != "" && c.From != c.To:
			fmt.Fprintf(&b, "  * %-8s %-9s ( %s -> %s )\n", c.Verb, c.Resource, c.From, c.To)
		default:
			fmt.Fprintf(&b, "  * %-8s %-9s ( %s%s )\n", c.Verb, c.Resource, c.From, map[bool]string{true: c.To}[c.From == ""])
		}
	}
	b.WriteString("Actions:\n")
	for _, a := range res.Actions {
		name := a.Resource + "_" + a.Task
		if a.Task == "fence" {
			name = "fence"
		}
		if a.Interval > 0 {
			name += fmt.Sprintf("_%d", a.Interval)
		}
		if a.Node != "" && !a.Pseudo {
			name += " on " + a.Node
		}
		if a.Pseudo {
			name += " (pseudo)"
		}
		if a.MigrateSource != "" {
			name += fmt.Sprintf(" [%s -> %s]", a.MigrateSource, a.MigrateTarget)
		}
		fmt.Fprintf(&b, "  %2d %s <- %v\n", a.ID, name, a.Inputs)
	}
	b.WriteString("Placement:\n")
	ids := make([]string, 0, len(res.Placement))
	for id := range res.Placement {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		fmt.Fprintf(&b, "  %s: %v\n", id, res.Placement[id])
	}
	return b.String()
}

// gatewayCases are the gateway scenarios with golden transitions.
var gatewayCases = []struct {
	name string
	opts gatewayOpts
	want string // node the whole group must end on ("" = stopped)
}{
	{"2n-steady", gatewayOpts{nodes: 2, running: "node1", quorum: true, stickiness: 100}, "node1"},
	{"2n-start", gatewayOpts{nodes: 2, quorum: true}, "node2"}, // node1 already holds the fence device,
	{"2n-node-loss", gatewayOpts{nodes: 2, running: "node1", lost: []string{"node1"}, quorum: true, stickiness: 100}, "node2"},
	{"2n-standby", gatewayOpts{nodes: 2, running: "node1", standby: []string{"node1"}, quorum: true, stickiness: 100}, "node2"},
	{"2n-monitor-fail-recover", gatewayOpts{nodes: 2, running: "node1", quorum: true, stickiness: 100, threshold: 3, failedMonitor: "gw-vip", failCount: 1}, "node1"},
	{"2n-monitor-fail-threshold", gatewayOpts{nodes: 2, running: "node1", quorum: true, stickiness: 100, threshold: 1, failedMonitor: "gw-vip", failCount: 1}, "node2"},
	{"2n-move", gatewayOpts{nodes: 2, running: "node1", quorum: true, stickiness: 100, prefer: "node2"}, "node2"},
	{"2n-clear-after-move", gatewayOpts{nodes: 2, running: "node2", quorum: true, stickiness: 100}, "node2"},
	{"2n-quorum-loss-ignore", gatewayOpts{nodes: 2, running: "node1", lost: []string{"node2"}, noQuorumPolicy: "ignore", stickiness: 100}, "node1"},
	{"3n-node-loss", gatewayOpts{nodes: 3, running: "node1", lost: []string{"node1"}, quorum: true, stickiness: 100}, "node3"}, // the fence device moves to node2
	{"3n-standby", gatewayOpts{nodes: 3, running: "node2", standby: []string{"node2"}, quorum: true, stickiness: 100}, "node3"},
	{"3n-monitor-fail-threshold", gatewayOpts{nodes: 3, running: "node1", quorum: true, stickiness: 100, threshold: 1, failedMonitor: "bond0", failCount: 1}, "node2"},
	{"3n-move", gatewayOpts{nodes: 3, running: "node1", quorum: true, stickiness: 100, prefer: "node3"}, "node3"},
	{"3n-clear-after-move", gatewayOpts{nodes: 3, running: "node3", quorum: true, stickiness: 100}, "node3"},
	{"3n-quorum-loss-stop", gatewayOpts{nodes: 3, running: "node1", lost: []string{"node2", "node3"}, noQuorumPolicy: "stop", stickiness: 100}, ""},
	{"3n-quorum-loss-freeze", gatewayOpts{nodes: 3, running: "node1", lost: []string{"node2", "node3"}, noQuorumPolicy: "freeze", stickiness: 100}, "node1"},
}

func TestGatewayChainGolden(t *testing.T) {
	for _, tc := range gatewayCases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := scheduler.Run(scheduler.Input{CIB: gatewayCIB(tc.opts)})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range members {
				got := res.Placement[m.id]
				want := []string{}
				if tc.want != "" {
					want = []string{tc.want}
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s placed on %v, want %v", m.id, got, want)
				}
			}
			out := render(res)
			path := filepath.Join("testdata", "gateway", tc.name+".txt")
			if *update {
				if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			golden, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("reading golden file (run with -update to create): %v", err)
			}
			if string(golden) != out {
				t.Errorf("output differs from %s:\n--- got\n%s--- want\n%s", path, out, golden)
			}
		})
	}
}
