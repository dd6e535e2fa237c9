package crmtest

import (
	"context"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ovsha/ovsha/appliance/lab"
)

// TestTwoNodeFencing freezes the node running the group in a two-node
// cluster with fencing: the survivor fences it through a fence agent that
// kills the node's processes, and only then starts the group, so the
// group never runs on both nodes.
func TestTwoNodeFencing(t *testing.T) {
	h := newHarness(t, 2)
	h.waitDC("n1", "n2")
	stonith := `<primitive id="fence" class="stonith" type="fence_test"><instance_attributes id="fence-ia"><nvpair id="fence-st" name="state" value="` + h.state + `"/></instance_attributes></primitive>`
	h.put("n1", h.config(map[string]string{"stonith-enabled": "true"}, "", h.nodesXML(""), stonith, ""), "fencing")
	active := h.groupOn("group g started", 20*time.Second)
	other := "n1"
	if active == "n1" {
		other = "n2"
	}
	before := len(h.logLines(""))
	h.signal(active, syscall.SIGSTOP)
	h.groupExactly("group g recovered on "+other, 30*time.Second, other)
	lines := h.logLines("")[before:]
	fenced := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, "fence "+active) })
	started := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, "start a "+other) })
	if fenced < 0 || started < 0 || fenced > started {
		t.Fatalf("want %s fenced before a started on %s; agent log since the freeze:\n%s", active, other, strings.Join(lines, "\n"))
	}
	if h.running(active, "a") || h.running(active, "b") {
		t.Errorf("the fenced node %s still runs the group", active)
	}
	if n, _ := h.st.Node(active); lab.Running(n) {
		t.Errorf("ovshad of the fenced node %s still runs", active)
	}
	s, err := h.status(other)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("after fencing: dc=%s nodes=%+v", s.DC, s.Nodes)
	// The fencing is in the survivor's history (GET /v1/crm/fence).
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	fh, err := h.client(other).FenceHistory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(fh.Events) == 0 || fh.Events[0].Target != active || !fh.Events[0].OK || fh.Events[0].By != other || fh.Events[0].Device != "fence" {
		t.Errorf("fence history on %s: %+v, want %s fenced by %s through fence first", other, fh.Events, active, other)
	}
}
