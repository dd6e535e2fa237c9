package scheduler

// Live migration (meta attribute allow-migrate=true), as Pacemaker does it:
// instead of stop on the source then start on the target, a migrating
// primitive gets
//
//	migrate_to (source) → migrate_from (target) → stop (source)
//	                                            → start (pseudo, target)
//
// The pseudo start carries every ordering that normally hangs on the
// start (group order, order constraints, colocated dependents, its
// recurring monitors), so what follows the resource waits only for the
// migrate_from, not for the stop on the source.
//
// Inside an ordered group the migrating members are brought up on the
// target before the others leave the source ("make before break"): a
// non-migrating member's stop waits for the migrate_from of every earlier
// migrating member, and the source stops of migrating members do not feed
// the group's "stopped" pseudo-action (so a non-migrating member restarts
// on the target as soon as its own stop on the source is done).

// planMigrations decides which primitives migrate. It runs after
// assignment, before actions are created. In an ordered group only a
// leading run of members migrates: once a member moves without migrating,
// the members after it move by stop/start too (their start depends on it).
// Clones never migrate.
func (ws *workingSet) planMigrations() {
	for _, top := range ws.resources {
		switch top.kind {
		case kindPrimitive:
			ws.setMigrating(top, ws.canMigrate(top))
		case kindGroup:
			leading := true
			for _, c := range top.children {
				ok := leading && ws.canMigrate(c)
				ws.setMigrating(c, ok)
				if !ok && top.ordered && !staysInPlace(c) {
					leading = false
				}
			}
		}
	}
}

func (ws *workingSet) setMigrating(r *resource, on bool) {
	r.migrating = on
	r.migPartial = false
	r.migSource = nil
	if on {
		r.migSource = r.runningOn[0]
		r.migPartial = r.partialTarget == r.assigned
	}
	if t := r.partialTarget; t != nil && !r.migPartial && r.historyNodes[t] && !contains(r.dangling, t) {
		// Not continued: migrate_to may have left something there.
		r.dangling = append(r.dangling, t)
	}
}

// canMigrate reports whether primitive r may move by migration: it allows
// it, is managed and healthy, active on exactly one online node and
// assigned to another node that can run it.
func (ws *workingSet) canMigrate(r *resource) bool {
	if r.kind != kindPrimitive || r.cloneAncestor() != nil || !isTrue(r.meta["allow-migrate"]) || ws.noMigrate[r.ID] {
		return false
	}
	if !r.managed || r.blocked || r.failed || r.pendingStart || r.orphan || r.targetStopped || len(r.runningOn) != 1 {
		return false
	}
	src, dst := r.runningOn[0], r.assigned
	if dst == nil || dst == src || !src.online || src.unclean || src.fence {
		return false
	}
	return dst.canRun() && !ws.startBlockedByQuorum(r)
}

// staysInPlace reports whether r is active exactly where it is assigned
// and healthy: it neither moves nor migrates.
func staysInPlace(r *resource) bool {
	return r.kind == kindPrimitive && len(r.runningOn) == 1 && r.runningOn[0] == r.assigned && !r.failed
}

// migrationActions turns a migrating primitive's start into a pseudo
// action and adds migrate_to and migrate_from. createActions calls it
// after the start and stops exist.
func (ws *workingSet) migrationActions(r *resource) {
	start, stop := r.startAct, r.stopActs[r.migSource]
	start.pseudo = true
	to := ws.newAction(r, "migrate_to", r.migSource, false)
	from := ws.newAction(r, "migrate_from", r.assigned, false)
	to.migSource, to.migTarget = r.migSource, r.assigned
	from.migSource, from.migTarget = r.migSource, r.assigned
	r.migrateTo, r.migrateFrom = to, from
	if r.migPartial {
		to.optional = true // done: the migration continues from migrate_from
	}
	ws.order(to, from, edgeRunnableLeft|edgeImpliesThen)
	ws.order(from, start, edgeRunnableLeft|edgeImpliesThen)
	// Plain ordering: if the migration is called off, the stop still runs.
	ws.order(from, stop, 0)
	for _, n := range r.dangling {
		ws.order(r.stopActs[n], to, 0)
	}
}

// isMigrationStop reports whether s is the stop on the source of a
// migrating r, or a stop cleaning up after an earlier migration. Neither
// holds back the restart of other group members.
func isMigrationStop(r *resource, s *action) bool {
	if r.kind != kindPrimitive {
		return false
	}
	if r.migrating && s == r.stopActs[r.migSource] {
		return true
	}
	for _, n := range r.dangling {
		if s == r.stopActs[n] {
			return true
		}
	}
	return false
}

// groupMigrationOrderings adds the orderings of an ordered group's member
// c (at index i) that involve migration.
func (ws *workingSet) groupMigrationOrderings(g *resource, i int) {
	c := g.children[i]
	if c.kind != kindPrimitive {
		return
	}
	if c.migrating && i > 0 {
		prev := g.children[i-1]
		if prev.migrating {
			ws.order(prev.migrateFrom, c.migrateTo, 0)
		} else {
			ws.order(runningOf(prev), c.migrateTo, 0)
		}
	}
	if c.migrating {
		return
	}
	// Make before break: c leaves its node only once every earlier
	// migrating member is up on its target.
	for _, m := range g.children[:i] {
		if !m.migrating {
			continue
		}
		for _, s := range stopsOf(c) {
			ws.order(m.migrateFrom, s, 0)
		}
	}
}

// constraintOrder adds an ordering derived from an order constraint and
// its migration equivalents (Pacemaker's order_migration_equivalents):
// when the then-side migrates, "A start then B start" also orders B's
// migrate_to after A's migrate_from (A migrating) or A's start, and
// "A stop then B stop" orders B's migrate_to after A's stop (A not
// migrating).
func (ws *workingSet) constraintOrder(f, t *action, flags int) {
	ws.order(f, t, flags)
	for _, m := range migratingUnder(t) {
		q := f.rsc
		firstMigrates := q != nil && q.kind == kindPrimitive && q.migrating
		switch {
		case t.task == "start" && (f.task == "start" || f.task == "running"):
			if firstMigrates && f == q.startAct {
				ws.order(q.migrateFrom, m.migrateTo, 0)
			} else {
				ws.order(f, m.migrateTo, 0)
			}
		case t.task == "stop" && (f.task == "stop" || f.task == "stopped") && !firstMigrates:
			ws.order(f, m.migrateTo, 0)
		}
	}
}

// migratingUnder lists the migrating primitives whose migration an
// ordering on t must also hold back: t is a migrating primitive's start
// or source stop, or a group's start or stop.
func migratingUnder(t *action) []*resource {
	r := t.rsc
	if r == nil {
		return nil
	}
	switch r.kind {
	case kindPrimitive:
		if r.migrating && (t == r.startAct || t == r.stopActs[r.migSource]) {
			return []*resource{r}
		}
	case kindGroup:
		if t != r.pseudo["start"] && t != r.pseudo["stop"] {
			return nil
		}
		var out []*resource
		for _, c := range r.children {
			if c.migrating {
				out = append(out, c)
			}
		}
		return out
	}
	return nil
}

// cancelMigrations calls off the migration of every primitive whose start
// on the target cannot run (after runnable propagation): it is then just
// stopped on its source.
func (ws *workingSet) cancelMigrations() {
	for _, a := range ws.actions {
		r := a.rsc
		if r == nil || a != r.startAct || !r.migrating {
			continue
		}
		if a.runnable && r.migrateTo.runnable && r.migrateFrom.runnable {
			continue
		}
		r.migrating = false
		r.migrateTo.runnable = false
		r.migrateFrom.runnable = false
		a.runnable = false
	}
}

// migrationsOnLoops returns the migrating resources with an action on an
// ordering loop among the actions of the transition (Tarjan's strongly
// connected components). Run schedules them again without migration: a
// migration whose orderings cannot all hold (e.g. it depends on a
// resource that restarts by stop/start) falls back to stop/start, as in
// Pacemaker.
func (ws *workingSet) migrationsOnLoops() []*resource {
	migrations := false
	for _, a := range ws.actions {
		migrations = migrations || a.task == "migrate_to" && inGraph(a)
	}
	if !migrations {
		return nil
	}
	index := map[*action]int{}
	low := map[*action]int{}
	onStack := map[*action]bool{}
	var stack []*action
	var blamed []*resource
	seen := map[*resource]bool{}
	var visit func(a *action)
	visit = func(a *action) {
		index[a] = len(index)
		low[a] = index[a]
		stack = append(stack, a)
		onStack[a] = true
		for _, e := range a.out {
			b := e.then
			if !inGraph(b) {
				continue
			}
			if _, ok := index[b]; !ok {
				visit(b)
				low[a] = min(low[a], low[b])
			} else if onStack[b] {
				low[a] = min(low[a], index[b])
			}
		}
		if low[a] != index[a] {
			return
		}
		var comp []*action
		for {
			x := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			onStack[x] = false
			comp = append(comp, x)
			if x == a {
				break
			}
		}
		if len(comp) < 2 {
			return
		}
		for _, x := range comp {
			if r := x.rsc; r != nil && r.kind == kindPrimitive && r.migrating && !seen[r] {
				seen[r] = true
				blamed = append(blamed, r)
			}
		}
	}
	for _, a := range ws.actions {
		if _, ok := index[a]; !ok && inGraph(a) {
			visit(a)
		}
	}
	return blamed
}
