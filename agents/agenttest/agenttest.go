package agenttest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ovsha/ovsha/agents"
)

// BadCase is a parameter set validate-all must reject.
type BadCase struct {
	// Name names the subtest.
	Name string
	// Params is the whole parameter set passed to Validate.
	Params agents.Params
	// Param is the parameter the error message must name: it must appear
	// as a whole word, case-insensitively ("ip" matches "the ip
	// parameter", not "IPaddr2").
	Param string
}

// Option adjusts Run.
type Option func(*config)

type config struct {
	id       string
	timeout  time.Duration
	observe  func(t testing.TB) string
	observed bool // WithObserve was given
	required []string
}

// WithResourceID sets the resource id used for the lifecycle (default
// "agenttest").
func WithResourceID(id string) Option { return func(c *config) { c.id = id } }

// WithTimeout sets the per-action deadline (default 30 s).
func WithTimeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// WithObserve gives a snapshot of the state the agent manages (addresses
// on a link, rows in OVSDB, a state file...). Run compares snapshots
// around every Validate call, which must have no side effects; start must
// change it, a second start must not, and stop must restore it.
func WithObserve(f func(t testing.TB) string) Option {
	return func(c *config) { c.observe, c.observed = f, true }
}

// WithRequiredActions replaces the actions the metadata must advertise
// (default start, stop, monitor, validate-all, meta-data).
func WithRequiredActions(names ...string) Option {
	return func(c *config) { c.required = names }
}

// Run runs the conformance suite against a as subtests of t. good must be
// a parameter set that starts a resource in the test's environment; bad
// lists sets that validate-all must reject.
func Run(t *testing.T, a agents.Agent, good agents.Params, bad []BadCase, opts ...Option) {
	t.Helper()
	c := config{
		id:       "agenttest",
		timeout:  30 * time.Second,
		observe:  func(testing.TB) string { return "" },
		required: []string{"start", "stop", "monitor", "validate-all", "meta-data"},
	}
	for _, o := range opts {
		o(&c)
	}
	t.Run("metadata", func(t *testing.T) { checkMetadata(t, a.Metadata(), good, c) })
	t.Run("validate/good", func(t *testing.T) {
		before := c.observe(t)
		if err := a.Validate(c.ctx(t), good); err != nil {
			t.Fatalf("Validate(%v) = %v (%s), want success", good, err, agents.Code(err))
		}
		if after := c.observe(t); after != before {
			t.Errorf("Validate changed the observed state:\nbefore: %s\nafter:  %s", before, after)
		}
	})
	for _, bc := range bad {
		t.Run("validate/bad/"+bc.Name, func(t *testing.T) {
			before := c.observe(t)
			err := a.Validate(c.ctx(t), bc.Params)
			t.Logf("Validate(%v) = %v", bc.Params, err)
			switch code := agents.Code(err); {
			case err == nil:
				t.Errorf("Validate(%v) succeeded, want ErrConfigured or ErrArgs naming %q", bc.Params, bc.Param)
			case code != agents.ErrConfigured && code != agents.ErrArgs:
				t.Errorf("Validate(%v) = %v (%s), want ErrConfigured or ErrArgs", bc.Params, err, code)
			case !namesWord(err.Error(), bc.Param):
				t.Errorf("Validate(%v) = %q, does not name parameter %q", bc.Params, err, bc.Param)
			}
			if after := c.observe(t); after != before {
				t.Errorf("rejected Validate changed the observed state:\nbefore: %s\nafter:  %s", before, after)
			}
		})
	}
	t.Run("lifecycle", func(t *testing.T) { lifecycle(t, a, good, c) })
	if m, ok := a.(agents.Migrator); ok && slices.Contains(actionNames(a.Metadata()), "migrate_from") {
		t.Run("migration", func(t *testing.T) { migration(t, a, m, good, c) })
	}
}

// migration checks an agent that advertises migrate_to/migrate_from, both
// ends in this one environment: migrate_from brings the resource up as
// start does, migrate_to succeeds on the running resource, and the usual
// stop ends it.
func migration(t *testing.T, a agents.Agent, m agents.Migrator, good agents.Params, c config) {
	p := agents.Params{}
	for k, v := range good {
		p[k] = v
	}
	p["CRM_meta_migrate_source"], p["CRM_meta_migrate_target"] = "source", "target"
	r := agents.Resource{ID: c.id, Params: p}
	want := stateMachine(t, a, r, c)
	before := c.observe(t)
	want("migrate_from of a stopped resource", m.MigrateFrom(c.ctx(t), r), agents.Success)
	want("monitor after migrate_from", a.Monitor(c.ctx(t), r), agents.Success)
	if c.observed && c.observe(t) == before {
		t.Errorf("migrate_from did not change the observed state (%s)", before)
	}
	want("migrate_to of a running resource", m.MigrateTo(c.ctx(t), r), agents.Success)
	// Some agents let go of the source in migrate_to (Dummy), others
	// at the stop that follows (the OVS agents): both are fine.
	if code := agents.Code(a.Monitor(c.ctx(t), r)); code != agents.Success && code != agents.NotRunning {
		t.Fatalf("monitor after migrate_to = %s, want OCF_SUCCESS or OCF_NOT_RUNNING", code)
	}
	want("stop after the migration", a.Stop(c.ctx(t), r), agents.Success)
	want("monitor after stop", a.Monitor(c.ctx(t), r), agents.NotRunning)
	if after := c.observe(t); after != before {
		t.Errorf("stop did not restore the observed state:\nbefore: %s\nafter:  %s", before, after)
	}
}

func (c config) ctx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	t.Cleanup(cancel)
	return ctx
}

func checkMetadata(t *testing.T, m agents.Metadata, good agents.Params, c config) {
	if m.Name == "" {
		t.Errorf("metadata has no name (long description: %q)", m.LongDesc)
	}
	for _, name := range c.required {
		if !m.HasAction(name) {
			t.Errorf("metadata does not list action %q (has %v)", name, actionNames(m))
		}
	}
	for _, act := range m.Actions {
		switch act.Name {
		case "start", "stop", "monitor":
			if act.Timeout <= 0 {
				t.Errorf("metadata action %s has no default timeout", act.Name)
			}
		}
	}
	seen := map[string]bool{}
	for _, p := range m.Params {
		if p.Name == "" {
			t.Errorf("metadata has a parameter without a name")
		}
		if seen[p.Name] {
			t.Errorf("metadata lists parameter %q twice", p.Name)
		}
		seen[p.Name] = true
		if p.Required {
			if _, ok := good[p.Name]; !ok {
				t.Errorf("required parameter %q is missing from the good parameters", p.Name)
			}
		}
	}
	for k := range good {
		if strings.HasPrefix(k, "CRM_meta_") || strings.HasPrefix(k, "pcmk_") {
			continue
		}
		if !seen[k] {
			t.Errorf("good parameter %q is not declared in the metadata", k)
		}
	}
}

func actionNames(m agents.Metadata) []string {
	var out []string
	for _, a := range m.Actions {
		out = append(out, a.Name)
	}
	return out
}

// stateMachine stops r at the end of the test and returns the step check
// of a state-machine walk: the first unexpected result ends the test.
func stateMachine(t *testing.T, a agents.Agent, r agents.Resource, c config) func(string, error, agents.Result) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
		defer cancel()
		if err := a.Stop(ctx, r); err != nil {
			t.Errorf("cleanup: stop: %v", err)
		}
	})
	return func(step string, err error, code agents.Result) {
		t.Helper()
		if got := agents.Code(err); got != code {
			t.Fatalf("%s = %v (%s), want %s", step, err, got, code)
		}
	}
}

// lifecycle runs the OCF state machine; each step depends on the one
// before, so the first failure stops it.
func lifecycle(t *testing.T, a agents.Agent, good agents.Params, c config) {
	r := agents.Resource{ID: c.id, Params: good}
	want := stateMachine(t, a, r, c)
	want("stop of a never-started resource", a.Stop(c.ctx(t), r), agents.Success)
	want("monitor of a never-started resource", a.Monitor(c.ctx(t), r), agents.NotRunning)
	before := c.observe(t)
	want("start", a.Start(c.ctx(t), r), agents.Success)
	want("monitor after start", a.Monitor(c.ctx(t), r), agents.Success)
	started := c.observe(t)
	if c.observed && started == before {
		t.Errorf("start did not change the observed state (%s)", before)
	}
	want("start of a started resource", a.Start(c.ctx(t), r), agents.Success)
	want("monitor after the second start", a.Monitor(c.ctx(t), r), agents.Success)
	if again := c.observe(t); again != started {
		t.Errorf("second start changed the observed state:\nafter first:  %s\nafter second: %s", started, again)
	}
	want("stop", a.Stop(c.ctx(t), r), agents.Success)
	want("monitor after stop", a.Monitor(c.ctx(t), r), agents.NotRunning)
	want("stop of a stopped resource", a.Stop(c.ctx(t), r), agents.Success)
	want("monitor after the second stop", a.Monitor(c.ctx(t), r), agents.NotRunning)
	if after := c.observe(t); after != before {
		t.Errorf("stop did not restore the observed state:\nbefore start: %s\nafter stop:   %s", before, after)
	}
}

// namesWord reports whether word occurs in s, case-insensitively, not
// preceded or followed by a letter, digit or '_'.
func namesWord(s, word string) bool {
	s, word = strings.ToLower(s), strings.ToLower(word)
	if word == "" {
		return false
	}
	for i := 0; ; {
		j := strings.Index(s[i:], word)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(word)
		if (start == 0 || !isWordByte(s[start-1])) && (end == len(s) || !isWordByte(s[end])) {
			return true
		}
		i = start + 1
	}
}

func isWordByte(b byte) bool {
	return b == '_' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}
