package scheduler

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ovsha/ovsha/cluster/cib"
)

// unpackResources builds the resource tree, with clone instances.
func (ws *workingSet) unpackResources() {
	ws.byID = map[string]*resource{}
	order := 0
	for i := range ws.in.CIB.Config.Resources.Items {
		cr := &ws.in.CIB.Config.Resources.Items[i]
		if r := ws.newResource(cr, nil, -1, &order); r != nil {
			ws.resources = append(ws.resources, r)
		}
	}
	for _, r := range ws.resources {
		ws.walk(r, func(x *resource) {
			if x.stonithClass {
				ws.opts.haveFencingDevice = true
			}
		})
	}
}

func (ws *workingSet) walk(r *resource, fn func(*resource)) {
	fn(r)
	for _, c := range r.children {
		ws.walk(c, fn)
	}
}

func (ws *workingSet) newResource(cr *cib.Resource, parent *resource, instance int, order *int) *resource {
	r := &resource{cfg: cr, parent: parent, cloneInstance: instance, order: *order}
	*order++
	r.ID = cr.ID
	if instance >= 0 {
		r.ID = fmt.Sprintf("%s:%d", cr.ID, instance)
	}
	switch cr.Kind {
	case cib.KindPrimitive:
		r.kind = kindPrimitive
	case cib.KindGroup:
		r.kind = kindGroup
	case cib.KindClone:
		r.kind = kindClone
	default:
		ws.warnf("resource %s: <%s> is not supported by the scheduler; ignored", cr.ID, cr.Kind)
		return nil
	}
	r.meta = nvMap(cr.Meta)
	for _, a := range cr.Other { // legacy attributes on the element itself
		n := normName(a.Name.Local)
		if _, ok := r.meta[n]; !ok && (n == "target-role" || n == "is-managed" || n == "resource-stickiness" || n == "priority") {
			r.meta[n] = a.Value
		}
	}
	if parent != nil {
		for k, v := range parent.meta {
			if _, ok := r.meta[k]; !ok {
				r.meta[k] = v
			}
		}
	} else {
		for k, v := range ws.rscDefaults {
			if _, ok := r.meta[k]; !ok {
				r.meta[k] = v
			}
		}
	}
	if r.kind == kindClone {
		if _, ok := r.meta["resource-stickiness"]; !ok {
			r.meta["resource-stickiness"] = "1"
		}
	}
	if instance < 0 {
		ws.byID[r.ID] = r
	}
	ws.configure(r)
	switch r.kind {
	case kindGroup:
		for i := range cr.Children {
			ch := &cr.Children[i]
			if ch.Kind != cib.KindPrimitive {
				continue
			}
			if c := ws.newResource(ch, r, instance, order); c != nil {
				r.children = append(r.children, c)
			}
		}
	case kindClone:
		var child *cib.Resource
		for i := range cr.Children {
			if cr.Children[i].Kind == cib.KindPrimitive || cr.Children[i].Kind == cib.KindGroup {
				child = &cr.Children[i]
				break
			}
		}
		if child == nil {
			ws.warnf("clone %s has no primitive or group inside; ignored", cr.ID)
			return nil
		}
		for i := 0; i < r.cloneMax; i++ {
			if c := ws.newResource(child, r, i, order); c != nil {
				r.children = append(r.children, c)
			}
		}
		// Register the child's own id so constraints naming it resolve
		// to the clone (Pacemaker treats them the same way).
		if _, ok := ws.byID[child.ID]; !ok {
			ws.byID[child.ID] = r
		}
		for i := range child.Children { // members of a cloned group
			if id := child.Children[i].ID; ws.byID[id] == nil {
				ws.byID[id] = r
			}
		}
	}
	return r
}

func (ws *workingSet) configure(r *resource) {
	m := r.meta
	r.priority = atoiScore(m["priority"])
	r.stickiness = atoiScore(m["resource-stickiness"])
	r.migrationThreshold = inf
	if v, ok := m["migration-threshold"]; ok {
		r.migrationThreshold = atoiScore(v)
		if r.migrationThreshold < 0 {
			r.migrationThreshold = 0
		}
	}
	if v, ok := m["failure-timeout"]; ok {
		r.failureTimeout = cib.DurationMS(v) / 1000
	}
	r.targetStopped = strings.EqualFold(m["target-role"], "Stopped")
	r.managed = boolOr(m, "is-managed", true) && !boolOr(m, "maintenance", false) && !ws.opts.maintenanceMode
	r.unique = true
	r.groupColocated = boolOr(m, "collocated", true)
	r.ordered = boolOr(m, "ordered", true)
	r.provisional = true
	if r.kind == kindClone {
		r.unique = boolOr(m, "globally-unique", false)
		r.ordered = boolOr(m, "ordered", false)
		r.interleave = boolOr(m, "interleave", false)
		r.cloneMax = len(ws.nodes)
		if v, ok := m["clone-max"]; ok {
			r.cloneMax, _ = strconv.Atoi(v)
		}
		r.cloneNodeMax = 1
		if v, ok := m["clone-node-max"]; ok {
			r.cloneNodeMax, _ = strconv.Atoi(v)
		}
		if v, ok := m["clone-min"]; ok {
			r.cloneMin, _ = strconv.Atoi(v)
		}
	}
	if r.parent != nil && r.parent.kind == kindClone {
		r.unique = r.parent.unique
	} else if r.parent != nil && r.parent.parent != nil {
		r.unique = r.parent.unique
	}
	if r.kind == kindPrimitive {
		cr := r.cfg
		r.stonithClass = cr.Class == "stonith"
		req := m["requires"]
		r.requiresNothing = req == "nothing"
		if cr.Ops != nil {
			for _, op := range cr.Ops.Ops {
				om := nvMap(op.Meta)
				d := opDef{name: op.Name, interval: cib.DurationMS(op.Interval), onFail: op.OnFail, role: op.Role, timeout: op.Timeout, enabled: true}
				if d.onFail == "" {
					d.onFail = om["on-fail"]
				}
				if d.onFail == "" {
					d.onFail = ws.opDefaults["on-fail"]
				}
				if op.Enabled != "" && !isTrue(op.Enabled) {
					d.enabled = false
				}
				if v, ok := om["enabled"]; ok && !isTrue(v) {
					d.enabled = false
				}
				r.ops = append(r.ops, d)
			}
		}
	}
}

// atoiScore reads an integer meta value that may be [+-]INFINITY.
func atoiScore(s string) int {
	if s == "" {
		return 0
	}
	return parseScore(s)
}

// opOnFail returns the configured on-fail policy for an operation.
func (ws *workingSet) opOnFail(r *resource, task string, intervalMs int64) onFail {
	s := ""
	for _, d := range r.ops {
		if d.name == task && d.interval == intervalMs {
			s = d.onFail
			break
		}
	}
	if s == "" && task == "monitor" && intervalMs == 0 {
		// probes use the on-fail of the recurring monitor, if any
		for _, d := range r.ops {
			if d.name == "monitor" && d.interval > 0 && d.onFail != "" {
				s = d.onFail
				break
			}
		}
	}
	if s == "" {
		s = ws.opDefaults["on-fail"]
	}
	switch strings.ToLower(s) {
	case "ignore":
		return failIgnore
	case "block":
		return failBlock
	case "stop":
		return failStop
	case "standby":
		return failStandby
	case "fence":
		if ws.opts.fencingEnabled {
			return failFence
		}
		return failStop
	case "restart":
		return failRestart
	}
	if task == "stop" {
		if ws.opts.fencingEnabled {
			return failFence
		}
		return failBlock
	}
	return failRestart
}
