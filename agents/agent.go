package agents

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Result is an OCF result code (resource-agents' ocf-returncodes).
type Result int

// OCF result codes. Values are the OCF exit codes: never renumber.
const (
	Success          Result = 0
	ErrGeneric       Result = 1
	ErrArgs          Result = 2
	ErrUnimplemented Result = 3
	ErrPerm          Result = 4
	ErrInstalled     Result = 5
	ErrConfigured    Result = 6
	NotRunning       Result = 7
	RunningPromoted  Result = 8
	FailedPromoted   Result = 9
)

func (r Result) String() string {
	switch r {
	case Success:
		return "OCF_SUCCESS"
	case ErrGeneric:
		return "OCF_ERR_GENERIC"
	case ErrArgs:
		return "OCF_ERR_ARGS"
	case ErrUnimplemented:
		return "OCF_ERR_UNIMPLEMENTED"
	case ErrPerm:
		return "OCF_ERR_PERM"
	case ErrInstalled:
		return "OCF_ERR_INSTALLED"
	case ErrConfigured:
		return "OCF_ERR_CONFIGURED"
	case NotRunning:
		return "OCF_NOT_RUNNING"
	case RunningPromoted:
		return "OCF_RUNNING_PROMOTED"
	case FailedPromoted:
		return "OCF_FAILED_PROMOTED"
	}
	return fmt.Sprintf("OCF_RESULT_%d", int(r))
}

// Error is an action failure with its OCF result code.
type Error struct {
	Code Result
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// Errorf returns an *Error with code and a formatted message. The message
// names the parameter or object and says what is expected.
func Errorf(code Result, format string, a ...any) error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, a...)}
}

// Code maps an action's error to its OCF result: nil is Success, an *Error
// (anywhere in the chain) its code, a context deadline ErrGeneric, and any
// other error ErrGeneric.
func Code(err error) Result {
	if err == nil {
		return Success
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ErrGeneric
}

// Params are a resource's instance attributes (OCF_RESKEY_*).
type Params map[string]string

// Resource is one configured resource instance as an agent sees it.
type Resource struct {
	// ID is the resource id (OCF_RESOURCE_INSTANCE).
	ID     string
	Params Params
	// SetNodeAttribute, when not nil, publishes a transient node
	// attribute (e.g. bond health) that location rules can use.
	SetNodeAttribute func(name, value string)
}

// ParamSpec describes one parameter in the agent's metadata.
type ParamSpec struct {
	Name      string
	Type      string // string, integer, boolean, duration, ...
	Default   string
	Required  bool
	Unique    bool
	ShortDesc string
	LongDesc  string
}

// ActionSpec is one advertised action with its default timeout and, for
// monitor, interval.
type ActionSpec struct {
	Name     string
	Timeout  time.Duration
	Interval time.Duration
	Depth    int
}

// Metadata is what `meta-data` returns.
type Metadata struct {
	Name      string
	Version   string
	ShortDesc string
	LongDesc  string
	Params    []ParamSpec
	Actions   []ActionSpec
}

// Agent is a resource agent. Every action takes a context whose deadline is
// the operation timeout; an action that returns after it has failed.
// Actions return nil for OCF_SUCCESS and an error carrying the OCF code
// otherwise (see Code): Monitor returns an error with NotRunning when the
// resource is cleanly stopped.
type Agent interface {
	Metadata() Metadata
	// Validate checks parameters without side effects (validate-all).
	Validate(ctx context.Context, p Params) error
	// Start is idempotent: starting a running resource succeeds.
	Start(ctx context.Context, r Resource) error
	// Stop is idempotent: stopping a stopped resource succeeds.
	Stop(ctx context.Context, r Resource) error
	Monitor(ctx context.Context, r Resource) error
}

// Reloader is implemented by agents that can apply changed parameters
// without a restart.
type Reloader interface {
	Reload(ctx context.Context, r Resource) error
}

// Migrator is implemented by agents whose resources can be live-migrated
// (meta attribute allow-migrate=true): MigrateTo runs on the source node,
// MigrateFrom on the target, then the resource is stopped on the source.
// The resource is active on both nodes between MigrateFrom and that stop,
// so only resources that tolerate it may migrate. r.Params carry
// CRM_meta_migrate_source and CRM_meta_migrate_target.
type Migrator interface {
	MigrateTo(ctx context.Context, r Resource) error
	MigrateFrom(ctx context.Context, r Resource) error
}

// Promoter is implemented by promotable agents.
type Promoter interface {
	Promote(ctx context.Context, r Resource) error
	Demote(ctx context.Context, r Resource) error
}
