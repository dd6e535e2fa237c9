package scheduler

import (
	"sort"
	"strings"
)

// Flags for mergeWeights (Pacemaker's pe_weights_*).
const (
	mergeInit     = 1 << iota // start from the resource's own table
	mergeForward              // follow colocations where it is the dependent
	mergePositive             // only positive preferences
	mergeRollback             // undo if no node remains usable
)

// infinityHack marks a node that an only-positive merge would have made
// negative (Pacemaker's INFINITY_HACK); such nodes end at weight 1.
const infinityHack = inf * -100

// table is a node → score map over node indexes.
type table struct {
	w  []int
	ok []bool
}

func (r *resource) table() table { return table{w: r.allowed, ok: r.allowedSet} }

func copyTable(t table) table {
	return table{w: append([]int(nil), t.w...), ok: append([]bool(nil), t.ok...)}
}

func (ws *workingSet) canRunAny(t table) bool {
	for i, ok := range t.ok {
		if ok && t.w[i] >= 0 && ws.nodes[i].canRun() {
			return true
		}
	}
	return false
}

// assign places r (Pacemaker's allocate) and returns its node, or nil.
func (ws *workingSet) assign(r *resource, prefer *node) *node {
	switch r.kind {
	case kindGroup:
		return ws.assignGroup(r, prefer)
	case kindClone:
		ws.assignClone(r)
		return nil
	}
	return ws.assignPrimitive(r, prefer)
}

func (ws *workingSet) assignGroup(g *resource, prefer *node) *node {
	if g.parent != nil && g.parent.kind == kindClone && !g.parent.allocating && g.parent.provisional {
		ws.assignClone(g.parent)
	}
	if !g.provisional {
		return g.assigned
	}
	if g.allocating || len(g.children) == 0 {
		return nil
	}
	g.allocating = true
	var first *node
	for i, c := range g.children {
		n := ws.assign(c, prefer)
		if i == 0 {
			first = n
		}
	}
	g.allocating = false
	g.provisional = false
	if g.groupColocated {
		g.assigned = first
	}
	return g.assigned
}

func (ws *workingSet) assignPrimitive(r *resource, prefer *node) *node {
	if p := r.parent; p != nil && !p.allocating && p.provisional {
		ws.assign(p, prefer)
	}
	if !r.provisional {
		return r.assigned
	}
	if r.allocating {
		return nil
	}
	r.allocating = true
	for _, c := range r.cons {
		ws.assign(c.primary, nil)
		ws.colocationRH(r, c.primary, c)
	}
	for _, c := range r.consLHS {
		if !c.influence {
			continue
		}
		t := ws.mergeCmd(c.dependent, r.table(), c.nodeAttr, float64(c.score)/inf, mergeRollback)
		r.allowed, r.allowedSet = t.w, t.ok
	}
	if r.targetStopped {
		for i := range r.allowed {
			r.allowedSet[i] = true
			r.allowed[i] = negInf
		}
	} else if !ws.opts.haveQuorum && ws.opts.noQuorumPolicy == "freeze" && len(r.runningOn) == 0 {
		for i := range r.allowed {
			r.allowedSet[i] = true
			r.allowed[i] = negInf
		}
	}
	switch {
	case !r.managed || r.blocked:
		ws.assignNode(r, r.currentNode(), true)
	case ws.opts.stopAll:
		ws.assignNode(r, nil, true)
	default:
		ws.chooseNode(r, prefer)
	}
	r.allocating = false
	return r.assigned
}

// sortedNodes lists r's allowed nodes best first (Pacemaker's
// sort_node_weight): score, then fewer resources, then the current node,
// then name.
func (ws *workingSet) sortedNodes(t table, current *node) []*node {
	var list []*node
	for i, ok := range t.ok {
		if ok {
			list = append(list, ws.nodes[i])
		}
	}
	eff := func(n *node) int {
		if !n.canRun() {
			return negInf
		}
		return t.w[n.idx]
	}
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if ea, eb := eff(a), eff(b); ea != eb {
			return ea > eb
		}
		if a.numResources != b.numResources {
			return a.numResources < b.numResources
		}
		if current != nil && (a == current) != (b == current) {
			return a == current
		}
		return a.Name < b.Name
	})
	return list
}

func (ws *workingSet) chooseNode(r *resource, prefer *node) {
	if !r.provisional {
		return
	}
	nodes := ws.sortedNodes(r.table(), r.currentNode())
	var chosen *node
	if len(nodes) > 0 && prefer != nil {
		if r.allowedSet[prefer.idx] {
			w := r.allowed[prefer.idx]
			if w >= 0 && w >= r.allowed[nodes[0].idx] && prefer.canRun() {
				chosen = prefer
			}
		}
	}
	if chosen == nil && len(nodes) > 0 {
		chosen = nodes[0]
		if r.allowed[chosen.idx] > 0 && chosen.canRun() {
			if run := r.currentNode(); run != nil && run.canRun() {
				for _, n := range nodes {
					if n == run && r.allowed[n.idx] == r.allowed[chosen.idx] {
						chosen = n
						break
					}
				}
			}
		}
	}
	ws.assignNode(r, chosen, false)
}

// assignNode records the decision for a primitive.
func (ws *workingSet) assignNode(r *resource, n *node, force bool) bool {
	r.provisional = false
	if n == nil || (!force && (!n.canRun() || r.allowed[n.idx] < 0)) {
		r.assigned = nil
		return false
	}
	r.assigned = n
	n.numResources++
	return true
}

// unassign undoes a decision (clone pre-assignment that did not stick).
func (ws *workingSet) unassign(r *resource) {
	if r.kind == kindPrimitive {
		if r.assigned != nil {
			r.assigned.numResources--
		}
	}
	r.assigned = nil
	r.provisional = true
	for _, c := range r.children {
		ws.unassign(c)
	}
}

// colocationRH applies colocation c to dependent primitive dep, given the
// primary (Pacemaker's rsc_colocation_rh dispatch on the primary's kind).
func (ws *workingSet) colocationRH(dep, prim *resource, c *colocation) {
	switch prim.kind {
	case kindGroup:
		if prim.provisional || len(prim.children) == 0 {
			return
		}
		if prim.groupColocated {
			if c.score >= inf {
				ws.colocationRH(dep, prim.children[len(prim.children)-1], c)
			} else {
				ws.colocationRH(dep, prim.children[0], c)
			}
			return
		}
		for _, ch := range prim.children {
			ws.colocationRH(dep, ch, c)
		}
	case kindClone:
		ws.cloneColocationRH(dep, prim, c)
	default:
		if prim.provisional {
			return
		}
		ws.colocationMatch(dep, prim, c)
	}
}

func nodeAttr(n *node, attr string) string {
	if attr == "" {
		attr = "#uname"
	}
	return n.attrs[attr]
}

// colocationMatch is Pacemaker's colocation_match: adjust the dependent's
// scores by where the primary was placed.
func (ws *workingSet) colocationMatch(dep, prim *resource, c *colocation) {
	var value string
	if prim.assigned != nil {
		value = nodeAttr(prim.assigned, c.nodeAttr)
	} else if c.score < 0 {
		return
	}
	work := copyTable(dep.table())
	for i, ok := range work.ok {
		if !ok {
			continue
		}
		n := ws.nodes[i]
		switch {
		case prim.assigned == nil:
			work.w[i] = negInf
		case strings.EqualFold(nodeAttr(n, c.nodeAttr), value):
			if c.score < inf {
				work.w[i] = addScores(c.score, work.w[i])
			}
		case c.score >= inf:
			work.w[i] = negInf
		}
	}
	if ws.canRunAny(work) || c.score <= negInf || c.score >= inf {
		dep.allowed, dep.allowedSet = work.w, work.ok
	}
}

// mergeCmd is the kind-specific merge_weights.
func (ws *workingSet) mergeCmd(r *resource, nodes table, attr string, factor float64, flags int) table {
	if r.kind == kindGroup && len(r.children) > 0 && flags&mergeInit == 0 {
		if r.merging {
			return nodes
		}
		r.merging = true
		nodes = ws.mergeCmd(r.children[0], nodes, attr, factor, flags)
		r.merging = false
		return nodes
	}
	return ws.mergeWeights(r, nodes, attr, factor, flags)
}

// mergeWeights folds the preferences of r (and, transitively, of resources
// colocated with it) into nodes, scaled by factor (Pacemaker's
// pcmk__native_merge_weights).
func (ws *workingSet) mergeWeights(r *resource, nodes table, attr string, factor float64, flags int) table {
	if r.merging {
		return nodes
	}
	r.merging = true
	defer func() { r.merging = false }()
	var work table
	switch {
	case flags&mergeInit != 0:
		if r.kind == kindGroup && len(r.children) > 0 {
			r.merging = false
			work = ws.mergeWeights(r.children[len(r.children)-1], nodes, attr, factor, flags)
			r.merging = true
		} else {
			work = copyTable(r.table())
		}
		flags &^= mergeInit
	case r.kind == kindGroup && len(r.children) > 0:
		work = ws.mergeWeights(r.children[len(r.children)-1], nodes, attr, factor, flags)
	default:
		work = copyTable(nodes)
		ws.addNodeScoresMatchingAttr(work, r, attr, factor, flags&mergePositive != 0)
	}
	if ws.canRunAny(work) {
		list := r.consLHS
		if flags&mergeForward != 0 {
			list = r.cons
		}
		mult := 1.0
		if factor < 0 {
			mult = -1
		}
		for _, c := range list {
			other := c.dependent
			if flags&mergeForward != 0 {
				other = c.primary
			} else if !c.influence {
				continue
			}
			work = ws.mergeCmd(other, work, c.nodeAttr, mult*float64(c.score)/inf, flags)
		}
	} else if flags&mergeRollback != 0 {
		return nodes
	}
	if flags&mergePositive != 0 {
		for i := range work.w {
			if work.w[i] == infinityHack {
				work.w[i] = 1
			}
		}
	}
	return work
}

func (ws *workingSet) addNodeScoresMatchingAttr(work table, r *resource, attr string, factor float64, onlyPositive bool) {
	if attr == "" {
		attr = "#uname"
	}
	for i, ok := range work.ok {
		if !ok {
			continue
		}
		var score int
		if attr == "#uname" || attr == "#id" {
			// Node names are unique: the only matching node is node i.
			score = negInf
			if r.allowedSet[i] && ws.nodes[i].canRun() && r.allowed[i] > negInf {
				score = r.allowed[i]
			}
		} else {
			score = ws.bestScoreMatchingAttr(r, attr, ws.nodes[i].attrs[attr])
		}
		if factor < 0 && score < 0 {
			continue
		}
		if work.w[i] == infinityHack {
			continue
		}
		f := factor * float64(score)
		var weight int
		if f < 0 {
			weight = int(f - 0.5)
		} else {
			weight = int(f + 0.5)
		}
		if weight == 0 && score != 0 {
			if factor > 0 {
				weight = 1
			} else if factor < 0 {
				weight = -1
			}
		}
		ns := addScores(weight, work.w[i])
		if onlyPositive && ns < 0 && work.w[i] > 0 {
			work.w[i] = infinityHack
			continue
		}
		if onlyPositive && ns < 0 && work.w[i] == 0 {
			continue
		}
		work.w[i] = ns
	}
}

func (ws *workingSet) bestScoreMatchingAttr(r *resource, attr, value string) int {
	best := negInf
	for i, ok := range r.allowedSet {
		if !ok {
			continue
		}
		n := ws.nodes[i]
		if r.allowed[i] > best && n.canRun() && strings.EqualFold(n.attrs[attr], value) {
			best = r.allowed[i]
		}
	}
	return best
}
