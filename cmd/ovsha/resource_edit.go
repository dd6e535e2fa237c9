package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ovsha/ovsha/cluster/cib"
)

// The CIB transformations behind `ovsha resource …`. Each takes the CIB
// as read, changes it in place and returns an error naming the object
// when the request does not fit the CIB; none does I/O.

// createSpec is a parsed `resource create` / `stonith create`.
type createSpec struct {
	ID    string
	Agent agentRef
	Args  rscArgs
	Group string
	Clone bool
	// DefaultOps are added for operation names Args.Ops does not mention.
	DefaultOps []opArg
}

func createResource(c *cib.CIB, s createSpec) error {
	used := idsIn(c)
	if r := c.FindResource(s.ID); r != nil {
		return fmt.Errorf("resource %q already exists (a %s)", s.ID, r.Kind)
	}
	if used[s.ID] {
		return fmt.Errorf("id %q is already used in the CIB", s.ID)
	}
	used[s.ID] = true
	p := cib.Resource{Kind: cib.KindPrimitive, ID: s.ID, Class: s.Agent.Class, Provider: s.Agent.Provider, Type: s.Agent.Type}
	for _, a := range s.Args.Params {
		setNV(&p.Instance, used, s.ID+"-instance_attributes", a.Key, a.Value)
	}
	for _, a := range s.Args.Meta {
		setNV(&p.Meta, used, s.ID+"-meta_attributes", a.Key, a.Value)
	}
	ops := append([]opArg(nil), s.Args.Ops...)
	for _, d := range s.DefaultOps {
		if !hasOp(ops, d.Name) {
			ops = append(ops, d)
		}
	}
	if len(ops) > 0 {
		p.Ops = &cib.Operations{}
		for _, o := range ops {
			p.Ops.Ops = append(p.Ops.Ops, makeOp(used, s.ID, o))
		}
	}
	top := p
	if s.Clone {
		cid := s.ID + "-clone"
		if used[cid] {
			return fmt.Errorf("clone id %q is already used in the CIB", cid)
		}
		used[cid] = true
		top = cib.Resource{Kind: cib.KindClone, ID: cid, Children: []cib.Resource{p}}
	}
	if s.Group == "" {
		c.Config.Resources.Items = append(c.Config.Resources.Items, top)
		return nil
	}
	g := c.FindResource(s.Group)
	switch {
	case g == nil && used[s.Group]:
		return fmt.Errorf("group %q: id already used by something that is not a resource", s.Group)
	case g == nil:
		c.Config.Resources.Items = append(c.Config.Resources.Items, cib.Resource{Kind: cib.KindGroup, ID: s.Group, Children: []cib.Resource{top}})
	case g.Kind != cib.KindGroup:
		return fmt.Errorf("%q is a %s, not a group", s.Group, g.Kind)
	default:
		g.Children = append(g.Children, top)
	}
	return nil
}

func hasOp(ops []opArg, name string) bool {
	for _, o := range ops {
		if o.Name == name {
			return true
		}
	}
	return false
}

// makeOp builds an <op> with pcs's id scheme (RSC-NAME-interval-INTERVAL).
func makeOp(used map[string]bool, rid string, o opArg) cib.Op {
	op := cib.Op{Name: o.Name, Interval: "0s"}
	for _, a := range o.Attrs {
		switch a.Key {
		case "interval":
			op.Interval = a.Value
		case "timeout":
			op.Timeout = a.Value
		case "on-fail":
			op.OnFail = a.Value
		case "role":
			op.Role = a.Value
		case "enabled":
			op.Enabled = a.Value
		case "id":
			op.ID = a.Value
		default:
			op.Other = append(op.Other, xmlAttr(a.Key, a.Value))
		}
	}
	if op.ID == "" {
		op.ID = fresh(used, rid+"-"+o.Name+"-interval-"+op.Interval)
	}
	return op
}

// updateResource applies `resource update ID key=value… [op …] [meta …]`:
// an empty value removes the parameter or meta attribute; each op given
// replaces every existing op of that name.
func updateResource(c *cib.CIB, id string, args rscArgs) error {
	r := c.FindResource(id)
	if r == nil {
		return unknownResource(c, id)
	}
	if r.Kind != cib.KindPrimitive && (len(args.Params) > 0 || len(args.Ops) > 0) {
		return fmt.Errorf("%q is a %s: only its meta attributes can be updated", id, r.Kind)
	}
	used := idsIn(c)
	for _, a := range args.Params {
		if a.Value == "" {
			unsetNV(&r.Instance, a.Key)
			continue
		}
		setNV(&r.Instance, used, id+"-instance_attributes", a.Key, a.Value)
	}
	for _, a := range args.Meta {
		if a.Value == "" {
			unsetNV(&r.Meta, a.Key)
			continue
		}
		setNV(&r.Meta, used, id+"-meta_attributes", a.Key, a.Value)
	}
	if len(args.Ops) > 0 {
		if r.Ops == nil {
			r.Ops = &cib.Operations{}
		}
		replaced := map[string]bool{}
		for _, o := range args.Ops {
			replaced[o.Name] = true
		}
		var kept []cib.Op
		for _, op := range r.Ops.Ops {
			if replaced[op.Name] {
				delete(used, op.ID)
				continue
			}
			kept = append(kept, op)
		}
		for _, o := range args.Ops {
			kept = append(kept, makeOp(used, id, o))
		}
		r.Ops.Ops = kept
	}
	return nil
}

// resourceParams returns a primitive's instance parameters as a map.
func resourceParams(r *cib.Resource) map[string]string {
	m := map[string]string{}
	for _, p := range nvList(r.Instance) {
		m[p.Key] = p.Value
	}
	return m
}

// deleteResource removes a resource (with its children), the group or
// clone it leaves empty, and every constraint that names a removed
// resource (resource-set references are dropped from their sets). It
// returns the ids of the constraints it removed.
func deleteResource(c *cib.CIB, id string) ([]string, error) {
	if c.FindResource(id) == nil {
		return nil, unknownResource(c, id)
	}
	// Climb while the parent would be left empty (a clone of it, a group
	// of one).
	target := id
	for {
		p := parentOf(c, target)
		if p == nil || len(p.Children) > 1 {
			break
		}
		target = p.ID
	}
	removed := map[string]bool{}
	var mark func(r *cib.Resource)
	mark = func(r *cib.Resource) {
		removed[r.ID] = true
		for i := range r.Children {
			mark(&r.Children[i])
		}
	}
	mark(c.FindResource(target))
	c.Config.Resources.Items = dropResource(c.Config.Resources.Items, target)
	return dropConstraintsOf(c, removed), nil
}

func dropResource(list []cib.Resource, id string) []cib.Resource {
	out := list[:0]
	for _, r := range list {
		if r.ID == id {
			continue
		}
		r.Children = dropResource(r.Children, id)
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// dropConstraintsOf removes constraints naming any resource in gone and
// returns their ids.
func dropConstraintsOf(c *cib.CIB, gone map[string]bool) []string {
	var dropped []string
	items := c.Config.Constraints.Items[:0]
	for _, k := range c.Config.Constraints.Items {
		if gone[k.Rsc] || gone[k.WithRsc] || gone[k.First] || gone[k.Then] {
			dropped = append(dropped, k.ID)
			continue
		}
		if len(k.Sets) > 0 {
			var sets []cib.ResourceSet
			for _, s := range k.Sets {
				refs := s.Refs[:0]
				for _, ref := range s.Refs {
					if !gone[ref.ID] {
						refs = append(refs, ref)
					}
				}
				s.Refs = refs
				if len(s.Refs) > 0 {
					sets = append(sets, s)
				}
			}
			if len(sets) == 0 {
				dropped = append(dropped, k.ID)
				continue
			}
			k.Sets = sets
		}
		items = append(items, k)
	}
	c.Config.Constraints.Items = items
	if len(items) == 0 {
		c.Config.Constraints.Items = nil
	}
	return dropped
}

// parentOf returns the group or clone holding id, nil at top level.
func parentOf(c *cib.CIB, id string) *cib.Resource {
	var parent *cib.Resource
	c.Walk(func(r, p *cib.Resource) {
		if r.ID == id && parent == nil {
			parent = p
		}
	})
	return parent
}

// setTargetRole disables (role "Stopped") or enables (role "": the
// attribute is removed, as pcs does) a resource.
func setTargetRole(c *cib.CIB, id, role string) error {
	r := c.FindResource(id)
	if r == nil {
		return unknownResource(c, id)
	}
	if role == "" {
		if !unsetNV(&r.Meta, "target-role") {
			return noChangef("%s is not disabled", id)
		}
		return nil
	}
	if !setNV(&r.Meta, idsIn(c), id+"-meta_attributes", "target-role", role) {
		return noChangef("%s already has target-role=%s", id, role)
	}
	return nil
}

// Move constraints, named as crm_resource and pcs name them.
func preferID(rsc string) string    { return "cli-prefer-" + rsc }
func banID(rsc, node string) string { return "cli-ban-" + rsc + "-on-" + idFrom(node) }
func isMoveConstraint(k cib.Constraint, rsc string) bool {
	return k.Kind == cib.KindLocation && (k.ID == preferID(rsc) || strings.HasPrefix(k.ID, "cli-ban-"+rsc+"-on-"))
}

// moveResource adds the location constraint `resource move` makes: with
// ban=false prefer node (INFINITY), with ban=true keep the resource off
// node (-INFINITY). A resource in a group or clone is moved by moving the
// group; a clone runs everywhere and cannot be moved.
func moveResource(c *cib.CIB, id, node string, ban bool) error {
	r := c.FindResource(id)
	if r == nil {
		return unknownResource(c, id)
	}
	if p := parentOf(c, id); p != nil {
		return fmt.Errorf("%q is a member of %s %q: move the %s instead", id, p.Kind, p.ID, p.Kind)
	}
	if r.Kind == cib.KindClone || r.Kind == cib.KindMaster {
		return fmt.Errorf("%q is a clone: it runs on every eligible node (use constraint location to keep it off a node)", id)
	}
	if err := checkNode(c, node); err != nil {
		return err
	}
	var items []cib.Constraint
	for _, k := range c.Config.Constraints.Items {
		drop := ban && k.ID == preferID(id) && k.Node == node || // preferring the node we ban
			!ban && (k.ID == preferID(id) || k.ID == banID(id, node)) // the old preference, a ban of the target
		if !drop {
			items = append(items, k)
		}
	}
	k := cib.Constraint{Kind: cib.KindLocation, Rsc: id, Role: "Started", Node: node, Score: "INFINITY", ID: preferID(id)}
	if ban {
		k.ID, k.Score = banID(id, node), "-INFINITY"
		for _, old := range items {
			if old.ID == k.ID {
				return noChangef("%s is already banned from %s", id, node)
			}
		}
	}
	c.Config.Constraints.Items = append(items, k)
	return nil
}

// clearResource removes the constraints moveResource made for id.
func clearResource(c *cib.CIB, id string) ([]string, error) {
	if c.FindResource(id) == nil {
		return nil, unknownResource(c, id)
	}
	var cleared []string
	items := c.Config.Constraints.Items[:0]
	for _, k := range c.Config.Constraints.Items {
		if isMoveConstraint(k, id) {
			cleared = append(cleared, k.ID)
			continue
		}
		items = append(items, k)
	}
	c.Config.Constraints.Items = items
	if len(cleared) == 0 {
		return nil, noChangef("%s has no move or ban constraints", id)
	}
	return cleared, nil
}

// checkNode accepts a node listed in the CIB's nodes section (any node
// when the section is empty, as on a fresh cluster).
func checkNode(c *cib.CIB, node string) error {
	if len(c.Config.Nodes) == 0 {
		return nil
	}
	var names []string
	for _, n := range c.Config.Nodes {
		if n.Uname == node {
			return nil
		}
		names = append(names, n.Uname)
	}
	sort.Strings(names)
	return fmt.Errorf("node %q is not in the cluster (nodes: %s)", node, strings.Join(names, ", "))
}

// unknownResource names the missing resource and what does exist.
func unknownResource(c *cib.CIB, id string) error {
	var ids []string
	c.Walk(func(r, _ *cib.Resource) { ids = append(ids, r.ID) })
	if len(ids) == 0 {
		return fmt.Errorf("resource %q does not exist (the CIB has no resources)", id)
	}
	sort.Strings(ids)
	return fmt.Errorf("resource %q does not exist (resources: %s)", id, strings.Join(ids, ", "))
}

// primitivesUnder lists the primitives of a resource (itself when it is
// one).
func primitivesUnder(r *cib.Resource) []string {
	if r.Kind == cib.KindPrimitive {
		return []string{r.ID}
	}
	var out []string
	for i := range r.Children {
		out = append(out, primitivesUnder(&r.Children[i])...)
	}
	return out
}
