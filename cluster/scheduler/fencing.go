package scheduler

// canFence reports whether node n may be fenced now (Pacemaker's
// pe_can_fence): fencing enabled, a fencing device configured, and quorum
// (or no-quorum-policy=ignore, or the node is in our membership).
func (ws *workingSet) canFence(n *node) bool {
	if !ws.opts.fencingEnabled || !ws.opts.haveFencingDevice {
		return false
	}
	if ws.opts.haveQuorum || ws.opts.noQuorumPolicy == "ignore" {
		return true
	}
	return n != nil && n.online
}

// scheduleFencing decides which unclean nodes are fenced (before any
// resource action is planned, so their resources count as stopped).
func (ws *workingSet) scheduleFencing() {
	if !ws.opts.haveQuorum && ws.opts.noQuorumPolicy == "suicide" && ws.opts.fencingEnabled {
		for _, n := range ws.nodes {
			if n.online {
				ws.fenceNode(n, "no quorum (no-quorum-policy=suicide)")
			}
		}
	}
	for _, n := range ws.nodes {
		if n.unclean && ws.canFence(n) {
			n.fence = true
		}
	}
	// Fencing a node clears whatever blocked the resources active there.
	for _, top := range ws.resources {
		for _, p := range top.primitives() {
			if !p.blocked || len(p.runningOn) == 0 {
				continue
			}
			all := true
			for _, n := range p.runningOn {
				all = all && n.fence
			}
			if all {
				p.blocked = false
				p.failed = false
			}
		}
	}
}

// fencingActions adds one fence action per fenced node, ordered before
// the stops it implies and before every start.
func (ws *workingSet) fencingActions() []*action {
	var out []*action
	for _, n := range ws.nodes {
		if !n.fence {
			continue
		}
		f := ws.newAction(nil, "fence", n, false)
		out = append(out, f)
		for _, a := range ws.actions {
			if a.rsc == nil {
				continue
			}
			switch {
			case a.task == "stop" && a.node == n:
				ws.order(f, a, edgeImpliesThen)
			case a.task == "start" && a.node != nil && !a.pseudo:
				ws.order(f, a, 0)
			}
		}
	}
	return out
}
