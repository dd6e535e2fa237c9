package scheduler_test

import (
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ovsha/ovsha/cluster/cib"
	"github.com/ovsha/ovsha/cluster/scheduler"
)

// lab builds small CIBs for the migration tests: nodes node1..nodeN, all
// members, fencing enabled with a device pinned to the last node, and
// operation history added in call order (later ops are newer).
type lab struct {
	c     *cib.CIB
	clock int64
}

func newLab(nodes int) *lab {
	c := &cib.CIB{Epoch: 1, ValidateWith: "pacemaker-3.9", HaveQuorum: "1"}
	c.Config.CRMConfig = []cib.NVSet{{ID: "opts", Pairs: []cib.NVPair{{Name: "fencing-enabled", Value: "true"}}}}
	c.Config.RscDefaults = &cib.Defaults{Meta: []cib.NVSet{{ID: "rsc-options", Pairs: []cib.NVPair{{Name: "resource-stickiness", Value: "100"}}}}}
	last := fmt.Sprintf("node%d", nodes)
	c.Config.Resources.Items = append(c.Config.Resources.Items, cib.Resource{Kind: cib.KindPrimitive, ID: "fence", Class: "stonith", Type: "fence_ovsha"})
	c.Config.Constraints.Items = append(c.Config.Constraints.Items, cib.Constraint{Kind: cib.KindLocation, ID: "fence-here", Rsc: "fence", Node: last, Score: "INFINITY"})
	for i := 1; i <= nodes; i++ {
		name := fmt.Sprintf("node%d", i)
		c.Config.Nodes = append(c.Config.Nodes, cib.Node{ID: fmt.Sprint(i), Uname: name})
		c.Status.Nodes = append(c.Status.Nodes, cib.NodeState{ID: fmt.Sprint(i), Uname: name, InCCM: "true", Crmd: "online",
			Join: "member", Expected: "member", LRM: &cib.LRM{ID: fmt.Sprint(i)}})
	}
	l := &lab{c: c, clock: 1000}
	l.op(last, "fence", "start", 0)
	return l
}

// prim is a primitive with a 10s monitor; migrate sets allow-migrate.
func prim(id, typ string, migrate bool, meta ...cib.NVPair) cib.Resource {
	if migrate {
		meta = append(meta, cib.NVPair{Name: "allow-migrate", Value: "true"})
	}
	r := cib.Resource{Kind: cib.KindPrimitive, ID: id, Class: "ocf", Provider: "ovsha", Type: typ,
		Ops: &cib.Operations{Ops: []cib.Op{{Name: "monitor", Interval: "10s", Timeout: "20s"}}}}
	if len(meta) > 0 {
		r.Meta = []cib.NVSet{{ID: id + "-meta", Pairs: meta}}
	}
	return r
}

func (l *lab) add(r cib.Resource) { l.c.Config.Resources.Items = append(l.c.Config.Resources.Items, r) }

func (l *lab) group(id string, members ...cib.Resource) {
	l.add(cib.Resource{Kind: cib.KindGroup, ID: id, Children: members})
}

func (l *lab) prefer(rsc, node string) {
	l.c.Config.Constraints.Items = append(l.c.Config.Constraints.Items, cib.Constraint{
		Kind: cib.KindLocation, ID: "cli-prefer-" + rsc, Rsc: rsc, Node: node, Score: "INFINITY", Role: "Started"})
}

func (l *lab) state(node string) *cib.NodeState {
	for i := range l.c.Status.Nodes {
		if l.c.Status.Nodes[i].Uname == node {
			return &l.c.Status.Nodes[i]
		}
	}
	panic("no node " + node)
}

// opt adjusts one recorded operation.
type opt func(*cib.LRMOp)

// mig records the migration's two ends, as the runtime does.
func mig(src, dst string) opt {
	return func(o *cib.LRMOp) {
		o.Other = append(o.Other, xml.Attr{Name: xml.Name{Local: "migrate_source"}, Value: src},
			xml.Attr{Name: xml.Name{Local: "migrate_target"}, Value: dst})
	}
}

func interval(ms int) opt { return func(o *cib.LRMOp) { o.Interval = fmt.Sprint(ms) } }

// op appends an operation result for rsc on node (exit code rc).
func (l *lab) op(node, rsc, task string, rc int, opts ...opt) {
	ns := l.state(node)
	var lr *cib.LRMResource
	for i := range ns.LRM.Resources {
		if ns.LRM.Resources[i].ID == rsc {
			lr = &ns.LRM.Resources[i]
		}
	}
	if lr == nil {
		ns.LRM.Resources = append(ns.LRM.Resources, cib.LRMResource{ID: rsc, Class: "ocf", Provider: "ovsha", Type: "Dummy"})
		lr = &ns.LRM.Resources[len(ns.LRM.Resources)-1]
	}
	l.clock++
	o := cib.LRMOp{ID: fmt.Sprintf("%s_%s_%d", rsc, task, l.clock), Operation: task, Interval: "0", OpStatus: "0",
		RCCode: fmt.Sprint(rc), CallID: fmt.Sprint(l.clock), LastRCChange: fmt.Sprint(l.clock)}
	for _, f := range opts {
		f(&o)
	}
	expected := 0
	if task == "monitor" && o.Interval == "0" {
		expected = 7
	}
	o.TransitionKey = fmt.Sprintf("%d:1:%d:00000000-0000-0000-0000-000000000000", l.clock, expected)
	lr.Ops = append(lr.Ops, o)
}

// running records rsc started on node with its monitor running.
func (l *lab) running(node string, rscs ...string) {
	for _, r := range rscs {
		l.op(node, r, "start", 0)
		l.op(node, r, "monitor", 0, interval(10000))
	}
}

func (l *lab) run(t *testing.T) *scheduler.Result {
	t.Helper()
	res, err := scheduler.Run(scheduler.Input{CIB: l.c})
	if err != nil {
		t.Fatal(err)
	}
	checkAcyclic(t, "", res)
	return res
}

// checkAcyclic: every action's inputs come before it in the list and the
// scheduler reported no ordering loop.
func checkAcyclic(t *testing.T, name string, res *scheduler.Result) {
	t.Helper()
	for _, a := range res.Actions {
		for _, in := range a.Inputs {
			if in >= a.ID {
				t.Errorf("%s: action %d (%s %s) waits for later action %d: ordering loop", name, a.ID, a.Resource, a.Task, in)
			}
		}
	}
	for _, w := range res.Warnings {
		if strings.Contains(w, "ordering loop") {
			t.Errorf("%s: %s", name, w)
		}
	}
}

// graph indexes a result's actions by "rsc task node" (pseudo actions:
// "rsc task").
type graph struct {
	res *scheduler.Result
	by  map[string]scheduler.Action
}

func key(a scheduler.Action) string {
	k := a.Resource + " " + a.Task
	if a.Interval > 0 {
		k += fmt.Sprintf("_%d", a.Interval)
	}
	if a.Node != "" && !a.Pseudo {
		k += " " + a.Node
	}
	return k
}

func newGraph(res *scheduler.Result) *graph {
	g := &graph{res: res, by: map[string]scheduler.Action{}}
	for _, a := range res.Actions {
		g.by[key(a)] = a
	}
	return g
}

func (g *graph) get(t *testing.T, k string) scheduler.Action {
	t.Helper()
	a, ok := g.by[k]
	if !ok {
		t.Fatalf("no action %q in the transition:\n%s", k, render(g.res))
	}
	return a
}

func (g *graph) has(k string) bool { _, ok := g.by[k]; return ok }

// before reports whether action "first" is a direct input of "then".
func (g *graph) input(t *testing.T, first, then string) bool {
	t.Helper()
	return slices.Contains(g.get(t, then).Inputs, g.get(t, first).ID)
}

// ancestors is everything k waits for, directly or not.
func (g *graph) ancestors(t *testing.T, k string) map[int]bool {
	t.Helper()
	seen := map[int]bool{}
	var walk func(id int)
	walk = func(id int) {
		for _, in := range g.res.Actions[id].Inputs {
			if !seen[in] {
				seen[in] = true
				walk(in)
			}
		}
	}
	walk(g.get(t, k).ID)
	return seen
}

func (g *graph) after(t *testing.T, first, then string) bool {
	t.Helper()
	return g.ancestors(t, then)[g.get(t, first).ID]
}

// gatewayMigrationLab is the product's gateway group with migratable OVS
// members running on node1.
func gatewayMigrationLab() *lab {
	l := newLab(2)
	l.group("gateway",
		prim("br-ex", "ovs-bridge", true), prim("bond0", "ovs-port", true), prim("lan0", "ovs-interface", true),
		prim("lan-vip", "IPaddr2", false), prim("wan-vip", "IPaddr2", false))
	l.running("node1", "br-ex", "bond0", "lan0", "lan-vip", "wan-vip")
	return l
}

var ovs = []string{"br-ex", "bond0", "lan0"}

// TestGatewayMigration: a planned switchover of the gateway brings the
// OVS members up on the target before the VIPs leave the source, and the
// VIP outage is exactly lan-vip's stop on the source → start on the target.
func TestGatewayMigration(t *testing.T) {
	l := gatewayMigrationLab()
	l.prefer("gateway", "node2")
	res := l.run(t)
	g := newGraph(res)

	for _, id := range append(ovs, "lan-vip", "wan-vip") {
		if got := fmt.Sprint(res.Placement[id]); got != "[node2]" {
			t.Errorf("%s placed on %s, want [node2]", id, got)
		}
	}
	verbs := map[string]string{}
	for _, c := range res.Summary {
		verbs[c.Resource] = c.Verb + " " + c.From + "->" + c.To
	}
	for _, id := range ovs {
		if verbs[id] != "Migrate node1->node2" {
			t.Errorf("summary for %s is %q, want Migrate node1->node2", id, verbs[id])
		}
	}
	for _, id := range []string{"lan-vip", "wan-vip"} {
		if verbs[id] != "Move node1->node2" {
			t.Errorf("summary for %s is %q, want Move node1->node2", id, verbs[id])
		}
	}

	for i, id := range ovs {
		to, from := g.get(t, id+" migrate_to node1"), g.get(t, id+" migrate_from node2")
		for _, a := range []scheduler.Action{to, from} {
			if a.MigrateSource != "node1" || a.MigrateTarget != "node2" {
				t.Errorf("%s %s: migrate source/target %q/%q, want node1/node2", id, a.Task, a.MigrateSource, a.MigrateTarget)
			}
		}
		if !g.input(t, id+" migrate_to node1", id+" migrate_from node2") {
			t.Errorf("%s migrate_from does not wait for its migrate_to", id)
		}
		if !g.input(t, id+" migrate_from node2", id+" stop node1") {
			t.Errorf("%s stop on the source does not wait for its migrate_from", id)
		}
		start := g.get(t, id+" start")
		if !start.Pseudo || !g.input(t, id+" migrate_from node2", id+" start") {
			t.Errorf("%s start is not a pseudo action after migrate_from: %+v", id, start)
		}
		if g.after(t, id+" stop node1", id+" start") {
			t.Errorf("%s (pseudo) start waits for its stop on the source", id)
		}
		if !g.input(t, id+" start", id+" monitor_10000 node2") {
			t.Errorf("%s monitor on the target does not follow its (pseudo) start", id)
		}
		if g.has(id + " start node2") {
			t.Errorf("%s is started for real on the target", id)
		}
		if i > 0 && !g.input(t, ovs[i-1]+" migrate_from node2", id+" migrate_to node1") {
			t.Errorf("%s migrate_to does not wait for %s migrate_from", id, ovs[i-1])
		}
		for _, vip := range []string{"lan-vip", "wan-vip"} {
			if !g.input(t, id+" migrate_from node2", vip+" stop node1") {
				t.Errorf("%s stop on the source does not wait for %s migrate_from", vip, id)
			}
		}
	}
	// Group stop order on the source.
	stops := []string{"wan-vip", "lan-vip", "lan0", "bond0", "br-ex"}
	for i := 1; i < len(stops); i++ {
		if !g.input(t, stops[i-1]+" stop node1", stops[i]+" stop node1") {
			t.Errorf("%s stop does not wait for %s stop", stops[i], stops[i-1])
		}
	}
	for _, id := range ovs {
		if g.input(t, id+" stop node1", "gateway stopped") {
			t.Errorf("%s stop on the source feeds gateway stopped", id)
		}
	}
	// The VIPs: stop on the source → start on the target, back to back.
	if !g.input(t, "lan-vip stop node1", "lan-vip start node2") || !g.input(t, "lan0 start", "lan-vip start node2") {
		t.Errorf("lan-vip start does not follow its stop and lan0's start")
	}
	if !g.input(t, "lan-vip start node2", "wan-vip start node2") || !g.input(t, "wan-vip stop node1", "wan-vip start node2") {
		t.Errorf("wan-vip start does not follow lan-vip start and its own stop")
	}
	stop := g.get(t, "lan-vip stop node1")
	for id := range g.ancestors(t, "lan-vip start node2") {
		a := res.Actions[id]
		if !a.Pseudo && a.ID != stop.ID && g.after(t, "lan-vip stop node1", key(a)) {
			t.Errorf("the VIP outage includes %s: between lan-vip stop and start", key(a))
		}
	}

	out := render(res)
	path := filepath.Join("testdata", "gateway", "2n-move-migrate.txt")
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
}

// actionsOf lists the transition's actions on one resource as keys.
func actionsOf(res *scheduler.Result, rsc string) []string {
	var out []string
	for _, a := range res.Actions {
		if a.Resource == rsc {
			out = append(out, key(a))
		}
	}
	return out
}

func verbOf(res *scheduler.Result, rsc string) string {
	for _, c := range res.Summary {
		if c.Resource == rsc {
			return c.Verb
		}
	}
	return ""
}

// TestMigrateStandalone: a migratable primitive leaving a standby node
// (Pacemaker's migrate-1): migrate_to, migrate_from, stop, pseudo start.
func TestMigrateStandalone(t *testing.T) {
	l := newLab(2)
	l.add(prim("vm", "Dummy", true))
	l.running("node1", "vm")
	l.state("node1").Transient = &cib.Transient{Attrs: []cib.NVSet{{ID: "s1", Pairs: []cib.NVPair{{Name: "standby", Value: "on"}}}}}
	res := l.run(t)
	want := []string{"vm migrate_to node1", "vm migrate_from node2", "vm stop node1", "vm start", "vm monitor_10000 node2"}
	if got := actionsOf(res, "vm"); !slices.Equal(got, want) {
		t.Errorf("actions %v, want %v", got, want)
	}
	g := newGraph(res)
	inputs := map[string][]string{
		"vm migrate_from node2":  {"vm migrate_to node1"},
		"vm stop node1":          {"vm migrate_from node2"},
		"vm start":               {"vm migrate_from node2"},
		"vm monitor_10000 node2": {"vm start"},
	}
	for then, firsts := range inputs {
		var got []string
		for _, id := range g.get(t, then).Inputs {
			got = append(got, key(res.Actions[id]))
		}
		if !slices.Equal(got, firsts) {
			t.Errorf("%s waits for %v, want %v", then, got, firsts)
		}
	}
	if v := verbOf(res, "vm"); v != "Migrate" {
		t.Errorf("summary verb %q, want Migrate", v)
	}
	if got := fmt.Sprint(res.Placement["vm"]); got != "[node2]" {
		t.Errorf("placed on %s, want [node2]", got)
	}
}

// TestNoMigration: cases where a migratable primitive moves by stop/start
// or not at all.
func TestNoMigration(t *testing.T) {
	cases := []struct {
		name  string
		setup func(l *lab)
		want  []string // vm's actions
		place string
	}{
		{"failed on the source", func(l *lab) {
			l.op("node1", "vm", "monitor", 7, interval(10000))
		}, []string{"vm stop node1", "vm start node2", "vm monitor_10000 node2"}, "[node2]"},
		{"source lost", func(l *lab) {
			ns := l.state("node1")
			ns.InCCM, ns.Crmd = "false", "offline"
		}, []string{"vm stop", "vm start node2", "vm monitor_10000 node2"}, "[node2]"}, // stop implied by fencing (pseudo)
		{"unmanaged", func(l *lab) {
			l.c.Config.Resources.Items[1].Meta[0].Pairs = append(l.c.Config.Resources.Items[1].Meta[0].Pairs, cib.NVPair{Name: "is-managed", Value: "false"})
		}, nil, "[node1]"},
		{"target-role Stopped", func(l *lab) {
			l.c.Config.Resources.Items[1].Meta[0].Pairs = append(l.c.Config.Resources.Items[1].Meta[0].Pairs, cib.NVPair{Name: "target-role", Value: "Stopped"})
		}, []string{"vm stop node1"}, "[]"},
		{"not moving", func(l *lab) {
			l.c.Config.Constraints.Items = l.c.Config.Constraints.Items[:1] // drop the prefer
		}, nil, "[node1]"},
		{"start pending", func(l *lab) {
			l.op("node1", "vm", "start", 0, func(o *cib.LRMOp) { o.OpStatus = "-1"; o.CallID = "-1" })
		}, []string{"vm stop node1", "vm start node2", "vm monitor_10000 node2"}, "[node2]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := newLab(2)
			l.add(prim("vm", "Dummy", true))
			l.running("node1", "vm")
			l.prefer("vm", "node2")
			tc.setup(l)
			res := l.run(t)
			if got := actionsOf(res, "vm"); !slices.Equal(got, tc.want) {
				t.Errorf("actions %v, want %v\n%s", got, tc.want, render(res))
			}
			if got := fmt.Sprint(res.Placement["vm"]); got != tc.place {
				t.Errorf("placed on %s, want %s", got, tc.place)
			}
			if verbOf(res, "vm") == "Migrate" {
				t.Errorf("summary says Migrate")
			}
		})
	}
}

// TestCloneNeverMigrates: an instance of a clone of a migratable primitive
// moves by stop/start.
func TestCloneNeverMigrates(t *testing.T) {
	l := newLab(2)
	l.add(cib.Resource{Kind: cib.KindClone, ID: "vm-clone", Children: []cib.Resource{prim("vm", "Dummy", true)},
		Meta: []cib.NVSet{{ID: "clone-meta", Pairs: []cib.NVPair{{Name: "clone-max", Value: "1"}}}}})
	l.running("node1", "vm")
	l.prefer("vm-clone", "node2")
	res := l.run(t)
	want := []string{"vm:0 stop node1", "vm:0 start node2", "vm:0 monitor_10000 node2"}
	if got := actionsOf(res, "vm:0"); !slices.Equal(got, want) {
		t.Errorf("actions %v, want %v\n%s", got, want, render(res))
	}
}

// TestMigrationOrderings: migration inside groups and order constraints.
func TestMigrationOrderings(t *testing.T) {
	t.Run("group member after a non-migrating member", func(t *testing.T) {
		l := newLab(2)
		l.group("g", prim("vip", "IPaddr2", false), prim("br", "ovs-bridge", true))
		l.running("node1", "vip", "br")
		l.prefer("g", "node2")
		res := l.run(t)
		want := []string{"br stop node1", "br start node2", "br monitor_10000 node2"}
		if got := actionsOf(res, "br"); !slices.Equal(got, want) {
			t.Errorf("br actions %v, want %v\n%s", got, want, render(res))
		}
	})
	t.Run("group member after one staying in place", func(t *testing.T) {
		// br-ex already migrated to node2 (an interrupted switchover);
		// bond0 still migrates.
		l := newLab(2)
		l.group("g", prim("br", "ovs-bridge", true), prim("bond", "ovs-port", true))
		l.running("node2", "br")
		l.running("node1", "bond")
		l.prefer("g", "node2")
		res := l.run(t)
		want := []string{"bond migrate_to node1", "bond migrate_from node2", "bond stop node1", "bond start", "bond monitor_10000 node2"}
		if got := actionsOf(res, "bond"); !slices.Equal(got, want) {
			t.Errorf("bond actions %v, want %v\n%s", got, want, render(res))
		}
		if got := actionsOf(res, "br"); len(got) != 0 {
			t.Errorf("br (in place) gets actions %v", got)
		}
	})
	t.Run("migrating first, moving then (order constraint)", func(t *testing.T) {
		// Pacemaker's 4-am-then-bm-b-not-migratable: B stops before A's
		// migrate_to, and starts after A's (pseudo) start.
		l := newLab(3)
		l.add(prim("A", "Dummy", true))
		l.add(prim("B", "Dummy", false))
		l.c.Config.Constraints.Items = append(l.c.Config.Constraints.Items, cib.Constraint{Kind: cib.KindOrder, ID: "A-then-B", First: "A", Then: "B"})
		l.running("node1", "A")
		l.running("node2", "B")
		l.prefer("A", "node2")
		l.prefer("B", "node1")
		res := l.run(t)
		g := newGraph(res)
		if verbOf(res, "A") != "Migrate" {
			t.Fatalf("A does not migrate:\n%s", render(res))
		}
		if !g.input(t, "B stop node2", "A migrate_to node1") || !g.input(t, "A start", "B start node1") || !g.input(t, "B stop node2", "A stop node1") {
			t.Errorf("orderings wrong:\n%s", render(res))
		}
	})
	t.Run("moving first, migrating then (order constraint)", func(t *testing.T) {
		// Pacemaker's 5-am-then-bm-a-not-migratable: B's migration would
		// need A started before B leaves, and B stopped before A leaves:
		// B moves by stop/start.
		l := newLab(3)
		l.add(prim("A", "Dummy", false))
		l.add(prim("B", "Dummy", true))
		l.c.Config.Constraints.Items = append(l.c.Config.Constraints.Items, cib.Constraint{Kind: cib.KindOrder, ID: "A-then-B", First: "A", Then: "B"})
		l.running("node1", "A")
		l.running("node2", "B")
		l.prefer("A", "node2")
		l.prefer("B", "node1")
		res := l.run(t)
		want := []string{"B stop node2", "B start node1", "B monitor_10000 node1"}
		if got := actionsOf(res, "B"); !slices.Equal(got, want) {
			t.Errorf("B actions %v, want %v\n%s", got, want, render(res))
		}
	})
}

// TestUnpackMigrationHistory: recorded migrations, complete or not.
func TestUnpackMigrationHistory(t *testing.T) {
	cases := []struct {
		name    string
		history func(l *lab)
		prefer  string
		want    []string // vm's actions
		place   string
	}{
		{"completed, source not stopped yet", func(l *lab) {
			l.running("node1", "vm")
			l.op("node1", "vm", "migrate_to", 0, mig("node1", "node2"))
			l.op("node2", "vm", "migrate_from", 0, mig("node1", "node2"))
			l.op("node2", "vm", "monitor", 0, interval(10000))
		}, "node2", []string{"vm stop node1"}, "[node2]"},
		{"completed, then moved back", func(l *lab) {
			l.running("node1", "vm")
			l.op("node1", "vm", "migrate_to", 0, mig("node1", "node2"))
			l.op("node2", "vm", "migrate_from", 0, mig("node1", "node2"))
			l.op("node2", "vm", "monitor", 0, interval(10000))
		}, "node1", []string{"vm stop node1", "vm migrate_to node2", "vm migrate_from node1", "vm stop node2", "vm start", "vm monitor_10000 node1"}, "[node1]"},
		{"completed and stopped", func(l *lab) {
			l.running("node1", "vm")
			l.op("node1", "vm", "migrate_to", 0, mig("node1", "node2"))
			l.op("node2", "vm", "migrate_from", 0, mig("node1", "node2"))
			l.op("node2", "vm", "monitor", 0, interval(10000))
			l.op("node1", "vm", "stop", 0)
		}, "node2", nil, "[node2]"},
		{"partial, target has history", func(l *lab) {
			l.op("node2", "vm", "monitor", 7)
			l.running("node1", "vm")
			l.op("node1", "vm", "migrate_to", 0, mig("node1", "node2"))
		}, "", []string{"vm stop node2"}, "[node1]"},
		{"partial, target has history, still moving", func(l *lab) {
			// Nothing newer on the target than the migrate_to: the
			// migration continues from migrate_from (Pacemaker's
			// partial migration), as a rerun mid-transition must.
			l.op("node2", "vm", "monitor", 7)
			l.running("node1", "vm")
			l.op("node1", "vm", "migrate_to", 0, mig("node1", "node2"))
		}, "node2", []string{"vm migrate_from node2", "vm stop node1", "vm start", "vm monitor_10000 node2"}, "[node2]"},
		{"partial, target changed since, still moving", func(l *lab) {
			l.running("node1", "vm")
			l.op("node1", "vm", "migrate_to", 0, mig("node1", "node2"))
			l.op("node2", "vm", "monitor", 7)
		}, "node2", []string{"vm stop node2", "vm migrate_to node1", "vm migrate_from node2", "vm stop node1", "vm start", "vm monitor_10000 node2"}, "[node2]"},
		{"partial, no history on the target", func(l *lab) {
			l.running("node1", "vm")
			l.op("node1", "vm", "migrate_to", 0, mig("node1", "node2"))
		}, "", nil, "[node1]"},
		{"migrate_to in flight", func(l *lab) {
			l.op("node2", "vm", "monitor", 7)
			l.running("node1", "vm")
			l.op("node1", "vm", "migrate_to", 0, mig("node1", "node2"), func(o *cib.LRMOp) { o.OpStatus = "-1" })
		}, "", []string{"vm stop node2"}, "[node1]"},
		{"migrate_to failed", func(l *lab) {
			l.op("node2", "vm", "monitor", 7)
			l.running("node1", "vm")
			l.op("node1", "vm", "migrate_to", 1, mig("node1", "node2"))
		}, "", []string{"vm stop node1", "vm stop node2", "vm start node1", "vm monitor_10000 node1"}, "[node1]"},
		{"migrate_to failed, target newer", func(l *lab) {
			l.running("node1", "vm")
			l.op("node1", "vm", "migrate_to", 1, mig("node1", "node2"))
			l.op("node2", "vm", "monitor", 7)
		}, "", []string{"vm stop node1", "vm start node1", "vm monitor_10000 node1"}, "[node1]"},
		{"migrate_from failed", func(l *lab) {
			l.running("node1", "vm")
			l.op("node1", "vm", "migrate_to", 0, mig("node1", "node2"))
			l.op("node2", "vm", "migrate_from", 1, mig("node1", "node2"))
		}, "", []string{"vm stop node1", "vm stop node2", "vm start node1", "vm monitor_10000 node1"}, "[node1]"},
		{"migrate_from failed, source already stopped", func(l *lab) { // Pacemaker's migrate-4
			l.op("node2", "vm", "migrate_from", 1, mig("node1", "node2"))
		}, "", []string{"vm stop node2", "vm start node2", "vm monitor_10000 node2"}, "[node2]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := newLab(3)
			l.add(prim("vm", "Dummy", true))
			// node3 holds the fence device and must not take vm.
			l.c.Config.Constraints.Items = append(l.c.Config.Constraints.Items, cib.Constraint{Kind: cib.KindLocation, ID: "vm-not-3", Rsc: "vm", Node: "node3", Score: "-INFINITY"})
			tc.history(l)
			if tc.prefer != "" {
				l.prefer("vm", tc.prefer)
			}
			res := l.run(t)
			got := actionsOf(res, "vm")
			if !sameSet(got, tc.want) {
				t.Errorf("actions %v, want %v\n%s", got, tc.want, render(res))
			}
			if got := fmt.Sprint(res.Placement["vm"]); got != tc.place {
				t.Errorf("placed on %s, want %s", got, tc.place)
			}
		})
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestGraphsAcyclic: every transition of the conformance corpus, the
// gateway cases and the gateway migration cases is free of ordering loops.
func TestGraphsAcyclic(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(corpus, "xml", "*.xml"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c, err := cib.Parse(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		res, err := scheduler.Run(scheduler.Input{CIB: c, Now: 1 << 40})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		checkAcyclic(t, filepath.Base(f), res)
	}
	for _, tc := range gatewayCases {
		res, err := scheduler.Run(scheduler.Input{CIB: gatewayCIB(tc.opts)})
		if err != nil {
			t.Fatal(err)
		}
		checkAcyclic(t, tc.name, res)
	}
	variants := map[string]func(l *lab){
		"steady": func(l *lab) {},
		"move":   func(l *lab) { l.prefer("gateway", "node2") },
		"source standby": func(l *lab) {
			l.state("node1").Transient = &cib.Transient{Attrs: []cib.NVSet{{ID: "s", Pairs: []cib.NVPair{{Name: "standby", Value: "on"}}}}}
		},
		"source lost": func(l *lab) { ns := l.state("node1"); ns.InCCM, ns.Crmd = "false", "offline" },
		"vip failed":  func(l *lab) { l.prefer("gateway", "node2"); l.op("node1", "lan-vip", "monitor", 7, interval(10000)) },
		"ovs failed":  func(l *lab) { l.prefer("gateway", "node2"); l.op("node1", "bond0", "monitor", 7, interval(10000)) },
		"half migrated": func(l *lab) {
			l.prefer("gateway", "node2")
			l.op("node1", "br-ex", "migrate_to", 0, mig("node1", "node2"))
			l.op("node2", "br-ex", "migrate_from", 0, mig("node1", "node2"))
		},
		"half, move back": func(l *lab) {
			l.prefer("gateway", "node1")
			l.op("node1", "br-ex", "migrate_to", 0, mig("node1", "node2"))
			l.op("node2", "br-ex", "migrate_from", 0, mig("node1", "node2"))
		},
	}
	for name, setup := range variants {
		l := gatewayMigrationLab()
		setup(l)
		res, err := scheduler.Run(scheduler.Input{CIB: l.c})
		if err != nil {
			t.Fatal(err)
		}
		checkAcyclic(t, "gateway migration "+name, res)
	}
}
