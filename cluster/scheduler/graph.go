package scheduler

import (
	"container/heap"
	"sort"
)

// finalNodes is where primitive r is active once the transition ran.
func (ws *workingSet) finalNodes(r *resource) []*node {
	var out []*node
	for _, n := range r.runningOn {
		stop := r.stopActs[n]
		gone := stop != nil && !stop.optional && stop.runnable
		if n.fence {
			gone = true
		}
		if !gone {
			out = append(out, n)
		}
	}
	if a := r.startAct; a != nil && a.node != nil && a.runnable {
		present := false
		for _, n := range out {
			if n == a.node {
				present = true
			}
		}
		if !present && (!a.optional || contains(r.runningOn, a.node)) {
			out = append(out, a.node)
		}
	}
	return out
}

func contains(list []*node, n *node) bool {
	for _, x := range list {
		if x == n {
			return true
		}
	}
	return false
}

// placement folds clone instances into their primitive's id.
func (ws *workingSet) placement() map[string][]string {
	out := map[string][]string{}
	for _, top := range ws.resources {
		if top.orphan {
			continue // not configured: not part of the placement
		}
		for _, p := range top.primitives() {
			id := p.ID
			if p.cloneAncestor() != nil {
				id = baseID(id)
			}
			if _, ok := out[id]; !ok {
				out[id] = []string{}
			}
			for _, n := range ws.finalNodes(p) {
				out[id] = append(out[id], n.Name)
			}
		}
	}
	for id := range out {
		sort.Strings(out[id])
	}
	return out
}

// inGraph reports whether an action is part of the transition.
func inGraph(a *action) bool {
	if !a.runnable || a.optional {
		return false
	}
	return true
}

// graph lists the transition's actions in an order that respects every
// ordering edge (Kahn's algorithm; ties by creation order).
func (ws *workingSet) graph() []Action {
	var list []*action
	for _, a := range ws.actions {
		if inGraph(a) {
			list = append(list, a)
		}
	}
	indeg := map[*action]int{}
	for _, a := range list {
		for _, e := range a.in {
			if inGraph(e.first) {
				indeg[a]++
			}
		}
	}
	var ready []*action
	for _, a := range list {
		if indeg[a] == 0 {
			ready = append(ready, a)
		}
	}
	newID := map[*action]int{}
	var order []*action
	h := &actionHeap{}
	for _, a := range ready {
		heap.Push(h, a)
	}
	for h.Len() > 0 {
		a := heap.Pop(h).(*action)
		newID[a] = len(order)
		order = append(order, a)
		for _, e := range a.out {
			if !inGraph(e.then) {
				continue
			}
			indeg[e.then]--
			if indeg[e.then] == 0 {
				heap.Push(h, e.then)
			}
		}
	}
	if n := len(order); n < len(list) {
		// An ordering loop: emit the rest in creation order, with all
		// their inputs (some come later in the list).
		for _, a := range list {
			if _, ok := newID[a]; !ok {
				newID[a] = len(order)
				order = append(order, a)
			}
		}
		ws.warnf("ordering loop: %d actions, from %s, cannot be put in order", len(order)-n, order[n])
	}
	out := make([]Action, 0, len(order))
	for _, a := range order {
		out = append(out, ws.exportAction(a, newID))
	}
	return out
}

func (ws *workingSet) exportAction(a *action, ids map[*action]int) Action {
	x := Action{ID: ids[a], Task: a.task, Interval: a.interval, Pseudo: a.pseudo}
	if a.rsc != nil {
		x.Resource = a.rsc.ID
	}
	if a.node != nil {
		x.Node = a.node.Name
	}
	if a.implied {
		x.Task = "stop"
	}
	if a.migSource != nil && a.migTarget != nil {
		x.MigrateSource, x.MigrateTarget = a.migSource.Name, a.migTarget.Name
	}
	for _, e := range a.in {
		if id, ok := ids[e.first]; ok && inGraph(e.first) {
			x.Inputs = append(x.Inputs, id)
		}
	}
	sort.Ints(x.Inputs)
	return x
}

// actionHeap pops ready actions in creation order.
type actionHeap []*action

func (h actionHeap) Len() int           { return len(h) }
func (h actionHeap) Less(i, j int) bool { return h[i].id < h[j].id }
func (h actionHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *actionHeap) Push(x any)        { *h = append(*h, x.(*action)) }
func (h *actionHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
