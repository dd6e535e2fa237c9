package main

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseRscArgs(t *testing.T) {
	cases := []struct {
		args string
		want rscArgs
		err  string
	}{
		{"", rscArgs{}, ""},
		{"ip=192.0.2.1 cidr_netmask=24", rscArgs{Params: []kv{{"ip", "192.0.2.1"}, {"cidr_netmask", "24"}}}, ""},
		{"ip=1 op monitor interval=10s timeout=20s start timeout=30s meta target-role=Stopped",
			rscArgs{Params: []kv{{"ip", "1"}}, Ops: []opArg{{"monitor", []kv{{"interval", "10s"}, {"timeout", "20s"}}}, {"start", []kv{{"timeout", "30s"}}}},
				Meta: []kv{{"target-role", "Stopped"}}}, ""},
		{"meta a=1 op stop op monitor interval=5s", rscArgs{Meta: []kv{{"a", "1"}}, Ops: []opArg{{"stop", nil}, {"monitor", []kv{{"interval", "5s"}}}}}, ""},
		{"a=1=2 b=", rscArgs{Params: []kv{{"a", "1=2"}, {"b", ""}}}, ""},
		{"op monitor interval=10s monitor interval=60s role=Promoted", rscArgs{Ops: []opArg{{"monitor", []kv{{"interval", "10s"}}}, {"monitor", []kv{{"interval", "60s"}, {"role", "Promoted"}}}}}, ""},
		{"ip", rscArgs{}, `params: "ip" is not key=value`},
		{"=1", rscArgs{}, `params: "=1" has an empty key`},
		{"a=1 a=2", rscArgs{}, `params: "a" given twice`},
		{"op interval=10s", rscArgs{}, `op: "interval=10s" comes before an operation name`},
		{"op", rscArgs{}, "op: missing operation name"},
		{"op monitr interval=1s", rscArgs{}, `op "monitr": unknown operation`},
		{"op monitor interval=ten", rscArgs{}, `op monitor interval="ten": want a duration`},
		{"op monitor on-fail=explode", rscArgs{}, `op monitor on-fail="explode"`},
		{"op monitor interval=1s interval=2s", rscArgs{}, `"interval" given twice`},
		{"meta x", rscArgs{}, `meta: "x" is not key=value`},
	}
	for _, tc := range cases {
		t.Run(tc.args, func(t *testing.T) {
			got, err := parseRscArgs(strings.Fields(tc.args))
			if tc.err != "" {
				var ue usageError
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.As(err, &ue) {
					t.Fatalf("error %v, want a usage error containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseAgent(t *testing.T) {
	cases := map[string]string{
		"vip":                   "ocf:heartbeat:IPaddr2",
		"ovs-bridge":            "ocf:ovsha:ovs-bridge",
		"ovs-port":              "ocf:ovsha:ovs-port",
		"ovs-interface":         "ocf:ovsha:ovs-interface",
		"ocf:heartbeat:IPaddr2": "ocf:heartbeat:IPaddr2",
		"systemd:nginx":         "systemd:nginx",
		"lsb:ntp":               "lsb:ntp",
		"stonith:fence_xvm":     "stonith:fence_xvm",
		"nope":                  "ERR not a built-in agent",
		"ocf:IPaddr2":           "ERR ocf agents need a provider",
		"foo:bar":               "ERR unknown class foo",
		"ocf:a:b:c":             "ERR too many",
		"ocf::x":                "ERR malformed",
	}
	for in, want := range cases {
		got, err := parseAgent(in)
		if e, ok := strings.CutPrefix(want, "ERR "); ok {
			if err == nil || !strings.Contains(err.Error(), e) || !strings.Contains(err.Error(), in) {
				t.Errorf("parseAgent(%q) error %v, want one naming it and containing %q", in, err, e)
			}
			continue
		}
		if err != nil || got.String() != want {
			t.Errorf("parseAgent(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
}

func TestParseConstraintArgs(t *testing.T) {
	orders := []struct {
		args string
		want orderSpec
		err  string
	}{
		{"a then b", orderSpec{First: "a", Then: "b"}, ""},
		{"start a then start b kind=optional symmetrical=no", orderSpec{"start", "a", "start", "b", "Optional", "false"}, ""},
		{"stop a then b kind=Serialize", orderSpec{FirstAction: "stop", First: "a", Then: "b", Kind: "Serialize"}, ""},
		{"a b", orderSpec{}, `expected "then" after "a"`},
		{"a then", orderSpec{}, `missing the resource after "then"`},
		{"then b", orderSpec{}, "missing the first resource"},
		{"a then b kind=Sometimes", orderSpec{}, `kind="Sometimes"`},
		{"a then b symmetrical=maybe", orderSpec{}, `symmetrical="maybe"`},
		{"a then b score=5", orderSpec{}, `unknown option "score"`},
		{"a then a", orderSpec{}, `"a" cannot be ordered after itself`},
	}
	for _, tc := range orders {
		got, err := parseOrderArgs(strings.Fields(tc.args))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("order %q: error %v, want %q", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("order %q = %+v, %v; want %+v", tc.args, got, err, tc.want)
		}
	}
	colos := []struct{ args, want, err string }{
		{"add a with b", "a b INFINITY", ""},
		{"add a with b -INFINITY", "a b -INFINITY", ""},
		{"add a with b score=100", "a b 100", ""},
		{"add a with b lots", "", `score "lots" is not a number`},
		{"add a b", "", "wrong arguments"},
		{"add a with a", "", "cannot be colocated with itself"},
		{"add a with b --timeout=5s", "", "put flags such as --timeout=5s before"},
	}
	for _, tc := range colos {
		r, w, s, err := parseColocationArgs(strings.Fields(tc.args))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("colocation %q: error %v, want %q", tc.args, err, tc.err)
			}
			continue
		}
		if got := r + " " + w + " " + s; err != nil || got != tc.want {
			t.Errorf("colocation %q = %q, %v; want %q", tc.args, got, err, tc.want)
		}
	}
	locs := []struct {
		args string
		want []locationPref
		err  string
	}{
		{"gw prefers n1", []locationPref{{"n1", "INFINITY"}}, ""},
		{"gw prefers n1=100 n2=-5", []locationPref{{"n1", "100"}, {"n2", "-5"}}, ""},
		{"gw avoids n1 n2=50", []locationPref{{"n1", "-INFINITY"}, {"n2", "-50"}}, ""},
		{"gw avoids n1=-5", nil, "avoids takes a positive score"},
		{"gw prefers n1=high", nil, `score "high" is not a number`},
		{"gw likes n1", nil, "wrong arguments"},
		{"gw prefers =5", nil, "has no node name"},
	}
	for _, tc := range locs {
		_, got, err := parseLocationArgs(strings.Fields(tc.args))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("location %q: error %v, want %q", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("location %q = %+v, %v; want %+v", tc.args, got, err, tc.want)
		}
	}
}

func TestCheckNameValue(t *testing.T) {
	cases := []struct {
		name, value string
		force       bool
		err         string
	}{
		{"no-quorum-policy", "ignore", false, ""},
		{"no-quorum-policy", "panic", false, `property no-quorum-policy="panic": want one of stop, freeze, ignore, demote, suicide`},
		{"fencing-enabled", "yes", false, ""},
		{"fencing-enabled", "maybe", false, "want true or false"},
		{"cluster-recheck-interval", "15min", false, ""},
		{"cluster-recheck-interval", "soon", false, "want a duration"},
		{"made-up", "1", false, `unknown property "made-up"`},
		{"made-up", "1", true, ""},
	}
	for _, tc := range cases {
		err := checkNameValue("property", clusterProperties, tc.name, tc.value, tc.force)
		if (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s=%s force=%v: error %v, want %q", tc.name, tc.value, tc.force, err, tc.err)
		}
	}
}
