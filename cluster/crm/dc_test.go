package crm

import (
	"fmt"
	"log/slog"
	"slices"
	"testing"

	"github.com/ovsha/ovsha/cluster/scheduler"
)

// TestSameWork: a change during a transition leaves it running only when
// the scheduler, rerun, asks for exactly the actions it has left (done
// ones are in the CIB; in-flight ones are not, so it asks for them again).
func TestSameWork(t *testing.T) {
	start := func(rsc, node string) scheduler.Action {
		return scheduler.Action{Task: "start", Resource: rsc, Node: node}
	}
	mon := func(rsc, node string) scheduler.Action {
		return scheduler.Action{Task: "monitor", Resource: rsc, Node: node, Interval: 2000}
	}
	pseudo := scheduler.Action{Task: "running", Resource: "gateway", Pseudo: true}
	g := &graph{actions: []gAction{
		{Action: start("br-ex", "n2"), state: actDone},
		{Action: start("bond0", "n2"), state: actInFlight},
		{Action: mon("bond0", "n2"), state: actPending},
		{Action: start("vip", "n2"), state: actPending},
		{Action: pseudo, state: actPending},
	}}
	tests := []struct {
		name string
		acts []scheduler.Action
		want bool
	}{
		{"the same remaining work", []scheduler.Action{start("bond0", "n2"), mon("bond0", "n2"), start("vip", "n2"), pseudo}, true},
		{"pseudo actions do not count", []scheduler.Action{start("bond0", "n2"), mon("bond0", "n2"), start("vip", "n2")}, true},
		{"a new action", []scheduler.Action{start("bond0", "n2"), mon("bond0", "n2"), start("vip", "n2"), start("other", "n1")}, false},
		{"an action no longer wanted", []scheduler.Action{start("bond0", "n2"), mon("bond0", "n2")}, false},
		{"another node", []scheduler.Action{start("bond0", "n2"), mon("bond0", "n2"), start("vip", "n3")}, false},
		{"another interval", []scheduler.Action{start("bond0", "n2"), {Task: "monitor", Resource: "bond0", Node: "n2", Interval: 1000}, start("vip", "n2")}, false},
		{"a done action asked again", []scheduler.Action{start("br-ex", "n2"), start("bond0", "n2"), mon("bond0", "n2"), start("vip", "n2")}, false},
		{"nothing left to do", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sameWork(g, tt.acts); got != tt.want {
				t.Errorf("sameWork = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestDispatchOrder: among the actions that become ready together, the
// recurring monitors are sent last, so the start of a VIP that becomes
// ready with the monitors of the chain below it is first on the ring.
func TestDispatchOrder(t *testing.T) {
	c := &CRM{cfg: Config{Nodes: []Node{{ID: 1, Name: "n1"}, {ID: 2, Name: "n2"}}}, members: []uint32{1, 2},
		log: slog.New(slog.DiscardHandler), out: make(chan *message, 16), kick: make(chan struct{}, 1)}
	mon := func(id int, rsc string) gAction {
		return gAction{Action: scheduler.Action{ID: id, Task: "monitor", Resource: rsc, Node: "n2", Interval: 10000, Inputs: []int{0}}}
	}
	g := &graph{key: "k", actions: []gAction{
		{Action: scheduler.Action{ID: 0, Task: "start", Resource: "gateway", Pseudo: true}},
		mon(1, "br-ex"),
		mon(2, "bond0"),
		{Action: scheduler.Action{ID: 3, Task: "start", Resource: "lan-vip", Node: "n2", Inputs: []int{0}}},
		mon(4, "lan0"),
		{Action: scheduler.Action{ID: 5, Task: "stop", Resource: "lan0", Node: "n1", Inputs: []int{0}}},
	}}
	c.dc.graph = g
	c.advance(g)
	var got []string
	for len(c.out) > 0 {
		m := <-c.out
		got = append(got, fmt.Sprintf("%s %s", m.Exec.Task, m.Exec.Resource))
	}
	want := []string{"start lan-vip", "stop lan0", "monitor br-ex", "monitor bond0", "monitor lan0"}
	if !slices.Equal(got, want) {
		t.Errorf("dispatched %q, want %q", got, want)
	}
}

// TestStoppedOn: a start is told the node it moves from only when this
// graph stopped the same resource there successfully.
func TestStoppedOn(t *testing.T) {
	act := func(task, rsc, node string, state int) gAction {
		return gAction{Action: scheduler.Action{Task: task, Resource: rsc, Node: node}, state: state}
	}
	tests := []struct {
		name  string
		stop  gAction
		start gAction
		want  string
	}{
		{"a move", act("stop", "vip", "n1", actDone), act("start", "vip", "n2", actPending), "n1"},
		{"stop still running", act("stop", "vip", "n1", actInFlight), act("start", "vip", "n2", actPending), ""},
		{"stop failed", act("stop", "vip", "n1", actFailed), act("start", "vip", "n2", actPending), ""},
		{"another resource", act("stop", "other", "n1", actDone), act("start", "vip", "n2", actPending), ""},
		{"a restart in place", act("stop", "vip", "n2", actDone), act("start", "vip", "n2", actPending), ""},
		{"not a start", act("stop", "vip", "n1", actDone), act("monitor", "vip", "n2", actPending), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &graph{actions: []gAction{tt.stop, tt.start}}
			if got := stoppedOn(g, &g.actions[1]); got != tt.want {
				t.Errorf("stoppedOn = %q, want %q", got, tt.want)
			}
		})
	}
}
