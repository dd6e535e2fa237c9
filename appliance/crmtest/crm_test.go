package crmtest

import (
	"context"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ovsha/ovsha/appliance"
)

var noFencing = map[string]string{"stonith-enabled": "false"}

// TestResourceLifecycle runs a group of real processes on a three-node
// cluster: start, move and clear (cli-prefer, as pcs does), standby, a
// frozen active node (the group recovers on a survivor, in order),
// monitor failures up to migration-threshold, and the CIB surviving
// SIGKILL of every node.
func TestResourceLifecycle(t *testing.T) {
	h := newHarness(t, 3)
	h.waitDC("n1", "n2", "n3")
	nodes := h.nodesXML("")

	// start
	h.put("n2", h.config(noFencing, "", nodes, "", ""), "resource create g")
	first := h.groupOn("group g started", 20*time.Second)
	if got := h.where("n3", "a"); !slices.Equal(got, []string{first}) {
		t.Errorf("n3's status shows a on %v, want [%s]", got, first)
	}

	// move and clear
	target := "n1"
	if first == "n1" {
		target = "n2"
	}
	h.put("n3", h.config(noFencing, "", nodes, "", `<rsc_location id="cli-prefer-g" rsc="g" node="`+target+`" score="INFINITY"/>`), "resource move g "+target)
	h.groupExactly("group g moved to "+target, 20*time.Second, target)
	h.put("n1", h.config(noFencing, "", nodes, "", ""), "resource clear g")
	h.waitFor("clear settles", 10*time.Second, func() bool {
		s, err := h.status("n1")
		return err == nil && !s.TransitionInProgress && s.DC != ""
	})
	h.groupExactly("group g stays after clear (stickiness)", 10*time.Second, target)

	// standby
	h.put("n1", h.config(noFencing, "", h.nodesXML(target), "", ""), "node standby "+target)
	h.waitFor("nothing left on the standby node", 20*time.Second, func() bool {
		return !h.running(target, "a") && !h.running(target, "b")
	})
	active := h.groupOn("group g leaves the standby node", 20*time.Second, target)
	h.put("n1", h.config(noFencing, "", nodes, "", ""), "node unstandby "+target)

	// freeze the active node
	survivors := slices.DeleteFunc([]string{"n1", "n2", "n3"}, func(n string) bool { return n == active })
	before := len(h.logLines("start"))
	t0 := time.Now()
	h.signal(active, syscall.SIGSTOP)
	now := h.groupOn("group g recovered on a survivor", 30*time.Second, active)
	took := time.Since(t0)
	if !slices.Contains(survivors, now) {
		t.Fatalf("recovered on %s, want one of %v", now, survivors)
	}
	starts := h.logLines("start")[before:]
	if len(starts) < 2 || !strings.Contains(starts[0], "start a "+now) || !strings.Contains(starts[1], "start b "+now) {
		t.Errorf("recovery order: %v, want a then b on %s", starts, now)
	}
	t.Logf("freeze of %s → group started on %s in %s", active, now, took.Round(time.Millisecond))
	dc := h.waitDC(survivors...)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	hist, err := h.client(dc).CRMHistory(ctx, 10)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	if !hasTrigger(hist, "node "+active+" left") {
		t.Errorf("history of %s has no transition triggered by %s leaving: %+v", dc, active, hist)
	}
	for _, tr := range hist.Transitions {
		t.Logf("transition %d (%s): %s → %s %v %v", tr.ID, tr.Trigger, tr.Result, tr.Finished.Sub(tr.Started), tr.Actions, tr.Phases)
	}
	// The frozen node is powered off: its processes die with it.
	h.signal(active, syscall.SIGKILL)
	for _, r := range []string{"a", "b"} {
		if h.running(active, r) {
			killSleeper(h, active, r)
		}
	}

	// monitor failures up to migration-threshold=2 (on the survivors)
	meta := `<meta_attributes id="%s-meta"><nvpair id="%s-mt" name="migration-threshold" value="2"/></meta_attributes>`
	h.put(survivors[0], h.config(noFencing, strings.ReplaceAll(meta, "%s", "x"), nodes, "", ""), "migration-threshold 2")
	for i := 1; i <= 2; i++ {
		killSleeper(h, now, "a")
		h.waitFor("failure recorded", 15*time.Second, func() bool {
			s, err := h.status(survivors[0])
			if err != nil {
				return false
			}
			for _, r := range s.Resources {
				if r.ID == "a" && r.FailCount[now] >= i {
					return true
				}
			}
			return false
		})
		if i == 1 {
			h.groupExactly("group g restarted in place", 20*time.Second, now)
		}
	}
	moved := h.groupOn("group g moved after 2 failures", 20*time.Second, active, now)
	t.Logf("migration-threshold reached on %s: group moved to %s", now, moved)

	// cleanup clears the failcount
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	if err := h.client(moved).Cleanup(ctx, appliance.CleanupRequest{Resource: "a"}); err != nil {
		t.Fatal(err)
	}
	cancel()
	h.waitFor("failcount cleared", 10*time.Second, func() bool {
		s, err := h.status(moved)
		if err != nil {
			return false
		}
		for _, r := range s.Resources {
			if r.ID == "a" && len(r.FailCount) == 0 {
				return true
			}
		}
		return false
	})

	// the CIB survives SIGKILL of every node
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	want, err := h.client(moved).CIB(ctx)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range survivors {
		h.signal(n, syscall.SIGKILL)
	}
	h.restartAll()
	h.waitDC("n1", "n2", "n3")
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	got, err := h.client("n1").CIB(ctx)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	if got.Version.Epoch < want.Version.Epoch || got.Version.AdminEpoch != want.Version.AdminEpoch {
		t.Errorf("cib after restart at %+v, want at least %+v", got.Version, want.Version)
	}
	h.groupOn("group g still runs once after the restart", 30*time.Second)
}

func hasTrigger(h appliance.HistoryResponse, s string) bool {
	for _, t := range h.Transitions {
		if strings.Contains(t.Trigger, s) {
			return true
		}
	}
	return false
}
