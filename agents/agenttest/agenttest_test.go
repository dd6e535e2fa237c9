package agenttest_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ovsha/ovsha/agents"
	"github.com/ovsha/ovsha/agents/agenttest"
)

// memAgent is an in-memory agent with one optional bug, to show that the
// suite passes a correct agent and catches each kind of broken one.
type memAgent struct {
	bug string

	mu      sync.Mutex
	running bool
	touched int // side effects of Validate
}

func (a *memAgent) Metadata() agents.Metadata {
	m := agents.Metadata{
		Name:   "mem",
		Params: []agents.ParamSpec{{Name: "size", Type: "integer", Required: true}},
		Actions: []agents.ActionSpec{
			{Name: "start", Timeout: time.Second}, {Name: "stop", Timeout: time.Second}, {Name: "monitor", Timeout: time.Second},
			{Name: "validate-all"}, {Name: "meta-data"},
		},
	}
	if a.bug == "no validate-all in metadata" {
		m.Actions = m.Actions[:3]
	}
	return m
}

func (a *memAgent) Validate(_ context.Context, p agents.Params) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.bug == "validate has side effects" {
		a.touched++
	}
	switch v := p["size"]; {
	case v == "" && a.bug != "validate accepts bad":
		return agents.Errorf(agents.ErrConfigured, "parameter size is required")
	case v == "huge":
		if a.bug == "error does not name parameter" {
			return agents.Errorf(agents.ErrConfigured, "too big")
		}
		if a.bug == "wrong error code" {
			return agents.Errorf(agents.ErrGeneric, "size too big")
		}
		return agents.Errorf(agents.ErrConfigured, "size %q: expected a number", v)
	}
	return nil
}

func (a *memAgent) Start(context.Context, agents.Resource) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.running && a.bug == "start not idempotent" {
		return agents.Errorf(agents.ErrGeneric, "already running")
	}
	if a.bug != "start does nothing" {
		a.running = true
	}
	return nil
}

func (a *memAgent) Stop(context.Context, agents.Resource) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.running && a.bug == "stop not idempotent" {
		return agents.Errorf(agents.ErrGeneric, "not running")
	}
	if a.bug != "stop does nothing" {
		a.running = false
	}
	return nil
}

func (a *memAgent) Monitor(context.Context, agents.Resource) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.running {
		if a.bug == "monitor of stopped is generic error" {
			return agents.Errorf(agents.ErrGeneric, "no such thing")
		}
		return agents.Errorf(agents.NotRunning, "stopped")
	}
	return nil
}

func run(t *testing.T, a *memAgent) {
	agenttest.Run(t, a, agents.Params{"size": "3"},
		[]agenttest.BadCase{
			{Name: "missing size", Params: agents.Params{}, Param: "size"},
			{Name: "huge size", Params: agents.Params{"size": "huge"}, Param: "size"},
		},
		agenttest.WithObserve(func(testing.TB) string {
			a.mu.Lock()
			defer a.mu.Unlock()
			return strings.Repeat("touched ", a.touched) + map[bool]string{true: "running", false: "stopped"}[a.running]
		}))
}

func TestRunPassesCorrectAgent(t *testing.T) { run(t, &memAgent{}) }

const bugEnv = "AGENTTEST_BUG"

// TestHelperBrokenAgent is run as a subprocess by TestRunCatchesBugs.
func TestHelperBrokenAgent(t *testing.T) {
	bug := os.Getenv(bugEnv)
	if bug == "" {
		t.Skip("helper for TestRunCatchesBugs")
	}
	run(t, &memAgent{bug: bug})
}

// TestRunCatchesBugs runs the suite against agents with one bug each, in a
// subprocess, and expects it to fail saying why.
func TestRunCatchesBugs(t *testing.T) {
	for _, tc := range []struct{ bug, want string }{
		{"no validate-all in metadata", `metadata does not list action "validate-all"`},
		{"validate has side effects", "Validate changed the observed state"},
		{"validate accepts bad", "succeeded, want ErrConfigured or ErrArgs"},
		{"error does not name parameter", `does not name parameter "size"`},
		{"wrong error code", "want ErrConfigured or ErrArgs"},
		{"start not idempotent", "start of a started resource"},
		{"start does nothing", "monitor after start"},
		{"stop not idempotent", "stop of a never-started resource"},
		{"stop does nothing", "monitor after stop"},
		{"monitor of stopped is generic error", "monitor of a never-started resource"},
	} {
		t.Run(tc.bug, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperBrokenAgent$", "-test.count=1")
			cmd.Env = append(os.Environ(), bugEnv+"="+tc.bug)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("suite passed an agent whose %s:\n%s", tc.bug, out)
			}
			if !strings.Contains(string(out), tc.want) {
				t.Errorf("suite output does not contain %q:\n%s", tc.want, out)
			}
		})
	}
}
