package agents

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// ScriptSuffix, appended to a class:provider:type spec, asks for the
// external script even when a built-in agent is registered under that name:
// "ocf:heartbeat:IPaddr2!script" runs /usr/lib/ocf/resource.d/heartbeat/IPaddr2
// while "ocf:heartbeat:IPaddr2" is the built-in vip agent. (Quote it in an
// interactive shell, where '!' is history expansion.)
const ScriptSuffix = "!script"

// RegistryOptions configure where the registry finds external agents.
type RegistryOptions struct {
	// Logger receives the runners' debug logs; nil discards them.
	Logger *slog.Logger
	// OCFRoot is the OCF root (OCF_ROOT); default DefaultOCFRoot.
	OCFRoot string
	// InitDir holds LSB init scripts; default DefaultInitDir.
	InitDir string
	// FenceDir holds fence_* programs; default DefaultFenceDir.
	FenceDir string
	// Systemd configures systemd:UNIT agents.
	Systemd SystemdOptions
	// PreferScripts makes class:provider:type specs resolve to the
	// external script even when a built-in is registered under that name
	// as an alias, as if every spec carried ScriptSuffix. Short built-in
	// names ("vip") still resolve to the built-ins.
	PreferScripts bool
}

// Registry resolves agent specs to agents: built-ins registered by name
// (and pcs-style aliases), and runners for OCF, LSB, systemd and fence
// agents. Runners are created once per spec and reused, so per-agent
// state (cached meta-data, the fence agent's started set) is kept. A
// Registry is safe for concurrent use.
type Registry struct {
	opts RegistryOptions

	mu       sync.Mutex
	builtins map[string]Agent // by name and alias
	names    map[string]bool  // primary built-in names
	scripts  map[string]Agent // runners by canonical spec
}

// NewRegistry returns an empty registry with defaults filled in.
func NewRegistry(opts RegistryOptions) *Registry {
	if opts.OCFRoot == "" {
		opts.OCFRoot = DefaultOCFRoot
	}
	if opts.InitDir == "" {
		opts.InitDir = DefaultInitDir
	}
	if opts.FenceDir == "" {
		opts.FenceDir = DefaultFenceDir
	}
	opts.Logger = orDiscard(opts.Logger)
	return &Registry{
		opts:     opts,
		builtins: map[string]Agent{},
		names:    map[string]bool{},
		scripts:  map[string]Agent{},
	}
}

// Register adds a built-in agent under name (a short name such as
// "ovs-bridge") and aliases (typically the pcs names users know, such as
// "ocf:heartbeat:IPaddr2"). A name or alias already taken, a short name
// containing ':' or an alias ending in ScriptSuffix is an error.
func (r *Registry) Register(name string, a Agent, aliases ...string) error {
	if a == nil {
		return fmt.Errorf("registering agent %q: agent is nil", name)
	}
	if name == "" || strings.ContainsAny(name, ": \t\n") {
		return fmt.Errorf("registering agent %q: a built-in name must be non-empty without ':' or spaces", name)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	all := append([]string{name}, aliases...)
	for _, n := range all {
		if n == "" || strings.HasSuffix(n, ScriptSuffix) {
			return fmt.Errorf("registering agent %q: invalid alias %q", name, n)
		}
		if _, taken := r.builtins[n]; taken {
			return fmt.Errorf("registering agent %q: name %q is already registered", name, n)
		}
	}
	for _, n := range all {
		r.builtins[n] = a
	}
	r.names[name] = true
	return nil
}

// Lookup resolves spec to an agent. Accepted forms:
//
//	NAME                     a built-in ("ovs-bridge", "vip", ...)
//	ocf:PROVIDER:TYPE        a built-in registered under that alias, else
//	                         the script OCFRoot/resource.d/PROVIDER/TYPE
//	ocf:PROVIDER:TYPE!script always the script (see ScriptSuffix)
//	lsb:NAME                 InitDir/NAME
//	systemd:UNIT             a systemd unit (".service" if no type given)
//	stonith:fence_NAME       FenceDir/fence_NAME
//
// Scripts must exist when looked up; systemd units are checked by their
// actions (ErrInstalled). An unknown spec is an error naming it and the
// accepted forms.
func (r *Registry) Lookup(spec string) (Agent, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, r.unknown(spec, "empty agent name")
	}
	forceScript := r.opts.PreferScripts
	if s, ok := strings.CutSuffix(spec, ScriptSuffix); ok {
		spec, forceScript = s, true
		if !strings.Contains(spec, ":") {
			return nil, r.unknown(spec+ScriptSuffix, ScriptSuffix+" applies to class:provider:type names only")
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if a, ok := r.builtins[spec]; ok && (!forceScript || !strings.Contains(spec, ":")) {
		return a, nil
	}
	if a, ok := r.scripts[spec]; ok {
		return a, nil
	}
	a, err := r.newRunner(spec)
	if err != nil {
		return nil, err
	}
	r.scripts[spec] = a
	return a, nil
}

// newRunner makes the runner for a class:... spec.
func (r *Registry) newRunner(spec string) (Agent, error) {
	class, rest, ok := strings.Cut(spec, ":")
	if !ok {
		return nil, r.unknown(spec, "no built-in agent has this name")
	}
	log := r.opts.Logger
	switch strings.ToLower(class) {
	case "ocf":
		provider, typ, ok := strings.Cut(rest, ":")
		if !ok || provider == "" || typ == "" {
			return nil, r.unknown(spec, "ocf agents are named ocf:PROVIDER:TYPE")
		}
		a, err := NewOCFAgent(r.opts.OCFRoot, provider, typ, log)
		if err != nil {
			return nil, r.unknown(spec, err.Error())
		}
		if err := r.scriptExists(spec, a.Path()); err != nil {
			return nil, err
		}
		return a, nil
	case "lsb":
		a, err := NewLSBAgent(r.opts.InitDir, rest, log)
		if err != nil {
			return nil, r.unknown(spec, err.Error())
		}
		if err := r.scriptExists(spec, a.path); err != nil {
			return nil, err
		}
		return a, nil
	case "systemd":
		a, err := NewSystemdAgent(rest, r.opts.Systemd)
		if err != nil {
			return nil, r.unknown(spec, err.Error())
		}
		return a, nil
	case "stonith":
		a, err := NewFenceAgent(r.opts.FenceDir, rest, log)
		if err != nil {
			return nil, r.unknown(spec, err.Error())
		}
		if err := r.scriptExists(spec, a.path); err != nil {
			return nil, err
		}
		return a, nil
	}
	return nil, r.unknown(spec, fmt.Sprintf("unknown class %q", class))
}

func (r *Registry) scriptExists(spec, path string) error {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("unknown agent %q: %s does not exist", spec, path)
		}
		return fmt.Errorf("agent %q: %w", spec, err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("agent %q: %s is not a regular file", spec, path)
	}
	return nil
}

// unknown is the error for a spec that names no agent.
func (r *Registry) unknown(spec, why string) error {
	var builtins []string
	for n := range r.names {
		builtins = append(builtins, n)
	}
	sort.Strings(builtins)
	b := "none registered"
	if len(builtins) > 0 {
		b = strings.Join(builtins, ", ")
	}
	return fmt.Errorf("unknown agent %q (%s): expected a built-in name (%s), "+
		"ocf:PROVIDER:TYPE[%s], lsb:NAME, systemd:UNIT or stonith:fence_NAME", spec, why, b, ScriptSuffix)
}

// List returns every agent spec the registry can resolve, sorted: built-in
// names and aliases, and the installed OCF scripts, LSB init scripts and
// fence agents found in the configured directories. systemd units are not
// listed (that needs D-Bus; `systemctl list-unit-files` shows them).
// Unreadable directories are skipped.
func (r *Registry) List() []string {
	r.mu.Lock()
	seen := map[string]bool{}
	for n := range r.builtins {
		seen[n] = true
	}
	r.mu.Unlock()
	providers, _ := os.ReadDir(filepath.Join(r.opts.OCFRoot, "resource.d"))
	for _, p := range providers {
		if !p.IsDir() {
			continue
		}
		for _, n := range executables(filepath.Join(r.opts.OCFRoot, "resource.d", p.Name())) {
			seen["ocf:"+p.Name()+":"+n] = true
		}
	}
	for _, n := range executables(r.opts.InitDir) {
		seen["lsb:"+n] = true
	}
	for _, n := range executables(r.opts.FenceDir) {
		if strings.HasPrefix(n, "fence_") {
			seen["stonith:"+n] = true
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// executables lists the executable regular files in dir (following
// symlinks), skipping hidden ones.
func executables(dir string) []string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		st, err := os.Stat(filepath.Join(dir, e.Name()))
		if err != nil || !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0 {
			continue
		}
		out = append(out, e.Name())
	}
	return out
}
