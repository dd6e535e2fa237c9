package scheduler

import (
	"sort"
	"strconv"
	"strings"

	"github.com/ovsha/ovsha/cluster/cib"
)

// unpackNodeStates reads each node's membership state and transient
// attributes and decides online/unclean/standby, as Pacemaker does.
func (ws *workingSet) unpackNodeStates() {
	for i := range ws.in.CIB.Status.Nodes {
		ns := &ws.in.CIB.Status.Nodes[i]
		n := ws.nodeByID[ns.ID]
		if n == nil {
			n = ws.nodeByName[ns.Uname]
		}
		if n == nil {
			continue
		}
		if ns.Transient != nil {
			for k, v := range rawMap(ns.Transient.Attrs) {
				n.attrs[k] = v
			}
		}
		n.unseen = false
		n.unclean = false
		if v := n.attrs["shutdown"]; v != "" && v != "0" {
			n.shutdown = true
		}
		n.expectedUp = ns.Expected == "member"
		if m, ok := ws.in.Membership[n.Name]; ok {
			// Membership supplied by the caller overrides the recorded state.
			if m {
				n.online = true
			} else {
				n.online = false
				if n.expectedUp {
					ws.fenceNode(n, "peer is no longer part of the cluster")
				}
			}
		} else if ws.opts.fencingEnabled {
			n.online = ws.onlineFencing(n, ns)
		} else {
			n.online = ws.onlineNoFencing(n, ns)
		}
		if n.online {
			if isTrue(n.attrs["standby"]) {
				n.standby = true
			}
		}
		if isTrue(n.attrs["maintenance"]) {
			n.maintenance = true
		}
	}
	// Nodes without a status entry: unclean (and fenced) under startup
	// fencing, otherwise just offline.
	for _, n := range ws.nodes {
		if n.unseen && n.unclean {
			n.fenceReason = "node is unclean"
		}
	}
}

func inCluster(v string) bool {
	if isTrue(v) {
		return true
	}
	// Pacemaker 2.1.7+ records a timestamp when the node joined.
	if x, err := strconv.ParseInt(v, 10, 64); err == nil && x > 1 {
		return true
	}
	return false
}

func peerOnline(v string) bool {
	if strings.EqualFold(v, "online") {
		return true
	}
	if x, err := strconv.ParseInt(v, 10, 64); err == nil && x > 1 {
		return true
	}
	return false
}

func (ws *workingSet) onlineFencing(n *node, ns *cib.NodeState) bool {
	join := ns.Join
	exp := ns.Expected
	if exp == "" {
		exp = "down"
	}
	terminate := isTrue(n.attrs["terminate"])
	inCl := inCluster(ns.InCCM)
	crmd := peerOnline(ns.Crmd)
	switch {
	case n.shutdown:
		return inCl
	case ns.InCCM == "":
		ws.fenceNode(n, "peer has not been seen by the cluster")
	case join == "nack":
		ws.fenceNode(n, "peer failed membership criteria")
	case !terminate && exp == "down":
		if inCl || crmd {
			n.standby = true
			n.pending = true
		}
	case terminate && join == "down" && !inCl && !crmd:
		return false
	case !inCl:
		ws.fenceNode(n, "peer is no longer part of the cluster")
	case !crmd:
		ws.fenceNode(n, "peer process is no longer available")
	case terminate:
		ws.fenceNode(n, "termination was requested")
	case join == "member":
		return true
	case join == "pending" || join == "down":
		n.standby = true
		n.pending = true
	default:
		ws.fenceNode(n, "peer was in an unknown state")
	}
	return false
}

func (ws *workingSet) onlineNoFencing(n *node, ns *cib.NodeState) bool {
	switch {
	case !inCluster(ns.InCCM):
		return false
	case peerOnline(ns.Crmd):
		return ns.Join == "member"
	case !n.expectedUp:
		return false
	default:
		ws.fenceNode(n, "peer is unexpectedly down")
		return false
	}
}

// fenceNode marks a node unclean (Pacemaker's pe_fence_node).
func (ws *workingSet) fenceNode(n *node, reason string) {
	if !n.unclean {
		n.unclean = true
		n.fenceReason = reason
	}
}

// opResult is one lrm_rsc_op reduced to what the scheduler needs.
type opResult struct {
	task     string
	interval int64
	rc       int
	status   int
	expected int
	callID   int
	changed  int64
	legacy   bool // crm_feature_set < 2.0
	id       string
	// migrate_to and migrate_from record both ends of the migration.
	migSource string
	migTarget string
}

func readOp(o *cib.LRMOp) opResult {
	r := opResult{task: o.Operation, id: o.ID}
	r.interval, _ = strconv.ParseInt(o.Interval, 10, 64)
	r.rc, _ = strconv.Atoi(o.RCCode)
	r.status, _ = strconv.Atoi(o.OpStatus)
	r.callID = -1
	if v, err := strconv.Atoi(o.CallID); err == nil {
		r.callID = v
	}
	for _, a := range o.Other {
		switch a.Name.Local {
		case "migrate_source":
			r.migSource = a.Value
		case "migrate_target":
			r.migTarget = a.Value
		}
	}
	r.changed, _ = strconv.ParseInt(o.LastRCChange, 10, 64)
	if r.changed == 0 {
		r.changed, _ = strconv.ParseInt(o.LastRun, 10, 64)
	}
	r.expected = 0
	if r.task == "monitor" && r.interval == 0 {
		r.expected = 7
	}
	key := o.TransitionKey
	if key == "" && o.TransitionMagic != "" {
		if i := strings.Index(o.TransitionMagic, ";"); i >= 0 {
			key = o.TransitionMagic[i+1:]
		}
	}
	if parts := strings.Split(key, ":"); len(parts) >= 4 {
		if v, err := strconv.Atoi(parts[2]); err == nil {
			r.expected = v
		}
	}
	if fs := o.FeatureSet; fs != "" {
		if maj, err := strconv.Atoi(strings.SplitN(fs, ".", 2)[0]); err == nil && maj < 2 {
			r.legacy = true
		}
	}
	return r
}

// historyState is the state of one resource on one node after replaying
// its operation history.
type historyState struct {
	// monitors are the recurring monitor intervals running since the
	// last start (a start or stop cancels them all).
	monitors     map[int64]bool
	active       bool
	onFail       onFail
	failed       bool
	banHere      bool
	banAll       bool
	pendingStart bool
	// mig is the migrate_to or migrate_from that last decided the state
	// here; a later start, stop, probe or migration clears it.
	mig *migOp
	// changed is when the last state-deciding operation completed (0 if
	// unknown).
	changed int64
}

// replay walks a resource's operation history on one node in call order.
func (ws *workingSet) replay(r *resource, n *node, ops []cib.LRMOp) historyState {
	list := make([]opResult, 0, len(ops))
	for i := range ops {
		list = append(list, readOp(&ops[i]))
	}
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i].callID, list[j].callID
		if (a < 0) != (b < 0) {
			return b < 0 // pending (call-id -1) last
		}
		return a < b
	})
	var st historyState
	for _, op := range list {
		switch op.task {
		case "notify", "meta-data", "reload", "reload-agent", "cancel", "asyncmon", "validate-all":
			continue
		}
		probe := op.task == "monitor" && op.interval == 0
		decides := op.task != "monitor" || probe // not a recurring monitor
		migration := op.task == "migrate_to" || op.task == "migrate_from"
		if op.status == -1 || op.callID < 0 && op.status != 0 {
			// In flight.
			st.mig = nil
			if migration {
				st.mig = op.migration(migPending)
			}
			switch op.task {
			case "start", "migrate_from":
				st.active = true
				st.pendingStart = true
			case "stop", "migrate_to":
				st.active = true
			}
			continue
		}
		if op.status == 1 { // cancelled
			continue
		}
		// Failures whose failure-timeout has passed are forgotten.
		if r.failureTimeout > 0 && op.changed > 0 && ws.now > 0 && op.changed+r.failureTimeout <= ws.now && !((op.status == 0 || op.status == 4) && op.isSuccess(r)) {
			continue
		}
		if op.status == 3 { // not supported
			continue
		}
		if decides {
			st.mig = nil // superseded by this operation
			st.changed = op.changed
		}
		success := (op.status == 0 || op.status == 4) && op.isSuccess(r) // an "error" status is re-judged by its rc
		hard, fatal := false, false
		if !success {
			switch op.rc {
			case 2, 4, 5:
				hard = true
			case 3:
				hard = op.interval == 0
			case 6:
				fatal = true
			}
			if op.status == 7 {
				hard = true
			}
			if probe && op.rc == 5 {
				// A probe finding the agent missing: not running, and the
				// node cannot run it.
				st.active = false
				st.onFail = failIgnore
				st.banHere = true
				continue
			}
		}
		of := ws.opOnFail(r, op.task, op.interval)
		if (hard || fatal) && of == failIgnore {
			of = failRestart // hard errors are never ignored
		}
		if !success && of == failIgnore && !hard && !fatal {
			success = true
		}
		if migration {
			st.mig = op.migration(map[bool]migOutcome{true: migDone, false: migFailed}[success])
		}
		if success {
			switch {
			case op.task == "start" || op.task == "stop" || op.task == "migrate_from":
				st.monitors = nil
			case op.task == "monitor" && op.interval > 0 && op.rc != 7:
				if st.monitors == nil {
					st.monitors = map[int64]bool{}
				}
				st.monitors[op.interval] = true
			}
			clear := false
			switch {
			case op.rc == 7 && (probe || op.expected == 7):
				st.active = false
				clear = true
				st.onFail = failIgnore
			case op.task == "stop":
				st.active = false
				clear = true
			case op.task == "start":
				st.active = true
				clear = true
			case op.task == "migrate_from":
				st.active = true
				clear = true
			case op.task == "migrate_to":
				st.active = true
			case op.task == "monitor" || op.task == "promote" || op.task == "demote":
				if op.rc == 7 {
					st.active = false
				} else {
					st.active = true
				}
			default:
				st.active = true
			}
			if clear {
				switch st.onFail {
				case failBlock, failIgnore, failRestart:
					st.onFail = failIgnore
				}
			}
			continue
		}
		// A failure.
		if of > st.onFail {
			st.onFail = of
		}
		st.active = true
		switch {
		case fatal:
			st.banAll = true
		case hard:
			st.banHere = true
		}
		if op.task == "start" && op.legacy {
			st.banHere = true
		}
		if op.task == "stop" && of == failFence && !ws.canFence(n) {
			st.onFail = failBlock
		}
	}
	st.failed = st.active && st.onFail == failRestart
	return st
}

// isSuccess reports whether an op's rc means the expected outcome.
func (o opResult) isSuccess(r *resource) bool {
	probe := o.task == "monitor" && o.interval == 0
	switch o.rc {
	case 0:
		return true && (o.expected == 0 || probe || o.expected == 8)
	case 7:
		return probe || o.expected == 7 || !r.managed
	case 8, 190, 191:
		return true
	}
	return false
}

// unpackHistory applies every node's operation history to the resources.
func (ws *workingSet) unpackHistory() {
	for i := range ws.in.CIB.Status.Nodes {
		ns := &ws.in.CIB.Status.Nodes[i]
		n := ws.nodeByID[ns.ID]
		if n == nil {
			n = ws.nodeByName[ns.Uname]
		}
		if n == nil || ns.LRM == nil {
			continue
		}
		if !n.online && !ws.opts.fencingEnabled {
			continue
		}
		// Clone instances on this node: anonymous clones map their
		// history to one instance per node.
		anon := map[*resource]*resource{}
		for j := range ns.LRM.Resources {
			lr := &ns.LRM.Resources[j]
			r := ws.findHistoryResource(lr.ID, n, anon, lr.Ops)
			if r == nil {
				r = ws.orphanFor(lr)
			}
			if r == nil {
				continue
			}
			st := ws.replay(r, n, lr.Ops)
			ws.applyHistory(r, n, st)
		}
	}
}

// findHistoryResource maps an lrm_resource id to a primitive (or a clone
// instance's primitive).
func (ws *workingSet) findHistoryResource(id string, n *node, anon map[*resource]*resource, ops []cib.LRMOp) *resource {
	base := baseID(id)
	top := ws.byID[id]
	if top == nil {
		top = ws.byID[base]
	}
	if top == nil {
		return nil
	}
	if top.kind == kindPrimitive && top.parent == nil {
		return top
	}
	if top.kind == kindGroup && top.parent == nil {
		for _, c := range top.children {
			if c.ID == id {
				return c
			}
		}
		return nil
	}
	// a primitive inside a group inside no clone
	if top.kind == kindPrimitive && top.parent != nil && top.parent.kind == kindGroup && top.cloneAncestor() == nil {
		return top
	}
	clone := top
	if clone.kind != kindClone {
		clone = top.cloneAncestor()
	}
	if clone == nil {
		return nil
	}
	pick := func(inst *resource) *resource {
		for _, p := range inst.primitives() {
			if baseID(p.ID) == base {
				return p
			}
		}
		return nil
	}
	if clone.unique {
		if i := strings.LastIndexByte(id, ':'); i >= 0 {
			num, err := strconv.Atoi(id[i+1:])
			if err == nil {
				for num >= len(clone.children) {
					ws.addOrphanInstance(clone)
				}
				return pick(clone.children[num])
			}
		}
		return nil
	}
	if len(clone.children) == 0 || pick(clone.children[0]) == nil {
		return nil
	}
	inst := anon[clone]
	if inst == nil {
		// Does this history say the resource is active here?
		st := ws.replay(pick(clone.children[0]), n, ops)
		if !st.active {
			return pick(clone.children[0]) // records bans only
		}
		for _, c := range clone.children {
			if !c.isRunning() {
				inst = c
				break
			}
		}
		if inst == nil {
			inst = ws.addOrphanInstance(clone)
		}
		anon[clone] = inst
	}
	return pick(inst)
}

func (ws *workingSet) addOrphanInstance(clone *resource) *resource {
	order := 1 << 30
	inst := ws.newResource(clone.children[0].cfg, clone, len(clone.children), &order)
	ws.walk(inst, func(x *resource) { x.orphan = true })
	clone.children = append(clone.children, inst)
	ws.setupAllowed(inst)
	return inst
}

func (ws *workingSet) applyHistory(r *resource, n *node, st historyState) {
	if r.historyNodes == nil {
		r.historyNodes = map[*node]bool{}
	}
	r.historyNodes[n] = true
	if r.changedOn == nil {
		r.changedOn = map[*node]int64{}
	}
	r.changedOn[n] = st.changed
	if st.mig != nil {
		if r.migOps == nil {
			r.migOps = map[*node]*migOp{}
		}
		r.migOps[n] = st.mig
	}
	if st.active && len(st.monitors) > 0 {
		if r.monitorsOn == nil {
			r.monitorsOn = map[*node]map[int64]bool{}
		}
		r.monitorsOn[n] = st.monitors
	}
	ban := r
	if c := r.cloneAncestor(); c != nil && !c.unique {
		ban = c
	}
	if st.banAll {
		for _, x := range ws.nodes {
			ws.banNode(ban, x)
		}
	}
	if st.banHere {
		ws.banNode(ban, n)
	}
	if !st.active {
		return
	}
	if st.pendingStart {
		r.pendingStart = true
	}
	r.runningOn = append(r.runningOn, n)
	if n.maintenance {
		// Resources on a node in maintenance are left alone.
		r.managed = false
	}
	if !n.online && !n.maintenance && r.managed && ws.opts.fencingEnabled {
		ws.fenceNode(n, r.ID+" is thought to be active there")
	}
	switch st.onFail {
	case failRestart:
		if r.failedOn == nil {
			r.failedOn = map[*node]bool{}
		}
		r.failedOn[n] = true
		r.failed = true
	case failBlock:
		r.blocked = true
		r.failed = true
		if r.failedOn == nil {
			r.failedOn = map[*node]bool{}
		}
		r.failedOn[n] = true
	case failStop:
		r.targetStopped = true
		r.failed = true
	case failStandby:
		n.standby = true
		r.failed = true
	case failFence:
		ws.fenceNode(n, r.ID+" failed there")
		r.failed = true
	}
}

// applyMultipleActive handles a primitive found active on several nodes
// (outside clones), per its multiple-active meta attribute: stop_start
// (default: stop everywhere, start once), stop_only (stop everywhere) or
// block (leave it alone, unmanaged).
func (ws *workingSet) applyMultipleActive() {
	for _, top := range ws.resources {
		for _, p := range top.primitives() {
			if len(p.runningOn) < 2 || p.cloneAncestor() != nil {
				continue
			}
			switch p.meta["multiple-active"] {
			case "block":
				p.blocked = true
			case "stop_only":
				p.targetStopped = true
			}
		}
	}
}

// orphanFor returns the resource standing for history of a resource no
// longer configured (Pacemaker's orphan): with stop-orphan-resources (the
// default) it is stopped wherever it is still active.
func (ws *workingSet) orphanFor(lr *cib.LRMResource) *resource {
	if !ws.opts.stopOrphans || strings.Contains(lr.ID, ":") {
		return nil
	}
	if r := ws.byID[lr.ID]; r != nil {
		if r.orphan {
			return r
		}
		return nil
	}
	cfg := &cib.Resource{Kind: cib.KindPrimitive, ID: lr.ID, Class: lr.Class, Provider: lr.Provider, Type: lr.Type}
	order := 1 << 30
	r := ws.newResource(cfg, nil, -1, &order)
	if r == nil {
		return nil
	}
	r.orphan = true
	r.targetStopped = true
	ws.setupAllowed(r)
	ws.resources = append(ws.resources, r)
	return r
}
