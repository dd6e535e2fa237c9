package crm

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ovsha/ovsha/agents"
	"github.com/ovsha/ovsha/cluster/cib"
)

// defaultFenceTimeout is Pacemaker's stonith-timeout default.
const defaultFenceTimeout = 60 * time.Second

// fenceHistoryLimit is how many fencing events every node keeps.
const fenceHistoryLimit = 100

// FenceEvent is one fencing attempt, replicated to every node.
type FenceEvent struct {
	Target   string        `json:"target"`
	Action   string        `json:"action"`
	Device   string        `json:"device,omitempty"`
	By       string        `json:"by"`
	OK       bool          `json:"ok"`
	Reason   string        `json:"reason,omitempty"`
	At       time.Time     `json:"at"`
	Duration time.Duration `json:"duration_ns"`
	// Transition and Action name the DC's graph action it carries out.
	Transition string `json:"transition,omitempty"`
	ActionID   int    `json:"action_id,omitempty"`
}

// fencer is what a stonith agent offers (agents.FenceAgent).
type fencer interface {
	Fence(ctx context.Context, p agents.Params, target, action string) error
}

// fenceDevice is one configured stonith resource.
type fenceDevice struct {
	id     string
	spec   string
	params agents.Params
}

// devicesFor lists the stonith resources that can fence target: those
// whose pcmk_host_list names it, or that have no host list.
func (c *CRM) devicesFor(target string) (devs []fenceDevice, action string, timeout time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	action = agents.FenceReboot
	if v, ok := c.cib.Property("fencing-action"); ok && v != "" {
		action = v
	}
	if action == "poweroff" {
		action = agents.FenceOff
	}
	timeout = defaultFenceTimeout
	if v, ok := c.cib.Property("fencing-timeout"); ok {
		if ms := cib.DurationMS(v); ms > 0 {
			timeout = time.Duration(ms) * time.Millisecond
		}
	}
	c.cib.Walk(func(r, _ *cib.Resource) {
		if r.Kind != cib.KindPrimitive || r.Class != "stonith" {
			return
		}
		p := agents.Params{}
		for _, s := range r.Instance {
			for _, nv := range s.Pairs {
				p[nv.Name] = nv.Value
			}
		}
		if hl := p["pcmk_host_list"]; hl != "" {
			found := false
			for _, h := range strings.FieldsFunc(hl, func(r rune) bool { return r == ',' || r == ' ' || r == ';' }) {
				found = found || h == target
			}
			if !found {
				return
			}
		}
		devs = append(devs, fenceDevice{id: r.ID, spec: "stonith:" + r.Type, params: p})
	})
	return devs, action, timeout
}

// fence runs the fencing of target with each capable device in turn
// until one succeeds. It first waits delay (priority-fencing-delay), and
// before each device that device's pcmk_delay_base/pcmk_delay_max
// (fence_delay.go); the delays do not count against fencing-timeout.
func (c *CRM) fence(ctx context.Context, target, action string, delay time.Duration) FenceEvent {
	devs, defAction, timeout := c.devicesFor(target)
	if action == "" {
		action = defAction
	}
	ev := FenceEvent{Target: target, Action: action, By: c.cfg.Local.Name, At: time.Now()}
	var errs []error
	if len(devs) > 0 && delay > 0 && (action == agents.FenceOff || action == agents.FenceReboot) {
		c.log.Info("delaying fencing (priority-fencing-delay: the target runs the more important resources)", "target", target, "delay", delay)
		if err := waitDelay(ctx, delay); err != nil {
			errs = append(errs, fmt.Errorf("during priority-fencing-delay: %w", err))
			devs = nil
		}
	}
	for _, d := range devs {
		dl, err := deviceDelay(d.params, target, action, randN)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", d.id, err))
			continue
		}
		if dl > 0 {
			c.log.Info("delaying fencing (pcmk_delay_base/pcmk_delay_max)", "target", target, "device", d.id, "delay", dl)
			if err := waitDelay(ctx, dl); err != nil {
				errs = append(errs, fmt.Errorf("%s: during its fencing delay: %w", d.id, err))
				break
			}
		}
		a, err := c.cfg.Agents.Lookup(d.spec)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", d.id, err))
			continue
		}
		f, ok := a.(fencer)
		if !ok {
			errs = append(errs, fmt.Errorf("%s: agent %s cannot fence", d.id, d.spec))
			continue
		}
		fctx, cancel := context.WithTimeout(ctx, timeout)
		err = f.Fence(fctx, d.params, target, action)
		cancel()
		if err == nil {
			ev.OK, ev.Device = true, d.id
			break
		}
		errs = append(errs, fmt.Errorf("%s: %w", d.id, err))
	}
	if len(devs) == 0 && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("no fencing device can fence %s", target))
	}
	ev.Duration = time.Since(ev.At)
	if !ev.OK {
		ev.Reason = errors.Join(errs...).Error()
		c.log.Error("fencing failed", "target", target, "action", action, "reason", ev.Reason)
	} else {
		c.log.Warn("node fenced", "target", target, "action", action, "device", ev.Device, "took", ev.Duration.Round(time.Millisecond))
	}
	return ev
}

// fenceForGraph carries out a graph's fence action and reports it.
func (c *CRM) fenceForGraph(key string, action int, target string) {
	ev := c.fence(context.Background(), target, "", c.priorityFencingDelay(target))
	ev.Transition, ev.ActionID = key, action
	c.send(&message{Kind: kindFenced, Fence: &ev})
}

// applyFenced records a fencing result on every node; success means the
// target is down and its resources stopped (c.mu held).
func (c *CRM) applyFenced(m *message) bool {
	ev := m.Fence
	if ev == nil {
		return false
	}
	c.fences = append(c.fences, *ev)
	if len(c.fences) > fenceHistoryLimit {
		c.fences = c.fences[len(c.fences)-fenceHistoryLimit:]
	}
	if g := c.dc.graph; g != nil && ev.Transition == g.key && ev.ActionID >= 0 && ev.ActionID < len(g.actions) {
		a := &g.actions[ev.ActionID]
		if a.state == actInFlight {
			a.end = time.Now()
			if ev.OK {
				a.state = actDone
			} else {
				a.state, g.failed = actFailed, true
			}
		}
	}
	if !ev.OK {
		return false
	}
	if !c.isMember(ev.Target) {
		applyDown(c.cib, ev.Target)
	}
	c.cib.BumpStatus()
	return true
}

// Fence fences node now (the fence API) and returns once the result is
// recorded cluster-wide.
func (c *CRM) Fence(ctx context.Context, node, action string) (FenceEvent, error) {
	switch action {
	case "", agents.FenceReboot, agents.FenceOff, agents.FenceOn:
	default:
		return FenceEvent{}, fmt.Errorf("fence action %q: expected reboot, off or on", action)
	}
	if !c.knownNode(node) {
		return FenceEvent{}, fmt.Errorf("fence %s: no such node", node)
	}
	ev := c.fence(ctx, node, action, 0)
	if err := c.request(ctx, &message{Kind: kindFenced, Fence: &ev}); err != nil {
		return ev, err
	}
	if !ev.OK {
		return ev, fmt.Errorf("fencing %s failed: %s", node, ev.Reason)
	}
	return ev, nil
}

// priorityFencingDelay is priority-fencing-delay for fencing target now;
// a misconfiguration is logged and means no delay.
func (c *CRM) priorityFencingDelay(target string) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	nodes := make([]string, len(c.cfg.Nodes))
	for i, n := range c.cfg.Nodes {
		nodes[i] = n.Name
	}
	d, err := priorityDelay(c.cib, nodes, c.isMember, target)
	if err != nil {
		c.log.Error("no priority fencing delay", "target", target, "reason", err)
		return 0
	}
	return d
}

// waitDelay waits d or until ctx ends.
func waitDelay(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// FenceHistory returns the fencing events this node knows, newest first.
func (c *CRM) FenceHistory() []FenceEvent {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]FenceEvent, 0, len(c.fences))
	for i := len(c.fences) - 1; i >= 0; i-- {
		out = append(out, c.fences[i])
	}
	return out
}

func (c *CRM) knownNode(name string) bool {
	for _, n := range c.cfg.Nodes {
		if n.Name == name {
			return true
		}
	}
	return false
}
