package crm

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ovsha/ovsha/agents"
	"github.com/ovsha/ovsha/cluster/cib"
)

// defaultOpTimeout is Pacemaker's default operation timeout.
const defaultOpTimeout = 20 * time.Second

// executor runs this node's resource actions: one at a time per resource
// (a per-resource lock), each with its operation's timeout, and keeps the
// recurring monitors. Results go back to the ring as op messages.
type executor struct {
	c *CRM

	mu        sync.Mutex
	locks     map[string]*sync.Mutex
	recurring map[string]context.CancelFunc // "rsc/interval"
	ctx       context.Context
	cancel    context.CancelFunc
}

func newExecutor(c *CRM) *executor {
	ctx, cancel := context.WithCancel(context.Background())
	return &executor{c: c, locks: map[string]*sync.Mutex{}, recurring: map[string]context.CancelFunc{}, ctx: ctx, cancel: cancel}
}

func (e *executor) stopAll() { e.cancel() }

func (e *executor) lock(rsc string) *sync.Mutex {
	e.mu.Lock()
	defer e.mu.Unlock()
	l := e.locks[rsc]
	if l == nil {
		l = &sync.Mutex{}
		e.locks[rsc] = l
	}
	return l
}

// cancelRecurring stops the recurring monitors of rsc.
func (e *executor) cancelRecurring(rsc string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for k, cancel := range e.recurring {
		if strings.HasPrefix(k, rsc+"/") {
			cancel()
			delete(e.recurring, k)
		}
	}
}

// submit runs one requested action in the background.
func (e *executor) submit(req execRequest) {
	go e.run(req)
}

func (e *executor) run(req execRequest) {
	e.c.log.Debug("action received", "rsc", req.Resource, "task", req.Task, "interval_ms", req.IntervalMS)
	if req.Task != "monitor" || req.IntervalMS == 0 {
		if req.Task != "monitor" {
			e.cancelRecurring(req.Resource)
		}
		l := e.lock(req.Resource)
		l.Lock()
		res := e.do(e.ctx, req)
		l.Unlock()
		e.report(res)
		return
	}
	// A recurring monitor: run now and report, then every interval,
	// reporting only changes of the result.
	key := fmt.Sprintf("%s/%d", req.Resource, req.IntervalMS)
	ctx, cancel := context.WithCancel(e.ctx)
	e.mu.Lock()
	if old := e.recurring[key]; old != nil {
		old()
	}
	e.recurring[key] = cancel
	e.mu.Unlock()
	last := -1
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		l := e.lock(req.Resource)
		l.Lock()
		if ctx.Err() != nil {
			l.Unlock()
			return
		}
		res := e.do(ctx, req)
		l.Unlock()
		if ctx.Err() != nil {
			return
		}
		if res.RC != last || res.OpStatus != 0 {
			e.report(res)
			last = res.RC
			req.Transition, req.Action = "", 0 // later changes belong to no transition
		}
		t.Reset(time.Duration(req.IntervalMS) * time.Millisecond)
	}
}

func (e *executor) report(res *opResult) {
	e.c.send(&message{Kind: kindOp, At: time.Now().Unix(), Op: res})
}

// resourceDef is what the executor needs of a primitive's configuration.
type resourceDef struct {
	spec    string
	class   string
	prov    string
	typ     string
	params  agents.Params
	timeout time.Duration
}

// lookupDef reads rsc's definition from the CIB (clone instances "rsc:N"
// use the primitive "rsc").
func (c *CRM) lookupDef(rsc, task string, intervalMS int64) (*resourceDef, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	base := rsc
	if i := strings.LastIndexByte(rsc, ':'); i >= 0 {
		base = rsc[:i]
	}
	r := c.cib.FindResource(base)
	if r == nil || r.Kind != cib.KindPrimitive {
		return nil, fmt.Errorf("resource %s: no such primitive in the cib", rsc)
	}
	d := &resourceDef{class: r.Class, prov: r.Provider, typ: r.Type, params: agents.Params{}, timeout: defaultOpTimeout}
	switch {
	case r.Class == "ocf":
		d.spec = "ocf:" + r.Provider + ":" + r.Type
	case r.Class == "":
		d.spec = r.Type
	default:
		d.spec = r.Class + ":" + r.Type
	}
	for _, s := range r.Instance {
		if len(s.Rules) > 0 {
			continue
		}
		for _, p := range s.Pairs {
			if _, ok := d.params[p.Name]; !ok {
				d.params[p.Name] = p.Value
			}
		}
	}
	if c.cib.Config.OpDefaults != nil {
		if v, ok := cib.Lookup(c.cib.Config.OpDefaults.Meta, "timeout"); ok {
			if ms := cib.DurationMS(v); ms > 0 {
				d.timeout = time.Duration(ms) * time.Millisecond
			}
		}
	}
	if r.Ops != nil {
		for _, op := range r.Ops.Ops {
			if op.Name == task && cib.DurationMS(op.Interval) == intervalMS && op.Timeout != "" {
				if ms := cib.DurationMS(op.Timeout); ms > 0 {
					d.timeout = time.Duration(ms) * time.Millisecond
				}
			}
		}
	}
	return d, nil
}

// migrate runs migrate_to or migrate_from; an agent that cannot migrate
// fails with OCF_ERR_UNIMPLEMENTED (the scheduler then recovers it).
func migrate(ctx context.Context, a agents.Agent, spec, task string, r agents.Resource) error {
	m, ok := a.(agents.Migrator)
	if !ok {
		return agents.Errorf(agents.ErrUnimplemented, "%s cannot migrate (allow-migrate is set on %s)", spec, r.ID)
	}
	if task == "migrate_to" {
		return m.MigrateTo(ctx, r)
	}
	return m.MigrateFrom(ctx, r)
}

// do runs one action and returns its result.
func (e *executor) do(ctx context.Context, req execRequest) *opResult {
	c := e.c
	res := &opResult{Node: req.Node, Resource: req.Resource, Task: req.Task, IntervalMS: req.IntervalMS,
		Expected: req.Expected, Transition: req.Transition, Action: req.Action,
		MigrateSource: req.MigrateSource, MigrateTarget: req.MigrateTarget}
	d, err := c.lookupDef(req.Resource, req.Task, req.IntervalMS)
	if err != nil {
		res.RC, res.OpStatus, res.Reason = int(agents.ErrConfigured), 4, err.Error()
		if req.Task == "stop" || (req.Task == "monitor" && req.IntervalMS == 0) {
			// Nothing configured is nothing running.
			res.RC, res.OpStatus, res.Reason = 0, 0, ""
			if req.Task == "monitor" {
				res.RC = int(agents.NotRunning)
			}
		}
		return res
	}
	res.Class, res.Provider, res.Type = d.class, d.prov, d.typ
	a, err := c.cfg.Agents.Lookup(d.spec)
	if err != nil {
		res.RC, res.OpStatus, res.Reason = int(agents.ErrInstalled), 4, err.Error()
		if req.Task == "stop" {
			res.RC, res.OpStatus = 0, 0
		}
		return res
	}
	d.params["CRM_meta_on_node"] = req.Node
	if req.IntervalMS > 0 {
		d.params["CRM_meta_interval"] = strconv.FormatInt(req.IntervalMS, 10)
	}
	if req.StoppedOn != "" {
		d.params["CRM_meta_stopped_on"] = req.StoppedOn
	}
	if req.MigrateSource != "" {
		d.params["CRM_meta_migrate_source"] = req.MigrateSource
		d.params["CRM_meta_migrate_target"] = req.MigrateTarget
	}
	r := agents.Resource{ID: req.Resource, Params: d.params, SetNodeAttribute: func(name, value string) {
		c.send(&message{Kind: kindAttr, Node: c.cfg.Local.Name, Name: name, Value: value, Delete: value == ""})
	}}
	actx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	start := time.Now()
	switch req.Task {
	case "start":
		err = a.Start(actx, r)
	case "stop":
		err = a.Stop(actx, r)
	case "monitor":
		err = a.Monitor(actx, r)
	case "migrate_to", "migrate_from":
		err = migrate(actx, a, d.spec, req.Task, r)
	case "reload", "reload-agent":
		if rl, ok := a.(agents.Reloader); ok {
			err = rl.Reload(actx, r)
		} else {
			err = agents.Errorf(agents.ErrUnimplemented, "%s does not reload", d.spec)
		}
	case "validate-all":
		err = a.Validate(actx, d.params)
	default:
		err = agents.Errorf(agents.ErrUnimplemented, "action %s is not supported", req.Task)
	}
	res.DurationMS = time.Since(start).Milliseconds()
	res.RC = int(agents.Code(err))
	switch {
	case err != nil && errors.Is(actx.Err(), context.DeadlineExceeded) && ctx.Err() == nil:
		res.OpStatus, res.RC = 2, int(agents.ErrGeneric)
		res.Reason = fmt.Sprintf("%s of %s timed out after %s", req.Task, req.Resource, d.timeout)
	case err != nil:
		res.Reason = err.Error()
	}
	lvl := c.log.Debug
	if res.failed() {
		lvl = c.log.Warn
	}
	lvl("action finished", "rsc", req.Resource, "op", opName(res), "rc", agents.Result(res.RC).String(), "took_ms", res.DurationMS, "reason", res.Reason)
	return res
}
