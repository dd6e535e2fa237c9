package agents_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ovsha/ovsha/agents"
	"github.com/ovsha/ovsha/agents/agenttest"
)

// fenceFake is a fence agent speaking the fence-agents stdin protocol. It
// appends what it read to $DIR/stdin.log (entries end with "--"), keeps
// each plug's power state in $DIR/power/PLUG, fails validate-all and
// monitor without ip, and fails monitor when ip is "unreachable".
const fenceFake = `#!/bin/sh
DIR="$(dirname "$0")"
IN="$(cat)"
printf '%s\n--\n' "$IN" >> "$DIR/stdin.log"
get() { printf '%s\n' "$IN" | sed -n "s/^$1=//p" | tail -n 1; }
action="$(get action)"; plug="$(get plug)"; ip="$(get ip)"
mkdir -p "$DIR/power"
case "$action" in
metadata)
	cat <<'END'
<?xml version="1.0" ?>
<resource-agent name="fence_test_fake" shortdesc="Fence agent for ovsha tests" >
<longdesc>Keeps power states in files.</longdesc>
<parameters>
	<parameter name="action" unique="0" required="1">
		<getopt mixed="-o, --action=[action]" />
		<content type="string" default="reboot"  />
		<shortdesc lang="en">Fencing action</shortdesc>
	</parameter>
	<parameter name="ip" unique="0" required="1">
		<content type="string"  />
		<shortdesc lang="en">IP address or hostname of fencing device</shortdesc>
	</parameter>
	<parameter name="plug" unique="0" required="0">
		<content type="string"  />
		<shortdesc lang="en">Physical plug number on device</shortdesc>
	</parameter>
</parameters>
<actions>
	<action name="on" automatic="0"/>
	<action name="off" />
	<action name="reboot" />
	<action name="status" />
	<action name="list" />
	<action name="monitor" />
	<action name="metadata" />
	<action name="validate-all" />
</actions>
</resource-agent>
END
	exit 0;;
validate-all|monitor)
	[ -z "$ip" ] && { echo "Failed: You have to set ip (the fencing device address)" >&2; exit 1; }
	[ "$ip" = unreachable ] && { echo "Failed: Unable to connect to fence device" >&2; exit 1; }
	exit 0;;
list) printf 'node1,first node\nnode2\n'; exit 0;;
status) [ "$(cat "$DIR/power/$plug" 2>/dev/null || echo on)" = on ] && exit 0; exit 2;;
on|off) echo "$action" > "$DIR/power/$plug"; exit 0;;
reboot) echo on > "$DIR/power/$plug"; exit 0;;
esac
exit 1
`

func fakeFence(t *testing.T) (*agents.FenceAgent, string) {
	dir := t.TempDir()
	writeScript(t, dir, "fence_test_fake", fenceFake)
	a, err := agents.NewFenceAgent(dir, "fence_test_fake", nil)
	if err != nil {
		t.Fatal(err)
	}
	return a, dir
}

// lastStdin returns the last stdin the fake agent recorded.
func lastStdin(t *testing.T, dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, "stdin.log"))
	if err != nil {
		t.Fatal(err)
	}
	entries := strings.Split(strings.TrimSuffix(string(b), "--\n"), "--\n")
	return entries[len(entries)-1]
}

func TestFenceConformance(t *testing.T) {
	a, _ := fakeFence(t)
	agenttest.Run(t, a, agents.Params{"ip": "192.0.2.50", "pcmk_host_list": "node1 node2"},
		[]agenttest.BadCase{
			{Name: "no ip", Params: agents.Params{}, Param: "ip"},
			{Name: "multi-line value", Params: agents.Params{"ip": "a\naction=off"}, Param: "ip"},
		})
}

func TestFenceStdinProtocol(t *testing.T) {
	a, dir := fakeFence(t)
	ctx := ctxT(t, 10*time.Second)
	p := agents.Params{"ip": "192.0.2.50", "username": "admin", "pcmk_host_list": "node1", "action": "ignored"}
	if err := a.Fence(ctx, p, "node1", agents.FenceOff); err != nil {
		t.Fatal(err)
	}
	want := "action=off\nip=192.0.2.50\nusername=admin\nplug=node1\nnodename=node1\n"
	if got := lastStdin(t, dir); got != want {
		t.Errorf("stdin =\n%s\nwant\n%s", got, want)
	}
	// pcmk_host_argument renames the target argument; a device parameter
	// of that name is replaced by the target.
	p = agents.Params{"ip": "192.0.2.50", "port": "stale", "pcmk_host_argument": "port"}
	if err := a.Fence(ctx, p, "node2", agents.FenceReboot); err != nil {
		t.Fatal(err)
	}
	want = "action=reboot\nip=192.0.2.50\nport=node2\nnodename=node2\n"
	if got := lastStdin(t, dir); got != want {
		t.Errorf("stdin =\n%s\nwant\n%s", got, want)
	}
}

func TestFenceStatusAndList(t *testing.T) {
	a, _ := fakeFence(t)
	ctx := ctxT(t, 10*time.Second)
	p := agents.Params{"ip": "192.0.2.50"}
	steps := []struct {
		action string // "" checks status only
		wantOn bool
	}{
		{"", true},
		{agents.FenceOff, false},
		{agents.FenceOn, true},
		{agents.FenceOff, false},
		{agents.FenceReboot, true},
	}
	for _, s := range steps {
		if s.action != "" {
			if err := a.Fence(ctx, p, "node1", s.action); err != nil {
				t.Fatalf("Fence %s: %v", s.action, err)
			}
		}
		on, err := a.Status(ctx, p, "node1")
		if err != nil || on != s.wantOn {
			t.Errorf("after %q: Status = %v, %v; want %v", s.action, on, err, s.wantOn)
		}
	}
	plugs, err := a.List(ctx, p)
	if err != nil || !reflect.DeepEqual(plugs, []string{"node1", "node2"}) {
		t.Errorf("List = %v, %v; want [node1 node2]", plugs, err)
	}
}

func TestFenceErrors(t *testing.T) {
	a, _ := fakeFence(t)
	ctx := ctxT(t, 10*time.Second)
	for _, tc := range []struct {
		name   string
		err    error
		want   agents.Result
		detail string
	}{
		{"unknown action", a.Fence(ctx, agents.Params{"ip": "x"}, "node1", "explode"), agents.ErrArgs, "expected off, on or reboot"},
		{"no target", a.Fence(ctx, agents.Params{"ip": "x"}, "", agents.FenceOff), agents.ErrArgs, "no target"},
		{"target with newline", a.Fence(ctx, agents.Params{"ip": "x"}, "n1\naction=on", agents.FenceOff), agents.ErrArgs, "expected a node name"},
		{"device unreachable", a.Start(ctx, agents.Resource{ID: "f", Params: agents.Params{"ip": "unreachable"}}), agents.ErrGeneric, "Unable to connect"},
	} {
		if got := agents.Code(tc.err); got != tc.want || !strings.Contains(tc.err.Error(), tc.detail) {
			t.Errorf("%s: %v (%s), want %s containing %q", tc.name, tc.err, got, tc.want, tc.detail)
		}
	}
}

func TestFenceMetadata(t *testing.T) {
	a, _ := fakeFence(t)
	m, err := a.LoadMetadata(ctxT(t, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var acts []string
	for _, x := range m.Actions {
		acts = append(acts, x.Name)
	}
	want := []string{"start", "stop", "monitor", "validate-all", "meta-data", "on", "off", "reboot", "status", "list"}
	if !reflect.DeepEqual(acts, want) {
		t.Errorf("actions = %v, want %v", acts, want)
	}
	if m.ShortDesc != "Fence agent for ovsha tests" {
		t.Errorf("shortdesc = %q", m.ShortDesc)
	}
	if p, ok := m.Param("ip"); !ok || !p.Required {
		t.Errorf("param ip = %+v, %v; want required", p, ok)
	}
}

// TestFenceDummyFromFenceAgents uses Debian's fence-agents fence_dummy
// when it is installed (the package pulls in cloud SDKs, so the test setup
// does not install it).
func TestFenceDummyFromFenceAgents(t *testing.T) {
	const path = "/usr/sbin/fence_dummy"
	if !exists(path) {
		t.Skipf("%s not installed (Debian's fence-agents; not installed by the tests because it pulls in cloud SDKs)", path)
	}
	a, err := agents.NewFenceAgent("", "fence_dummy", nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := a.LoadMetadata(ctxT(t, 30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "fence_dummy" {
		t.Errorf("name = %q, want fence_dummy", m.Name)
	}
	p := agents.Params{"type": "file", "status_file": filepath.Join(t.TempDir(), "status")}
	if err := a.Fence(ctxT(t, 30*time.Second), p, "node1", agents.FenceOff); err != nil {
		t.Fatal(err)
	}
	if on, err := a.Status(ctxT(t, 30*time.Second), p, "node1"); err != nil || on {
		t.Errorf("Status after off = %v, %v; want off", on, err)
	}
}
