package agents

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// DefaultFenceDir is where fence-agents installs fence_* programs.
const DefaultFenceDir = "/usr/sbin"

// Fence actions (fence-agents "action=" values).
const (
	FenceOff    = "off"
	FenceOn     = "on"
	FenceReboot = "reboot"
)

// Fence agent exit codes: 0 success (for status: on), 2 for status: off.
const fenceStatusOff = 2

// FenceAgent runs a fence-agents program (stonith:fence_NAME) with the
// fence-agents protocol: the program reads "key=value" lines on stdin
// (action=..., the device's parameters, and plug=TARGET for the node to
// fence) and exits 0 on success; for action=status 0 means on, 2 off.
//
// As an Agent it is a stonith resource the way Pacemaker's fencer keeps
// one: Start checks the device (action=monitor) and marks the resource
// started in memory, Stop unmarks it, Monitor of a started resource runs
// action=monitor and of a stopped one is NotRunning. The started set lives
// in this value (one per registry), so it is empty after a restart of the
// daemon, where a probe reports NotRunning and the resource is started
// again, which is harmless for a fence device.
//
// Parameters named pcmk_* are for the cluster and are not passed to the
// program; pcmk_host_argument names the argument that carries the target
// (default "plug"). The target is also passed as nodename=, as Pacemaker
// does.
type FenceAgent struct {
	name string
	path string
	log  *slog.Logger

	mu      sync.Mutex
	meta    *Metadata
	started map[string]bool // resource IDs
}

// NewFenceAgent returns the runner for stonith:NAME in dir (empty:
// DefaultFenceDir). NAME must start with "fence_".
func NewFenceAgent(dir, name string, log *slog.Logger) (*FenceAgent, error) {
	if dir == "" {
		dir = DefaultFenceDir
	}
	if err := checkPathElem("name", name); err != nil {
		return nil, err
	}
	if !strings.HasPrefix(name, "fence_") {
		return nil, fmt.Errorf("fence agent %q: expected a name starting with fence_", name)
	}
	return &FenceAgent{
		name:    name,
		path:    filepath.Join(dir, name),
		log:     orDiscard(log).With("component", "agents", "agent", "stonith:"+name),
		started: map[string]bool{},
	}, nil
}

// Spec is the agent's name, stonith:NAME.
func (a *FenceAgent) Spec() string { return "stonith:" + a.name }

// LoadMetadata runs action=metadata and parses the XML. The result lists
// the program's parameters (action, plug, port and nodename are not
// required: the runner supplies them); its actions are the resource actions (start,
// stop, monitor, validate-all, meta-data) followed by the program's own
// fence actions that are not among them. A successful result is cached.
func (a *FenceAgent) LoadMetadata(ctx context.Context) (Metadata, error) {
	a.mu.Lock()
	if a.meta != nil {
		m := *a.meta
		a.mu.Unlock()
		return m, nil
	}
	a.mu.Unlock()
	res, err := a.exec(ctx, "metadata", nil, "")
	if err != nil {
		return Metadata{}, err
	}
	if res.exit != 0 {
		return Metadata{}, Errorf(ErrGeneric, "metadata of %s: exit code %d%s", a.Spec(), res.exit, reasonSuffix(res))
	}
	m, err := ParseMetadata(res.stdout)
	if err != nil {
		return Metadata{}, Errorf(ErrGeneric, "metadata of %s: %v", a.Spec(), err)
	}
	for i, p := range m.Params {
		switch p.Name {
		case "action", "plug", "port", "nodename":
			// Supplied by the runner for each call, not by the user.
			m.Params[i].Required = false
		}
	}
	actions := []ActionSpec{
		{Name: "start", Timeout: 20 * time.Second},
		{Name: "stop", Timeout: 20 * time.Second},
		{Name: "monitor", Timeout: 20 * time.Second, Interval: 60 * time.Second},
		{Name: "validate-all", Timeout: 20 * time.Second},
		{Name: "meta-data", Timeout: 5 * time.Second},
	}
	for _, x := range m.Actions {
		if x.Name == "metadata" || (Metadata{Actions: actions}).HasAction(x.Name) {
			continue
		}
		actions = append(actions, x)
	}
	m.Actions = actions
	a.mu.Lock()
	a.meta = &m
	a.mu.Unlock()
	return m, nil
}

// Metadata returns LoadMetadata's result with a default timeout, or a
// minimal record carrying the error.
func (a *FenceAgent) Metadata() Metadata {
	ctx, cancel := context.WithTimeout(context.Background(), defaultMetadataTimeout)
	defer cancel()
	m, err := a.LoadMetadata(ctx)
	if err != nil {
		return Metadata{Name: a.name, LongDesc: "metadata unavailable: " + err.Error()}
	}
	return m
}

// Validate runs action=validate-all with p; a non-zero exit is
// ErrConfigured carrying the program's message.
func (a *FenceAgent) Validate(ctx context.Context, p Params) error {
	res, err := a.exec(ctx, "validate-all", p, "")
	if err != nil {
		return err
	}
	if res.exit != 0 {
		return Errorf(ErrConfigured, "validate-all of %s: exit code %d%s", a.Spec(), res.exit, reasonSuffix(res))
	}
	return nil
}

// Start checks the device with action=monitor and marks r started.
func (a *FenceAgent) Start(ctx context.Context, r Resource) error {
	if err := a.monitorDevice(ctx, r); err != nil {
		return err
	}
	a.mu.Lock()
	a.started[r.ID] = true
	a.mu.Unlock()
	return nil
}

// Stop marks r stopped; it runs nothing.
func (a *FenceAgent) Stop(ctx context.Context, r Resource) error {
	a.mu.Lock()
	delete(a.started, r.ID)
	a.mu.Unlock()
	return nil
}

// Monitor is NotRunning for a resource that was not started, else
// action=monitor.
func (a *FenceAgent) Monitor(ctx context.Context, r Resource) error {
	a.mu.Lock()
	started := a.started[r.ID]
	a.mu.Unlock()
	if !started {
		return Errorf(NotRunning, "%s (%s) is not started", a.Spec(), r.ID)
	}
	return a.monitorDevice(ctx, r)
}

func (a *FenceAgent) monitorDevice(ctx context.Context, r Resource) error {
	res, err := a.exec(ctx, "monitor", r.Params, "")
	if err != nil {
		return err
	}
	if res.exit != 0 {
		return Errorf(ErrGeneric, "monitor of %s (%s): device check failed with exit code %d%s", a.Spec(), r.ID, res.exit, reasonSuffix(res))
	}
	return nil
}

// Fence runs action (FenceOff, FenceOn or FenceReboot) against target.
func (a *FenceAgent) Fence(ctx context.Context, p Params, target, action string) error {
	switch action {
	case FenceOff, FenceOn, FenceReboot:
	default:
		return Errorf(ErrArgs, "fencing %s with %s: action %q: expected off, on or reboot", target, a.Spec(), action)
	}
	if target == "" {
		return Errorf(ErrArgs, "fencing with %s: no target node given", a.Spec())
	}
	res, err := a.exec(ctx, action, p, target)
	if err != nil {
		return err
	}
	if res.exit != 0 {
		return Errorf(ErrGeneric, "fencing %s (%s) with %s: exit code %d%s", target, action, a.Spec(), res.exit, reasonSuffix(res))
	}
	return nil
}

// Status reports whether target's power is on (exit 0) or off (exit 2).
func (a *FenceAgent) Status(ctx context.Context, p Params, target string) (on bool, err error) {
	if target == "" {
		return false, Errorf(ErrArgs, "status with %s: no target node given", a.Spec())
	}
	res, err := a.exec(ctx, "status", p, target)
	if err != nil {
		return false, err
	}
	switch res.exit {
	case 0:
		return true, nil
	case fenceStatusOff:
		return false, nil
	}
	return false, Errorf(ErrGeneric, "status of %s with %s: exit code %d%s", target, a.Spec(), res.exit, reasonSuffix(res))
}

// List returns the plugs (targets) the device knows: the first
// comma-separated field of each line of action=list.
func (a *FenceAgent) List(ctx context.Context, p Params) ([]string, error) {
	res, err := a.exec(ctx, "list", p, "")
	if err != nil {
		return nil, err
	}
	if res.exit != 0 {
		return nil, Errorf(ErrGeneric, "list of %s: exit code %d%s", a.Spec(), res.exit, reasonSuffix(res))
	}
	var plugs []string
	for _, line := range strings.Split(string(res.stdout), "\n") {
		plug, _, _ := strings.Cut(strings.TrimSpace(line), ",")
		if plug = strings.TrimSpace(plug); plug != "" {
			plugs = append(plugs, plug)
		}
	}
	return plugs, nil
}

func (a *FenceAgent) exec(ctx context.Context, action string, p Params, target string) (runResult, error) {
	in, err := fenceStdin(action, p, target)
	if err != nil {
		return runResult{}, err
	}
	what := action + " of " + a.Spec()
	if target != "" {
		what += " for " + target
	}
	return run(ctx, a.log, program{path: a.path, env: baseEnv(), stdin: in, what: what})
}

// fenceStdin renders the fence-agents stdin protocol: action first, then
// the device parameters sorted by name, then the target. Keys or values
// that would break the line format are ErrConfigured.
func fenceStdin(action string, p Params, target string) ([]byte, error) {
	var b strings.Builder
	b.WriteString("action=" + action + "\n")
	hostArg := "plug"
	if v := p["pcmk_host_argument"]; v != "" {
		hostArg = v
	}
	names := make([]string, 0, len(p))
	for k := range p {
		if strings.HasPrefix(k, "pcmk_") || k == "action" {
			continue
		}
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if !validParamName(k) {
			return nil, Errorf(ErrConfigured, "parameter %q: a name must be letters, digits, '_' or '-'", k)
		}
		if strings.ContainsAny(p[k], "\n\r\x00") {
			return nil, Errorf(ErrConfigured, "parameter %s: value must be a single line", k)
		}
		if target != "" && k == hostArg {
			continue // the target wins
		}
		b.WriteString(k + "=" + p[k] + "\n")
	}
	if target != "" {
		if strings.ContainsAny(target, "\n\r\x00=") {
			return nil, Errorf(ErrArgs, "fence target %q: expected a node name", target)
		}
		b.WriteString(hostArg + "=" + target + "\n")
		b.WriteString("nodename=" + target + "\n")
	}
	return []byte(b.String()), nil
}
