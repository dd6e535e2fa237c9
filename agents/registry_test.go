package agents_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/ovsha/ovsha/agents"
)

// builtin is a stand-in for a built-in agent.
type builtin struct{ name string }

func (b builtin) Metadata() agents.Metadata                    { return agents.Metadata{Name: b.name} }
func (builtin) Validate(context.Context, agents.Params) error  { return nil }
func (builtin) Start(context.Context, agents.Resource) error   { return nil }
func (builtin) Stop(context.Context, agents.Resource) error    { return nil }
func (builtin) Monitor(context.Context, agents.Resource) error { return nil }

// testRegistry has built-ins vip (alias ocf:heartbeat:IPaddr2) and
// ovs-bridge, and script dirs holding an IPaddr2 and a Dummy OCF script,
// an init script and a fence agent.
func testRegistry(t *testing.T, preferScripts bool) *agents.Registry {
	root, initDir, fenceDir := t.TempDir(), t.TempDir(), t.TempDir()
	writeScript(t, root, "resource.d/heartbeat/IPaddr2", "#!/bin/sh\n")
	writeScript(t, root, "resource.d/heartbeat/Dummy", "#!/bin/sh\n")
	writeScript(t, root, "resource.d/heartbeat/.ocf-shellfuncs", "#!/bin/sh\n")
	writeScript(t, initDir, "nginx", "#!/bin/sh\n")
	writeScript(t, fenceDir, "fence_ipmilan", "#!/bin/sh\n")
	writeScript(t, fenceDir, "ip", "#!/bin/sh\n")
	r := agents.NewRegistry(agents.RegistryOptions{OCFRoot: root, InitDir: initDir, FenceDir: fenceDir, PreferScripts: preferScripts})
	if err := r.Register("vip", builtin{"vip"}, "ocf:heartbeat:IPaddr2"); err != nil {
		t.Fatal(err)
	}
	if err := r.Register("ovs-bridge", builtin{"ovs-bridge"}, "ocf:heartbeat:ovs-bridge"); err != nil {
		t.Fatal(err)
	}
	return r
}

// kind names what Lookup returned.
func kind(a agents.Agent) string {
	switch a := a.(type) {
	case builtin:
		return "builtin:" + a.name
	case *agents.OCFAgent:
		return a.Spec()
	case *agents.LSBAgent:
		return a.Spec()
	case *agents.SystemdAgent:
		return a.Spec()
	case *agents.FenceAgent:
		return a.Spec()
	}
	return "?"
}

func TestRegistryLookup(t *testing.T) {
	for _, tc := range []struct {
		spec          string
		preferScripts bool
		want          string // kind, or "error: substring"
	}{
		{"vip", false, "builtin:vip"},
		{"ovs-bridge", false, "builtin:ovs-bridge"},
		{"ocf:heartbeat:IPaddr2", false, "builtin:vip"},
		{"ocf:heartbeat:IPaddr2!script", false, "ocf:heartbeat:IPaddr2"},
		{"ocf:heartbeat:IPaddr2", true, "ocf:heartbeat:IPaddr2"},
		{"vip", true, "builtin:vip"},
		{"ocf:heartbeat:Dummy", false, "ocf:heartbeat:Dummy"},
		{" ocf:heartbeat:Dummy ", false, "ocf:heartbeat:Dummy"},
		{"lsb:nginx", false, "lsb:nginx"},
		{"systemd:nginx", false, "systemd:nginx.service"},
		{"systemd:data.mount", false, "systemd:data.mount"},
		{"stonith:fence_ipmilan", false, "stonith:fence_ipmilan"},
		{"ocf:heartbeat:ovs-bridge!script", false, `error: unknown agent "ocf:heartbeat:ovs-bridge"`},
		{"ocf:heartbeat:Nope", false, `error: unknown agent "ocf:heartbeat:Nope"`},
		{"ocf:Dummy", false, "error: ocf agents are named ocf:PROVIDER:TYPE"},
		{"ocf:heartbeat:../../../../bin/sh", false, "error: expected a plain file name"},
		{"lsb:absent", false, `error: unknown agent "lsb:absent"`},
		{"stonith:ip", false, "error: expected a name starting with fence_"},
		{"upstart:foo", false, `error: unknown class "upstart"`},
		{"ovs-brdige", false, "error: expected a built-in name (ovs-bridge, vip), ocf:PROVIDER:TYPE[!script], lsb:NAME, systemd:UNIT or stonith:fence_NAME"},
		{"vip!script", false, "error: !script applies to class:provider:type names only"},
		{"", false, "error: empty agent name"},
	} {
		r := testRegistry(t, tc.preferScripts)
		a, err := r.Lookup(tc.spec)
		got := ""
		if err != nil {
			got = "error: " + err.Error()
		} else {
			got = kind(a)
		}
		if strings.HasPrefix(tc.want, "error: ") {
			if err == nil || !strings.Contains(got, strings.TrimPrefix(tc.want, "error: ")) {
				t.Errorf("Lookup(%q) = %s, want an error containing %q", tc.spec, got, strings.TrimPrefix(tc.want, "error: "))
			}
			continue
		}
		if got != tc.want {
			t.Errorf("Lookup(%q) (preferScripts %v) = %s, want %s", tc.spec, tc.preferScripts, got, tc.want)
		}
	}
}

// TestRegistryReusesRunners: a spec resolves to the same runner each time,
// so state such as a fence device's started set survives lookups.
func TestRegistryReusesRunners(t *testing.T) {
	r := testRegistry(t, false)
	a1, err1 := r.Lookup("stonith:fence_ipmilan")
	a2, err2 := r.Lookup("stonith:fence_ipmilan")
	if err1 != nil || err2 != nil || a1 != a2 {
		t.Errorf("two lookups gave %p, %p (%v, %v); want the same runner", a1, a2, err1, err2)
	}
}

func TestRegistryRegisterErrors(t *testing.T) {
	r := testRegistry(t, false)
	for _, tc := range []struct {
		name    string
		aliases []string
		want    string
	}{
		{"vip", nil, `name "vip" is already registered`},
		{"vip2", []string{"ocf:heartbeat:IPaddr2"}, `name "ocf:heartbeat:IPaddr2" is already registered`},
		{"ocf:x:y", nil, "without ':'"},
		{"", nil, "non-empty"},
		{"x", []string{"ocf:x:y!script"}, "invalid alias"},
	} {
		if err := r.Register(tc.name, builtin{tc.name}, tc.aliases...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Register(%q, %v) = %v, want an error containing %q", tc.name, tc.aliases, err, tc.want)
		}
	}
	// A failed registration leaves nothing behind.
	if _, err := r.Lookup("vip2"); err == nil {
		t.Errorf("vip2 resolves after its registration failed")
	}
}

func TestRegistryList(t *testing.T) {
	got := testRegistry(t, false).List()
	want := []string{
		"lsb:nginx",
		"ocf:heartbeat:Dummy",
		"ocf:heartbeat:IPaddr2",
		"ocf:heartbeat:ovs-bridge",
		"ovs-bridge",
		"stonith:fence_ipmilan",
		"vip",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("List() =\n%v\nwant\n%v", got, want)
	}
}
