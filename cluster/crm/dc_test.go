package crm

import (
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
