package scheduler

import (
	"regexp"
	"strings"

	"github.com/ovsha/ovsha/cluster/cib"
)

// setupAllowed gives a resource (and its descendants) its initial allowed
// node table: every node at 0 in a symmetric cluster, none otherwise.
func (ws *workingSet) setupAllowed(r *resource) {
	r.allowed = make([]int, len(ws.nodes))
	r.allowedSet = make([]bool, len(ws.nodes))
	if ws.opts.symmetric {
		for i := range r.allowedSet {
			r.allowedSet[i] = true
		}
	}
	if r.kind == kindClone {
		r.nodeCount = make([]int, len(ws.nodes))
	}
	for _, c := range r.children {
		ws.setupAllowed(c)
	}
}

// addLocation applies score on node n to r (Pacemaker's resource_location
// for one node): groups pass the full score to their first member and 0 to
// the rest; clones apply it to every instance too.
func (ws *workingSet) addLocation(r *resource, n *node, score int) {
	ws.nodeScore(r, n, score)
	switch r.kind {
	case kindGroup:
		for i, c := range r.children {
			s := score
			if i > 0 && r.groupColocated {
				s = 0
			}
			ws.addLocation(c, n, s)
		}
	case kindClone:
		for _, c := range r.children {
			ws.addLocation(c, n, score)
		}
	}
}

func (ws *workingSet) nodeScore(r *resource, n *node, score int) {
	if r.allowedSet[n.idx] {
		r.allowed[n.idx] = addScores(r.allowed[n.idx], score)
	} else {
		r.allowedSet[n.idx] = true
		r.allowed[n.idx] = score
	}
}

// banNode forbids r (and everything under it) on n.
func (ws *workingSet) banNode(r *resource, n *node) {
	if r.allowed == nil {
		return
	}
	ws.nodeScore(r, n, negInf)
	for _, c := range r.children {
		ws.banNode(c, n)
	}
}

func isPromotedRole(role string) bool {
	switch strings.ToLower(role) {
	case "master", "promoted", "slave", "unpromoted":
		return true
	}
	return false
}

// unpackLocations applies rsc_location constraints.
func (ws *workingSet) unpackLocations() {
	for i := range ws.in.CIB.Config.Constraints.Items {
		k := &ws.in.CIB.Config.Constraints.Items[i]
		if k.Kind != cib.KindLocation || isPromotedRole(k.Role) {
			continue
		}
		var targets []*resource
		switch {
		case k.Rsc != "":
			if r := ws.byID[k.Rsc]; r != nil {
				targets = append(targets, r)
			}
		case k.RscPattern != "":
			re, err := regexp.Compile(k.RscPattern)
			if err != nil {
				ws.warnf("rsc_location %s: bad rsc-pattern: %v", k.ID, err)
				continue
			}
			for _, r := range ws.allConfigured() {
				if re.MatchString(r.ID) {
					targets = append(targets, r)
				}
			}
		}
		for _, set := range k.Sets {
			for _, ref := range set.Refs {
				if r := ws.byID[ref.ID]; r != nil {
					targets = append(targets, r)
				}
			}
		}
		for _, r := range targets {
			if len(k.Rules) == 0 {
				n := ws.lookupNode(k.Node)
				if n == nil {
					continue
				}
				ws.addLocation(r, n, parseScore(k.Score))
				continue
			}
			for ri := range k.Rules {
				rule := &k.Rules[ri]
				if isPromotedRole(rule.Role) {
					continue
				}
				for _, n := range ws.nodes {
					if evalRule(rule, n.attrs) {
						ws.addLocation(r, n, ruleScore(rule, n.attrs))
					}
				}
			}
		}
	}
}

// allConfigured lists configured resources (not clone instances).
func (ws *workingSet) allConfigured() []*resource {
	var out []*resource
	for _, r := range ws.resources {
		ws.walk(r, func(x *resource) {
			if x.cloneInstance < 0 {
				out = append(out, x)
			}
		})
	}
	return out
}

// applyNodeHealth turns #health-* node attributes into location scores
// for every resource, per node-health-strategy.
func (ws *workingSet) applyNodeHealth() {
	strat := ws.opts.healthStrategy
	if strat == "" || strat == "none" {
		return
	}
	red, yellow, green := ws.opts.healthRed, ws.opts.healthYellow, ws.opts.healthGreen
	switch strat {
	case "migrate-on-red":
		red, yellow, green = negInf, 0, 0
	case "only-green":
		red, yellow, green = negInf, negInf, 0
	}
	for _, n := range ws.nodes {
		sum := 0
		for k, v := range n.attrs {
			if !strings.HasPrefix(k, "#health") {
				continue
			}
			switch strings.ToLower(v) {
			case "red":
				sum = addScores(sum, red)
			case "yellow":
				sum = addScores(sum, yellow)
			case "green":
				sum = addScores(sum, green)
			default:
				sum = addScores(sum, parseScore(v))
			}
		}
		if sum == 0 {
			continue
		}
		for _, r := range ws.resources {
			ws.addLocation(r, n, sum)
		}
	}
}

// unpackColocations reads rsc_colocation constraints (and sets).
func (ws *workingSet) unpackColocations() {
	for i := range ws.in.CIB.Config.Constraints.Items {
		k := &ws.in.CIB.Config.Constraints.Items[i]
		if k.Kind != cib.KindColocation {
			continue
		}
		if isPromotedRole(k.RscRole) || isPromotedRole(k.WithRscRole) {
			continue
		}
		score := parseScore(k.Score)
		if len(k.Sets) == 0 {
			ws.addColocation(k, ws.byID[k.Rsc], ws.byID[k.WithRsc], score)
			continue
		}
		// Sets: within a sequential set each member depends on the one
		// before it; between sets the first member (or every member) of a
		// set depends on the last member (or every member) of the next.
		var prev *cib.ResourceSet
		for si := range k.Sets {
			set := &k.Sets[si]
			if isPromotedRole(set.Role) {
				prev = set
				continue
			}
			sc := score
			if set.Score != "" {
				sc = parseScore(set.Score)
			}
			if set.Sequential == "" || isTrue(set.Sequential) {
				for j := 1; j < len(set.Refs); j++ {
					ws.addColocation(k, ws.byID[set.Refs[j].ID], ws.byID[set.Refs[j-1].ID], sc)
				}
			}
			if prev != nil {
				var deps, prims []string
				if prev.Sequential == "" || isTrue(prev.Sequential) {
					if len(prev.Refs) > 0 {
						deps = []string{prev.Refs[0].ID}
					}
				} else {
					for _, r := range prev.Refs {
						deps = append(deps, r.ID)
					}
				}
				if set.Sequential == "" || isTrue(set.Sequential) {
					if len(set.Refs) > 0 {
						prims = []string{set.Refs[len(set.Refs)-1].ID}
					}
				} else {
					for _, r := range set.Refs {
						prims = append(prims, r.ID)
					}
				}
				for _, d := range deps {
					for _, p := range prims {
						ws.addColocation(k, ws.byID[d], ws.byID[p], score)
					}
				}
			}
			prev = set
		}
	}
}

func (ws *workingSet) addColocation(k *cib.Constraint, dep, prim *resource, score int) {
	if dep == nil || prim == nil || dep == prim || score == 0 {
		return
	}
	c := &colocation{ID: k.ID, dependent: dep, primary: prim, score: score, nodeAttr: k.NodeAttribute, influence: true}
	if v, ok := dep.meta["critical"]; ok {
		c.influence = isTrue(v)
	}
	if k.Influence != "" {
		c.influence = isTrue(k.Influence)
	}
	ws.registerColocation(c)
}

// registerColocation attaches a colocation to its resources. As Pacemaker
// does when assigning a group, a group's own colocations move to its
// first member (as dependent) and last member (as primary).
func (ws *workingSet) registerColocation(c *colocation) {
	ws.colocations = append(ws.colocations, c)
	dep := c.dependent
	if dep.kind == kindGroup && dep.groupColocated && len(dep.children) > 0 {
		dep.children[0].cons = append(dep.children[0].cons, c)
	} else {
		dep.cons = append(dep.cons, c)
	}
	prim := c.primary
	if prim.kind == kindGroup && len(prim.children) > 0 {
		last := prim.children[len(prim.children)-1]
		last.consLHS = append(last.consLHS, c)
	} else {
		prim.consLHS = append(prim.consLHS, c)
	}
}

// groupInternalColocations chains group members: each with the previous.
func (ws *workingSet) groupInternalColocations(r *resource) {
	if r.kind == kindGroup && r.groupColocated {
		for i := 1; i < len(r.children); i++ {
			c := &colocation{ID: r.ID + "-internal", dependent: r.children[i], primary: r.children[i-1], score: inf, influence: true}
			ws.colocations = append(ws.colocations, c)
			r.children[i].cons = append(r.children[i].cons, c)
			r.children[i-1].consLHS = append(r.children[i-1].consLHS, c)
		}
	}
	for _, c := range r.children {
		ws.groupInternalColocations(c)
	}
}

// unpackOrders reads rsc_order constraints (and sets).
func (ws *workingSet) unpackOrders() {
	for i := range ws.in.CIB.Config.Constraints.Items {
		k := &ws.in.CIB.Config.Constraints.Items[i]
		if k.Kind != cib.KindOrder {
			continue
		}
		kind := orderMandatory
		switch strings.ToLower(k.OrderKind) {
		case "optional":
			kind = orderOptional
		case "serialize":
			kind = orderSerialize
		case "mandatory":
		case "":
			if k.Score != "" && parseScore(k.Score) == 0 {
				kind = orderOptional
			}
		default:
			ws.warnf("rsc_order %s: unknown kind %q, treated as Mandatory", k.ID, k.OrderKind)
		}
		sym := kind != orderSerialize
		if k.Symmetrical != "" {
			sym = isTrue(k.Symmetrical)
		}
		if len(k.Sets) == 0 {
			fa := orDefault(k.FirstAction, "start")
			ta := orDefault(k.ThenAction, fa)
			requireAll := true
			for _, a := range k.Other {
				if a.Name.Local == "require-all" {
					requireAll = isTrue(a.Value)
				}
			}
			ws.addOrder(k.ID, ws.byID[k.First], fa, ws.byID[k.Then], ta, kind, sym, requireAll)
			continue
		}
		var prev *cib.ResourceSet
		for si := range k.Sets {
			set := &k.Sets[si]
			act := orDefault(set.Action, "start")
			skind := kind
			switch strings.ToLower(set.Kind) {
			case "optional":
				skind = orderOptional
			case "serialize":
				skind = orderSerialize
			case "mandatory":
				skind = orderMandatory
			}
			if set.Sequential == "" || isTrue(set.Sequential) {
				for j := 1; j < len(set.Refs); j++ {
					ws.addOrder(k.ID, ws.byID[set.Refs[j-1].ID], act, ws.byID[set.Refs[j].ID], act, skind, sym, true)
				}
			}
			if prev != nil {
				pact := orDefault(prev.Action, "start")
				var firsts, thens []string
				reqAll := prev.RequireAll == "" || isTrue(prev.RequireAll)
				if (prev.Sequential == "" || isTrue(prev.Sequential)) && reqAll {
					if len(prev.Refs) > 0 {
						firsts = []string{prev.Refs[len(prev.Refs)-1].ID}
					}
				} else {
					for _, r := range prev.Refs {
						firsts = append(firsts, r.ID)
					}
				}
				if set.Sequential == "" || isTrue(set.Sequential) {
					if len(set.Refs) > 0 {
						thens = []string{set.Refs[0].ID}
					}
				} else {
					for _, r := range set.Refs {
						thens = append(thens, r.ID)
					}
				}
				for _, f := range firsts {
					for _, t := range thens {
						ws.addOrder(k.ID, ws.byID[f], pact, ws.byID[t], act, kind, sym, reqAll)
					}
				}
			}
			prev = set
		}
	}
}

func (ws *workingSet) addOrder(id string, first *resource, fa string, then *resource, ta string, kind orderKind, sym, requireAll bool) {
	if first == nil || then == nil || first == then {
		return
	}
	ws.orderings = append(ws.orderings, &ordering{ID: id, first: first, firstAction: fa, then: then, thenAction: ta, kind: kind, symmetrical: sym, requireAll: requireAll})
}

// applyFailcounts bans resources from nodes where their failcount reached
// migration-threshold (anonymous clones are banned as a whole).
func (ws *workingSet) applyFailcounts() {
	for _, top := range ws.resources {
		ws.walk(top, func(r *resource) {
			if r.kind != kindPrimitive || r.migrationThreshold <= 0 {
				return
			}
			for _, n := range ws.nodes {
				fc := ws.failcount(r, n)
				if fc <= 0 || fc < r.migrationThreshold {
					continue
				}
				ban := r
				if c := r.cloneAncestor(); c != nil && !c.unique {
					ban = c
				}
				ws.banNode(ban, n)
			}
		})
	}
}

// failcount sums the fail-count-* transient attributes of r on n, honouring
// failure-timeout.
func (ws *workingSet) failcount(r *resource, n *node) int {
	id := r.ID
	if c := r.cloneAncestor(); c != nil && !c.unique {
		id = baseID(r.ID)
	}
	total := 0
	var last int64
	for k, v := range n.attrs {
		if !strings.HasPrefix(k, "fail-count-") {
			if strings.HasPrefix(k, "last-failure-") && attrMatches(k[len("last-failure-"):], id) {
				if t := parseScore(v); int64(t) > last {
					last = int64(t)
				}
			}
			continue
		}
		if attrMatches(k[len("fail-count-"):], id) {
			total = addScores(total, parseScore(v))
		}
	}
	if total > 0 && r.failureTimeout > 0 && last > 0 && ws.now > 0 && last+r.failureTimeout <= ws.now {
		return 0
	}
	return total
}

// attrMatches reports whether a failcount attribute suffix ("rsc" or
// "rsc#op_interval") names the resource id.
func attrMatches(suffix, id string) bool {
	if i := strings.IndexByte(suffix, '#'); i >= 0 {
		suffix = suffix[:i]
	}
	if suffix == id {
		return true
	}
	// Older anonymous clone failcounts carry the instance number.
	return !strings.Contains(id, ":") && baseID(suffix) == id
}

// applyStickiness adds each active, managed primitive's stickiness to the
// node it runs on.
func (ws *workingSet) applyStickiness(r *resource) {
	if len(r.children) > 0 {
		for _, c := range r.children {
			ws.applyStickiness(c)
		}
		return
	}
	if !r.managed || r.stickiness < 1 || len(r.runningOn) != 1 {
		return
	}
	n := r.runningOn[0]
	if !ws.opts.symmetric && !r.allowedSet[n.idx] {
		return
	}
	ws.nodeScore(r, n, r.stickiness)
}
