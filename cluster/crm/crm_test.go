package crm

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ovsha/ovsha/cluster/cib/store"
)

func (cl *cluster) replace(node uint32, constraints string) {
	cl.t.Helper()
	ctx, cancel := context.WithTimeout(cl.ctx, 5*time.Second)
	defer cancel()
	if _, err := cl.crms[node].Replace(ctx, nil, fmt.Sprintf(twoRsc, constraints), "test"); err != nil {
		cl.t.Fatal(err)
	}
}

func TestReplicatedStartMoveAndFailover(t *testing.T) {
	cl := newCluster(t, 3)
	cl.eventually("a dc", func() bool { return cl.crms[2].DC() == "n1" })
	cl.replace(2, "")
	cl.eventually("group started once", func() bool {
		a, b := cl.agent.where("a"), cl.agent.where("b")
		return len(a) == 1 && equal(b, a...)
	})
	// Every node holds the same committed configuration at once, and
	// its export says, as Pacemaker's does, who is DC and that there is
	// quorum (so that simulate over it plans as the DC did).
	for id, c := range cl.crms {
		x := c.CIB()
		if x.FindResource("a") == nil {
			t.Fatalf("n%d: the replaced configuration is missing", id)
		}
		if x.HaveQuorum != "1" || x.DCUUID != "1" {
			t.Errorf("n%d: export has have-quorum=%q dc-uuid=%q, want 1 and 1", id, x.HaveQuorum, x.DCUUID)
		}
	}
	// Move with a cli-prefer constraint, as pcs resource move does.
	cl.replace(3, `<rsc_location id="cli-prefer-g" rsc="g" node="n3" score="INFINITY"/>`)
	cl.eventually("group moved to n3", func() bool {
		return equal(cl.agent.where("a"), "n3") && equal(cl.agent.where("b"), "n3")
	})
	// The node running it leaves: the group recovers elsewhere, in order.
	cl.replace(1, "")
	cl.bus.mu.Lock()
	cl.bus.down[3] = true
	cl.agent.mu.Lock()
	cl.agent.running = map[string]map[string]bool{}
	cl.agent.log = nil
	cl.agent.mu.Unlock()
	cl.bus.mu.Unlock()
	cl.bus.regular(2, 3)
	cl.eventually("group recovered", func() bool {
		a := cl.agent.where("a")
		return len(a) == 1 && a[0] != "n3" && equal(cl.agent.where("b"), a...)
	})
	cl.agent.mu.Lock()
	if len(cl.agent.log) < 2 || cl.agent.log[0][:7] != "start a" || cl.agent.log[1][:7] != "start b" {
		t.Errorf("recovery order: got %v, want a started before b", cl.agent.log)
	}
	cl.agent.mu.Unlock()
	h := cl.crms[1].History(0)
	if len(h) == 0 {
		t.Fatal("the DC recorded no transition")
	}
}

func TestReplaceConflictAndPersistence(t *testing.T) {
	cl := newCluster(t, 2)
	cl.eventually("a dc", func() bool { return cl.crms[1].DC() == "n1" })
	base := cl.crms[2].CIB().Version()
	cl.replace(1, "")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := cl.crms[2].Replace(ctx, &base, fmt.Sprintf(twoRsc, ""), "stale")
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("replace on a stale base: got %v, want ErrConflict", err)
	}
	// Acknowledged means persisted: the file on disk already holds it.
	for _, n := range []string{"n1", "n2"} {
		res, err := store.Load(ctx, cl.dir+"/"+n+".xml", nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.CIB.FindResource("g") == nil {
			t.Errorf("%s: committed change missing from the persisted cib", n)
		}
	}
}

func TestMonitorFailureMigrationThreshold(t *testing.T) {
	cl := newCluster(t, 2)
	cl.eventually("a dc", func() bool { return cl.crms[1].DC() == "n1" })
	cl.replace(1, `<rsc_location id="pref" rsc="g" node="n1" score="100"/>`)
	cl.eventually("group on n1", func() bool { return equal(cl.agent.where("b"), "n1") })
	for i := 1; i <= 2; i++ {
		cl.agent.mu.Lock()
		cl.agent.failMon["a@n1"] = true
		cl.agent.mu.Unlock()
		want := fmt.Sprint(i)
		cl.eventually("failcount "+want, func() bool {
			ns := cl.crms[2].CIB().FindNodeState("n1")
			return ns != nil && transientAttr(ns, "fail-count-a#monitor_50") == want
		})
		cl.eventually("restarted", func() bool { return cl.agent.count("start a") == i+1 && len(cl.agent.where("b")) == 1 })
	}
	// Cleanup clears it.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := cl.crms[2].Cleanup(ctx, "a", ""); err != nil {
		t.Fatal(err)
	}
	if ns := cl.crms[2].CIB().FindNodeState("n1"); transientAttr(ns, "fail-count-a#monitor_50") != "" {
		t.Error("cleanup left the failcount")
	}
}

// TestStatusWrittenBehind: operation results are not written to disk in
// the delivery path, but they reach the disk soon after, on every node.
func TestStatusWrittenBehind(t *testing.T) {
	cl := newCluster(t, 2)
	cl.eventually("a dc", func() bool { return cl.crms[1].DC() == "n1" })
	cl.replace(1, "")
	cl.eventually("group started", func() bool { return len(cl.agent.where("b")) == 1 })
	ctx := context.Background()
	for _, n := range []string{"n1", "n2"} {
		cl.eventually(n+"'s file holding the start of b", func() bool {
			res, err := store.Load(ctx, cl.dir+"/"+n+".xml", nil)
			if err != nil {
				return false
			}
			for _, ns := range res.CIB.Status.Nodes {
				if ns.LRM == nil {
					continue
				}
				for _, r := range ns.LRM.Resources {
					for _, op := range r.Ops {
						if r.ID == "b" && op.Operation == "start" && op.RCCode == "0" {
							return true
						}
					}
				}
			}
			return false
		})
	}
}
