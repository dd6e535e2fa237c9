package crm

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/ovsha/ovsha/cluster/scheduler"
)

// Action states in a running graph.
const (
	actPending = iota
	actInFlight
	actDone
	actFailed
)

type gAction struct {
	scheduler.Action
	state      int
	start, end time.Time
}

// graph is one transition being executed by the DC.
type graph struct {
	id             int
	key            string
	trigger        string
	triggerAt      time.Time
	planned        time.Time
	planTook       time.Duration
	membership     time.Duration
	fromMembership bool
	actions        []gAction
	abort          bool
	recheck        []string // changes to weigh before the next step (markChanged)
	failed         bool
}

func (a *gAction) String() string {
	if a.Resource == "" {
		return fmt.Sprintf("%s %s", a.Task, a.Node)
	}
	task := a.Task
	if a.Task == "monitor" && a.Interval == 0 {
		task = "probe"
	} else if a.Interval > 0 {
		task = fmt.Sprintf("monitor(%dms)", a.Interval)
	}
	if a.Pseudo {
		return fmt.Sprintf("%s %s (pseudo)", task, a.Resource)
	}
	return fmt.Sprintf("%s %s on %s", task, a.Resource, a.Node)
}

// expectedRC is what the executor must return for the action to succeed.
func expectedRC(a scheduler.Action) int {
	if a.Task == "monitor" && a.Interval == 0 {
		return 7
	}
	return 0
}

// advance completes pseudo actions, fails actions on nodes that left,
// dispatches every action whose inputs are done, and finishes the graph
// when nothing is left in flight (c.mu held).
func (c *CRM) advance(g *graph) {
	var ready []*gAction
	for progress := true; progress; {
		progress = false
		for i := range g.actions {
			a := &g.actions[i]
			if a.state == actInFlight && a.Node != "" && !a.Pseudo && a.Task != "fence" && !c.isMember(a.Node) {
				a.state, a.end = actFailed, time.Now()
				g.failed = true
				progress = true
				continue
			}
			if a.state != actPending || g.abort || g.failed || !c.inputsDone(g, a) {
				continue
			}
			a.start = time.Now()
			switch {
			case a.Pseudo:
				a.state, a.end = actDone, a.start
				progress = true
			case a.Task == "fence":
				a.state = actInFlight
				go c.fenceForGraph(g.key, a.ID, a.Node)
			case !c.isMember(a.Node):
				a.state, a.end = actFailed, a.start
				g.failed = true
			default:
				a.state = actInFlight
				ready = append(ready, a)
			}
		}
	}
	// Recurring monitors last: the start of a VIP that becomes ready with
	// the monitors of the chain below it goes first on the ring, and its
	// node runs it before the monitors (a bond's forks ovs-appctl).
	slices.SortStableFunc(ready, func(x, y *gAction) int {
		return cmp.Compare(boolInt(x.Task == "monitor" && x.Interval > 0), boolInt(y.Task == "monitor" && y.Interval > 0))
	})
	for _, a := range ready {
		c.log.Debug("dispatching", "action", a.String(), "transition", g.id)
		req := &execRequest{Node: a.Node, Resource: a.Resource, Task: a.Task,
			IntervalMS: a.Interval, Transition: g.key, Action: a.ID, Expected: expectedRC(a.Action),
			MigrateSource: a.MigrateSource, MigrateTarget: a.MigrateTarget, StoppedOn: stoppedOn(g, a)}
		if a.Node == c.cfg.Local.Name {
			// The DC's own action needs no trip round the ring: an exec
			// request changes no CIB, only its result does (and that is
			// broadcast in order as always).
			c.exec.submit(*req)
			continue
		}
		c.send(&message{Kind: kindExec, Exec: req})
	}
	inflight, pending := 0, 0
	for _, a := range g.actions {
		switch a.state {
		case actInFlight:
			inflight++
		case actPending:
			pending++
		}
	}
	switch {
	case inflight > 0:
	case g.failed:
		c.finishGraph("failed")
	case g.abort:
		c.finishGraph("aborted")
	case pending == 0:
		c.finishGraph("complete")
	}
}

// stoppedOn returns, for a start, the node on which this graph stopped
// the same resource successfully before it ("" if none): the start then
// completes a move whose previous holder is known to have let go.
func stoppedOn(g *graph, a *gAction) string {
	if a.Task != "start" {
		return ""
	}
	for i := range g.actions {
		b := &g.actions[i]
		if b.Task == "stop" && !b.Pseudo && b.Resource == a.Resource && b.Node != a.Node && b.state == actDone {
			return b.Node
		}
	}
	return ""
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (c *CRM) inputsDone(g *graph, a *gAction) bool {
	for _, in := range a.Inputs {
		if in < 0 || in >= len(g.actions) || g.actions[in].state != actDone {
			return false
		}
	}
	return true
}

// dcOwnResult marks a result of the running graph's action; it reports
// whether the result was expected by the graph (c.mu held).
func (c *CRM) dcOwnResult(o *opResult) bool {
	g := c.dc.graph
	if g == nil || o.Transition != g.key || o.Action < 0 || o.Action >= len(g.actions) {
		return false
	}
	a := &g.actions[o.Action]
	if a.state != actInFlight {
		return false
	}
	a.end = time.Now()
	if o.failed() {
		a.state = actFailed
		g.failed = true
		return false // a failure is news: recompute
	}
	a.state = actDone
	return true
}

// finishGraph records the graph in the history and clears it; the DC
// recomputes next (c.mu held).
func (c *CRM) finishGraph(result string) {
	g := c.dc.graph
	c.dc.graph = nil
	t := g.record(c, result)
	c.hist.add(t)
	c.log.Info("transition finished", "transition", t.ID, "result", result, "trigger", t.Trigger,
		"took", t.Finished.Sub(t.Started).Round(time.Microsecond), "phases", phaseString(t.Phases))
	if result != "complete" || len(g.actions) > 0 {
		// Confirm: the next run finds nothing to do once all is settled.
		c.dc.dirty = true
		if c.dc.trigger == "" {
			c.dc.trigger, c.dc.dirtyAt = fmt.Sprintf("transition %d %s", t.ID, result), time.Now()
		}
		c.poke()
	}
}

func phaseString(ps []Phase) string {
	s := ""
	for i, p := range ps {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%s=%s", p.Name, p.Duration.Round(time.Microsecond))
	}
	return s
}

// record describes the graph as a Transition.
func (g *graph) record(c *CRM, result string) Transition {
	t := Transition{ID: g.id, DC: c.cfg.Local.Name, Trigger: g.trigger, Started: g.triggerAt, Result: result}
	if result != "in progress" {
		t.Finished = time.Now()
	}
	span := map[string][2]time.Time{}
	for _, a := range g.actions {
		t.Actions = append(t.Actions, a.String())
		if a.Pseudo || a.start.IsZero() || a.end.IsZero() {
			continue
		}
		phase := a.Task
		switch a.Task {
		case "fence":
			phase = "fencing"
		case "migrate_to", "migrate_from":
			phase = "migrate"
		case "monitor":
			phase = "monitor"
			if a.Interval == 0 {
				phase = "probe"
			}
		}
		s, ok := span[phase]
		if !ok || a.start.Before(s[0]) {
			s[0] = a.start
		}
		if a.end.After(s[1]) {
			s[1] = a.end
		}
		span[phase] = s
	}
	if g.fromMembership {
		t.Phases = append(t.Phases, Phase{"detection", c.cfg.TokenTimeout}, Phase{"membership", g.membership})
	}
	t.Phases = append(t.Phases, Phase{"scheduling", g.planned.Sub(g.triggerAt)})
	for _, name := range []string{"probe", "fencing", "migrate", "stop", "start", "monitor"} {
		if s, ok := span[name]; ok {
			t.Phases = append(t.Phases, Phase{name, s[1].Sub(s[0])})
		}
	}
	return t
}
