package scheduler

import (
	"strconv"
	"strings"

	"github.com/ovsha/ovsha/cluster/cib"
)

// evalRule evaluates a rule against a node's attributes (date expressions
// are not supported and never match).
func evalRule(r *cib.Rule, attrs map[string]string) bool {
	and := !strings.EqualFold(r.BooleanOp, "or")
	n := 0
	for i := range r.Expressions {
		ok := evalExpr(&r.Expressions[i], attrs)
		n++
		if and && !ok {
			return false
		}
		if !and && ok {
			return true
		}
	}
	for i := range r.Rules {
		ok := evalRule(&r.Rules[i], attrs)
		n++
		if and && !ok {
			return false
		}
		if !and && ok {
			return true
		}
	}
	if len(r.Other) > 0 { // date_expression etc.
		n++
		if and {
			return false
		}
	}
	if n == 0 {
		return true
	}
	return and
}

func evalExpr(e *cib.Expression, attrs map[string]string) bool {
	v, defined := attrs[e.Attribute]
	switch e.Operation {
	case "defined":
		return defined
	case "not_defined":
		return !defined
	}
	if !defined {
		return e.Operation == "ne"
	}
	typ := strings.ToLower(e.Type)
	if typ == "" {
		switch e.Operation {
		case "lt", "lte", "gt", "gte":
			if strings.Contains(e.Value, ".") || strings.Contains(v, ".") {
				typ = "number"
			} else {
				typ = "integer"
			}
		default:
			typ = "string"
		}
	}
	cmp := compareValues(v, e.Value, typ)
	switch e.Operation {
	case "eq":
		return cmp == 0
	case "ne":
		return cmp != 0
	case "lt":
		return cmp < 0
	case "lte":
		return cmp <= 0
	case "gt":
		return cmp > 0
	case "gte":
		return cmp >= 0
	}
	return false
}

func compareValues(l, r, typ string) int {
	switch typ {
	case "integer":
		a, e1 := scanInt(l)
		b, e2 := scanInt(r)
		if e1 && e2 {
			return cmpInt(a, b)
		}
	case "number":
		a, e1 := strconv.ParseFloat(strings.TrimSpace(l), 64)
		b, e2 := strconv.ParseFloat(strings.TrimSpace(r), 64)
		if e1 == nil && e2 == nil {
			switch {
			case a < b:
				return -1
			case a > b:
				return 1
			}
			return 0
		}
	case "version":
		return compareVersion(l, r)
	}
	return cmpInt(int64(strings.Compare(strings.ToLower(l), strings.ToLower(r))), 0)
}

// scanInt parses a leading integer the way strtoll does ("3.5" → 3).
func scanInt(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	j := i
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	if j == i {
		return 0, false
	}
	v, err := strconv.ParseInt(s[:j], 10, 64)
	return v, err == nil
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func compareVersion(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int64
		if i < len(pa) {
			x, _ = strconv.ParseInt(pa[i], 10, 64)
		}
		if i < len(pb) {
			y, _ = strconv.ParseInt(pb[i], 10, 64)
		}
		if c := cmpInt(x, y); c != 0 {
			return c
		}
	}
	return 0
}

// ruleScore is the score a matching rule gives a node.
func ruleScore(r *cib.Rule, attrs map[string]string) int {
	if r.ScoreAttribute != "" {
		v, ok := attrs[r.ScoreAttribute]
		if !ok {
			return negInf
		}
		return parseScore(v)
	}
	return parseScore(r.Score)
}
