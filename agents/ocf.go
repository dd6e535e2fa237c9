package agents

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultOCFRoot is where resource-agents installs OCF scripts.
const DefaultOCFRoot = "/usr/lib/ocf"

// defaultMetadataTimeout bounds a meta-data call made through Metadata(),
// which has no context. Pacemaker's default for meta-data is 30 s too.
const defaultMetadataTimeout = 30 * time.Second

// OCFAgent runs an OCF resource agent script,
// ROOT/resource.d/PROVIDER/TYPE, the way Pacemaker's executor does: the
// action is argv[1], parameters are OCF_RESKEY_<name> environment
// variables, the exit code is the OCF result.
//
// Pacemaker meta attributes reach the script when the caller passes them as
// parameters named CRM_meta_<name> (OCF_RESKEY_CRM_meta_<name>), e.g.
// CRM_meta_interval for a recurring monitor. OCF_RESKEY_CRM_meta_timeout
// is set from the context deadline, in milliseconds.
type OCFAgent struct {
	root     string
	provider string
	typ      string
	path     string
	log      *slog.Logger

	mu   sync.Mutex
	meta *Metadata // cached after the first successful meta-data
}

// NewOCFAgent returns the runner for ocf:PROVIDER:TYPE under root (empty:
// DefaultOCFRoot). It does not check that the script exists: actions on a
// missing script fail with ErrInstalled.
func NewOCFAgent(root, provider, typ string, log *slog.Logger) (*OCFAgent, error) {
	if root == "" {
		root = DefaultOCFRoot
	}
	if err := checkPathElem("provider", provider); err != nil {
		return nil, err
	}
	if err := checkPathElem("type", typ); err != nil {
		return nil, err
	}
	return &OCFAgent{
		root:     root,
		provider: provider,
		typ:      typ,
		path:     filepath.Join(root, "resource.d", provider, typ),
		log:      orDiscard(log).With("component", "agents", "agent", "ocf:"+provider+":"+typ),
	}, nil
}

// Spec is the agent's name, ocf:PROVIDER:TYPE.
func (a *OCFAgent) Spec() string { return "ocf:" + a.provider + ":" + a.typ }

// Path is the script the agent runs.
func (a *OCFAgent) Path() string { return a.path }

// LoadMetadata runs `meta-data` and parses its XML. A successful result is
// cached for the agent's lifetime.
func (a *OCFAgent) LoadMetadata(ctx context.Context) (Metadata, error) {
	a.mu.Lock()
	if a.meta != nil {
		m := *a.meta
		a.mu.Unlock()
		return m, nil
	}
	a.mu.Unlock()
	res, err := a.exec(ctx, "meta-data", Resource{})
	if err != nil {
		return Metadata{}, err
	}
	if res.exit != 0 {
		return Metadata{}, Errorf(resultOf(res.exit), "meta-data of %s exited with %s%s", a.Spec(), resultOf(res.exit), reasonSuffix(res))
	}
	if res.truncated {
		return Metadata{}, Errorf(ErrGeneric, "meta-data of %s: output is larger than %d bytes", a.Spec(), maxStdout)
	}
	m, err := ParseMetadata(res.stdout)
	if err != nil {
		return Metadata{}, Errorf(ErrGeneric, "meta-data of %s: %v", a.Spec(), err)
	}
	a.mu.Lock()
	a.meta = &m
	a.mu.Unlock()
	return m, nil
}

// Metadata returns the script's meta-data (see MetadataLoader). When the
// script cannot give it, the result has only the name and a long
// description carrying the error.
func (a *OCFAgent) Metadata() Metadata {
	ctx, cancel := context.WithTimeout(context.Background(), defaultMetadataTimeout)
	defer cancel()
	m, err := a.LoadMetadata(ctx)
	if err != nil {
		return Metadata{Name: a.typ, LongDesc: "meta-data unavailable: " + err.Error()}
	}
	return m
}

// Validate runs validate-all with p.
func (a *OCFAgent) Validate(ctx context.Context, p Params) error {
	return a.action(ctx, "validate-all", Resource{Params: p})
}

// Start runs start.
func (a *OCFAgent) Start(ctx context.Context, r Resource) error { return a.action(ctx, "start", r) }

// Stop runs stop.
func (a *OCFAgent) Stop(ctx context.Context, r Resource) error { return a.action(ctx, "stop", r) }

// Monitor runs monitor; a cleanly stopped resource gives NotRunning.
func (a *OCFAgent) Monitor(ctx context.Context, r Resource) error {
	return a.action(ctx, "monitor", r)
}

// Reload runs reload. Scripts that do not advertise it answer
// ErrUnimplemented; check Metadata().HasAction("reload") first.
func (a *OCFAgent) Reload(ctx context.Context, r Resource) error { return a.action(ctx, "reload", r) }

// MigrateTo runs migrate_to on the source node (see Reload about
// support; Pacemaker passes the two nodes as OCF_RESKEY_CRM_meta_migrate_*).
func (a *OCFAgent) MigrateTo(ctx context.Context, r Resource) error {
	return a.action(ctx, "migrate_to", r)
}

// MigrateFrom runs migrate_from on the target node.
func (a *OCFAgent) MigrateFrom(ctx context.Context, r Resource) error {
	return a.action(ctx, "migrate_from", r)
}

// Promote runs promote (see Reload about support).
func (a *OCFAgent) Promote(ctx context.Context, r Resource) error {
	return a.action(ctx, "promote", r)
}

// Demote runs demote (see Reload about support).
func (a *OCFAgent) Demote(ctx context.Context, r Resource) error { return a.action(ctx, "demote", r) }

// action runs one action and maps its exit code to an error.
func (a *OCFAgent) action(ctx context.Context, action string, r Resource) error {
	res, err := a.exec(ctx, action, r)
	if err != nil {
		return err
	}
	if res.exit == 0 {
		return nil
	}
	code := resultOf(res.exit)
	return Errorf(code, "%s: %s%s", a.what(action, r), code, reasonSuffix(res))
}

func (a *OCFAgent) what(action string, r Resource) string {
	if r.ID == "" {
		return action + " of " + a.Spec()
	}
	return fmt.Sprintf("%s of %s (%s)", action, a.Spec(), r.ID)
}

func (a *OCFAgent) exec(ctx context.Context, action string, r Resource) (runResult, error) {
	env, err := a.env(ctx, r)
	if err != nil {
		return runResult{}, err
	}
	return run(ctx, a.log, program{
		path: a.path,
		args: []string{action},
		env:  env,
		what: a.what(action, r),
	})
}

// env builds the OCF environment for r.
func (a *OCFAgent) env(ctx context.Context, r Resource) ([]string, error) {
	id := r.ID
	if id == "" {
		id = a.typ
	}
	env := append(baseEnv(),
		"OCF_ROOT="+a.root,
		"OCF_FUNCTIONS_DIR="+filepath.Join(a.root, "lib", "heartbeat"),
		"OCF_RA_VERSION_MAJOR=1",
		"OCF_RA_VERSION_MINOR=1",
		"OCF_RESOURCE_INSTANCE="+id,
		"OCF_RESOURCE_TYPE="+a.typ,
		"OCF_RESOURCE_PROVIDER="+a.provider,
		"OCF_RESKEY_crm_feature_set=3.17.4",
	)
	if t, ok := timeoutOf(ctx); ok {
		env = append(env, "OCF_RESKEY_CRM_meta_timeout="+strconv.FormatInt(t.Milliseconds(), 10))
	}
	pe, err := paramEnv(r.Params)
	if err != nil {
		return nil, err
	}
	return append(env, pe...), nil
}

// paramEnv turns p into sorted OCF_RESKEY_<name>=<value> entries. A name
// that cannot be an environment variable is ErrConfigured.
func paramEnv(p Params) ([]string, error) {
	names := make([]string, 0, len(p))
	for k := range p {
		names = append(names, k)
	}
	sort.Strings(names)
	env := make([]string, 0, len(names))
	for _, k := range names {
		if !validParamName(k) {
			return nil, Errorf(ErrConfigured, "parameter %q: a name must be letters, digits, '_' or '-'", k)
		}
		if strings.IndexByte(p[k], 0) >= 0 {
			return nil, Errorf(ErrConfigured, "parameter %s: value contains a NUL byte", k)
		}
		env = append(env, "OCF_RESKEY_"+k+"="+p[k])
	}
	return env, nil
}

func validParamName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// resultOf maps an exit status to an OCF result; anything outside the OCF
// range is a generic error.
func resultOf(exit int) Result {
	if exit >= int(Success) && exit <= int(FailedPromoted) {
		return Result(exit)
	}
	return ErrGeneric
}

// checkPathElem rejects names that would escape the agent directory.
func checkPathElem(what, s string) error {
	if s == "" || s == "." || s == ".." || strings.ContainsAny(s, "/\x00") {
		return fmt.Errorf("agent %s %q: expected a plain file name (no '/', not empty)", what, s)
	}
	return nil
}

func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
