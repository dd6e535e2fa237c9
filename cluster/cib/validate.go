package cib

import (
	"fmt"
	"strings"
)

// ValidationError is one problem found by Validate, naming the element.
type ValidationError struct {
	Element string // XML element name, e.g. "rsc_colocation"
	ID      string // the element's id
	Problem string
}

func (e ValidationError) Error() string {
	return fmt.Sprintf("%s %q: %s", e.Element, e.ID, e.Problem)
}

// Validate checks the configuration for problems that would make it
// meaningless: missing or duplicate ids, constraints naming resources that
// do not exist, scores that are not numbers, unknown resource kinds.
func (c *CIB) Validate() []ValidationError {
	var errs []ValidationError
	add := func(el, id, format string, a ...any) {
		errs = append(errs, ValidationError{Element: el, ID: id, Problem: fmt.Sprintf(format, a...)})
	}
	ids := map[string]string{}
	seen := func(el, id string) {
		if id == "" {
			add(el, id, "missing id")
			return
		}
		if prev, ok := ids[id]; ok {
			add(el, id, "duplicate id (also used by a %s)", prev)
			return
		}
		ids[id] = el
	}
	nodes := map[string]bool{}
	for _, n := range c.Config.Nodes {
		seen("node", n.ID)
		if n.Uname == "" {
			add("node", n.ID, "missing uname")
		}
		nodes[n.Uname] = true
	}
	c.Walk(func(r, parent *Resource) {
		seen(r.Kind, r.ID)
		switch r.Kind {
		case KindPrimitive:
			if r.Type == "" {
				add(r.Kind, r.ID, "missing type")
			}
			if r.Class == "" {
				add(r.Kind, r.ID, "missing class")
			}
			if r.Class == "ocf" && r.Provider == "" {
				add(r.Kind, r.ID, "ocf class requires a provider")
			}
			if len(r.Children) > 0 {
				add(r.Kind, r.ID, "unexpected element <%s> inside a primitive", r.Children[0].Kind)
			}
			if r.Ops != nil {
				for _, op := range r.Ops.Ops {
					if op.Name == "" {
						add("op", op.ID, "missing name")
					}
					if op.Interval == "" {
						add("op", op.ID, "missing interval")
					}
				}
			}
		case KindGroup:
			for _, ch := range r.Children {
				if ch.Kind != KindPrimitive {
					add(r.Kind, r.ID, "member %q is a %s: a group holds only primitives", ch.ID, ch.Kind)
				}
			}
		case KindClone, KindMaster:
			if len(r.Children) != 1 {
				add(r.Kind, r.ID, "a clone holds exactly one primitive or group, found %d", len(r.Children))
			}
		default:
			add(r.Kind, r.ID, "unsupported resource kind <%s>", r.Kind)
		}
	})
	exists := func(id string) bool {
		el, ok := ids[id]
		return ok && (el == KindPrimitive || el == KindGroup || el == KindClone || el == KindMaster)
	}
	checkScore := func(el, id, s string) {
		if s == "" {
			return
		}
		if _, err := ParseScore(s); err != nil {
			add(el, id, "%v", err)
		}
	}
	for _, k := range c.Config.Constraints.Items {
		seen(k.Kind, k.ID)
		for _, set := range k.Sets {
			for _, ref := range set.Refs {
				if !exists(ref.ID) {
					add(k.Kind, k.ID, "resource set %q refers to resource %q, which does not exist", set.ID, ref.ID)
				}
			}
			checkScore(k.Kind, k.ID, set.Score)
		}
		checkScore(k.Kind, k.ID, k.Score)
		switch k.Kind {
		case KindLocation:
			if k.Rsc == "" && k.RscPattern == "" && len(k.Sets) == 0 {
				add(k.Kind, k.ID, "missing rsc")
			} else if k.Rsc != "" && !exists(k.Rsc) {
				add(k.Kind, k.ID, "resource %q does not exist", k.Rsc)
			}
			if len(k.Rules) == 0 && k.Node == "" {
				add(k.Kind, k.ID, "needs a node and score, or a rule")
			}
			if k.Node != "" && k.Score == "" && len(k.Rules) == 0 {
				add(k.Kind, k.ID, "node %q given without a score", k.Node)
			}
			for _, r := range k.Rules {
				validateRule(r, k.Kind, add)
			}
		case KindColocation:
			if len(k.Sets) == 0 {
				for _, f := range []struct{ attr, v string }{{"rsc", k.Rsc}, {"with-rsc", k.WithRsc}} {
					if f.v == "" {
						add(k.Kind, k.ID, "missing %s", f.attr)
					} else if !exists(f.v) {
						add(k.Kind, k.ID, "%s %q does not exist", f.attr, f.v)
					}
				}
			}
			if k.Score == "" && len(k.Sets) == 0 {
				add(k.Kind, k.ID, "missing score")
			}
		case KindOrder:
			if len(k.Sets) == 0 {
				for _, f := range []struct{ attr, v string }{{"first", k.First}, {"then", k.Then}} {
					if f.v == "" {
						add(k.Kind, k.ID, "missing %s", f.attr)
					} else if !exists(f.v) {
						add(k.Kind, k.ID, "%s %q does not exist", f.attr, f.v)
					}
				}
			}
			switch strings.ToLower(k.OrderKind) {
			case "", "mandatory", "optional", "serialize":
			default:
				add(k.Kind, k.ID, "kind %q: want Mandatory, Optional or Serialize", k.OrderKind)
			}
			for _, a := range []string{k.FirstAction, k.ThenAction} {
				switch a {
				case "", "start", "stop", "promote", "demote":
				default:
					add(k.Kind, k.ID, "action %q: want start, stop, promote or demote", a)
				}
			}
		default:
			add(k.Kind, k.ID, "unsupported constraint kind <%s>", k.Kind)
		}
	}
	return errs
}

func validateRule(r Rule, el string, add func(el, id, format string, a ...any)) {
	if r.Score != "" {
		if _, err := ParseScore(r.Score); err != nil {
			add("rule", r.ID, "%v", err)
		}
	}
	switch strings.ToLower(r.BooleanOp) {
	case "", "and", "or":
	default:
		add("rule", r.ID, "boolean-op %q: want and or or", r.BooleanOp)
	}
	for _, e := range r.Expressions {
		switch e.Operation {
		case "lt", "gt", "lte", "gte", "eq", "ne", "defined", "not_defined":
		default:
			add("expression", e.ID, "operation %q: want lt, gt, lte, gte, eq, ne, defined or not_defined", e.Operation)
		}
		if e.Attribute == "" {
			add("expression", e.ID, "missing attribute")
		}
	}
	for _, sub := range r.Rules {
		validateRule(sub, el, add)
	}
}
