package scheduler

import (
	"fmt"
	"sort"

	"github.com/ovsha/ovsha/cluster/cib"
)

// Input is everything one scheduler pass needs.
type Input struct {
	// CIB is the configuration and status section (not modified).
	CIB *cib.CIB
	// Membership, when set, overrides the node states recorded in the
	// status section: node name → currently a member.
	Membership map[string]bool
	// Quorum, when set, overrides the CIB's have-quorum attribute.
	Quorum *bool
	// Now is the current time in Unix seconds (for failure-timeout);
	// 0 means failures never expire.
	Now int64
	// Scores asks for the final allocation scores in Result.Scores.
	Scores bool
}

// Action is one action of the transition graph.
type Action struct {
	ID       int    `json:"id"`
	Resource string `json:"resource,omitempty"`
	Task     string `json:"task"`
	Node     string `json:"node,omitempty"`
	Interval int64  `json:"interval_ms,omitempty"`
	Pseudo   bool   `json:"pseudo,omitempty"`
	// Inputs are the ids of actions that must complete first.
	Inputs []int `json:"inputs,omitempty"`
	// MigrateSource and MigrateTarget are the two ends of a live
	// migration, set on its migrate_to (run on the source) and
	// migrate_from (run on the target) actions.
	MigrateSource string `json:"migrate_source,omitempty"`
	MigrateTarget string `json:"migrate_target,omitempty"`
}

// Change is one line of the Transition Summary.
type Change struct {
	Verb     string `json:"verb"` // Start, Stop, Move, Migrate, Restart, Recover, Fence
	Resource string `json:"resource,omitempty"`
	From     string `json:"from,omitempty"`
	To       string `json:"to,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// ResourceStatus is one primitive (or clone instance) before or after.
type ResourceStatus struct {
	ID      string   `json:"id"`
	Agent   string   `json:"agent"`
	Parent  string   `json:"parent,omitempty"`
	Nodes   []string `json:"nodes"`
	Failed  bool     `json:"failed,omitempty"`
	Managed bool     `json:"managed"`
}

// NodeStatus is one node's state.
type NodeStatus struct {
	Name  string `json:"name"`
	State string `json:"state"` // online, offline, standby, maintenance, UNCLEAN, pending
}

// Status is a cluster status snapshot (current or revised).
type Status struct {
	Nodes     []NodeStatus     `json:"nodes"`
	Resources []ResourceStatus `json:"resources"`
}

// Result is the outcome of one scheduler pass.
type Result struct {
	// Placement maps every primitive id (clone instances folded into the
	// primitive's id) to the sorted nodes where it is active afterwards.
	Placement map[string][]string `json:"resources"`
	Actions   []Action            `json:"actions"`
	Summary   []Change            `json:"transition"`
	Current   Status              `json:"current"`
	Revised   Status              `json:"revised"`
	// Scores are the final allocation scores (resource → node → score).
	Scores   map[string]map[string]int `json:"scores,omitempty"`
	Warnings []string                  `json:"warnings,omitempty"`
}

// Run computes one transition: the pipeline unpack status → constraints →
// assign → actions → fencing → orderings → graph. A live migration whose
// orderings would form a loop is called off and the pass is run again
// with that resource moving by stop/start.
func Run(in Input) (*Result, error) {
	if in.CIB == nil {
		return nil, fmt.Errorf("scheduler input has no cib")
	}
	noMigrate := map[string]bool{}
	for {
		ws := &workingSet{in: in, now: in.Now, noMigrate: noMigrate}
		res := ws.run()
		blamed := ws.migrationsOnLoops()
		if len(blamed) == 0 {
			return res, nil
		}
		for _, r := range blamed {
			noMigrate[r.ID] = true // each pass adds one at least: the loop ends
		}
	}
}

func (ws *workingSet) run() *Result {
	in := ws.in
	// unpack
	ws.unpackOptions()
	ws.unpackNodes()
	ws.unpackNodeStates()
	ws.unpackResources()
	for _, r := range ws.resources {
		ws.setupAllowed(r)
	}
	ws.unpackHistory()
	ws.resolveMigrations()
	ws.applyMultipleActive()
	// constraints
	ws.unpackLocations()
	ws.applyNodeHealth()
	for _, r := range ws.resources {
		ws.groupInternalColocations(r)
	}
	ws.unpackColocations()
	ws.unpackOrders()
	ws.scheduleFencing()
	ws.applyFailcounts()
	for _, r := range ws.resources {
		ws.applyStickiness(r)
	}
	current := ws.status(false)
	// assign
	for _, r := range ws.assignmentOrder() {
		ws.assign(r, nil)
	}
	var scores map[string]map[string]int
	if in.Scores {
		scores = ws.scores()
	}
	// actions, fencing, orderings
	ws.planMigrations()
	for _, r := range ws.resources {
		ws.createActions(r)
	}
	ws.fencingActions()
	for _, r := range ws.resources {
		ws.internalOrderings(r)
	}
	ws.constraintOrderings()
	ws.propagateRunnable()
	ws.cancelMigrations()
	ws.propagateRequired()
	// graph
	res := &Result{Current: current, Scores: scores, Warnings: ws.warnings}
	res.Placement = ws.placement()
	res.Actions = ws.graph()
	res.Summary = ws.summary()
	res.Revised = ws.status(true)
	res.Warnings = ws.warnings
	return res
}

// assignmentOrder sorts top-level resources as Pacemaker 2.1 does:
// higher priority first, otherwise configuration order.
func (ws *workingSet) assignmentOrder() []*resource {
	list := append([]*resource(nil), ws.resources...)
	sort.SliceStable(list, func(i, j int) bool { return list[i].priority > list[j].priority })
	return list
}

func (ws *workingSet) scores() map[string]map[string]int {
	out := map[string]map[string]int{}
	for _, r := range ws.resources {
		ws.walk(r, func(x *resource) {
			m := map[string]int{}
			for i, ok := range x.allowedSet {
				if ok {
					m[ws.nodes[i].Name] = x.allowed[i]
				}
			}
			out[x.ID] = m
		})
	}
	return out
}
