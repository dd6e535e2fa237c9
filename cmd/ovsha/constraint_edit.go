package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ovsha/ovsha/cluster/cib"
)

// orderSpec is a parsed `constraint order [ACTION] A then [ACTION] B …`.
type orderSpec struct {
	FirstAction, First string
	ThenAction, Then   string
	Kind               string // Mandatory, Optional, Serialize ("" = Mandatory)
	Symmetrical        string // "", "true", "false"
}

var orderActions = map[string]bool{"start": true, "stop": true, "promote": true, "demote": true}

// parseOrderArgs reads pcs's order syntax.
func parseOrderArgs(args []string) (orderSpec, error) {
	var s orderSpec
	usage := func(format string, a ...any) error {
		return usageErrorf("constraint order: "+format+" (want: constraint order [ACTION] A then [ACTION] B [kind=Mandatory|Optional|Serialize] [symmetrical=true|false])", a...)
	}
	i := 0
	take := func() (action, rsc string, ok bool) {
		if i < len(args) && orderActions[args[i]] {
			action = args[i]
			i++
		}
		if i >= len(args) || args[i] == "then" || strings.Contains(args[i], "=") {
			return "", "", false
		}
		rsc = args[i]
		i++
		return action, rsc, true
	}
	var ok bool
	if s.FirstAction, s.First, ok = take(); !ok {
		return s, usage("missing the first resource")
	}
	if i >= len(args) || args[i] != "then" {
		return s, usage("expected \"then\" after %q", s.First)
	}
	i++
	if s.ThenAction, s.Then, ok = take(); !ok {
		return s, usage("missing the resource after \"then\"")
	}
	for ; i < len(args); i++ {
		p, err := parseKV(args[i], "constraint order")
		if err != nil {
			return s, err
		}
		switch p.Key {
		case "kind":
			switch strings.ToLower(p.Value) {
			case "mandatory":
				s.Kind = "Mandatory"
			case "optional":
				s.Kind = "Optional"
			case "serialize":
				s.Kind = "Serialize"
			default:
				return s, usage("kind=%q: want Mandatory, Optional or Serialize", p.Value)
			}
		case "symmetrical":
			b, ok := parseBool(p.Value)
			if !ok {
				return s, usage("symmetrical=%q: want true or false", p.Value)
			}
			s.Symmetrical = fmt.Sprint(b)
		default:
			return s, usage("unknown option %q", p.Key)
		}
	}
	if s.First == s.Then {
		return s, usage("%q cannot be ordered after itself", s.First)
	}
	return s, nil
}

// addOrder adds an rsc_order constraint (id order-A-B-KIND as pcs names
// it) after checking both resources exist and it does not duplicate one.
// An order loop is caught by checkCIB.
func addOrder(c *cib.CIB, s orderSpec) (string, error) {
	for _, id := range []string{s.First, s.Then} {
		if c.FindResource(id) == nil {
			return "", unknownResource(c, id)
		}
	}
	for _, k := range c.Config.Constraints.Items {
		if k.Kind == cib.KindOrder && k.First == s.First && k.Then == s.Then &&
			orDefault(k.FirstAction, "start") == orDefault(s.FirstAction, "start") && orDefault(k.ThenAction, "start") == orDefault(s.ThenAction, "start") {
			return "", fmt.Errorf("%s then %s is already ordered by constraint %q (delete it first to change it)", s.First, s.Then, k.ID)
		}
	}
	kind := orDefault(s.Kind, "Mandatory")
	id := fresh(idsIn(c), "order-"+s.First+"-"+s.Then+"-"+strings.ToLower(kind))
	k := cib.Constraint{Kind: cib.KindOrder, ID: id, First: s.First, Then: s.Then,
		FirstAction: s.FirstAction, ThenAction: s.ThenAction, OrderKind: s.Kind, Symmetrical: s.Symmetrical}
	c.Config.Constraints.Items = append(c.Config.Constraints.Items, k)
	return id, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// parseColocationArgs reads `add A with B [SCORE]`.
func parseColocationArgs(args []string) (rsc, with, score string, err error) {
	const want = " (want: constraint colocation add A with B [SCORE])"
	for _, a := range args {
		if strings.HasPrefix(a, "--") {
			return "", "", "", usageErrorf("constraint colocation: put flags such as %s before \"add\" (a negative SCORE would read as a flag otherwise)", a)
		}
	}
	if len(args) < 4 || args[0] != "add" || args[2] != "with" || len(args) > 5 {
		return "", "", "", usageErrorf("constraint colocation: wrong arguments" + want)
	}
	rsc, with, score = args[1], args[3], "INFINITY"
	if len(args) == 5 {
		score = strings.TrimPrefix(args[4], "score=")
		if _, err := cib.ParseScore(score); err != nil {
			return "", "", "", usageErrorf("constraint colocation: %v", err)
		}
	}
	if rsc == with {
		return "", "", "", usageErrorf("constraint colocation: %q cannot be colocated with itself", rsc)
	}
	return rsc, with, score, nil
}

// addColocation adds an rsc_colocation (id colocation-A-B-SCORE).
func addColocation(c *cib.CIB, rsc, with, score string) (string, error) {
	for _, id := range []string{rsc, with} {
		if c.FindResource(id) == nil {
			return "", unknownResource(c, id)
		}
	}
	for _, k := range c.Config.Constraints.Items {
		if k.Kind == cib.KindColocation && k.Rsc == rsc && k.WithRsc == with {
			return "", fmt.Errorf("%s is already colocated with %s by constraint %q (delete it first to change it)", rsc, with, k.ID)
		}
	}
	id := fresh(idsIn(c), "colocation-"+rsc+"-"+with+"-"+score)
	c.Config.Constraints.Items = append(c.Config.Constraints.Items, cib.Constraint{Kind: cib.KindColocation, ID: id, Rsc: rsc, WithRsc: with, Score: score})
	return id, nil
}

// locationPref is one NODE[=SCORE] of `constraint location`.
type locationPref struct{ Node, Score string }

// parseLocationArgs reads `ID prefers|avoids NODE[=SCORE]…`; avoids
// negates the score, and the score defaults to INFINITY.
func parseLocationArgs(args []string) (string, []locationPref, error) {
	const want = " (want: constraint location ID prefers|avoids NODE[=SCORE]…)"
	if len(args) < 3 || (args[1] != "prefers" && args[1] != "avoids") {
		return "", nil, usageErrorf("constraint location: wrong arguments" + want)
	}
	var prefs []locationPref
	for _, a := range args[2:] {
		node, score, hasScore := strings.Cut(a, "=")
		if node == "" {
			return "", nil, usageErrorf("constraint location: %q has no node name"+want, a)
		}
		if !hasScore {
			score = "INFINITY"
		}
		v, err := cib.ParseScore(score)
		if err != nil {
			return "", nil, usageErrorf("constraint location %s: %v", node, err)
		}
		if args[1] == "avoids" {
			if v < 0 {
				return "", nil, usageErrorf("constraint location %s: avoids takes a positive score (it is negated), got %s", node, score)
			}
			v = -v
		}
		prefs = append(prefs, locationPref{Node: node, Score: scoreText(v)})
	}
	return args[0], prefs, nil
}

func scoreText(v int) string {
	switch {
	case v >= cib.Infinity:
		return "INFINITY"
	case v <= -cib.Infinity:
		return "-INFINITY"
	}
	return fmt.Sprint(v)
}

// addLocation sets rsc's score on each node (id location-RSC-NODE-SCORE),
// replacing an earlier plain preference for the same node.
func addLocation(c *cib.CIB, rsc string, prefs []locationPref) ([]string, error) {
	if c.FindResource(rsc) == nil {
		return nil, unknownResource(c, rsc)
	}
	for _, p := range prefs {
		if err := checkNode(c, p.Node); err != nil {
			return nil, err
		}
	}
	replaced := map[string]bool{}
	for _, p := range prefs {
		replaced[p.Node] = true
	}
	var items []cib.Constraint
	for _, k := range c.Config.Constraints.Items {
		if k.Kind == cib.KindLocation && k.Rsc == rsc && replaced[k.Node] && len(k.Rules) == 0 && !strings.HasPrefix(k.ID, "cli-") {
			continue
		}
		items = append(items, k)
	}
	c.Config.Constraints.Items = items
	used := idsIn(c)
	var ids []string
	for _, p := range prefs {
		id := fresh(used, "location-"+rsc+"-"+p.Node+"-"+p.Score)
		ids = append(ids, id)
		c.Config.Constraints.Items = append(c.Config.Constraints.Items, cib.Constraint{Kind: cib.KindLocation, ID: id, Rsc: rsc, Node: p.Node, Score: p.Score})
	}
	return ids, nil
}

// deleteConstraint removes the constraint with that id.
func deleteConstraint(c *cib.CIB, id string) error {
	var ids []string
	for i, k := range c.Config.Constraints.Items {
		if k.ID == id {
			items := c.Config.Constraints.Items
			c.Config.Constraints.Items = append(items[:i:i], items[i+1:]...)
			return nil
		}
		ids = append(ids, k.ID)
	}
	if len(ids) == 0 {
		return fmt.Errorf("constraint %q does not exist (the CIB has no constraints)", id)
	}
	sort.Strings(ids)
	return fmt.Errorf("constraint %q does not exist (constraints: %s)", id, strings.Join(ids, ", "))
}

// orderLoops finds cycles among order constraints: nodes are
// "ACTION RESOURCE", each constraint orders first before then and, when
// symmetrical (the default except for Serialize), the inverse actions the
// other way round. It returns one message per cycle found, deterministic
// for a given CIB.
func orderLoops(c *cib.CIB) []string {
	inverse := map[string]string{"start": "stop", "stop": "start", "promote": "demote", "demote": "promote"}
	edges := map[string][]string{}
	via := map[[2]string]string{}
	add := func(a, b, id string) {
		edges[a] = append(edges[a], b)
		if _, ok := via[[2]string{a, b}]; !ok {
			via[[2]string{a, b}] = id
		}
	}
	for _, k := range c.Config.Constraints.Items {
		if k.Kind != cib.KindOrder || len(k.Sets) > 0 || strings.EqualFold(k.OrderKind, "serialize") {
			continue
		}
		fa := orDefault(k.FirstAction, "start")
		ta := orDefault(k.ThenAction, fa)
		add(fa+" "+k.First, ta+" "+k.Then, k.ID)
		if sym, ok := parseBool(k.Symmetrical); k.Symmetrical == "" || (ok && sym) {
			add(inverse[ta]+" "+k.Then, inverse[fa]+" "+k.First, k.ID)
		}
	}
	nodes := make([]string, 0, len(edges))
	for n := range edges {
		nodes = append(nodes, n)
		sort.Strings(edges[n])
	}
	sort.Strings(nodes)
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []string
	var loops []string
	seenLoop := map[string]bool{}
	var visit func(n string)
	visit = func(n string) {
		color[n] = grey
		stack = append(stack, n)
		for _, m := range edges[n] {
			switch color[m] {
			case white:
				visit(m)
			case grey:
				i := len(stack) - 1
				for stack[i] != m {
					i--
				}
				cycle := append(append([]string(nil), stack[i:]...), m)
				var ids []string
				for j := 0; j+1 < len(cycle); j++ {
					ids = append(ids, via[[2]string{cycle[j], cycle[j+1]}])
				}
				sort.Strings(ids)
				key := strings.Join(ids, ",")
				if !seenLoop[key] {
					seenLoop[key] = true
					loops = append(loops, fmt.Sprintf("order constraints %s form a loop: %s", strings.Join(dedup(ids), ", "), strings.Join(cycle, " → ")))
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[n] = black
	}
	for _, n := range nodes {
		if color[n] == white {
			visit(n)
		}
	}
	return loops
}

func dedup(s []string) []string {
	var out []string
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}
