package agents

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	sdbus "github.com/coreos/go-systemd/v22/dbus"
)

// SystemdConn is the part of go-systemd's *dbus.Conn the systemd runner
// uses; tests substitute a fake.
type SystemdConn interface {
	StartUnitContext(ctx context.Context, name, mode string, ch chan<- string) (int, error)
	StopUnitContext(ctx context.Context, name, mode string, ch chan<- string) (int, error)
	GetUnitPropertyContext(ctx context.Context, unit, property string) (*sdbus.Property, error)
	Close()
}

// SystemdOptions configure the systemd runner.
type SystemdOptions struct {
	// Dial opens a D-Bus connection to systemd; nil dials the system bus
	// (go-systemd dbus.NewWithContext). A connection is opened per action
	// and closed after it, so a restarted systemd or bus needs no
	// reconnection logic.
	Dial func(ctx context.Context) (SystemdConn, error)
	// PollInterval is how often a unit in a transitional state
	// (activating, deactivating, reloading) is polled until it settles.
	// Default 200 ms: short next to operation timeouts of tens of seconds.
	PollInterval time.Duration
}

// SystemdAgent manages a systemd unit (systemd:UNIT) through systemd's
// D-Bus API: start and stop are jobs in "replace" mode whose result is
// awaited; monitor reads ActiveState (active and reloading are running,
// inactive is NotRunning, failed is ErrGeneric, activating and deactivating
// are polled until they settle or the context ends). A unit systemd cannot
// find is ErrInstalled for start, monitor and validate, and stopped for
// stop. Units take no parameters.
type SystemdAgent struct {
	unit string
	opts SystemdOptions
}

// systemdUnitSuffixes are the unit types; a name without one is a service.
var systemdUnitSuffixes = []string{
	".service", ".socket", ".device", ".mount", ".automount", ".swap",
	".target", ".path", ".timer", ".slice", ".scope",
}

// NewSystemdAgent returns the runner for unit; a name without a unit type
// suffix gets ".service", as Pacemaker does.
func NewSystemdAgent(unit string, opts SystemdOptions) (*SystemdAgent, error) {
	if unit == "" || strings.ContainsAny(unit, "/\x00 ") {
		return nil, fmt.Errorf("systemd unit %q: expected a unit name such as nginx or nginx.service", unit)
	}
	if !hasUnitSuffix(unit) {
		unit += ".service"
	}
	if opts.Dial == nil {
		opts.Dial = func(ctx context.Context) (SystemdConn, error) {
			return sdbus.NewWithContext(ctx)
		}
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 200 * time.Millisecond
	}
	return &SystemdAgent{unit: unit, opts: opts}, nil
}

func hasUnitSuffix(unit string) bool {
	for _, s := range systemdUnitSuffixes {
		if strings.HasSuffix(unit, s) && len(unit) > len(s) {
			return true
		}
	}
	return false
}

// Spec is the agent's name, systemd:UNIT.
func (a *SystemdAgent) Spec() string { return "systemd:" + a.unit }

// Unit is the full unit name.
func (a *SystemdAgent) Unit() string { return a.unit }

// Metadata describes the unit; systemd units have no parameters.
func (a *SystemdAgent) Metadata() Metadata {
	return Metadata{
		Name:      a.unit,
		Version:   "1.0",
		ShortDesc: "systemd unit " + a.unit,
		LongDesc:  "Starts, stops and monitors the systemd unit " + a.unit + " through systemd's D-Bus API.",
		Actions: []ActionSpec{
			{Name: "start", Timeout: 100 * time.Second},
			{Name: "stop", Timeout: 100 * time.Second},
			{Name: "monitor", Timeout: 100 * time.Second, Interval: 60 * time.Second},
			{Name: "validate-all", Timeout: 20 * time.Second},
			{Name: "meta-data", Timeout: 5 * time.Second},
		},
	}
}

// Validate rejects parameters and checks that systemd knows the unit.
func (a *SystemdAgent) Validate(ctx context.Context, p Params) error {
	if err := noParams(a.Spec(), p); err != nil {
		return err
	}
	return a.withConn(ctx, "validate-all", func(c SystemdConn) error {
		return a.checkLoaded(ctx, c)
	})
}

// Start starts the unit and waits until it is active.
func (a *SystemdAgent) Start(ctx context.Context, r Resource) error {
	if err := noParams(a.Spec(), r.Params); err != nil {
		return err
	}
	return a.withConn(ctx, "start", func(c SystemdConn) error {
		if err := a.checkLoaded(ctx, c); err != nil {
			return err
		}
		if err := a.job(ctx, "start", c.StartUnitContext); err != nil {
			return err
		}
		state, err := a.settledState(ctx, c)
		if err != nil {
			return err
		}
		return a.stateErr("start", state)
	})
}

// Stop stops the unit and waits until it is inactive (or failed: a unit
// whose process exited with an error on stop is stopped all the same).
func (a *SystemdAgent) Stop(ctx context.Context, r Resource) error {
	return a.withConn(ctx, "stop", func(c SystemdConn) error {
		if err := a.checkLoaded(ctx, c); Code(err) == ErrInstalled {
			return nil
		} else if err != nil {
			return err
		}
		if err := a.job(ctx, "stop", c.StopUnitContext); err != nil {
			return err
		}
		state, err := a.settledState(ctx, c)
		if err != nil {
			return err
		}
		switch state {
		case "inactive", "failed":
			return nil
		}
		return Errorf(ErrGeneric, "stop of %s: unit is %s after the stop job", a.Spec(), state)
	})
}

// Monitor reports the unit's ActiveState.
func (a *SystemdAgent) Monitor(ctx context.Context, r Resource) error {
	return a.withConn(ctx, "monitor", func(c SystemdConn) error {
		if err := a.checkLoaded(ctx, c); err != nil {
			return err
		}
		state, err := a.settledState(ctx, c)
		if err != nil {
			return err
		}
		return a.stateErr("monitor", state)
	})
}

// stateErr maps a settled ActiveState to the action's result.
func (a *SystemdAgent) stateErr(action, state string) error {
	switch state {
	case "active", "reloading":
		return nil
	case "inactive":
		return Errorf(NotRunning, "%s of %s: unit is inactive", action, a.Spec())
	case "failed":
		return Errorf(ErrGeneric, "%s of %s: unit has failed (see journalctl -u %s)", action, a.Spec(), a.unit)
	}
	return Errorf(ErrGeneric, "%s of %s: unexpected ActiveState %q", action, a.Spec(), state)
}

// withConn runs f with a fresh connection; when ctx's deadline ends f, the
// error says the action timed out and after how long.
func (a *SystemdAgent) withConn(ctx context.Context, action string, f func(SystemdConn) error) error {
	timeout, hasDeadline := timeoutOf(ctx)
	start := time.Now()
	c, err := a.opts.Dial(ctx)
	if err == nil {
		defer c.Close()
		err = f(c)
	} else {
		err = Errorf(ErrGeneric, "%s of %s: connecting to systemd over D-Bus: %v", action, a.Spec(), err)
	}
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		if !hasDeadline {
			timeout = time.Since(start)
		}
		return Errorf(ErrGeneric, "%s of %s timed out after %s: %v", action, a.Spec(), timeout.Round(time.Millisecond), err)
	}
	return err
}

// job runs a start or stop job and waits for its result.
func (a *SystemdAgent) job(ctx context.Context, action string,
	call func(context.Context, string, string, chan<- string) (int, error)) error {
	// Buffered: go-systemd's dispatcher must never block on us, even if
	// we have given up waiting.
	ch := make(chan string, 1)
	if _, err := call(ctx, a.unit, "replace", ch); err != nil {
		return Errorf(ErrGeneric, "%s of %s: %v", action, a.Spec(), err)
	}
	select {
	case result := <-ch:
		if result != "done" {
			return Errorf(ErrGeneric, "%s of %s: systemd job result %q", action, a.Spec(), result)
		}
		return nil
	case <-ctx.Done():
		return Errorf(ErrGeneric, "%s of %s: waiting for the systemd job: %v", action, a.Spec(), ctx.Err())
	}
}

// checkLoaded is ErrInstalled when systemd has no such unit.
func (a *SystemdAgent) checkLoaded(ctx context.Context, c SystemdConn) error {
	state, err := a.property(ctx, c, "LoadState")
	if err != nil {
		return err
	}
	switch state {
	case "not-found":
		return Errorf(ErrInstalled, "%s: systemd has no unit %s", a.Spec(), a.unit)
	case "masked":
		return Errorf(ErrInstalled, "%s: unit is masked", a.Spec())
	case "error", "bad-setting":
		return Errorf(ErrConfigured, "%s: unit file cannot be loaded (LoadState %s)", a.Spec(), state)
	}
	return nil
}

// settledState polls ActiveState until it is not transitional
// (activating, deactivating, refreshing) and returns it.
func (a *SystemdAgent) settledState(ctx context.Context, c SystemdConn) (string, error) {
	var tick *time.Ticker
	for {
		state, err := a.property(ctx, c, "ActiveState")
		if err != nil {
			return "", err
		}
		switch state {
		case "activating", "deactivating", "refreshing":
		default:
			return state, nil
		}
		if tick == nil {
			tick = time.NewTicker(a.opts.PollInterval)
			defer tick.Stop()
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return "", Errorf(ErrGeneric, "%s: still %s: %v", a.Spec(), state, ctx.Err())
		}
	}
}

func (a *SystemdAgent) property(ctx context.Context, c SystemdConn, name string) (string, error) {
	p, err := c.GetUnitPropertyContext(ctx, a.unit, name)
	if err != nil {
		return "", Errorf(ErrGeneric, "%s: reading %s: %v", a.Spec(), name, err)
	}
	s, ok := p.Value.Value().(string)
	if !ok {
		return "", Errorf(ErrGeneric, "%s: %s is %s, expected a string", a.Spec(), name, p.Value.Signature())
	}
	return s, nil
}
