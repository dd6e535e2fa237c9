package agents_test

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	sdbus "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"

	"github.com/ovsha/ovsha/agents"
)

// fakeSystemd plays systemd's side of the D-Bus calls: LoadState, a queue
// of ActiveState answers (the last one repeats), and a job result.
type fakeSystemd struct {
	mu        sync.Mutex
	loadState string
	active    []string
	jobResult string // "" never answers the job
	calls     []string
}

func (f *fakeSystemd) job(name, unit, mode string, ch chan<- string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, name+" "+unit+" "+mode)
	if f.jobResult != "" {
		ch <- f.jobResult
	}
	return 1, nil
}

func (f *fakeSystemd) StartUnitContext(_ context.Context, unit, mode string, ch chan<- string) (int, error) {
	return f.job("start", unit, mode, ch)
}

func (f *fakeSystemd) StopUnitContext(_ context.Context, unit, mode string, ch chan<- string) (int, error) {
	return f.job("stop", unit, mode, ch)
}

func (f *fakeSystemd) GetUnitPropertyContext(_ context.Context, unit, name string) (*sdbus.Property, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v := f.loadState
	if name == "ActiveState" {
		v = f.active[0]
		if len(f.active) > 1 {
			f.active = f.active[1:]
		}
	}
	return &sdbus.Property{Name: name, Value: dbus.MakeVariant(v)}, nil
}

func (f *fakeSystemd) Close() {}

func TestSystemdActions(t *testing.T) {
	type action func(a *agents.SystemdAgent, ctx context.Context) error
	start := func(a *agents.SystemdAgent, ctx context.Context) error { return a.Start(ctx, agents.Resource{ID: "r"}) }
	stop := func(a *agents.SystemdAgent, ctx context.Context) error { return a.Stop(ctx, agents.Resource{ID: "r"}) }
	monitor := func(a *agents.SystemdAgent, ctx context.Context) error {
		return a.Monitor(ctx, agents.Resource{ID: "r"})
	}
	for _, tc := range []struct {
		name      string
		do        action
		loadState string
		active    []string
		jobResult string
		timeout   time.Duration
		want      agents.Result
		detail    string
		wantCalls []string
	}{
		{"start", start, "loaded", []string{"active"}, "done", time.Second, agents.Success, "", []string{"start nginx.service replace"}},
		{"start waits while activating", start, "loaded", []string{"activating", "activating", "active"}, "done", time.Second, agents.Success, "", nil},
		{"start job failed", start, "loaded", []string{"failed"}, "failed", time.Second, agents.ErrGeneric, `job result "failed"`, nil},
		{"start ends failed", start, "loaded", []string{"activating", "failed"}, "done", time.Second, agents.ErrGeneric, "unit has failed", nil},
		{"start of a missing unit", start, "not-found", []string{"inactive"}, "done", time.Second, agents.ErrInstalled, "no unit nginx.service", []string{}},
		{"start stuck activating", start, "loaded", []string{"activating"}, "done", 200 * time.Millisecond, agents.ErrGeneric, "timed out after 200ms", nil},
		{"start job never answers", start, "loaded", []string{"inactive"}, "", 200 * time.Millisecond, agents.ErrGeneric, "timed out after 200ms", nil},
		{"stop", stop, "loaded", []string{"deactivating", "inactive"}, "done", time.Second, agents.Success, "", []string{"stop nginx.service replace"}},
		{"stop ends failed", stop, "loaded", []string{"failed"}, "done", time.Second, agents.Success, "", nil},
		{"stop of a missing unit", stop, "not-found", []string{"inactive"}, "done", time.Second, agents.Success, "", []string{}},
		{"stop leaves it active", stop, "loaded", []string{"active"}, "done", time.Second, agents.ErrGeneric, "unit is active after the stop job", nil},
		{"monitor active", monitor, "loaded", []string{"active"}, "", time.Second, agents.Success, "", []string{}},
		{"monitor reloading", monitor, "loaded", []string{"reloading"}, "", time.Second, agents.Success, "", nil},
		{"monitor inactive", monitor, "loaded", []string{"inactive"}, "", time.Second, agents.NotRunning, "inactive", nil},
		{"monitor failed", monitor, "loaded", []string{"failed"}, "", time.Second, agents.ErrGeneric, "journalctl -u nginx.service", nil},
		{"monitor activating then active", monitor, "loaded", []string{"activating", "active"}, "", time.Second, agents.Success, "", nil},
		{"monitor masked", monitor, "masked", []string{"inactive"}, "", time.Second, agents.ErrInstalled, "masked", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeSystemd{loadState: tc.loadState, active: tc.active, jobResult: tc.jobResult}
			a, err := agents.NewSystemdAgent("nginx", agents.SystemdOptions{
				Dial:         func(context.Context) (agents.SystemdConn, error) { return f, nil },
				PollInterval: time.Millisecond,
			})
			if err != nil {
				t.Fatal(err)
			}
			err = tc.do(a, ctxT(t, tc.timeout))
			if got := agents.Code(err); got != tc.want || (err != nil && !strings.Contains(err.Error(), tc.detail)) {
				t.Errorf("= %v (%s), want %s containing %q", err, got, tc.want, tc.detail)
			}
			if tc.wantCalls != nil && strings.Join(f.calls, ";") != strings.Join(tc.wantCalls, ";") {
				t.Errorf("jobs = %q, want %q", f.calls, tc.wantCalls)
			}
		})
	}
}

func TestSystemdValidate(t *testing.T) {
	f := &fakeSystemd{loadState: "loaded", active: []string{"inactive"}}
	a, err := agents.NewSystemdAgent("chronyd.service", agents.SystemdOptions{
		Dial: func(context.Context) (agents.SystemdConn, error) { return f, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Validate(ctxT(t, time.Second), nil); err != nil {
		t.Errorf("Validate(nil) = %v", err)
	}
	if err := a.Validate(ctxT(t, time.Second), agents.Params{"port": "1"}); agents.Code(err) != agents.ErrConfigured || !strings.Contains(err.Error(), "port") {
		t.Errorf("Validate(port) = %v, want ErrConfigured naming port", err)
	}
	if _, err := agents.NewSystemdAgent("../x", agents.SystemdOptions{}); err == nil {
		t.Errorf("NewSystemdAgent(../x) succeeded")
	}
}

// TestSystemdReal drives a real transient-free unit through systemd over
// D-Bus; it needs a running systemd.
func TestSystemdReal(t *testing.T) {
	if _, err := os.Stat("/run/systemd/system"); err != nil {
		t.Skip("needs a running systemd (/run/systemd/system is absent)")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root: starts and stops a systemd unit")
	}
	const unit = "ovsha-agents-test.service"
	path := "/run/systemd/system/" + unit
	if err := os.WriteFile(path, []byte("[Service]\nExecStart=/bin/sleep 600\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(path) })
	conn, err := sdbus.NewWithContext(ctxT(t, 10*time.Second))
	if err != nil {
		t.Skipf("needs the system D-Bus: %v", err)
	}
	defer conn.Close()
	if err := conn.ReloadContext(ctxT(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	a, err := agents.NewSystemdAgent(unit, agents.SystemdOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := agents.Resource{ID: "sd"}
	steps := []struct {
		name string
		do   func(context.Context, agents.Resource) error
		want agents.Result
	}{
		{"stop never started", a.Stop, agents.Success},
		{"monitor", a.Monitor, agents.NotRunning},
		{"start", a.Start, agents.Success},
		{"start again", a.Start, agents.Success},
		{"monitor", a.Monitor, agents.Success},
		{"stop", a.Stop, agents.Success},
		{"stop again", a.Stop, agents.Success},
		{"monitor", a.Monitor, agents.NotRunning},
	}
	for _, s := range steps {
		if err := s.do(ctxT(t, 30*time.Second), r); agents.Code(err) != s.want {
			t.Fatalf("%s = %v, want %s", s.name, err, s.want)
		}
	}
}
