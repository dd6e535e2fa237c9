package crm

import (
	"encoding/xml"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ovsha/ovsha/cluster/cib"
)

// The functions of this file change a CIB in place as one message says.
// They are deterministic (no clock, no randomness, no local state): every
// node applies the same messages in the same order and ends with the same
// CIB. Each returns whether the configuration (true) or only the status
// changed; the caller bumps the version accordingly.

// errConflict is a replace whose base version is no longer current.
var errConflict = errors.New("the cib changed since it was read")

// applyReplace replaces the configuration section with the one in xml (a
// whole <cib> or a <configuration> element).
func applyReplace(c *cib.CIB, m *message) error {
	if m.Base != nil && m.Base.Compare(c.Version()) != 0 {
		return fmt.Errorf("%w: base version %s, current %s (re-read and retry)", errConflict, m.Base, c.Version())
	}
	next, err := parseConfig(m.XML)
	if err != nil {
		return err
	}
	if len(next.Config.Nodes) == 0 {
		next.Config.Nodes = c.Config.Nodes
	}
	if errs := next.Validate(); len(errs) > 0 {
		msgs := make([]string, 0, len(errs))
		for _, e := range errs {
			msgs = append(msgs, e.Error())
		}
		return fmt.Errorf("invalid configuration: %s", strings.Join(msgs, "; "))
	}
	c.Config = next.Config
	if next.AdminEpoch > c.AdminEpoch {
		c.AdminEpoch = next.AdminEpoch
	}
	c.BumpConfig()
	return nil
}

// parseConfig reads a whole <cib> or just its <configuration>.
func parseConfig(x string) (*cib.CIB, error) {
	s := strings.TrimSpace(x)
	if s == "" {
		return nil, errors.New("replace: empty xml: expected a <cib> or <configuration> element")
	}
	if i := strings.Index(s, "<configuration"); i >= 0 && !strings.Contains(s[:i], "<cib") {
		s = "<cib>" + s[i:] + "</cib>"
	}
	c, err := cib.Parse([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("replace: %w", err)
	}
	return c, nil
}

// nodeState returns the status entry of a node, creating it.
func nodeState(c *cib.CIB, id, uname string) *cib.NodeState {
	if ns := c.FindNodeState(uname); ns != nil {
		return ns
	}
	if id != "" {
		if ns := c.FindNodeState(id); ns != nil {
			return ns
		}
	}
	c.Status.Nodes = append(c.Status.Nodes, cib.NodeState{ID: id, Uname: uname})
	return &c.Status.Nodes[len(c.Status.Nodes)-1]
}

// nodeID is a node's id in the configuration's nodes section ("" if
// unknown).
func nodeID(c *cib.CIB, uname string) string {
	for _, n := range c.Config.Nodes {
		if n.Uname == uname {
			return n.ID
		}
	}
	return ""
}

// maxCallID is the highest call id recorded on a node.
func maxCallID(ns *cib.NodeState) int {
	hi := 0
	if ns.LRM == nil {
		return 0
	}
	for _, r := range ns.LRM.Resources {
		for _, o := range r.Ops {
			if v, err := strconv.Atoi(o.CallID); err == nil && v > hi {
				hi = v
			}
		}
	}
	return hi
}

// lrmResource returns the history entry of rsc on a node, creating it.
func lrmResource(ns *cib.NodeState, o *opResult) *cib.LRMResource {
	if ns.LRM == nil {
		ns.LRM = &cib.LRM{}
	}
	for i := range ns.LRM.Resources {
		if ns.LRM.Resources[i].ID == o.Resource {
			return &ns.LRM.Resources[i]
		}
	}
	ns.LRM.Resources = append(ns.LRM.Resources, cib.LRMResource{ID: o.Resource, Class: o.Class, Provider: o.Provider, Type: o.Type})
	return &ns.LRM.Resources[len(ns.LRM.Resources)-1]
}

func putOp(lr *cib.LRMResource, op cib.LRMOp) {
	for i := range lr.Ops {
		if lr.Ops[i].ID == op.ID {
			lr.Ops[i] = op
			return
		}
	}
	lr.Ops = append(lr.Ops, op)
}

// applyOp records an operation result as Pacemaker does: the last
// non-recurring result as RSC_last_0, each recurring monitor as
// RSC_monitor_INTERVAL, the last failure as RSC_last_failure_0; a
// successful stop drops the recurring entries; a failure increments the
// fail-count-RSC#TASK_INTERVAL attribute and sets last-failure-....
func applyOp(c *cib.CIB, m *message) {
	o := m.Op
	ns := nodeState(c, nodeID(c, o.Node), o.Node)
	call := maxCallID(ns) + 1
	lr := lrmResource(ns, o)
	interval := strconv.FormatInt(o.IntervalMS, 10)
	op := cib.LRMOp{
		Operation:     o.Task,
		Interval:      interval,
		OpStatus:      strconv.Itoa(o.OpStatus),
		RCCode:        strconv.Itoa(o.RC),
		CallID:        strconv.Itoa(call),
		TransitionKey: fmt.Sprintf("%d:%s:%d:ovsha", o.Action, orDash(o.Transition), o.Expected),
		LastRCChange:  strconv.FormatInt(m.At, 10),
		LastRun:       strconv.FormatInt(m.At, 10),
		FeatureSet:    "3.17.4",
		OnNode:        o.Node,
	}
	if o.Reason != "" {
		op.Other = append(op.Other, xml.Attr{Name: xml.Name{Local: "exit-reason"}, Value: o.Reason})
	}
	if o.MigrateSource != "" {
		op.Other = append(op.Other, xml.Attr{Name: xml.Name{Local: "migrate_source"}, Value: o.MigrateSource},
			xml.Attr{Name: xml.Name{Local: "migrate_target"}, Value: o.MigrateTarget})
	}
	if o.IntervalMS > 0 {
		op.ID = fmt.Sprintf("%s_%s_%d", o.Resource, o.Task, o.IntervalMS)
	} else {
		op.ID = o.Resource + "_last_0"
	}
	putOp(lr, op)
	if o.Task == "stop" && !o.failed() {
		lr.Ops = slices.DeleteFunc(lr.Ops, func(x cib.LRMOp) bool { return x.Interval != "" && x.Interval != "0" })
	}
	if o.failed() {
		f := op
		f.ID = o.Resource + "_last_failure_0"
		putOp(lr, f)
		key := fmt.Sprintf("%s#%s_%d", o.Resource, o.Task, o.IntervalMS)
		n, _ := cib.ParseScore(transientAttr(ns, "fail-count-"+key))
		if n < cib.Infinity {
			n++
		}
		setTransient(ns, "fail-count-"+key, strconv.Itoa(n))
		setTransient(ns, "last-failure-"+key, strconv.FormatInt(m.At, 10))
	}
}

func orDash(s string) string {
	if s == "" {
		return "0"
	}
	return s
}

func transientAttr(ns *cib.NodeState, name string) string {
	if ns.Transient == nil {
		return ""
	}
	v, _ := cib.Lookup(ns.Transient.Attrs, name)
	return v
}

// setTransient sets (value != "") or removes (value == "") a transient
// attribute.
func setTransient(ns *cib.NodeState, name, value string) {
	if ns.Transient == nil {
		if value == "" {
			return
		}
		ns.Transient = &cib.Transient{ID: ns.ID}
	}
	if len(ns.Transient.Attrs) == 0 {
		ns.Transient.Attrs = []cib.NVSet{{ID: "status-" + ns.ID}}
	}
	set := &ns.Transient.Attrs[0]
	for i, p := range set.Pairs {
		if p.Name == name {
			if value == "" {
				set.Pairs = slices.Delete(set.Pairs, i, i+1)
			} else {
				set.Pairs[i].Value = value
			}
			return
		}
	}
	if value != "" {
		set.Pairs = append(set.Pairs, cib.NVPair{ID: "status-" + ns.ID + "-" + name, Name: name, Value: value})
	}
}

// applyAttr sets or removes one transient node attribute.
func applyAttr(c *cib.CIB, m *message) {
	ns := nodeState(c, nodeID(c, m.Node), m.Node)
	v := m.Value
	if m.Delete {
		v = ""
	}
	setTransient(ns, m.Name, v)
}

// applyCleanup removes failcounts and the operation history of a resource
// (every resource when m.Resource is "") on a node (every node when
// m.Node is ""). The DC then probes again what has no history.
func applyCleanup(c *cib.CIB, m *message) {
	for i := range c.Status.Nodes {
		ns := &c.Status.Nodes[i]
		if m.Node != "" && ns.Uname != m.Node {
			continue
		}
		match := func(rsc string) bool {
			return m.Resource == "" || rsc == m.Resource || strings.HasPrefix(rsc, m.Resource+":")
		}
		if ns.LRM != nil {
			ns.LRM.Resources = slices.DeleteFunc(ns.LRM.Resources, func(r cib.LRMResource) bool { return match(r.ID) })
		}
		if ns.Transient != nil {
			for j := range ns.Transient.Attrs {
				set := &ns.Transient.Attrs[j]
				set.Pairs = slices.DeleteFunc(set.Pairs, func(p cib.NVPair) bool {
					for _, pre := range []string{"fail-count-", "last-failure-"} {
						if rest, ok := strings.CutPrefix(p.Name, pre); ok {
							rsc, _, _ := strings.Cut(rest, "#")
							return match(rsc)
						}
					}
					return false
				})
			}
		}
	}
}

// applyMembership records which configured nodes are members. A node
// that is a member is expected up; one that left keeps its expectation
// (an unexpected loss is what fencing is for).
func applyMembership(c *cib.CIB, members map[string]bool) {
	for _, n := range c.Config.Nodes {
		ns := nodeState(c, n.ID, n.Uname)
		if members[n.Uname] {
			ns.InCCM, ns.Crmd, ns.Join, ns.Expected = "true", "online", "member", "member"
		} else {
			ns.InCCM, ns.Crmd = "false", "offline"
			if ns.Join == "member" {
				ns.Join = "lost"
			}
		}
	}
}

// applyDown records a node that left cleanly or was fenced: expected
// down, its resources stopped (history cleared), transient attributes
// gone.
func applyDown(c *cib.CIB, node string) {
	ns := nodeState(c, nodeID(c, node), node)
	ns.Expected, ns.Join = "down", "down"
	ns.LRM = nil
	ns.Transient = nil
}

// setLRM replaces a node's operation history (after a merge each node is
// the authority on what it runs).
func setLRM(c *cib.CIB, node string, lrm *cib.LRM) {
	ns := nodeState(c, nodeID(c, node), node)
	ns.LRM = lrm
}
