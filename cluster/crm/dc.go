package crm

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/ovsha/ovsha/cluster/cib"
	"github.com/ovsha/ovsha/cluster/scheduler"
)

// dcState is what the DC keeps between scheduler runs (guarded by c.mu).
type dcState struct {
	active       bool
	dirty        bool
	trigger      string
	dirtyAt      time.Time
	membershipAt time.Time // the last regular configuration
	// membershipTrigger is what that configuration change was called: a
	// transition is timed from the membership change only when it is
	// what triggered it.
	membershipTrigger string
	syncDone          time.Time
	graph             *graph
	count             int
}

// markDirty records that the DC must recompute; a transition in progress
// is aborted (it finishes its in-flight actions, starts no new ones).
func (c *CRM) markDirty(trigger string) {
	d := &c.dc
	// The DC keeps the first trigger of a burst; elsewhere the latest one
	// is kept, for when this node becomes the DC.
	if !d.dirty || !d.active {
		d.dirty, d.trigger, d.dirtyAt = true, trigger, time.Now()
	}
	if d.graph != nil && !d.graph.abort {
		d.graph.abort = true
		c.log.Info("aborting the transition", "transition", d.graph.id, "reason", trigger)
	}
}

// markChanged is markDirty for changes that often leave the plan as it
// is (a node attribute, a configuration write, a cleanup): a running
// transition is not aborted at once; the DC reruns the scheduler on the
// changed CIB and aborts only if the actions it would now take differ
// from those the transition has left. A bond's health attribute appearing
// while the chain starts then no longer costs a replan in the middle of a
// failover (c.mu held).
func (c *CRM) markChanged(trigger string) {
	d := &c.dc
	g := d.graph
	if g == nil || g.abort || !d.active {
		c.markDirty(trigger)
		return
	}
	g.recheck = append(g.recheck, trigger)
}

// recheck reruns the scheduler for the changes noted by markChanged and
// aborts g if its remaining work is no longer what the cluster needs
// (c.mu held).
func (c *CRM) recheck(g *graph) {
	triggers := g.recheck
	g.recheck = nil
	acts, _, err := c.nextActions()
	if err == nil && sameWork(g, acts) {
		c.log.Debug("transition still valid after a change", "transition", g.id, "changes", triggers)
		return
	}
	c.markDirty(triggers[0])
}

// sameWork reports whether the real (non-pseudo) actions of acts are
// exactly those g has not finished (pending or in flight): the CIB holds
// no record of an action in flight, so the scheduler asks for it again.
func sameWork(g *graph, acts []scheduler.Action) bool {
	key := func(a scheduler.Action) string {
		return fmt.Sprintf("%s|%s|%s|%d|%s|%s", a.Task, a.Resource, a.Node, a.Interval, a.MigrateSource, a.MigrateTarget)
	}
	left := map[string]int{}
	for _, a := range g.actions {
		if !a.Pseudo && (a.state == actPending || a.state == actInFlight) {
			left[key(a.Action)]++
		}
	}
	for _, a := range acts {
		if a.Pseudo {
			continue
		}
		k := key(a)
		if left[k] == 0 {
			return false
		}
		left[k]--
	}
	for _, n := range left {
		if n != 0 {
			return false
		}
	}
	return true
}

// isDC: the lowest node id of the synchronised configuration. A partition
// without quorum has a DC too, as in Pacemaker: it runs the scheduler with
// quorum lost, which applies no-quorum-policy (stop: the minority stops its
// resources; freeze; suicide). Without it, a node cut off from the majority
// would keep its VIP while the majority starts it elsewhere.
func (c *CRM) isDC() bool {
	return c.sync == nil && len(c.members) > 0 && c.members[0] == c.cfg.Local.ID
}

// DC returns the current DC's name ("" when there is none).
func (c *CRM) DC() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sync != nil || len(c.members) == 0 {
		return ""
	}
	return c.nodeName(c.members[0])
}

// dcLoop wakes on every kick, lets bursts settle (Coalesce) and steps the
// DC.
func (c *CRM) dcLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.kick:
		}
		c.mu.Lock()
		wait := c.dc.graph == nil && c.dc.dirty && c.isDC()
		c.mu.Unlock()
		if wait {
			t := time.NewTimer(c.cfg.Coalesce)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		c.mu.Lock()
		c.dcStep()
		c.mu.Unlock()
	}
}

// dcStep advances the DC (c.mu held).
func (c *CRM) dcStep() {
	d := &c.dc
	if !c.isDC() {
		if d.active {
			c.log.Info("no longer the DC")
			if d.graph != nil {
				c.finishGraph("aborted")
			}
			d.active = false
		}
		return
	}
	if !d.active {
		d.active = true
		d.dirty = true
		if d.trigger == "" {
			d.trigger, d.dirtyAt = "became DC", time.Now()
		}
		c.log.Info("this node is the DC", "members", c.members)
	}
	if g := d.graph; g != nil {
		if len(g.recheck) > 0 && !g.abort {
			c.recheck(g)
		}
		c.advance(g)
		return
	}
	if !d.dirty {
		return
	}
	trigger, since := d.trigger, d.dirtyAt
	d.dirty, d.trigger = false, ""
	g, err := c.plan(trigger, since)
	if err != nil {
		c.log.Error("scheduler failed", "reason", err)
		return
	}
	if g == nil {
		return
	}
	d.graph = g
	c.advance(g)
}

// plan computes the next graph: probes of what has no history on an
// online member first, else the scheduler's transition. nil: nothing to
// do.
func (c *CRM) plan(trigger string, since time.Time) (*graph, error) {
	d := &c.dc
	t0 := time.Now()
	acts, probes, err := c.nextActions()
	if err != nil {
		return nil, err
	}
	if len(acts) == 0 {
		return nil, nil
	}
	d.count++
	g := &graph{
		id: d.count, key: fmt.Sprintf("%d.%s.%d", c.cfg.Local.ID, c.boot, d.count),
		trigger: trigger, triggerAt: since, planned: time.Now(), planTook: time.Since(t0),
		actions: make([]gAction, len(acts)),
	}
	if trigger == d.membershipTrigger && !d.membershipAt.IsZero() && !since.Before(d.membershipAt) && since.Sub(d.membershipAt) < time.Second && d.syncDone.After(d.membershipAt) {
		g.membership = d.syncDone.Sub(d.membershipAt)
		g.fromMembership = true
	}
	for i, a := range acts {
		g.actions[i] = gAction{Action: a}
	}
	c.log.Info("transition planned", "transition", g.id, "trigger", trigger, "actions", len(acts), "probes", probes)
	return g, nil
}

// nextActions is what the cluster needs now: probes of what has no
// history on an online member first, else the scheduler's transition
// (c.mu held).
func (c *CRM) nextActions() (acts []scheduler.Action, probes bool, err error) {
	if p := c.missingProbes(); len(p) > 0 {
		return p, true, nil
	}
	q := c.cfg.Quorate()
	res, err := scheduler.Run(scheduler.Input{CIB: c.cib, Quorum: &q, Now: time.Now().Unix()})
	if err != nil {
		return nil, false, err
	}
	return res.Actions, false, nil
}

// missingProbes lists a probe (one-shot monitor) for every configured
// primitive without history on every online member.
func (c *CRM) missingProbes() []scheduler.Action {
	var out []scheduler.Action
	var prims []string
	c.cib.Walk(func(r, _ *cib.Resource) {
		if r.Kind == cib.KindPrimitive {
			prims = append(prims, r.ID)
		}
	})
	for _, id := range c.members {
		name := c.nodeName(id)
		ns := c.cib.FindNodeState(name)
		for _, p := range prims {
			if ns != nil && ns.LRM != nil && slices.ContainsFunc(ns.LRM.Resources, func(r cib.LRMResource) bool {
				return r.ID == p || baseID(r.ID) == p
			}) {
				continue
			}
			out = append(out, scheduler.Action{ID: len(out), Resource: p, Task: "monitor", Node: name})
		}
	}
	return out
}

func baseID(id string) string {
	for i := len(id) - 1; i >= 0; i-- {
		if id[i] == ':' {
			return id[:i]
		}
	}
	return id
}
