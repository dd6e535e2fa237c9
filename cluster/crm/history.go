package crm

import (
	"time"
)

// historyLimit is how many transitions are kept in memory.
const historyLimit = 200

// Phase is one stage of a transition with how long it took.
type Phase struct {
	Name     string
	Duration time.Duration
}

// Transition is one transition as the DC ran it: what triggered it, its
// actions and how long each phase took. Phases: detection (the token
// timeout, an estimate: the engine does not expose when it last heard from
// a lost node), membership (from the new configuration to the synchronised
// CIB), scheduling (from the trigger to the computed graph, coalescing
// included), then fencing, stop and start (first dispatch to last
// completion of those actions).
type Transition struct {
	ID       int
	DC       string
	Trigger  string
	Started  time.Time
	Finished time.Time
	Result   string // complete, aborted, failed
	Actions  []string
	Phases   []Phase
}

// history is the DC's recent transitions, newest last.
type history struct {
	list []Transition
}

func (h *history) add(t Transition) {
	h.list = append(h.list, t)
	if len(h.list) > historyLimit {
		h.list = h.list[len(h.list)-historyLimit:]
	}
}

// History returns up to limit recent transitions run by this node as DC,
// newest first (limit <= 0: all kept).
func (c *CRM) History(limit int) []Transition {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.hist.list)
	if limit <= 0 || limit > n {
		limit = n
	}
	out := make([]Transition, 0, limit+1)
	if g := c.dc.graph; g != nil {
		out = append(out, g.record(c, "in progress"))
	}
	for i := n - 1; i >= 0 && len(out) < limit; i-- {
		t := c.hist.list[i]
		t.Actions = append([]string(nil), t.Actions...)
		t.Phases = append([]Phase(nil), t.Phases...)
		out = append(out, t)
	}
	return out
}
