package main

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ovsha/ovsha/appliance"
	"github.com/ovsha/ovsha/cluster/cib"
)

// exitCodeOf maps an Execute error to the exit status run gives it.
func exitCodeOf(err error) int {
	if err == nil {
		return 0
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		return 2
	}
	return 1
}

// TestWriteVerbsEndToEnd runs each write verb against the fake daemon and
// checks the committed CIB and the reason recorded.
func TestWriteVerbsEndToEnd(t *testing.T) {
	f := newFakeDaemon(t)
	steps := []struct {
		args   []string
		reason string
		check  func(c *cib.CIB) bool
	}{
		{[]string{"resource", "create", "vip2", "vip", "ip=192.0.2.2", "cidr_netmask=24", "op", "monitor", "interval=5s", "--group", "gateway"}, "resource create vip2",
			func(c *cib.CIB) bool {
				g := c.FindResource("gateway")
				return len(g.Children) == 3 && g.Children[2].ID == "vip2" && g.Children[2].Ops.Ops[0].Interval == "5s"
			}},
		{[]string{"resource", "update", "vip2", "nic=eth1", "meta", "resource-stickiness=10"}, "resource update vip2",
			func(c *cib.CIB) bool { return resourceParams(c.FindResource("vip2"))["nic"] == "eth1" }},
		{[]string{"resource", "disable", "web"}, "resource disable web",
			func(c *cib.CIB) bool {
				v, _ := cib.Lookup(c.FindResource("web").Meta, "target-role")
				return v == "Stopped"
			}},
		{[]string{"resource", "enable", "web"}, "resource enable web",
			func(c *cib.CIB) bool { _, ok := cib.Lookup(c.FindResource("web").Meta, "target-role"); return !ok }},
		{[]string{"resource", "move", "gateway", "n2"}, "resource move gateway to n2", func(c *cib.CIB) bool { return hasConstraint(c, "cli-prefer-gateway") }},
		{[]string{"resource", "clear", "gateway"}, "resource clear gateway", func(c *cib.CIB) bool { return !hasConstraint(c, "cli-prefer-gateway") }},
		{[]string{"constraint", "order", "vip2", "then", "web", "kind=Optional"}, "constraint order vip2 then web",
			func(c *cib.CIB) bool { return hasConstraint(c, "order-vip2-web-optional") }},
		{[]string{"constraint", "location", "web", "avoids", "n1=50"}, "constraint location web avoids n1=50",
			func(c *cib.CIB) bool { return hasConstraint(c, "location-web-n1--50") }},
		{[]string{"constraint", "delete", "location-web-n1--50"}, "constraint delete location-web-n1--50",
			func(c *cib.CIB) bool { return !hasConstraint(c, "location-web-n1--50") }},
		{[]string{"node", "standby"}, "node standby n1", // the local node, from /v1/status
			func(c *cib.CIB) bool { v, _ := cib.Lookup(c.Config.Nodes[0].Attrs, "standby"); return v == "on" }},
		{[]string{"node", "maintenance", "n2"}, "node maintenance n2",
			func(c *cib.CIB) bool { v, _ := cib.Lookup(c.Config.Nodes[1].Attrs, "maintenance"); return v == "on" }},
		{[]string{"node", "unstandby", "n1"}, "node unstandby n1",
			func(c *cib.CIB) bool { _, ok := cib.Lookup(c.Config.Nodes[0].Attrs, "standby"); return !ok }},
		{[]string{"property", "set", "stonith-enabled=true", "no-quorum-policy=ignore"}, "property set stonith-enabled=true no-quorum-policy=ignore",
			func(c *cib.CIB) bool {
				v, _ := c.Property("fencing-enabled")
				w, _ := c.Property("no-quorum-policy")
				return v == "true" && w == "ignore"
			}},
		{[]string{"property", "unset", "no-quorum-policy"}, "property unset no-quorum-policy",
			func(c *cib.CIB) bool { _, ok := c.Property("no-quorum-policy"); return !ok }},
		{[]string{"rsc-defaults", "resource-stickiness=100"}, "rsc-defaults resource-stickiness=100",
			func(c *cib.CIB) bool {
				v, _ := cib.Lookup(c.Config.RscDefaults.Meta, "resource-stickiness")
				return v == "100"
			}},
		{[]string{"stonith", "create", "fence-n1", "fence_xvm", "port=n1", "pcmk_host_list=n1"}, "stonith create fence-n1",
			func(c *cib.CIB) bool {
				r := c.FindResource("fence-n1")
				return r != nil && r.Class == "stonith" && r.Type == "fence_xvm"
			}},
		{[]string{"resource", "delete", "web"}, "resource delete web",
			func(c *cib.CIB) bool {
				return c.FindResource("web") == nil && !hasConstraint(c, "order-gateway-web-mandatory")
			}},
	}
	for i, s := range steps {
		_, _, err := f.cli(s.args...)
		if err != nil {
			t.Fatalf("%v: %v", s.args, err)
		}
		f.mu.Lock()
		reason := f.reasons[len(f.reasons)-1]
		n := len(f.reasons)
		f.mu.Unlock()
		if n != i+1 || reason != s.reason {
			t.Errorf("%v: %d commits, last reason %q; want %d, %q", s.args, n, reason, i+1, s.reason)
		}
		if !s.check(f.snapshot()) {
			t.Errorf("%v: the committed CIB does not show the change", s.args)
		}
	}
	// Colocation: flags go before the positional arguments.
	if _, _, err := runCLI(context.Background(), "constraint", "colocation", "--socket", f.sock, "add", "vip2", "with", "br-ex", "-INFINITY"); err != nil {
		t.Fatal(err)
	}
	if !hasConstraint(f.snapshot(), "colocation-vip2-br-ex--INFINITY") {
		t.Error("colocation not committed")
	}
}

func hasConstraint(c *cib.CIB, id string) bool {
	for _, k := range c.Config.Constraints.Items {
		if k.ID == id {
			return true
		}
	}
	return false
}

// TestBadInputChangesNothing: every bad request is refused before any
// PUT, with the right exit status and a one-line message naming the
// object.
func TestBadInputChangesNothing(t *testing.T) {
	f := newFakeDaemon(t)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"resource", "create", "x", "ocf:heartbeat:Nope"}, 1, `unknown agent "ocf:heartbeat:Nope"`},
		{[]string{"resource", "create", "x", "vip", "cidr_netmask=24"}, 1, `resource "x": agent ocf:heartbeat:IPaddr2 requires parameter ip`},
		{[]string{"resource", "create", "x", "vip", "ip=1.2.3.4", "colour=blue"}, 1, `agent ocf:heartbeat:IPaddr2 has no parameter colour`},
		{[]string{"resource", "create", "gw-vip", "vip", "ip=1.2.3.4"}, 1, `resource "gw-vip" already exists`},
		{[]string{"resource", "create", "x", "vip", "ip=1.2.3.4", "op"}, 2, "op: missing operation name"},
		{[]string{"resource", "create", "1x", "vip"}, 2, `resource "1x": an id starts with a letter`},
		{[]string{"resource", "create", "x", "vip", "ip=1", "--group", "g", "--clone"}, 2, "--group and --clone exclude each other"},
		{[]string{"resource", "create", "x"}, 2, "requires at least 2 arg(s)"},
		{[]string{"resource", "update", "gw-vip", "ip="}, 1, `resource "gw-vip": agent ocf:heartbeat:IPaddr2 requires parameter ip`},
		{[]string{"resource", "update", "ghost", "a=b"}, 1, `resource "ghost" does not exist`},
		{[]string{"resource", "delete", "ghost"}, 1, `resource "ghost" does not exist`},
		{[]string{"resource", "move", "gw-vip", "n2"}, 1, `"gw-vip" is a member of group "gateway"`},
		{[]string{"resource", "move", "gateway", "n9"}, 1, `node "n9" is not in the cluster`},
		{[]string{"resource", "move", "gateway"}, 1, "finding where gateway runs"},
		{[]string{"constraint", "order", "web", "then", "gateway"}, 1, "form a loop: start gateway → start web → start gateway"},
		{[]string{"constraint", "order", "web", "then", "ghost"}, 1, `resource "ghost" does not exist`},
		{[]string{"constraint", "order", "web", "before", "gateway"}, 2, `expected "then" after "web"`},
		{[]string{"constraint", "location", "web", "prefers", "n1=lots"}, 2, `score "lots" is not a number`},
		{[]string{"constraint", "delete", "nope"}, 1, `constraint "nope" does not exist`},
		{[]string{"node", "standby", "n7"}, 1, `node "n7" is not in the cluster`},
		{[]string{"property", "set", "no-quorum-policy=panic"}, 2, `property no-quorum-policy="panic"`},
		{[]string{"property", "set", "made-up=1"}, 2, `unknown property "made-up"`},
		{[]string{"rsc-defaults", "migration-threshold=many"}, 2, `resource default migration-threshold="many"`},
		{[]string{"stonith", "create", "f", "ipmi"}, 2, `want fence_NAME`},
		{[]string{"resource", "cleanup", "ghost"}, 1, `resource "ghost" does not exist`},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, _, err := f.cli(tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
			if got := exitCodeOf(err); got != tc.code {
				t.Errorf("exit status %d, want %d", got, tc.code)
			}
			if n := f.putCount(); n != 0 {
				t.Errorf("%d PUTs, want none", n)
			}
		})
	}
}

func TestWriteRetriesOnConflict(t *testing.T) {
	f := newFakeDaemon(t)
	f.conflicts = maxCIBRetries // every retry but the last one collides
	if _, _, err := f.cli("resource", "disable", "web"); err != nil {
		t.Fatalf("after %d conflicts: %v", maxCIBRetries, err)
	}
	if n := f.putCount(); n != maxCIBRetries+1 {
		t.Errorf("%d PUTs, want %d", n, maxCIBRetries+1)
	}
	// Each attempt re-read the CIB: its base is the version then current.
	for i, b := range f.bases {
		if b == nil || b.Epoch != int64(7+i) {
			t.Errorf("attempt %d: base %+v, want epoch %d", i, b, 7+i)
		}
	}
	if v, _ := cib.Lookup(f.snapshot().FindResource("web").Meta, "target-role"); v != "Stopped" {
		t.Error("change not committed")
	}

	g := newFakeDaemon(t)
	g.conflicts = maxCIBRetries + 1
	_, _, err := g.cli("resource", "disable", "web")
	if err == nil || !strings.Contains(err.Error(), "the CIB kept changing while resource disable web was being written (6 attempts): try again") {
		t.Fatalf("error %v, want the give-up message", err)
	}
}

func TestWriteInvalidPropagated(t *testing.T) {
	f := newFakeDaemon(t)
	f.invalid = `rsc_order "o1": first "x" does not exist`
	_, _, err := f.cli("resource", "disable", "web")
	want := `ovshad refused resource disable web: rsc_order "o1": first "x" does not exist (nothing was changed)`
	if err == nil || err.Error() != want || exitCodeOf(err) != 1 {
		t.Fatalf("error %v, want %q", err, want)
	}
	if n := f.putCount(); n != 1 {
		t.Errorf("%d PUTs, want 1 (a 400 is not retried)", n)
	}
}

func TestWriteTimeout(t *testing.T) {
	f := newFakeDaemon(t)
	f.block = true
	_, _, err := f.cli("resource", "disable", "web", "--timeout", "50ms")
	if err == nil || !strings.Contains(err.Error(), "timed out after 50ms waiting for the cluster to commit resource disable web; it may still be applied") {
		t.Fatalf("error %v, want the timeout message", err)
	}
}

func TestWriteUnreachable(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "none.sock")
	for _, args := range [][]string{{"resource", "disable", "web"}, {"resource", "create", "x", "vip", "ip=1"}, {"property", "set", "maintenance-mode=true"}} {
		_, _, err := runCLI(context.Background(), append(args, "--socket", sock)...)
		if err == nil || !strings.Contains(err.Error(), "cannot reach ovshad at "+sock) || !strings.Contains(err.Error(), "is ovshad running?") {
			t.Errorf("%v: error %v, want the unreachable advice", args, err)
		}
	}
}

func TestCIBExportPush(t *testing.T) {
	f := newFakeDaemon(t)
	out, _, err := f.cli("cib", "export")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, `<cib admin_epoch="0" epoch="7"`) {
		t.Fatalf("export is not the CIB XML:\n%s", out)
	}
	jsonOut, _, err := f.cli("cib", "export", "--json")
	var resp appliance.CIBResponse
	if err != nil || json.Unmarshal([]byte(jsonOut), &resp) != nil || resp.Version.Epoch != 7 {
		t.Fatalf("export --json: %v %+v", err, resp.Version)
	}

	edited := strings.Replace(out, `<primitive id="web" class="systemd" type="nginx">`, `<primitive id="web" class="systemd" type="nginx"><meta_attributes id="web-m"><nvpair id="web-m-t" name="target-role" value="Stopped"></nvpair></meta_attributes>`, 1)
	if edited == out {
		t.Fatal("test edit did not apply")
	}
	file := writeFile(t, "cib.xml", edited)

	diff, _, err := f.cli("cib", "push", file, "--diff")
	if err != nil {
		t.Fatal(err)
	}
	if want := "+ /cib/configuration[1]/resources[1]/primitive[@id='web']: <meta_attributes id=\"web-m\">"; !strings.Contains(diff, want) || strings.Count(diff, "\n") != 1 {
		t.Errorf("--diff output:\n%s\nwant exactly one change containing %q", diff, want)
	}
	if f.putCount() != 0 {
		t.Fatal("--diff wrote")
	}

	invalid := writeFile(t, "bad.xml", strings.Replace(edited, `then="web"`, `then="ghost"`, 1))
	_, _, err = f.cli("cib", "push", invalid)
	if err == nil || !strings.Contains(err.Error(), `bad.xml is not a valid configuration, nothing was changed: rsc_order "order-gateway-web-mandatory": then "ghost" does not exist`) {
		t.Fatalf("invalid push: %v", err)
	}
	if f.putCount() != 0 {
		t.Fatal("an invalid push wrote")
	}

	if _, _, err := f.cli("cib", "push", file); err != nil {
		t.Fatal(err)
	}
	if v, _ := cib.Lookup(f.snapshot().FindResource("web").Meta, "target-role"); v != "Stopped" {
		t.Error("push not applied")
	}
	if b := f.bases[0]; b == nil || b.Epoch != 7 {
		t.Errorf("push base %+v, want the version the file was exported at", b)
	}

	// The file is now stale (the cluster is at epoch 8).
	_, _, err = f.cli("cib", "push", file)
	if err == nil || !strings.Contains(err.Error(), "was exported at CIB 0.7.3 but the cluster's configuration is at 0.8.0 now") {
		t.Fatalf("stale push: %v", err)
	}
	if _, _, err := f.cli("cib", "push", file, "--force"); err != nil {
		t.Fatal(err)
	}
	if b := f.bases[len(f.bases)-1]; b != nil {
		t.Errorf("--force sent base %+v, want none", b)
	}

	conf := writeFile(t, "conf.xml", "<configuration><resources/></configuration>")
	if _, _, err := f.cli("cib", "push", conf); err == nil || !strings.Contains(err.Error(), "bare <configuration> without a version: push it with --force") {
		t.Errorf("bare configuration push: %v", err)
	}
}

func crmView() *appliance.CRMStatusResponse {
	return &appliance.CRMStatusResponse{
		ClusterName: "c1", DC: "n1", Quorate: true,
		Nodes: []appliance.CRMNode{{ID: 1, Name: "n1", Online: true}, {ID: 2, Name: "n2", Online: true, Standby: true}, {ID: 3, Name: "n3"}},
		Resources: []appliance.CRMResource{
			{ID: "br-ex", Agent: "ocf:ovsha:ovs-bridge", Role: "Started", Nodes: []string{"n1"}, Group: "gateway", Managed: true},
			{ID: "gw-vip", Agent: "ocf:heartbeat:IPaddr2", Role: "Started", Nodes: []string{"n1"}, Group: "gateway", Managed: true, FailCount: map[string]int{"n2": 1}},
			{ID: "web", Agent: "systemd:nginx", Role: "Stopped", Nodes: []string{}, Managed: true, Disabled: true},
		},
		FailedActions: []appliance.FailedAction{{Resource: "gw-vip", Op: "monitor", Interval: "10s", Node: "n2", RC: 7, RCText: "OCF_NOT_RUNNING", Reason: "address gone",
			At: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}},
		CIBVersion: appliance.CIBVersion{Epoch: 7, NumUpdates: 3},
	}
}

func TestStatusWithCRM(t *testing.T) {
	f := newFakeDaemon(t)
	f.crm = crmView()
	out, _, err := f.cli("status")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Cluster: c1", "quorate (total votes 2", // today's lines stay
		"Current DC: n1 (partition with quorum)", "CIB version: 0.7.3",
		"* Online: [ n1 ]", "* Standby: [ n2 ]", "* OFFLINE: [ n3 ]",
		"* Resource Group: gateway:", "* gw-vip (ocf:heartbeat:IPaddr2): Started n1 (failcount n2=1)",
		"  * web (systemd:nginx): Stopped (disabled)",
		"gw-vip monitor (interval 10s) on n2 returned 'OCF_NOT_RUNNING' (7): address gone",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	js, _, err := f.cli("status", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		ClusterName string `json:"cluster_name"`
		Ring        struct {
			State string `json:"state"`
		} `json:"ring"`
		DC      string `json:"dc"`
		Quorate bool   `json:"quorate"`
		Nodes   []struct {
			Name    string `json:"name"`
			Online  bool   `json:"online"`
			Standby bool   `json:"standby"`
		} `json:"nodes"`
		Resources []struct {
			ID    string   `json:"id"`
			Agent string   `json:"agent"`
			Role  string   `json:"role"`
			Nodes []string `json:"nodes"`
		} `json:"resources"`
	}
	if err := json.Unmarshal([]byte(js), &v); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, js)
	}
	if v.ClusterName != "c1" || v.Ring.State != "operational" || v.DC != "n1" || !v.Quorate || len(v.Nodes) != 3 || !v.Nodes[1].Standby ||
		len(v.Resources) != 3 || v.Resources[1].Nodes[0] != "n1" || v.Resources[2].Role != "Stopped" {
		t.Errorf("status --json decoded %+v", v)
	}
}

func TestStatusWithoutCRM(t *testing.T) {
	f := newFakeDaemon(t) // crm nil: 404
	out, _, err := f.cli("status")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "Cluster Summary") || strings.Contains(out, "Resource manager") {
		t.Errorf("status shows a CRM section without a CRM:\n%s", out)
	}
	js, _, err := f.cli("status", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(js), &v); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"dc", "quorate", "nodes", "resources", "ring", "quorum"} {
		if _, ok := v[k]; !ok {
			t.Errorf("status --json lacks %q", k)
		}
	}
	if v["crm"] != false || len(v["nodes"].([]any)) != 2 || len(v["resources"].([]any)) != 0 {
		t.Errorf("without a CRM: crm=%v nodes=%v resources=%v", v["crm"], v["nodes"], v["resources"])
	}
}

func TestStatusHistory(t *testing.T) {
	f := newFakeDaemon(t)
	f.crm = crmView()
	start := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	f.history = appliance.HistoryResponse{Transitions: []appliance.Transition{{
		ID: 4, DC: "n1", Trigger: "node n2 left", Started: start, Finished: start.Add(1500 * time.Millisecond), Result: "complete",
		Actions: []string{"stop gw-vip on n2", "start gw-vip on n1"},
		Phases:  []appliance.Phase{{Name: "detection", Duration: time.Second}, {Name: "scheduling", Duration: 2 * time.Millisecond}, {Name: "start", Duration: 498 * time.Millisecond}},
	}}}
	out, _, err := f.cli("status", "--history")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Transition 4 on DC n1: complete", "took 1.5s", "trigger: node n2 left",
		"phases:  detection 1s, scheduling 2ms, start 498ms", "actions: stop gw-vip on n2; start gw-vip on n1"} {
		if !strings.Contains(out, want) {
			t.Errorf("history lacks %q:\n%s", want, out)
		}
	}
	g := newFakeDaemon(t)
	if _, _, err := g.cli("status", "--history"); err == nil || !strings.Contains(err.Error(), "no transition history") {
		t.Errorf("history without CRM: %v", err)
	}
}

func TestWatchStatus(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	frames := 0
	var out strings.Builder
	err := watchStatus(ctx, &out, time.Millisecond, func(context.Context) ([]byte, error) {
		frames++
		switch frames {
		case 2:
			return nil, errors.New("daemon restarting")
		case 3:
			cancel() // Ctrl-C while fetching
		}
		return []byte("frame\n"), nil
	})
	if err != nil {
		t.Fatalf("watch ended with %v, want nil on Ctrl-C", err)
	}
	want := clearScreen + "frame\n" + clearScreen + "ovsha: daemon restarting (retrying every 1ms)\n"
	if out.String() != want {
		t.Errorf("watch output %q, want %q", out.String(), want)
	}
}

func TestRestartWaitsForStopThenStart(t *testing.T) {
	f := newFakeDaemon(t)
	f.crm = crmView()
	var seen []string
	f.onCommit = func(f *fakeDaemon) { // the "cluster" acts on target-role at once
		role, _ := cib.Lookup(f.cib.FindResource("gateway").Meta, "target-role")
		for i := range f.crm.Resources {
			r := &f.crm.Resources[i]
			if r.Group != "gateway" {
				continue
			}
			if role == "Stopped" {
				r.Role, r.Nodes = "Stopped", nil
			} else {
				r.Role, r.Nodes = "Started", []string{"n2"}
			}
		}
		seen = append(seen, orDefault(role, "enabled"))
	}
	_, errOut, err := f.cli("resource", "restart", "gateway", "--poll", "1ms")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(seen, ",") != "Stopped,enabled" || !strings.Contains(errOut, "gateway restarted") {
		t.Errorf("commits %v, stderr %q", seen, errOut)
	}

	// A stop that never completes: enabled again, and an error.
	g := newFakeDaemon(t)
	g.crm = crmView()
	_, _, err = g.cli("resource", "restart", "gateway", "--poll", "1ms", "--wait", "20ms")
	if err == nil || !strings.Contains(err.Error(), "restarting gateway: br-ex, gw-vip not stopped after 20ms; it was enabled again") {
		t.Fatalf("error %v", err)
	}
	if _, ok := cib.Lookup(g.snapshot().FindResource("gateway").Meta, "target-role"); ok {
		t.Error("gateway left disabled")
	}
}

func TestOperationalVerbs(t *testing.T) {
	f := newFakeDaemon(t)
	f.crm = crmView()
	if _, _, err := f.cli("resource", "cleanup", "gw-vip", "--node", "n2"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.cli("resource", "cleanup"); err != nil {
		t.Fatal(err)
	}
	if len(f.cleanups) != 2 || f.cleanups[0] != (appliance.CleanupRequest{Resource: "gw-vip", Node: "n2"}) || f.cleanups[1] != (appliance.CleanupRequest{}) {
		t.Errorf("cleanups %+v", f.cleanups)
	}
	if _, _, err := f.cli("stonith", "fence", "n3", "--off"); err != nil || len(f.fences) != 1 || f.fences[0] != (appliance.FenceRequest{Node: "n3", Action: "off"}) {
		t.Errorf("fence: %v %+v", err, f.fences)
	}
	out, _, err := f.cli("stonith", "history")
	if err != nil || !strings.Contains(out, "TARGET") || !regexp.MustCompile(`n3\s+off\s+n1\s+fence-n3\s+ok\s+1\.5s`).MatchString(out) {
		t.Errorf("stonith history: %v %q", err, out)
	}
	out, _, err = f.cli("resource", "debug-start", "gw-vip")
	if err != nil || !strings.Contains(out, "gw-vip start: OCF_SUCCESS (rc=0)") {
		t.Errorf("debug-start: %v %q", err, out)
	}
	out, _, err = f.cli("resource", "debug-monitor", "web")
	if exitCodeOf(err) != 1 || !strings.Contains(out, "nginx.service inactive") || !strings.Contains(out, "OCF_NOT_RUNNING (rc=7)") {
		t.Errorf("debug-monitor of a stopped resource: %v %q", err, out)
	}
	// move without a node bans the node it runs on.
	if _, _, err := f.cli("resource", "move", "gateway"); err != nil {
		t.Fatal(err)
	}
	if !hasConstraint(f.snapshot(), "cli-ban-gateway-on-n1") {
		t.Error("move without a node did not ban n1")
	}
}

func TestReadVerbsCRM(t *testing.T) {
	f := newFakeDaemon(t)
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"resource", "show"}, []string{" Group: gateway", "   Resource: gw-vip (class=ocf provider=heartbeat type=IPaddr2)", "     Attributes: ip=192.0.2.1",
			"     Operations: monitor interval=10s timeout=20s (gw-vip-monitor-interval-10s)", " Resource: web (class=systemd type=nginx)"}},
		{[]string{"resource", "show", "gw-vip", "--json"}, []string{`"id": "gw-vip"`, `"class": "ocf"`}},
		{[]string{"constraint", "list"}, []string{"Location Constraints:", "gateway prefers n1 (score:100) (id:location-gateway-n1-100)",
			"start gateway then start web (kind:Mandatory) (id:order-gateway-web-mandatory)", "Colocation Constraints:"}},
		{[]string{"constraint", "list", "--json"}, []string{`"kind": "rsc_order"`}},
		{[]string{"property", "list"}, []string{"fencing-enabled: false"}},
		{[]string{"property", "list", "--json"}, []string{`"fencing-enabled": "false"`}},
		{[]string{"rsc-defaults"}, []string{"Resource Defaults:"}},
		{[]string{"stonith", "list"}, []string{"ID  AGENT  PARAMETERS"}},
		{[]string{"resource", "list-agents"}, []string{"ocf:heartbeat:IPaddr2"}},
		{[]string{"resource", "describe", "vip"}, []string{"vip - virtual IP address", "ip", "required", "Actions: start, stop, monitor"}},
		{[]string{"resource", "describe", "vip", "--json"}, []string{`"required": true`}},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, _, err := f.cli(tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
	if _, _, err := f.cli("resource", "describe", "ocf:heartbeat:Nope"); err == nil || !strings.Contains(err.Error(), `unknown agent "ocf:heartbeat:Nope"`) {
		t.Errorf("describe unknown: %v", err)
	}
	if f.putCount() != 0 {
		t.Error("a read verb wrote")
	}
}
