package scheduler

import (
	"fmt"
	"sort"
)

// summary derives the Transition Summary lines.
func (ws *workingSet) summary() []Change {
	out := []Change{}
	for _, n := range ws.nodes {
		if n.fence {
			out = append(out, Change{Verb: "Fence", To: n.Name, Reason: n.fenceReason})
		}
	}
	for _, top := range ws.resources {
		for _, p := range top.primitives() {
			if p.keepsExpected() {
				// Only the unexpected copies stop; the expected one stays.
				for _, n := range p.runningOn {
					if n != p.assigned {
						out = append(out, Change{Verb: "Stop", Resource: p.ID, From: n.Name})
					}
				}
				continue
			}
			if c, ok := ws.change(p); ok {
				out = append(out, c)
			}
		}
	}
	return out
}

func (ws *workingSet) change(r *resource) (Change, bool) {
	final := ws.finalNodes(r)
	var from, to *node
	if len(r.runningOn) > 0 {
		from = r.runningOn[0]
	}
	if len(final) > 0 {
		to = final[0]
	}
	name := func(n *node) string {
		if n == nil {
			return ""
		}
		return n.Name
	}
	c := Change{Resource: r.ID, From: name(from), To: name(to)}
	switch {
	case from == nil && to == nil:
		return c, false
	case from == nil:
		c.Verb = "Start"
	case to == nil:
		c.Verb = "Stop"
	case from != to:
		c.Verb = "Move"
		if r.failed {
			c.Verb = "Recover"
		}
		if r.migrating {
			c.Verb = "Migrate"
		}
	default:
		stop := r.stopActs[from]
		if stop == nil || stop.optional || !stop.runnable {
			return c, false
		}
		c.Verb = "Restart"
		if r.failed {
			c.Verb = "Recover"
		}
	}
	return c, true
}

// status renders the cluster state before (revised=false) or after.
func (ws *workingSet) status(revised bool) Status {
	var st Status
	for _, n := range ws.nodes {
		state := "online"
		switch {
		case revised && n.fence:
			state = "offline"
		case n.unclean && !n.online:
			state = "UNCLEAN (offline)"
		case n.unclean:
			state = "UNCLEAN (online)"
		case !n.online:
			state = "offline"
		case n.pending:
			state = "pending"
		case n.maintenance:
			state = "maintenance"
		case n.standby:
			state = "standby"
		}
		st.Nodes = append(st.Nodes, NodeStatus{Name: n.Name, State: state})
	}
	for _, top := range ws.resources {
		for _, p := range top.primitives() {
			if p.orphan && len(p.runningOn) == 0 {
				continue
			}
			rs := ResourceStatus{ID: p.ID, Agent: agent(p), Managed: p.managed && !p.blocked, Nodes: []string{}}
			if p.parent != nil {
				rs.Parent = p.parent.ID
			}
			nodes := p.runningOn
			if revised {
				nodes = ws.finalNodes(p)
				rs.Failed = p.failed && len(nodes) > 0 && (p.blocked || !p.managed || ws.stopBlocked(p))
			} else {
				rs.Failed = p.failed
			}
			for _, n := range nodes {
				rs.Nodes = append(rs.Nodes, n.Name)
			}
			sort.Strings(rs.Nodes)
			st.Resources = append(st.Resources, rs)
		}
	}
	return st
}

func (ws *workingSet) stopBlocked(r *resource) bool {
	for _, a := range r.stopActs {
		if !a.runnable {
			return true
		}
	}
	return false
}

func agent(r *resource) string {
	c := r.cfg
	if c.Provider != "" {
		return fmt.Sprintf("%s:%s:%s", c.Class, c.Provider, c.Type)
	}
	return fmt.Sprintf("%s:%s", c.Class, c.Type)
}
