package agents_test

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ovsha/ovsha/agents"
	"github.com/ovsha/ovsha/agents/agenttest"
)

// TestOCFDummyConformance runs the conformance suite against Debian's real
// ocf:heartbeat:Dummy through the registry.
func TestOCFDummyConformance(t *testing.T) {
	needResourceAgents(t)
	reg := agents.NewRegistry(agents.RegistryOptions{})
	a, err := reg.Lookup("ocf:heartbeat:Dummy")
	if err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(t.TempDir(), "dummy.state")
	agenttest.Run(t, a,
		agents.Params{"state": state, "fake": "x"},
		[]agenttest.BadCase{
			{Name: "unwritable state dir", Params: agents.Params{"state": "/nonexistent-ovsha-dir/d.state"}, Param: "state"},
			{Name: "bad param name", Params: agents.Params{"state": state, "a=b": "x"}, Param: "a=b"},
		},
		agenttest.WithResourceID("dummy-1"),
		agenttest.WithObserve(func(testing.TB) string { return "state file exists: " + strconv.FormatBool(exists(state)) }),
	)
}

func TestOCFDummyMetadata(t *testing.T) {
	needResourceAgents(t)
	a, err := agents.NewOCFAgent("", "heartbeat", "Dummy", nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := a.LoadMetadata(ctxT(t, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "Dummy" || m.Version == "" {
		t.Errorf("name, version = %q, %q; want Dummy and a version", m.Name, m.Version)
	}
	if p, ok := m.Param("state"); !ok || !p.Unique || p.Type != "string" {
		t.Errorf("param state = %+v, %v; want a unique string", p, ok)
	}
	var mon agents.ActionSpec
	for _, act := range m.Actions {
		if act.Name == "monitor" {
			mon = act
		}
	}
	if mon.Interval != 10*time.Second || mon.Timeout != 20*time.Second {
		t.Errorf("monitor = %+v, want interval 10s timeout 20s", mon)
	}
}

// ocfRoot makes an OCF root in a temp dir with the given test scripts
// under resource.d/test.
func ocfRoot(t *testing.T, scripts map[string]string) string {
	root := t.TempDir()
	for name, body := range scripts {
		writeScript(t, root, filepath.Join("resource.d", "test", name), body)
	}
	return root
}

func TestOCFEnvironment(t *testing.T) {
	out := filepath.Join(t.TempDir(), "env")
	root := ocfRoot(t, map[string]string{"envdump": "#!/bin/sh\nenv | grep -e '^OCF_' -e '^ACTION' | sort > \"$OCF_RESKEY_out\"\necho \"ARGV=$*\" >> \"$OCF_RESKEY_out\"\n"})
	t.Setenv("OCF_RESKEY_leak", "from-parent")
	a, err := agents.NewOCFAgent(root, "test", "envdump", nil)
	if err != nil {
		t.Fatal(err)
	}
	err = a.Start(ctxT(t, 5*time.Second), agents.Resource{ID: "res-1", Params: agents.Params{
		"out": out, "ip": "192.0.2.1", "CRM_meta_interval": "10000",
	}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		k, v, _ := strings.Cut(line, "=")
		env[k] = v
	}
	for k, want := range map[string]string{
		"ARGV":                         "start",
		"OCF_ROOT":                     root,
		"OCF_RESOURCE_INSTANCE":        "res-1",
		"OCF_RESOURCE_TYPE":            "envdump",
		"OCF_RESOURCE_PROVIDER":        "test",
		"OCF_RA_VERSION_MAJOR":         "1",
		"OCF_RESKEY_ip":                "192.0.2.1",
		"OCF_RESKEY_out":               out,
		"OCF_RESKEY_CRM_meta_interval": "10000",
		"OCF_FUNCTIONS_DIR":            root + "/lib/heartbeat",
		"OCF_RESKEY_leak":              "",
		"OCF_RESKEY_CRM_meta_timeout":  "*",
	} {
		got := env[k]
		if want == "*" {
			ms, err := strconv.Atoi(got)
			if err != nil || ms <= 0 || ms > 5000 {
				t.Errorf("%s = %q, want milliseconds in (0, 5000]", k, got)
			}
			continue
		}
		if got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
}

func TestOCFExitCodes(t *testing.T) {
	root := ocfRoot(t, map[string]string{"rc": `#!/bin/sh
[ -n "$OCF_RESKEY_reason" ] && echo "ocf-exit-reason:$OCF_RESKEY_reason" >&2
[ -n "$OCF_RESKEY_signal" ] && kill -$OCF_RESKEY_signal $$
echo "last stderr line" >&2
exit $OCF_RESKEY_rc
`})
	a, err := agents.NewOCFAgent(root, "test", "rc", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		params  agents.Params
		want    agents.Result
		message string
	}{
		{"success", agents.Params{"rc": "0"}, agents.Success, ""},
		{"generic", agents.Params{"rc": "1"}, agents.ErrGeneric, "last stderr line"},
		{"args", agents.Params{"rc": "2"}, agents.ErrArgs, "OCF_ERR_ARGS"},
		{"unimplemented", agents.Params{"rc": "3"}, agents.ErrUnimplemented, ""},
		{"perm", agents.Params{"rc": "4"}, agents.ErrPerm, ""},
		{"installed", agents.Params{"rc": "5"}, agents.ErrInstalled, ""},
		{"configured with reason", agents.Params{"rc": "6", "reason": "ip is not an address"}, agents.ErrConfigured, "ip is not an address"},
		{"not running", agents.Params{"rc": "7"}, agents.NotRunning, ""},
		{"running promoted", agents.Params{"rc": "8"}, agents.RunningPromoted, ""},
		{"failed promoted", agents.Params{"rc": "9"}, agents.FailedPromoted, ""},
		{"out of range", agents.Params{"rc": "42"}, agents.ErrGeneric, ""},
		{"killed by signal", agents.Params{"rc": "0", "signal": "KILL"}, agents.ErrGeneric, "killed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := a.Monitor(ctxT(t, 5*time.Second), agents.Resource{ID: "r", Params: tc.params})
			if got := agents.Code(err); got != tc.want {
				t.Fatalf("Monitor = %v (%s), want %s", err, got, tc.want)
			}
			if err != nil && !strings.Contains(err.Error(), tc.message) {
				t.Errorf("error %q does not contain %q", err, tc.message)
			}
			if err != nil && !strings.Contains(err.Error(), "monitor of ocf:test:rc (r)") {
				t.Errorf("error %q does not name the action and resource", err)
			}
		})
	}
}

// TestOCFTimeoutKillsProcessGroup: an action that outlives its context is
// ErrGeneric saying it timed out, and its children die with it.
func TestOCFTimeoutKillsProcessGroup(t *testing.T) {
	pidfile := filepath.Join(t.TempDir(), "child.pid")
	root := ocfRoot(t, map[string]string{"hang": "#!/bin/sh\nsleep 300 &\necho $! > \"$OCF_RESKEY_pidfile\"\nwait\n"})
	a, err := agents.NewOCFAgent(root, "test", "hang", nil)
	if err != nil {
		t.Fatal(err)
	}
	err = a.Start(ctxT(t, 500*time.Millisecond), agents.Resource{ID: "r", Params: agents.Params{"pidfile": pidfile}})
	if agents.Code(err) != agents.ErrGeneric || !strings.Contains(err.Error(), "timed out after 500ms") {
		t.Fatalf("Start = %v, want ErrGeneric timed out after 500ms", err)
	}
	b, err := os.ReadFile(pidfile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	// SIGKILL is sent before Start returns but takes effect
	// asynchronously, and the child may linger as a zombie: wait (bounded)
	// for it to be gone or a zombie. A child outside the killed group
	// would live on for 300 s and fail this.
	deadline := time.After(5 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for alive(pid) {
		select {
		case <-deadline:
			t.Fatalf("child %d of the timed-out script is still running 5s after the timeout", pid)
		case <-tick.C:
		}
	}
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// Format: pid (comm) state ...
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

func TestOCFOutputIsBounded(t *testing.T) {
	root := ocfRoot(t, map[string]string{"chatty": "#!/bin/sh\nhead -c 300000 /dev/zero | tr '\\0' x >&2\necho >&2\necho the-end >&2\nexit 1\n"})
	a, err := agents.NewOCFAgent(root, "test", "chatty", nil)
	if err != nil {
		t.Fatal(err)
	}
	err = a.Stop(ctxT(t, 5*time.Second), agents.Resource{ID: "r"})
	if err == nil || !strings.Contains(err.Error(), "the-end") {
		t.Fatalf("Stop = %v, want an error quoting the end of stderr", err)
	}
	if n := len(err.Error()); n > 1024 {
		t.Errorf("error message is %d bytes, want at most 1024", n)
	}
}

func TestOCFMissingScript(t *testing.T) {
	a, err := agents.NewOCFAgent(t.TempDir(), "test", "absent", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(ctxT(t, 5*time.Second), agents.Resource{ID: "r"}); agents.Code(err) != agents.ErrInstalled {
		t.Errorf("Start of a missing script = %v (%s), want ErrInstalled", err, agents.Code(err))
	}
	m := a.Metadata()
	if m.Name != "absent" || !strings.Contains(m.LongDesc, "meta-data unavailable") {
		t.Errorf("Metadata of a missing script = %+v, want name and the error", m)
	}
}

func TestNewOCFAgentRejectsPaths(t *testing.T) {
	for _, tc := range []struct{ provider, typ string }{
		{"heartbeat", "../../../bin/sh"}, {"..", "Dummy"}, {"", "Dummy"}, {"heartbeat", ""},
	} {
		if _, err := agents.NewOCFAgent("", tc.provider, tc.typ, nil); err == nil {
			t.Errorf("NewOCFAgent(%q, %q) succeeded, want an error", tc.provider, tc.typ)
		}
	}
}
