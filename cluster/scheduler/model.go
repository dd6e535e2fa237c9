package scheduler

import "github.com/ovsha/ovsha/cluster/cib"

// Node is one cluster node as the scheduler sees it.
type node struct {
	idx   int
	ID    string
	Name  string
	attrs map[string]string

	online      bool
	unclean     bool
	unseen      bool
	standby     bool
	pending     bool
	maintenance bool
	shutdown    bool
	expectedUp  bool
	fence       bool // a fencing action is scheduled
	fenceReason string

	numResources int
	weight       int // base weight (node health)
}

// canRun reports whether new resources may be placed on the node.
func (n *node) canRun() bool {
	return n != nil && n.online && !n.shutdown && !n.unclean && !n.standby && !n.maintenance
}

type kind int

const (
	kindPrimitive kind = iota
	kindGroup
	kindClone
)

// onFail is an operation failure policy, in increasing severity.
type onFail int

const (
	failIgnore onFail = iota
	failRestart
	failBlock
	failStop
	failStandby
	failFence
)

// resource is a primitive, group or clone (and clone instances).
type resource struct {
	ID       string
	kind     kind
	parent   *resource
	children []*resource
	cfg      *cib.Resource // the configured element (for clone instances: the child's)
	meta     map[string]string
	order    int

	// configuration derived from meta attributes
	priority           int
	stickiness         int
	migrationThreshold int
	failureTimeout     int64
	targetStopped      bool
	managed            bool
	unique             bool // globally-unique (clones) / always true for primitives
	cloneMax           int
	cloneNodeMax       int
	cloneMin           int
	interleave         bool
	ordered            bool
	groupColocated     bool
	stonithClass       bool
	requiresNothing    bool
	ops                []opDef
	cloneInstance      int // instance number for clone children, -1 otherwise

	// state from the status section
	runningOn    []*node
	failed       bool
	failedOn     map[*node]bool
	blocked      bool
	onFail       onFail
	orphan       bool
	pendingStart bool
	historyNodes map[*node]bool
	monitorsOn   map[*node]map[int64]bool // recurring monitors known to run, per node
	changedOn    map[*node]int64          // when the last state-deciding op completed, per node
	migOps       map[*node]*migOp         // a migration op that last decided the state, per node
	dangling     []*node                  // nodes needing a stop although not active (migration leftovers)
	// partialTarget is the target of a migration whose migrate_to
	// completed but whose migrate_from is not recorded yet: the
	// migration continues from migrate_from if the resource still goes
	// there (otherwise the target gets a cleanup stop if it has history).
	partialTarget *node

	// assignment
	allowed     []int  // score per node index
	allowedSet  []bool // node index present in allowed_nodes
	assigned    *node
	provisional bool
	allocating  bool
	merging     bool
	cons        []*colocation // this resource is the dependent
	consLHS     []*colocation // this resource is the primary
	nodeCount   []int         // clones: instances per node

	// live migration (migration.go): migrating is set when the resource
	// moves from migSource to assigned by migrate_to/migrate_from.
	migrating   bool
	migPartial  bool // continuing from migrate_from: migrate_to is done
	migSource   *node
	migrateTo   *action
	migrateFrom *action

	// actions
	startAct *action
	stopActs map[*node]*action
	actions  []*action
	pseudo   map[string]*action
}

type opDef struct {
	name     string
	interval int64 // milliseconds
	onFail   string
	role     string
	enabled  bool
	timeout  string
}

type colocation struct {
	ID        string
	dependent *resource
	primary   *resource
	score     int
	nodeAttr  string
	influence bool
}

type orderKind int

const (
	orderMandatory orderKind = iota
	orderOptional
	orderSerialize
)

type ordering struct {
	ID          string
	first       *resource
	firstAction string
	then        *resource
	thenAction  string
	kind        orderKind
	symmetrical bool
	requireAll  bool
}

// topParent returns the outermost ancestor.
func (r *resource) topParent() *resource {
	for r.parent != nil {
		r = r.parent
	}
	return r
}

// cloneAncestor returns the clone this resource is (inside) an instance of.
func (r *resource) cloneAncestor() *resource {
	for p := r.parent; p != nil; p = p.parent {
		if p.kind == kindClone {
			return p
		}
	}
	return nil
}

// primitives returns the primitive resources under r (r itself if primitive).
func (r *resource) primitives() []*resource {
	if r.kind == kindPrimitive {
		return []*resource{r}
	}
	var out []*resource
	for _, c := range r.children {
		out = append(out, c.primitives()...)
	}
	return out
}

func (r *resource) currentNode() *node {
	if len(r.runningOn) == 0 {
		return nil
	}
	return r.runningOn[0]
}

// isRunning reports whether any primitive under r is active.
func (r *resource) isRunning() bool {
	if r.kind == kindPrimitive {
		return len(r.runningOn) > 0
	}
	for _, c := range r.children {
		if c.isRunning() {
			return true
		}
	}
	return false
}

// baseID strips a clone instance suffix (":N").
func baseID(id string) string {
	for i := len(id) - 1; i >= 0; i-- {
		if id[i] == ':' {
			return id[:i]
		}
	}
	return id
}
