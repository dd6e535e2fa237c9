package scheduler_test

import (
	"encoding/xml"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/ovsha/ovsha/cluster/cib"
	"github.com/ovsha/ovsha/cluster/scheduler"
)

// The DC executes a transition action by action, recording each result
// in the CIB status, and re-runs the scheduler whenever something else
// changes (a node attribute, say). It keeps the running transition only
// if the new plan's real actions are exactly those not completed yet
// (cluster/crm dc.go sameWork); otherwise it aborts and follows the new
// plan. TestReplanMidTransition checks, for every state a transition can
// pass through, that a rerun is that same remaining work.

// recordOp records one completed, successful action in c's status as
// cluster/crm applyOp does: RSC_last_0 for non-recurring operations
// (migrate_to/migrate_from carry migrate_source/migrate_target),
// RSC_monitor_INTERVAL for recurring monitors, call-id one above the
// node's highest, and a successful stop drops the node's recurring
// entries for the resource.
func recordOp(t *testing.T, c *cib.CIB, a scheduler.Action, at int64) {
	t.Helper()
	var ns *cib.NodeState
	for i := range c.Status.Nodes {
		if c.Status.Nodes[i].Uname == a.Node {
			ns = &c.Status.Nodes[i]
		}
	}
	if ns == nil {
		t.Fatalf("recording %s %s: no status entry for node %q", a.Resource, a.Task, a.Node)
	}
	if ns.LRM == nil {
		ns.LRM = &cib.LRM{}
	}
	call := 0
	for _, r := range ns.LRM.Resources {
		for _, o := range r.Ops {
			if v, err := strconv.Atoi(o.CallID); err == nil && v > call {
				call = v
			}
		}
	}
	call++
	var lr *cib.LRMResource
	for i := range ns.LRM.Resources {
		if ns.LRM.Resources[i].ID == a.Resource {
			lr = &ns.LRM.Resources[i]
		}
	}
	if lr == nil {
		cfg := c.FindResource(a.Resource)
		if cfg == nil {
			t.Fatalf("recording %s %s: resource not configured", a.Resource, a.Task)
		}
		ns.LRM.Resources = append(ns.LRM.Resources, cib.LRMResource{ID: a.Resource, Class: cfg.Class, Provider: cfg.Provider, Type: cfg.Type})
		lr = &ns.LRM.Resources[len(ns.LRM.Resources)-1]
	}
	op := cib.LRMOp{Operation: a.Task, Interval: fmt.Sprint(a.Interval), OpStatus: "0", RCCode: "0",
		CallID: fmt.Sprint(call), TransitionKey: fmt.Sprintf("%d:replan:0:ovsha", a.ID),
		LastRCChange: fmt.Sprint(at), LastRun: fmt.Sprint(at), FeatureSet: "3.17.4", OnNode: a.Node}
	if a.MigrateSource != "" {
		op.Other = append(op.Other, xml.Attr{Name: xml.Name{Local: "migrate_source"}, Value: a.MigrateSource},
			xml.Attr{Name: xml.Name{Local: "migrate_target"}, Value: a.MigrateTarget})
	}
	if a.Interval > 0 {
		op.ID = fmt.Sprintf("%s_%s_%d", a.Resource, a.Task, a.Interval)
	} else {
		op.ID = a.Resource + "_last_0"
	}
	replaced := false
	for i := range lr.Ops {
		if lr.Ops[i].ID == op.ID {
			lr.Ops[i], replaced = op, true
		}
	}
	if !replaced {
		lr.Ops = append(lr.Ops, op)
	}
	if a.Task == "stop" {
		lr.Ops = slices.DeleteFunc(lr.Ops, func(o cib.LRMOp) bool { return o.Interval != "" && o.Interval != "0" })
	}
}

// workKey identifies a real action as the DC compares them.
func workKey(a scheduler.Action) string {
	return fmt.Sprintf("%s %s %s %d %s>%s", a.Task, a.Resource, a.Node, a.Interval, a.MigrateSource, a.MigrateTarget)
}

func realWork(acts []scheduler.Action) []string {
	var out []string
	for _, a := range acts {
		if !a.Pseudo {
			out = append(out, workKey(a))
		}
	}
	sort.Strings(out)
	return out
}

func cloneCIB(t *testing.T, c *cib.CIB) *cib.CIB {
	t.Helper()
	data, err := c.MarshalXMLBytes()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cib.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// execution is a transition being carried out: which actions completed
// (pseudo actions complete as soon as their inputs have) and the CIB with
// the real ones recorded.
type execution struct {
	orig *scheduler.Result
	done []bool
	cib  *cib.CIB
	path []string // real actions completed, in order
}

// settle completes every pseudo action whose inputs are done.
func (e *execution) settle() {
	for changed := true; changed; {
		changed = false
		for _, a := range e.orig.Actions {
			if a.Pseudo && !e.done[a.ID] && e.inputsDone(a) {
				e.done[a.ID], changed = true, true
			}
		}
	}
}

func (e *execution) inputsDone(a scheduler.Action) bool {
	for _, in := range a.Inputs {
		if !e.done[in] {
			return false
		}
	}
	return true
}

// ready lists the real actions that may run now.
func (e *execution) ready() []scheduler.Action {
	var out []scheduler.Action
	for _, a := range e.orig.Actions {
		if !a.Pseudo && !e.done[a.ID] && e.inputsDone(a) {
			out = append(out, a)
		}
	}
	return out
}

func (e *execution) complete(t *testing.T, a scheduler.Action) *execution {
	t.Helper()
	next := &execution{orig: e.orig, done: slices.Clone(e.done), cib: cloneCIB(t, e.cib), path: append(slices.Clone(e.path), workKey(a))}
	next.done[a.ID] = true
	recordOp(t, next.cib, a, 5000) // one switchover: one last-rc-change
	next.settle()
	return next
}

// remaining is the original graph's real work not recorded yet.
func (e *execution) remaining() []string {
	var out []string
	for _, a := range e.orig.Actions {
		if !a.Pseudo && !e.done[a.ID] {
			out = append(out, workKey(a))
		}
	}
	sort.Strings(out)
	return out
}

// checkReplan reruns the scheduler on an intermediate state and checks
// (1) no stop of a resource where this transition already brought it up,
// nor of one on its target unless the transition still has that stop to
// do, no second start where it already started, and the same final
// placement; (2) the real actions equal the remaining ones; (3) once
// everything ran, nothing is left to do.
func checkReplan(t *testing.T, name string, e *execution) {
	t.Helper()
	res, err := scheduler.Run(scheduler.Input{CIB: e.cib})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	where := fmt.Sprintf("%s after %v", name, e.path)
	startedHere := map[string]bool{} // "rsc node" brought up by this transition
	for _, a := range e.orig.Actions {
		if e.done[a.ID] && !a.Pseudo && (a.Task == "start" || a.Task == "migrate_from") {
			startedHere[a.Resource+" "+a.Node] = true
		}
	}
	left := map[string]bool{}
	for _, k := range e.remaining() {
		left[k] = true
	}
	for _, a := range res.Actions {
		if a.Pseudo {
			continue
		}
		rn := a.Resource + " " + a.Node
		switch a.Task {
		case "stop":
			if startedHere[rn] {
				t.Errorf("%s: replan stops %s on %s, which this transition started there", where, a.Resource, a.Node)
			}
			if slices.Contains(e.orig.Placement[a.Resource], a.Node) && !left[workKey(a)] {
				t.Errorf("%s: replan stops %s on its target %s", where, a.Resource, a.Node)
			}
		case "start", "migrate_from":
			if startedHere[rn] {
				t.Errorf("%s: replan restarts %s on %s (%s)", where, a.Resource, a.Node, a.Task)
			}
		}
	}
	for id, want := range e.orig.Placement {
		if got := res.Placement[id]; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: replan places %s on %v, the transition on %v", where, id, got, want)
		}
	}
	if got, want := realWork(res.Actions), e.remaining(); !slices.Equal(got, want) {
		t.Errorf("%s: replan's work differs from what is left (the DC would abort)\n  replan: %q\n  left:   %q\n%s", where, got, want, render(res))
	}
}

// replanScenario is a starting CIB whose transition is executed.
type replanScenario struct {
	name string
	cib  func() *cib.CIB
}

func replanScenarios() []replanScenario {
	standby := func(l *lab, node string) {
		l.state(node).Transient = &cib.Transient{Attrs: []cib.NVSet{{ID: "s-" + node, Pairs: []cib.NVPair{{Name: "standby", Value: "on"}}}}}
	}
	migrating := func(nodes int, setup func(l *lab)) func() *cib.CIB {
		return func() *cib.CIB {
			l := newLab(nodes)
			l.group("gateway",
				prim("br-ex", "ovs-bridge", true), prim("bond0", "ovs-port", true), prim("lan0", "ovs-interface", true),
				prim("lan-vip", "IPaddr2", false), prim("wan-vip", "IPaddr2", false))
			l.running("node1", "br-ex", "bond0", "lan0", "lan-vip", "wan-vip")
			setup(l)
			return l.c
		}
	}
	out := []replanScenario{
		{"migrate 2n move", migrating(2, func(l *lab) { l.prefer("gateway", "node2") })},
		{"migrate 2n standby", migrating(2, func(l *lab) { standby(l, "node1") })},
		{"migrate 3n move", migrating(3, func(l *lab) { l.prefer("gateway", "node2") })},
		{"migrate 3n standby", migrating(3, func(l *lab) {
			standby(l, "node1")
			l.prefer("gateway", "node2") // node2 and node3 tie otherwise
		})},
		{"migrate 2n ovs failed", migrating(2, func(l *lab) {
			l.prefer("gateway", "node2")
			l.op("node1", "bond0", "monitor", 7, interval(10000))
		})},
	}
	for _, tc := range gatewayCases {
		switch tc.name {
		case "2n-start", "2n-standby", "2n-move", "2n-monitor-fail-recover", "2n-monitor-fail-threshold",
			"3n-standby", "3n-move", "3n-monitor-fail-threshold", "3n-quorum-loss-stop":
			opts := tc.opts
			out = append(out, replanScenario{"stop/start " + tc.name, func() *cib.CIB { return gatewayCIB(opts) }})
		}
	}
	return out
}

// TestReplanMidTransition executes each scenario's transition through
// every state it can pass through (every set of completed real actions
// closed under the graph's orderings, reached by completing one ready
// action at a time) and checks a rerun of the scheduler at each.
func TestReplanMidTransition(t *testing.T) {
	for _, sc := range replanScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			c := sc.cib()
			orig, err := scheduler.Run(scheduler.Input{CIB: c})
			if err != nil {
				t.Fatal(err)
			}
			if len(realWork(orig.Actions)) == 0 {
				t.Fatalf("scenario plans nothing:\n%s", render(orig))
			}
			start := &execution{orig: orig, done: make([]bool, len(orig.Actions)), cib: cloneCIB(t, c)}
			start.settle()
			seen := map[string]bool{}
			queue := []*execution{start}
			states := 0
			for len(queue) > 0 {
				e := queue[0]
				queue = queue[1:]
				states++
				if states > 20000 {
					t.Fatalf("more than 20000 states: the graph is too wide to explore")
				}
				checkReplan(t, sc.name, e)
				if t.Failed() {
					return // one state's diagnosis is enough
				}
				for _, a := range e.ready() {
					next := e.complete(t, a)
					k := fmt.Sprint(next.done)
					if !seen[k] {
						seen[k] = true
						queue = append(queue, next)
					}
				}
			}
			t.Logf("%d states, %d real actions", states, len(realWork(orig.Actions)))
		})
	}
}

// TestReplanRandomOrders runs each scenario's transition to the end in
// seeded random valid orders, rerunning the scheduler after every
// recorded action, and checks the final state plans no more work. (The
// exhaustive walk above visits the same states; this one exercises the
// call-id order each completion order produces.)
func TestReplanRandomOrders(t *testing.T) {
	for _, sc := range replanScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			for seed := int64(1); seed <= 8; seed++ {
				rng := rand.New(rand.NewSource(seed))
				c := sc.cib()
				orig, err := scheduler.Run(scheduler.Input{CIB: c})
				if err != nil {
					t.Fatal(err)
				}
				e := &execution{orig: orig, done: make([]bool, len(orig.Actions)), cib: cloneCIB(t, c)}
				e.settle()
				name := fmt.Sprintf("%s seed %d", sc.name, seed)
				for {
					checkReplan(t, name, e)
					if t.Failed() {
						return
					}
					ready := e.ready()
					if len(ready) == 0 {
						break
					}
					e = e.complete(t, ready[rng.Intn(len(ready))])
				}
				if left := e.remaining(); len(left) != 0 {
					t.Fatalf("%s: graph stuck with %v left", name, left)
				}
				final, err := scheduler.Run(scheduler.Input{CIB: e.cib})
				if err != nil {
					t.Fatal(err)
				}
				if w := realWork(final.Actions); len(w) != 0 {
					t.Errorf("%s: settled state still plans %s", name, strings.Join(w, ", "))
				}
			}
		})
	}
}

// TestReplanLabMidMigration is the lab's state when a node attribute
// changed in the middle of the gateway's switchover n1 → n2: br-ex and
// bond0 migrated (not yet stopped on n1), lan0 migrated and stopped on
// n1, both VIPs stopped on n1 and lan-vip started on n2. The rerun must
// finish the switchover, not restart the gateway on n2: the cleanup stops
// on n1, wan-vip's start and the monitors not recorded yet. (The file has
// no have-quorum attribute; the DC passes quorum explicitly.)
func TestReplanLabMidMigration(t *testing.T) {
	res := runLabCIB(t, "lab-mid-migration.xml", 1795454200)
	want := []string{
		"monitor lan-vip n2 2000 >", "monitor lan0 n2 10000 >", "monitor wan-vip n2 2000 >",
		"start wan-vip n2 0 >", "stop bond0 n1 0 >", "stop br-ex n1 0 >",
	}
	if got := realWork(res.Actions); !slices.Equal(got, want) {
		t.Errorf("replan %q\nwant     %q\n%s", got, want, render(res))
	}
	wantGatewayOn(t, res, "n2")
}

// TestLabRejoinMultipleActive: a lab node powered on again finds the
// gateway's bridge, bond and internal port restored from its OVSDB, so the
// probes report them active on it too while the gateway runs on n1. The
// default multiple-active=stop_start stops the whole group everywhere and
// starts it again (an outage for a node coming back); stop_unexpected, as
// the lab configures it, only stops the copies on the returning node.
func TestLabRejoinMultipleActive(t *testing.T) {
	tests := []struct {
		file    string
		want    []string
		summary string // "" = not checked
	}{
		{"lab-rejoin-stop-unexpected.xml", []string{"stop bond0 n2 0 >", "stop br-ex n2 0 >", "stop lan0 n2 0 >"},
			"[{Stop br-ex n2  } {Stop bond0 n2  } {Stop lan0 n2  }]"},
		{"lab-rejoin-stop-start.xml", []string{
			"monitor bond0 n1 1000 >", "monitor br-ex n1 10000 >", "monitor lan-vip n1 2000 >", "monitor lan0 n1 10000 >", "monitor wan-vip n1 2000 >",
			"start bond0 n1 0 >", "start br-ex n1 0 >", "start lan-vip n1 0 >", "start lan0 n1 0 >", "start wan-vip n1 0 >",
			"stop bond0 n1 0 >", "stop bond0 n2 0 >", "stop br-ex n1 0 >", "stop br-ex n2 0 >", "stop lan-vip n1 0 >",
			"stop lan0 n1 0 >", "stop lan0 n2 0 >", "stop wan-vip n1 0 >"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			res := runLabCIB(t, tt.file, 1795454300)
			if got := realWork(res.Actions); !slices.Equal(got, tt.want) {
				t.Errorf("plan %q\nwant %q\n%s", got, tt.want, render(res))
			}
			if got := fmt.Sprint(res.Summary); tt.summary != "" && got != tt.summary {
				t.Errorf("transition summary %s, want %s", got, tt.summary)
			}
			wantGatewayOn(t, res, "n1")
		})
	}
}

// runLabCIB runs the scheduler, with quorum, over a CIB taken from the lab
// (testdata/replan/file).
func runLabCIB(t *testing.T, file string, now int64) *scheduler.Result {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "replan", file))
	if err != nil {
		t.Fatal(err)
	}
	c, err := cib.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	quorum := true
	res, err := scheduler.Run(scheduler.Input{CIB: c, Quorum: &quorum, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// wantGatewayOn checks that every gateway member is placed on node alone.
func wantGatewayOn(t *testing.T, res *scheduler.Result, node string) {
	t.Helper()
	for _, id := range []string{"br-ex", "bond0", "lan0", "lan-vip", "wan-vip"} {
		if got := fmt.Sprint(res.Placement[id]); got != "["+node+"]" {
			t.Errorf("%s placed on %s, want [%s]", id, got, node)
		}
	}
}
