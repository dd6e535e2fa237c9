package scheduler

import "fmt"

// action is one node of the transition graph.
type action struct {
	id       int
	rsc      *resource
	task     string // start, stop, monitor, fence, or a pseudo task (start, running, stop, stopped)
	node     *node
	interval int64
	pseudo   bool
	runnable bool
	optional bool
	implied  bool // stop implied by fencing its node
	in, out  []*edge
	needAny  int // pseudo "running" of a clone: runnable inputs required

	// migSource and migTarget are set on migrate_to and migrate_from.
	migSource, migTarget *node
}

// edge orders first before then.
type edge struct {
	first, then *action
	flags       int
}

// Ordering edge flags.
const (
	edgeRunnableLeft = 1 << iota // then is unrunnable if first is
	edgeImpliesThen              // first required ⇒ then required
	edgeImpliesFirst             // then required ⇒ first required
	edgeAsymmetric               // runnable-left unless then is already active in place
	edgeOneOrMore                // then needs needAny runnable firsts
	edgeRestart                  // stop→start of one resource
	edgeBlockedFirst             // then is unrunnable if first is required but unrunnable
)

func (a *action) String() string {
	where := ""
	if a.node != nil {
		where = " on " + a.node.Name
	}
	if a.rsc == nil {
		return fmt.Sprintf("%s%s", a.task, where)
	}
	return fmt.Sprintf("%s_%s%s", a.rsc.ID, a.task, where)
}

func (ws *workingSet) newAction(r *resource, task string, n *node, optional bool) *action {
	a := &action{id: len(ws.actions), rsc: r, task: task, node: n, optional: optional, runnable: true}
	ws.actions = append(ws.actions, a)
	if r != nil {
		r.actions = append(r.actions, a)
	}
	return a
}

func (ws *workingSet) order(first, then *action, flags int) {
	if first == nil || then == nil || first == then {
		return
	}
	e := &edge{first: first, then: then, flags: flags}
	ws.edges = append(ws.edges, e)
	first.out = append(first.out, e)
	then.in = append(then.in, e)
}

// startNeedsQuorum reports whether starts are blocked by lost quorum.
func (ws *workingSet) startBlockedByQuorum(r *resource) bool {
	if ws.opts.haveQuorum || r.requiresNothing {
		return false
	}
	switch ws.opts.noQuorumPolicy {
	case "ignore":
		return false
	case "freeze":
		return len(r.runningOn) == 0
	}
	return true
}

// createActions makes start/stop/monitor actions for every primitive and
// pseudo-actions for groups and clones.
func (ws *workingSet) createActions(r *resource) {
	for _, c := range r.children {
		ws.createActions(c)
	}
	if r.kind != kindPrimitive {
		r.pseudo = map[string]*action{}
		for _, t := range []string{"start", "running", "stop", "stopped"} {
			a := ws.newAction(r, t, nil, true)
			a.pseudo = true
			r.pseudo[t] = a
		}
		return
	}
	r.stopActs = map[*node]*action{}
	managed := r.managed && !r.blocked
	multi := len(r.runningOn) > 1 && !r.keepsExpected()
	for _, n := range r.runningOn {
		stay := n == r.assigned && !r.failedOn[n] && !multi
		a := ws.newAction(r, "stop", n, stay)
		if !managed {
			// Nothing is done to an unmanaged resource; a failed, blocked
			// one needs a stop it cannot get.
			a.runnable = false
			a.optional = !r.failed
		} else if !n.online {
			a.runnable = false
		}
		if n.fence {
			a.implied = true
			a.pseudo = true
			a.runnable = true
			a.optional = false
		}
		r.stopActs[n] = a
	}
	for _, n := range r.dangling {
		// Leftover of an earlier migration: stopped, never active.
		d := ws.newAction(r, "stop", n, false)
		if !managed {
			d.runnable = false
			d.optional = true
		}
		r.stopActs[n] = d
	}
	a := ws.newAction(r, "start", r.assigned, false)
	r.startAct = a
	switch {
	case r.assigned == nil:
		a.runnable = false
		a.optional = true
	case !managed:
		// Unmanaged: nothing is done, but a resource left active in
		// place still satisfies orderings that wait for its start.
		a.optional = true
		a.runnable = contains(r.runningOn, r.assigned) && r.assigned.online && !r.failed
	default:
		if stop := r.stopActs[r.assigned]; stop != nil && stop.optional {
			a.optional = true
		}
		if !r.assigned.canRun() || ws.startBlockedByQuorum(r) {
			a.runnable = false
		}
	}
	for _, n := range r.runningOn {
		if r.migrating && n == r.migSource {
			continue // the start on the target follows migrate_from instead
		}
		if isUnexpectedStop(r, r.stopActs[n]) {
			// The expected instance stays; stopping the others
			// restarts nothing.
			ws.order(r.stopActs[n], a, 0)
			continue
		}
		ws.order(r.stopActs[n], a, edgeImpliesThen|edgeRestart)
	}
	for _, n := range r.dangling {
		ws.order(r.stopActs[n], a, 0)
	}
	if r.migrating {
		ws.migrationActions(r)
	}
	if r.assigned != nil && managed {
		for _, op := range r.ops {
			if op.name != "monitor" || op.interval <= 0 || !op.enabled || isPromotedRole(op.role) {
				continue
			}
			// Optional only when the resource stays where it runs and this
			// monitor is already running there: a monitor that never got
			// to run (its transition was cut short) is scheduled again.
			m := ws.newAction(r, "monitor", r.assigned, a.optional && r.monitorsOn[r.assigned][op.interval])
			m.interval = op.interval
			ws.order(a, m, edgeRunnableLeft|edgeImpliesThen)
		}
	}
}

// keepsExpected: with multiple-active=stop_unexpected (Pacemaker 2.1.4),
// a primitive found active on several nodes goes on running, untouched,
// on the node it is assigned to when that is one of them, and is stopped
// only on the others. A node that comes back from a power loss with the
// gateway's bridge restored from its OVSDB then costs the running gateway
// nothing (stop_start would stop it everywhere and start it again).
func (r *resource) keepsExpected() bool {
	return r.kind == kindPrimitive && r.meta["multiple-active"] == "stop_unexpected" && len(r.runningOn) > 1 &&
		r.assigned != nil && contains(r.runningOn, r.assigned) && !r.failedOn[r.assigned] && !r.failed
}

// isUnexpectedStop reports whether s stops an unexpected instance of r
// (see keepsExpected).
func isUnexpectedStop(r *resource, s *action) bool {
	return r.keepsExpected() && s != nil && s.node != r.assigned && s == r.stopActs[s.node]
}
