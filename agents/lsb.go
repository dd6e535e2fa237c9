package agents

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// DefaultInitDir is where LSB init scripts live.
const DefaultInitDir = "/etc/init.d"

// LSB status exit codes (LSB 3.0 "Init Script Actions"), plus Pacemaker's
// two from the distribution range.
const (
	lsbStatusRunning      = 0
	lsbStatusDeadPid      = 1 // program is dead and /var/run pid file exists
	lsbStatusDeadLock     = 2 // program is dead and /var/lock lock file exists
	lsbStatusNotRunning   = 3
	lsbStatusUnknown      = 4
	lsbStatusNotInstalled = 150
	lsbStatusNoPrivilege  = 151
)

// LSBAgent runs an LSB init script, DIR/NAME start|stop|status.
//
// Monitor maps the status codes as Pacemaker does
// (services__lsb_status2ocf): 0 is running; 1 (dead, pid file left),
// 2 (dead, lock file left) and 3 are NotRunning, so a crashed service
// is recovered like a stopped one; 4 (unknown) and anything else is
// ErrGeneric; 150/151 are ErrInstalled/ErrPerm. Start and stop exit codes
// are the OCF codes (LSB and OCF share 1–7).
//
// Start first asks status and succeeds at once when the service runs;
// stop succeeds when status then says it is not running even if the
// script's stop failed, so both are idempotent for scripts that are not
// quite LSB compliant. LSB scripts take no parameters: Validate rejects
// any.
type LSBAgent struct {
	dir  string
	name string
	path string
	log  *slog.Logger
}

// NewLSBAgent returns the runner for lsb:NAME in dir (empty:
// DefaultInitDir).
func NewLSBAgent(dir, name string, log *slog.Logger) (*LSBAgent, error) {
	if dir == "" {
		dir = DefaultInitDir
	}
	if err := checkPathElem("name", name); err != nil {
		return nil, err
	}
	return &LSBAgent{
		dir:  dir,
		name: name,
		path: filepath.Join(dir, name),
		log:  orDiscard(log).With("component", "agents", "agent", "lsb:"+name),
	}, nil
}

// Spec is the agent's name, lsb:NAME.
func (a *LSBAgent) Spec() string { return "lsb:" + a.name }

// Metadata is built from the script's LSB header (Short-Description,
// Description), as Pacemaker does.
func (a *LSBAgent) Metadata() Metadata {
	short, long := lsbHeader(a.path)
	if short == "" {
		short = a.name + " init script"
	}
	if long == "" {
		long = short
	}
	return Metadata{
		Name:      a.name,
		Version:   "1.0",
		ShortDesc: short,
		LongDesc:  long,
		Actions: []ActionSpec{
			{Name: "start", Timeout: 15 * time.Second},
			{Name: "stop", Timeout: 15 * time.Second},
			{Name: "status", Timeout: 15 * time.Second},
			{Name: "monitor", Timeout: 15 * time.Second, Interval: 15 * time.Second},
			{Name: "validate-all", Timeout: 15 * time.Second},
			{Name: "meta-data", Timeout: 5 * time.Second},
		},
	}
}

// lsbHeader reads Short-Description and Description from the
// "### BEGIN INIT INFO" block. Continuation lines of Description start
// with "#" and a tab or two spaces.
func lsbHeader(path string) (short, long string) {
	f, err := os.Open(path)
	if err != nil {
		return "", ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	in, inDesc := false, false
	var desc []string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "### BEGIN INIT INFO"):
			in = true
			continue
		case strings.HasPrefix(line, "### END INIT INFO"):
			return short, strings.Join(desc, " ")
		case !in:
			continue
		}
		if inDesc && (strings.HasPrefix(line, "#\t") || strings.HasPrefix(line, "#  ")) {
			desc = append(desc, strings.TrimSpace(line[1:]))
			continue
		}
		inDesc = false
		body := strings.TrimSpace(strings.TrimPrefix(line, "#"))
		if v, ok := strings.CutPrefix(body, "Short-Description:"); ok {
			short = strings.TrimSpace(v)
		} else if v, ok := strings.CutPrefix(body, "Description:"); ok {
			desc = append(desc, strings.TrimSpace(v))
			inDesc = true
		}
	}
	return short, strings.Join(desc, " ")
}

// Validate accepts no parameters and checks that the script is an
// executable file.
func (a *LSBAgent) Validate(ctx context.Context, p Params) error {
	if err := noParams(a.Spec(), p); err != nil {
		return err
	}
	return checkExecutable(a.Spec(), a.path)
}

// Start runs `start` unless status says the service already runs.
func (a *LSBAgent) Start(ctx context.Context, r Resource) error {
	if err := noParams(a.Spec(), r.Params); err != nil {
		return err
	}
	if a.Monitor(ctx, r) == nil {
		return nil
	}
	res, err := a.exec(ctx, "start", r)
	if err != nil {
		return err
	}
	if res.exit != 0 {
		code := resultOf(res.exit)
		return Errorf(code, "%s: exit code %d (%s)%s", a.what("start", r), res.exit, code, reasonSuffix(res))
	}
	return nil
}

// Stop runs `stop`; a failed stop of a service that status reports as
// not running is a success.
func (a *LSBAgent) Stop(ctx context.Context, r Resource) error {
	res, err := a.exec(ctx, "stop", r)
	if err != nil {
		if Code(err) == ErrInstalled {
			// Nothing installed is nothing running.
			return nil
		}
		return err
	}
	if res.exit == 0 {
		return nil
	}
	if Code(a.Monitor(ctx, r)) == NotRunning {
		return nil
	}
	code := resultOf(res.exit)
	return Errorf(code, "%s: exit code %d (%s)%s", a.what("stop", r), res.exit, code, reasonSuffix(res))
}

// Monitor runs `status` and maps its code (see LSBAgent).
func (a *LSBAgent) Monitor(ctx context.Context, r Resource) error {
	res, err := a.exec(ctx, "status", r)
	if err != nil {
		return err
	}
	switch res.exit {
	case lsbStatusRunning:
		return nil
	case lsbStatusDeadPid, lsbStatusDeadLock, lsbStatusNotRunning:
		return Errorf(NotRunning, "%s: not running (status %d)%s", a.what("monitor", r), res.exit, reasonSuffix(res))
	case lsbStatusNotInstalled:
		return Errorf(ErrInstalled, "%s: not installed (status %d)%s", a.what("monitor", r), res.exit, reasonSuffix(res))
	case lsbStatusNoPrivilege:
		return Errorf(ErrPerm, "%s: insufficient privileges (status %d)%s", a.what("monitor", r), res.exit, reasonSuffix(res))
	case lsbStatusUnknown:
		return Errorf(ErrGeneric, "%s: status unknown (status 4)%s", a.what("monitor", r), reasonSuffix(res))
	}
	return Errorf(ErrGeneric, "%s: unexpected status %d%s", a.what("monitor", r), res.exit, reasonSuffix(res))
}

func (a *LSBAgent) what(action string, r Resource) string {
	if r.ID == "" {
		return action + " of " + a.Spec()
	}
	return fmt.Sprintf("%s of %s (%s)", action, a.Spec(), r.ID)
}

func (a *LSBAgent) exec(ctx context.Context, action string, r Resource) (runResult, error) {
	return run(ctx, a.log, program{
		path: a.path,
		args: []string{action},
		env:  baseEnv(),
		what: a.what(action, r),
	})
}

// noParams rejects any parameter for agents that take none.
func noParams(spec string, p Params) error {
	if len(p) == 0 {
		return nil
	}
	names := make([]string, 0, len(p))
	for k := range p {
		names = append(names, k)
	}
	sort.Strings(names)
	return Errorf(ErrConfigured, "%s takes no parameters, got %s", spec, strings.Join(names, ", "))
}

// checkExecutable reports a missing script as ErrInstalled and one that
// cannot be executed as ErrPerm.
func checkExecutable(spec, path string) error {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Errorf(ErrInstalled, "%s: %s does not exist", spec, path)
	}
	if err != nil {
		return Errorf(ErrInstalled, "%s: %v", spec, err)
	}
	if !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0 {
		return Errorf(ErrPerm, "%s: %s is not an executable file", spec, path)
	}
	return nil
}
