package scheduler

import (
	"testing"

	"github.com/ovsha/ovsha/cluster/cib"
)

func TestEvalRule(t *testing.T) {
	attrs := map[string]string{"#uname": "node1", "site": "A", "load": "3.5", "count": "10", "ver": "2.1.5"}
	e := func(attr, op, val, typ string) cib.Expression {
		return cib.Expression{Attribute: attr, Operation: op, Value: val, Type: typ}
	}
	cases := []struct {
		name string
		rule cib.Rule
		want bool
	}{
		{"eq string", cib.Rule{Expressions: []cib.Expression{e("#uname", "eq", "node1", "")}}, true},
		{"eq is case-insensitive", cib.Rule{Expressions: []cib.Expression{e("site", "eq", "a", "")}}, true},
		{"ne", cib.Rule{Expressions: []cib.Expression{e("site", "ne", "B", "")}}, true},
		{"undefined attribute never equals", cib.Rule{Expressions: []cib.Expression{e("nope", "eq", "", "")}}, false},
		{"undefined attribute is ne", cib.Rule{Expressions: []cib.Expression{e("nope", "ne", "x", "")}}, true},
		{"defined", cib.Rule{Expressions: []cib.Expression{e("site", "defined", "", "")}}, true},
		{"not_defined", cib.Rule{Expressions: []cib.Expression{e("site", "not_defined", "", "")}}, false},
		{"auto number (decimal point)", cib.Rule{Expressions: []cib.Expression{e("load", "gt", "3.2", "")}}, true},
		{"auto integer", cib.Rule{Expressions: []cib.Expression{e("count", "gt", "9", "")}}, true},
		{"integer is not string order", cib.Rule{Expressions: []cib.Expression{e("count", "lt", "9", "integer")}}, false},
		{"integer truncates like strtoll", cib.Rule{Expressions: []cib.Expression{e("load", "eq", "3", "integer")}}, true},
		{"version", cib.Rule{Expressions: []cib.Expression{e("ver", "gte", "2.1.0", "version")}}, true},
		{"and", cib.Rule{Expressions: []cib.Expression{e("site", "eq", "A", ""), e("#uname", "eq", "node2", "")}}, false},
		{"or", cib.Rule{BooleanOp: "or", Expressions: []cib.Expression{e("site", "eq", "A", ""), e("#uname", "eq", "node2", "")}}, true},
		{"nested", cib.Rule{Rules: []cib.Rule{{Expressions: []cib.Expression{e("site", "eq", "A", "")}}}}, true},
	}
	for _, c := range cases {
		if got := evalRule(&c.rule, attrs); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
	if got := ruleScore(&cib.Rule{ScoreAttribute: "count"}, attrs); got != 10 {
		t.Errorf("score-attribute: %d, want 10", got)
	}
	if got := ruleScore(&cib.Rule{ScoreAttribute: "missing"}, attrs); got != negInf {
		t.Errorf("missing score-attribute: %d, want -INFINITY", got)
	}
}
