package scheduler

// internalOrderings wires groups and clones to their members.
func (ws *workingSet) internalOrderings(r *resource) {
	for _, c := range r.children {
		ws.internalOrderings(c)
	}
	if r.kind == kindPrimitive {
		return
	}
	p := r.pseudo
	ws.order(p["start"], p["running"], edgeRunnableLeft|edgeImpliesThen)
	ws.order(p["stop"], p["stopped"], edgeImpliesThen)
	ws.order(p["stopped"], p["start"], 0)
	var prev *resource
	for i, c := range r.children {
		if r.kind == kindClone {
			// Starting more instances does not restart running ones.
			ws.order(p["start"], startOf(c), edgeRunnableLeft)
		} else {
			ws.order(p["start"], startOf(c), edgeRunnableLeft|edgeImpliesThen)
		}
		ws.order(runningOf(c), p["running"], edgeImpliesThen)
		for _, s := range stopsOf(c) {
			ws.order(p["stop"], s, 0) // one member stopping does not stop the others
			if !isMigrationStop(c, s) {
				ws.order(s, p["stopped"], edgeImpliesThen)
			}
		}
		if r.kind == kindGroup && prev != nil && r.ordered {
			ws.order(runningOf(prev), startOf(c), edgeRunnableLeft|edgeImpliesThen)
			for _, s := range stopsOf(c) {
				for _, ps := range stopsOf(prev) {
					ws.order(s, ps, memberStopFlags(c, s, prev, ps))
				}
			}
		}
		if r.kind == kindGroup && r.ordered {
			ws.groupMigrationOrderings(r, i)
		}
		if r.kind == kindClone && r.ordered && prev != nil {
			ws.order(runningOf(prev), startOf(c), 0)
		}
		prev = c
	}
	if r.kind == kindClone {
		p["running"].needAny = 1
		if r.cloneMin > 0 {
			p["running"].needAny = r.cloneMin
		}
	}
}

// memberStopFlags are the flags of the ordered group's edge "c's stop s
// before prev's stop ps" (c follows prev in the group). Normally prev
// stopping forces c to stop first (implies-first) and a stop of c that
// cannot run blocks prev's. A migration stop (the source stop of a
// migrating member, the cleanup of an earlier migration, or an unexpected
// instance under multiple-active=stop_unexpected) deactivates
// nothing c depends on: the member stays up on its target, so it forces
// nothing on c, and across nodes it is a plain ordering. Otherwise a
// required cleanup of bond0 on the old node would restart lan0 and
// everything after it on the node they already migrated to.
func memberStopFlags(c *resource, s *action, prev *resource, ps *action) int {
	if !isMigrationStop(c, s) && !isMigrationStop(prev, ps) && !isUnexpectedStop(c, s) && !isUnexpectedStop(prev, ps) {
		return edgeImpliesFirst | edgeBlockedFirst
	}
	if s.node == ps.node {
		return edgeBlockedFirst
	}
	return 0
}

// startOf is the action that starts r (a primitive's start or a pseudo).
func startOf(r *resource) *action {
	if r.kind == kindPrimitive {
		return r.startAct
	}
	return r.pseudo["start"]
}

// runningOf is the action after which r counts as started.
func runningOf(r *resource) *action {
	if r.kind == kindPrimitive {
		return r.startAct
	}
	return r.pseudo["running"]
}

func stopsOf(r *resource) []*action {
	if r.kind == kindPrimitive {
		var out []*action
		for _, n := range r.runningOn {
			if a := r.stopActs[n]; a != nil {
				out = append(out, a)
			}
		}
		for _, n := range r.dangling {
			if a := r.stopActs[n]; a != nil {
				out = append(out, a)
			}
		}
		return out
	}
	return []*action{r.pseudo["stop"]}
}

func stoppedOf(r *resource) []*action {
	if r.kind == kindPrimitive {
		return stopsOf(r)
	}
	return []*action{r.pseudo["stopped"]}
}

func actionFor(r *resource, task string, first bool) []*action {
	switch task {
	case "start", "promote":
		if first {
			return []*action{runningOf(r)}
		}
		return []*action{startOf(r)}
	case "stop", "demote":
		if first {
			return stoppedOf(r)
		}
		return stopsOf(r)
	}
	return nil
}

// constraintOrderings turns rsc_order constraints into edges.
func (ws *workingSet) constraintOrderings() {
	for _, o := range ws.orderings {
		flags := 0
		if o.kind == orderMandatory {
			if o.symmetrical {
				flags = edgeImpliesThen
				if o.firstAction == "start" || o.firstAction == "promote" {
					flags |= edgeRunnableLeft
				} else {
					flags |= edgeBlockedFirst
				}
			} else {
				flags = edgeAsymmetric
			}
			if !o.requireAll {
				flags = flags&^(edgeRunnableLeft|edgeAsymmetric) | edgeOneOrMore
			}
		}
		if o.first.kind == kindClone && o.then.kind == kindClone && o.then.interleave && o.first.cloneMin == 0 && o.requireAll {
			ws.interleavedOrder(o, flags)
		} else {
			fl := flags
			if o.first.kind == kindClone && o.firstAction == "start" {
				// More instances starting does not restart what follows.
				fl &^= edgeImpliesThen
			}
			for _, f := range actionFor(o.first, o.firstAction, true) {
				for _, t := range actionFor(o.then, o.thenAction, false) {
					ws.constraintOrder(f, t, fl)
					if flags&edgeOneOrMore != 0 {
						t.needAny = 1
					}
				}
			}
		}
		if o.symmetrical && o.kind != orderSerialize {
			inv := inverseTask(o.thenAction)
			invFirst := inverseTask(o.firstAction)
			iflags := 0
			oneOrMore := !o.requireAll || (o.first.kind == kindClone && o.first.cloneMin > 0)
			if o.kind == orderMandatory && !oneOrMore {
				// A stop that must wait for a stop that cannot run
				// cannot run either.
				iflags = edgeImpliesFirst | edgeBlockedFirst
			}
			if inv == "" || invFirst == "" {
				continue
			}
			for _, f := range actionFor(o.then, inv, true) {
				for _, t := range actionFor(o.first, invFirst, false) {
					ws.constraintOrder(f, t, iflags)
				}
			}
		}
	}
}

func inverseTask(t string) string {
	switch t {
	case "start":
		return "stop"
	case "stop":
		return "start"
	case "promote":
		return "demote"
	case "demote":
		return "promote"
	}
	return ""
}

// interleavedOrder orders each instance of the then-clone after the
// instance of the first-clone on the same node.
func (ws *workingSet) interleavedOrder(o *ordering, flags int) {
	for _, t := range o.then.children {
		n := instanceAssigned(t)
		if n == nil {
			n = instanceCurrent(t)
		}
		var match *resource
		for _, f := range o.first.children {
			if instanceAssigned(f) == n && n != nil {
				match = f
				break
			}
		}
		if match == nil {
			for _, f := range o.first.children {
				if n != nil && instanceCurrent(f) == n {
					match = f
					break
				}
			}
		}
		if match == nil {
			if flags&(edgeRunnableLeft|edgeAsymmetric) != 0 && instanceAssigned(t) != nil {
				// Nothing to depend on there: the instance cannot start.
				ws.markUnrunnable(startOf(t))
			}
			continue
		}
		for _, f := range actionFor(match, o.firstAction, true) {
			for _, a := range actionFor(t, o.thenAction, false) {
				ws.order(f, a, flags)
			}
		}
	}
}

func (ws *workingSet) markUnrunnable(a *action) {
	if a != nil {
		a.runnable = false
	}
}

// propagateRunnable clears the runnable flag along mandatory orderings
// until nothing changes; it also follows INFINITY colocations (a
// dependent cannot start where its primary cannot).
func (ws *workingSet) propagateRunnable() {
	work := make([]*action, 0, len(ws.actions))
	for _, a := range ws.actions {
		if !a.runnable {
			work = append(work, a)
		}
	}
	// pseudo "running" actions of groups need every member start runnable
	for _, a := range ws.actions {
		if a.pseudo && a.task == "running" && !ws.pseudoRunnable(a) && a.runnable {
			a.runnable = false
			work = append(work, a)
		}
	}
	for len(work) > 0 {
		a := work[len(work)-1]
		work = work[:len(work)-1]
		for _, e := range a.out {
			t := e.then
			if !t.runnable {
				continue
			}
			if !ws.stillRunnable(t) {
				t.runnable = false
				work = append(work, t)
			}
		}
		if a.rsc != nil && a.task == "start" && a.rsc.kind == kindPrimitive { // incl. a migration's pseudo start
			for _, d := range ws.blockedColocationDependents(a.rsc) {
				if d.startAct != nil && d.startAct.runnable {
					d.startAct.runnable = false
					work = append(work, d.startAct)
				}
			}
		}
	}
}

// stillRunnable re-evaluates an action's runnable flag from its inputs.
func (ws *workingSet) stillRunnable(t *action) bool {
	if t.pseudo && t.task == "running" && !ws.pseudoRunnable(t) {
		return false
	}
	anyCount, anyTotal := 0, 0
	for _, e := range t.in {
		f := e.first
		switch {
		case e.flags&edgeOneOrMore != 0:
			anyTotal++
			if f.runnable {
				anyCount++
			}
		case e.flags&edgeRunnableLeft != 0:
			if !f.runnable {
				return false
			}
		case e.flags&edgeBlockedFirst != 0:
			if !f.runnable && !f.optional {
				return false
			}
		case e.flags&edgeAsymmetric != 0:
			if !f.runnable && !ws.alreadyActiveInPlace(t) {
				return false
			}
		}
	}
	if anyTotal > 0 && anyCount < max(1, t.needAny) && !(t.pseudo && t.task == "running") {
		return false
	}
	return true
}

func (ws *workingSet) alreadyActiveInPlace(t *action) bool {
	r := t.rsc
	if r == nil || t.task != "start" || !t.optional {
		return false
	}
	if r.kind != kindPrimitive {
		// a group or clone whose every member is already started in place
		for _, p := range r.primitives() {
			if p.startAct == nil || !ws.alreadyActiveInPlace(p.startAct) {
				return false
			}
		}
		return true
	}
	return len(r.runningOn) == 1 && r.runningOn[0] == t.node
}

// pseudoRunnable: a group's "running" needs every member startable; a
// clone's needs at least needAny (clone-min, default 1) instances.
func (ws *workingSet) pseudoRunnable(a *action) bool {
	r := a.rsc
	if !r.pseudo["start"].runnable {
		return false
	}
	if r.kind == kindGroup {
		for _, c := range r.children {
			if s := runningOf(c); s == nil || !s.runnable {
				return false
			}
		}
		return true
	}
	n := 0
	for _, c := range r.children {
		if s := runningOf(c); s != nil && s.runnable && instanceAssigned(c) != nil {
			n++
		}
	}
	return n >= max(1, a.needAny)
}

// blockedColocationDependents returns the resources that must not start
// because r (or, for a clone, every instance of it) cannot start.
func (ws *workingSet) blockedColocationDependents(r *resource) []*resource {
	top := r.topParent()
	if top.kind == kindClone {
		for _, inst := range top.children {
			for _, p := range inst.primitives() {
				if p.startAct != nil && p.startAct.runnable && p.assigned != nil {
					return nil
				}
			}
		}
	} else if top != r {
		return nil
	}
	var out []*resource
	for _, c := range top.consLHS {
		if c.score >= inf {
			out = append(out, c.dependent.primitives()...)
		}
	}
	return out
}

// propagateRequired marks actions required along implies-then/first edges
// (restarts implied by mandatory orderings), and stops resources whose
// start became unrunnable.
func (ws *workingSet) propagateRequired() {
	for _, a := range ws.actions {
		if a.task == "start" && a.rsc != nil && a.rsc.kind == kindPrimitive && !a.runnable {
			for _, n := range a.rsc.runningOn {
				if s := a.rsc.stopActs[n]; s != nil && s.optional && s.runnable {
					s.optional = false
				}
			}
		}
	}
	var work []*action
	for _, a := range ws.actions {
		if a.rsc != nil && a.rsc.kind == kindPrimitive && (!a.rsc.managed || a.rsc.blocked) {
			continue
		}
		if !a.optional {
			work = append(work, a)
		}
	}
	for len(work) > 0 {
		a := work[len(work)-1]
		work = work[:len(work)-1]
		// A member that must stop makes its group's or clone's stop
		// required, which orderings on the parent then follow.
		if a.task == "stop" && a.rsc != nil && a.rsc.parent != nil {
			if ps := a.rsc.parent.pseudo["stop"]; ps != nil && ps.optional {
				ps.optional = false
				work = append(work, ps)
			}
		}
		for _, e := range a.out {
			if e.then.rsc != nil && e.then.rsc.kind == kindPrimitive && (!e.then.rsc.managed || e.then.rsc.blocked) {
				continue
			}
			if e.flags&edgeImpliesThen != 0 && e.then.optional && e.then.runnable {
				e.then.optional = false
				work = append(work, e.then)
				// A required start of a resource already active there
				// is a restart: its stop becomes required too.
				if t := e.then; t.task == "start" && t.rsc != nil && t.rsc.kind == kindPrimitive {
					if s := t.rsc.stopActs[t.node]; s != nil && s.optional && s.runnable {
						s.optional = false
						work = append(work, s)
					}
				}
			}
		}
		for _, e := range a.in {
			if e.first.rsc != nil && e.first.rsc.kind == kindPrimitive && (!e.first.rsc.managed || e.first.rsc.blocked) {
				continue
			}
			if e.flags&edgeImpliesFirst != 0 && e.first.optional && e.first.runnable && e.first.task == "stop" {
				e.first.optional = false
				work = append(work, e.first)
			}
		}
	}
	// A group's or clone's pseudo-actions take part when a member acts.
	for _, a := range ws.actions {
		if !a.pseudo || a.rsc == nil || a.rsc.kind == kindPrimitive || !a.runnable {
			continue
		}
		for _, e := range append(append([]*edge(nil), a.in...), a.out...) {
			other := e.first
			if other == a {
				other = e.then
			}
			if other.rsc != nil && other.rsc.parent == a.rsc && !other.optional && other.runnable &&
				(other.task == "start") == (a.task == "start" || a.task == "running") {
				a.optional = false
				break
			}
		}
	}
}
