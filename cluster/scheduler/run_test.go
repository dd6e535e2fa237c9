package scheduler_test

import (
	"reflect"
	"testing"

	"github.com/ovsha/ovsha/cluster/scheduler"
)

// TestInputOverrides: membership and quorum given by the caller win over
// what the status section recorded.
func TestInputOverrides(t *testing.T) {
	c := gatewayCIB(gatewayOpts{nodes: 3, running: "node1", quorum: true, stickiness: 100})
	res, err := scheduler.Run(scheduler.Input{CIB: c, Membership: map[string]bool{"node1": false}})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Placement["gw-vip"]; len(got) != 1 || got[0] == "node1" {
		t.Errorf("node1 left the membership but gw-vip is on %v", got)
	}
	fenced := false
	for _, ch := range res.Summary {
		fenced = fenced || (ch.Verb == "Fence" && ch.To == "node1")
	}
	if !fenced {
		t.Errorf("node1 left with resources active and was not fenced: %+v", res.Summary)
	}

	noQuorum := false
	res, err = scheduler.Run(scheduler.Input{CIB: c, Quorum: &noQuorum})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Placement["gw-vip"]; len(got) != 0 {
		t.Errorf("without quorum (no-quorum-policy=stop) gw-vip is on %v, want stopped", got)
	}
}

// TestDeterministic: the same input gives the same transition.
func TestDeterministic(t *testing.T) {
	c := gatewayCIB(gatewayOpts{nodes: 3, running: "node1", lost: []string{"node1"}, quorum: true, stickiness: 100})
	a, _ := scheduler.Run(scheduler.Input{CIB: c})
	for i := 0; i < 20; i++ {
		b, _ := scheduler.Run(scheduler.Input{CIB: c})
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("run %d differs", i)
		}
	}
}
