package lab

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ovsha/ovsha/agents"
)

func TestParseFenceRequest(t *testing.T) {
	tests := []struct {
		name, in     string
		action, plug string
		err          string
	}{
		{"pacemaker order", "action=off\nplug=n2\nnodename=n2\n", "off", "n2", ""},
		{"default action", "plug=n1\n", "reboot", "n1", ""},
		{"old names", "option=on\nport=n3\n", "on", "n3", ""},
		{"nodename only", "action=status\nnodename=n2\n", "status", "n2", ""},
		{"comments and blanks", "# fence\n\naction = off \nplug= n2\n", "off", "n2", ""},
		{"no target", "action=list\n", "list", "", ""},
		{"bad line", "action=off\nplug\n", "", "", `stdin line 2 "plug": expected key=value`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := parseFenceRequest(strings.NewReader(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if req.action != tc.action || req.target != tc.plug {
				t.Errorf("got action=%q target=%q, want %q %q", req.action, req.target, tc.action, tc.plug)
			}
		})
	}
}

// fakeLab writes the state file of a two-node lab (no namespaces, no
// processes) with n2 powered off.
func fakeLab(t *testing.T) (base string, st *State) {
	t.Helper()
	base = t.TempDir()
	st = &State{Name: "fk", Dir: filepath.Join(base, "fk"), Nodes: []NodeState{{Name: "n1", ID: 1}, {Name: "n2", ID: 2, Fault: FaultPowerOff}}}
	if err := os.MkdirAll(st.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := st.save(); err != nil {
		t.Fatal(err)
	}
	return base, st
}

// TestFenceAgentReadOnlyActions covers what needs no root: every action
// that only reads the lab state, and the errors.
func TestFenceAgentReadOnlyActions(t *testing.T) {
	base, _ := fakeLab(t)
	tests := []struct {
		name, in, lab string
		code          int
		out, errOut   string
	}{
		{"status on", "action=status\nplug=n1\n", "fk", 0, "Status: ON\n", ""},
		{"status off", "action=status\nplug=n2\n", "fk", 2, "Status: OFF\n", ""},
		{"monitor", "action=monitor\n", "fk", 0, "", ""},
		{"validate", "action=validate-all\n", "fk", 0, "", ""},
		{"list", "action=list\n", "fk", 0, "n1,\nn2,\n", ""},
		{"off of a node already off", "action=off\nplug=n2\n", "fk", 0, "Success: off n2\n", ""},
		{"unknown node", "action=off\nplug=n9\n", "fk", 1, "", `lab fk has no node "n9" (nodes: n1, n2)`},
		{"no target", "action=off\n", "fk", 1, "", `has no node ""`},
		{"unknown action", "action=explode\nplug=n1\n", "fk", 1, "", `action "explode": expected off, on, reboot`},
		{"no such lab", "action=monitor\n", "nolab", 1, "", "no such lab"},
		{"bad stdin", "garbage\n", "fk", 1, "", "expected key=value"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := FenceAgent(context.Background(), base, tc.lab, strings.NewReader(tc.in), &out, &errOut)
			if code != tc.code {
				t.Errorf("exit code %d, want %d (stderr %q)", code, tc.code, errOut.String())
			}
			if tc.out != "" && out.String() != tc.out {
				t.Errorf("stdout %q, want %q", out.String(), tc.out)
			}
			if tc.errOut != "" && !strings.Contains(errOut.String(), tc.errOut) {
				t.Errorf("stderr %q, want it to contain %q", errOut.String(), tc.errOut)
			}
		})
	}
}

// TestFenceAgentMetadata: the meta-data the CRM reads parses, and the
// runner-supplied parameters are not required.
func TestFenceAgentMetadata(t *testing.T) {
	var out bytes.Buffer
	if code := FenceAgent(context.Background(), t.TempDir(), "fk", strings.NewReader("action=metadata\n"), &out, &out); code != 0 {
		t.Fatalf("metadata exit %d: %s", code, out.String())
	}
	m, err := agents.ParseMetadata(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != FenceAgentName {
		t.Errorf("name %q, want %q", m.Name, FenceAgentName)
	}
	for _, a := range []string{"on", "off", "reboot", "status", "monitor", "list"} {
		if !m.HasAction(a) {
			t.Errorf("meta-data lacks action %s", a)
		}
	}
}

// TestFenceAgentScript: the script the lab writes runs the given ovsha
// with this lab's name and base directory, and passes stdin through.
func TestFenceAgentScript(t *testing.T) {
	base, st := fakeLab(t)
	fake := filepath.Join(t.TempDir(), "ovsha it's")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho \"$@\"\ncat\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := writeFenceAgent(st, fake); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(FenceDir(st), FenceAgentName))
	cmd.Stdin = strings.NewReader("action=off\nplug=n2\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("running the agent: %v: %s", err, out)
	}
	want := "lab fence-agent --name fk --dir " + base + "\naction=off\nplug=n2\n"
	if string(out) != want {
		t.Errorf("agent ran %q, want %q", out, want)
	}
}

func TestFenceCommands(t *testing.T) {
	st := &State{Gateway: true, Nodes: []NodeState{{Name: "n1"}, {Name: "n2"}}}
	got := fenceCommands(st)
	want := [][]string{
		{"stonith", "create", "fence-n1", FenceAgentName, "pcmk_host_list=n1", "pcmk_delay_base=1s"},
		{"stonith", "create", "fence-n2", FenceAgentName, "pcmk_host_list=n2"},
		{"resource", "update", "gateway", "meta", "priority=10"},
		{"property", "set", "fencing-action=off", "priority-fencing-delay=2s", "fencing-enabled=true"},
	}
	if !slices.EqualFunc(got, want, slices.Equal[[]string]) {
		t.Errorf("fence commands:\n%q\nwant\n%q", got, want)
	}
	st.Gateway = false
	if got := fenceCommands(st); slices.ContainsFunc(got, func(c []string) bool { return c[0] == "resource" }) {
		t.Errorf("engine-only lab sets a gateway priority: %q", got)
	}
}

// TestFaultSeesOtherWriters: a fault applied through a State loaded
// earlier keeps what another process recorded since (the fence agent
// powering a node off) instead of overwriting it.
func TestFaultSeesOtherWriters(t *testing.T) {
	base, st := fakeLab(t)
	other, err := Load(base, "fk")
	if err != nil {
		t.Fatal(err)
	}
	other.Nodes[0].Fault = FaultFreeze // as if another process froze n1
	if err := other.save(); err != nil {
		t.Fatal(err)
	}
	// loss needs a namespace; an out-of-range value fails before that,
	// after the refresh.
	_ = Fault(context.Background(), st, "n2", FaultLoss, "200")
	if st.Nodes[0].Fault != FaultFreeze {
		t.Errorf("n1's fault in memory after Fault is %q, want %q from the state file", st.Nodes[0].Fault, FaultFreeze)
	}
}
