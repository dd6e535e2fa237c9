package scheduler

import "sort"

// assignClone places a clone's instances (Pacemaker's clone allocate and
// distribute_children): instances first stay where they run, then the
// rest go to the best nodes, at most clone-node-max per node.
func (ws *workingSet) assignClone(c *resource) {
	if !c.provisional || c.allocating {
		return
	}
	c.allocating = true
	for _, col := range c.cons {
		ws.assign(col.primary, nil)
	}
	for _, col := range c.consLHS {
		if !col.influence {
			continue
		}
		t := ws.mergeCmd(col.dependent, c.table(), col.nodeAttr, float64(col.score)/inf, mergeRollback|mergePositive)
		c.allowed, c.allowedSet = t.w, t.ok
	}
	if c.targetStopped {
		for _, n := range ws.nodes {
			ws.banNode(c, n)
		}
	}
	children := append([]*resource(nil), c.children...)
	sort.SliceStable(children, func(i, j int) bool { return ws.cloneInstanceLess(c, children[i], children[j]) })
	ws.distribute(c, children)
	c.provisional = false
	c.allocating = false
}

func (ws *workingSet) cloneInstanceLess(c, a, b *resource) bool {
	na, nb := instanceCurrent(a), instanceCurrent(b)
	if (na != nil) != (nb != nil) {
		return na != nil
	}
	if na != nil && nb != nil {
		ca, cb := na.canRun(), nb.canRun()
		if ca != cb {
			return ca
		}
		wa, wb := negInf, negInf
		if c.allowedSet[na.idx] {
			wa = c.allowed[na.idx]
		}
		if c.allowedSet[nb.idx] {
			wb = c.allowed[nb.idx]
		}
		if wa != wb {
			return wa > wb
		}
	}
	if a.orphan != b.orphan {
		return !a.orphan
	}
	return false
}

// instanceCurrent is the node an instance (primitive or group) runs on.
func instanceCurrent(r *resource) *node {
	for _, p := range r.primitives() {
		if n := p.currentNode(); n != nil {
			return n
		}
	}
	return nil
}

func instanceFailed(r *resource) bool {
	for _, p := range r.primitives() {
		if p.failed {
			return true
		}
	}
	return false
}

// instanceAssigned is the node an instance was placed on.
func instanceAssigned(r *resource) *node {
	if r.kind == kindGroup {
		if len(r.children) == 0 {
			return nil
		}
		return r.children[0].assigned
	}
	return r.assigned
}

func (ws *workingSet) distribute(c *resource, children []*resource) {
	max := c.cloneMax
	perHost := c.cloneNodeMax
	available := 0
	for i := range c.nodeCount {
		c.nodeCount[i] = 0
		if ws.nodes[i].canRun() {
			available++
		}
	}
	allColoc := max < available
	loopMax := 1
	if available > 0 && max/available > 1 {
		loopMax = max / available
	}
	allocated := 0
	for _, ch := range children {
		if allocated >= max {
			break
		}
		cur := instanceCurrent(ch)
		if cur == nil || !ch.provisional || instanceFailed(ch) || ch.orphan {
			continue
		}
		if !cur.canRun() || (c.allowedSet[cur.idx] && c.allowed[cur.idx] < 0) {
			continue
		}
		if c.allowedSet[cur.idx] && c.nodeCount[cur.idx] >= loopMax {
			continue
		}
		if ws.assignInstance(c, ch, cur, allColoc, perHost) {
			allocated++
		}
	}
	for _, ch := range children {
		if !ch.provisional {
			continue
		}
		if allocated >= max || ch.orphan {
			ws.banAll(ch)
			ws.forceStopped(ch)
			continue
		}
		if ws.assignInstance(c, ch, nil, allColoc, perHost) {
			allocated++
		}
	}
}

func (ws *workingSet) banAll(r *resource) {
	for _, n := range ws.nodes {
		ws.banNode(r, n)
	}
}

// forceStopped decides that r (and its members) will not run.
func (ws *workingSet) forceStopped(r *resource) {
	r.provisional = false
	r.assigned = nil
	for _, ch := range r.children {
		ws.forceStopped(ch)
	}
}

// appendParentColocations gives an instance the clone's colocations.
func (ws *workingSet) appendParentColocations(c, inst *resource, all bool) {
	target := inst
	if inst.kind == kindGroup && len(inst.children) > 0 {
		target = inst.children[0]
	}
	for _, col := range c.cons {
		if all || col.score < 0 || col.score >= inf {
			target.cons = appendUnique(target.cons, col)
		}
	}
	last := inst
	if inst.kind == kindGroup && len(inst.children) > 0 {
		last = inst.children[len(inst.children)-1]
	}
	for _, col := range c.consLHS {
		if !col.influence {
			continue
		}
		if all || col.score < 0 {
			last.consLHS = appendUnique(last.consLHS, col)
		}
	}
}

func appendUnique(list []*colocation, c *colocation) []*colocation {
	for _, x := range list {
		if x == c {
			return list
		}
	}
	return append(list, c)
}

func (ws *workingSet) assignInstance(c, inst *resource, prefer *node, allColoc bool, limit int) bool {
	if !inst.provisional {
		return instanceAssigned(inst) != nil
	}
	if inst.allocating {
		return false
	}
	ws.appendParentColocations(c, inst, allColoc)
	first := inst
	if inst.kind == kindGroup && len(inst.children) > 0 {
		first = inst.children[0]
	}
	if prefer != nil {
		if !first.allowedSet[prefer.idx] || first.allowed[prefer.idx] < 0 {
			return false
		}
	}
	ws.canRunInstance(c, inst, limit)
	backup := ws.snapshot(inst)
	chosen := ws.assign(inst, prefer)
	if inst.kind == kindGroup {
		chosen = instanceAssigned(inst)
	}
	if chosen != nil && prefer != nil && chosen != prefer {
		ws.unassign(inst)
		ws.restore(inst, backup)
		return false
	}
	if chosen != nil {
		c.nodeCount[chosen.idx]++
	}
	return chosen != nil
}

// canRunInstance bans an instance from nodes the clone cannot use or that
// already hold clone-node-max instances.
func (ws *workingSet) canRunInstance(c, inst *resource, limit int) {
	for i, ok := range inst.allowedSet {
		if !ok {
			continue
		}
		n := ws.nodes[i]
		switch {
		case !n.canRun() || inst.orphan || !c.allowedSet[i]:
			ws.setScore(inst, n, negInf)
		case c.allowed[i] < 0:
			ws.setScore(inst, n, c.allowed[i])
		case c.nodeCount[i] < limit:
		default:
			ws.setScore(inst, n, negInf)
		}
	}
}

// setScore overwrites r's score on n, recursively (common_update_score).
func (ws *workingSet) setScore(r *resource, n *node, score int) {
	if r.allowedSet[n.idx] {
		r.allowed[n.idx] = score
	}
	for _, ch := range r.children {
		ws.setScore(ch, n, score)
	}
}

type snap struct {
	r  *resource
	t  table
	sn []snap
}

func (ws *workingSet) snapshot(r *resource) snap {
	s := snap{r: r, t: copyTable(r.table())}
	for _, ch := range r.children {
		s.sn = append(s.sn, ws.snapshot(ch))
	}
	return s
}

func (ws *workingSet) restore(r *resource, s snap) {
	r.allowed, r.allowedSet = s.t.w, s.t.ok
	for i, ch := range r.children {
		ws.restore(ch, s.sn[i])
	}
}

// cloneColocationRH applies a colocation whose primary is a clone to the
// dependent primitive dep.
func (ws *workingSet) cloneColocationRH(dep, prim *resource, c *colocation) {
	if prim.provisional {
		return
	}
	d := c.dependent
	if d.kind == kindClone && d.interleave && d.cloneNodeMax == prim.cloneNodeMax {
		inst := ws.findCompatibleInstance(dep, prim)
		switch {
		case inst != nil:
			ws.colocationRH(dep, inst, c)
		case c.score >= inf:
			ws.assignNode(dep, nil, true)
		}
		return
	}
	if c.score >= inf {
		allowed := make([]bool, len(ws.nodes))
		for _, inst := range prim.children {
			if n := instanceAssigned(inst); n != nil && !ws.instanceBlocked(inst) {
				allowed[n.idx] = true
			}
		}
		for i, ok := range dep.allowedSet {
			if ok && !allowed[i] {
				dep.allowed[i] = negInf
			}
		}
		return
	}
	for _, inst := range prim.children {
		ws.colocationRH(dep, inst, c)
	}
}

func (ws *workingSet) instanceBlocked(r *resource) bool {
	for _, p := range r.primitives() {
		if p.blocked {
			return true
		}
	}
	return false
}

// findCompatibleInstance finds the instance of clone prim placed on dep's
// node (or, if dep is not placed yet, on its best node).
func (ws *workingSet) findCompatibleInstance(dep, prim *resource) *resource {
	byNode := func(n *node) *resource {
		for _, inst := range prim.children {
			if instanceAssigned(inst) == n {
				return inst
			}
		}
		return nil
	}
	if !dep.provisional && dep.assigned != nil {
		return byNode(dep.assigned)
	}
	for _, n := range ws.sortedNodes(dep.table(), nil) {
		if inst := byNode(n); inst != nil {
			return inst
		}
	}
	return nil
}
