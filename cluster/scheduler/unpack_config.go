package scheduler

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ovsha/ovsha/cluster/cib"
)

// options are the cluster properties the scheduler honours.
type options struct {
	symmetric         bool
	fencingEnabled    bool
	startupFencing    bool
	noQuorumPolicy    string
	stopOrphans       bool
	startFailureFatal bool
	maintenanceMode   bool
	stopAll           bool
	healthStrategy    string
	healthRed         int
	healthYellow      int
	healthGreen       int
	stickinessDefault string
	haveQuorum        bool
	haveFencingDevice bool
}

// workingSet is the scheduler's state for one run.
type workingSet struct {
	in          Input
	now         int64
	opts        options
	nodes       []*node
	nodeByName  map[string]*node
	nodeByID    map[string]*node
	resources   []*resource // top-level, configuration order
	byID        map[string]*resource
	rscDefaults map[string]string
	opDefaults  map[string]string
	colocations []*colocation
	orderings   []*ordering
	actions     []*action
	edges       []*edge
	warnings    []string
	// noMigrate names primitives that must move by stop/start: their
	// migration was found on an ordering loop in an earlier pass.
	noMigrate map[string]bool
}

func (ws *workingSet) warnf(format string, a ...any) {
	ws.warnings = append(ws.warnings, fmt.Sprintf(format, a...))
}

// normName maps legacy underscore spellings (target_role) to dashes.
func normName(n string) string { return strings.ReplaceAll(n, "_", "-") }

// nvMap flattens unconditional NV sets into a map; earlier sets win, as in
// Pacemaker (the first set that defines a name gives its value).
func nvMap(sets []cib.NVSet) map[string]string {
	m := map[string]string{}
	for _, s := range sets {
		if len(s.Rules) > 0 {
			continue
		}
		for _, p := range s.Pairs {
			n := normName(p.Name)
			if _, ok := m[n]; !ok {
				m[n] = p.Value
			}
		}
	}
	return m
}

func isTrue(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "on", "yes", "y", "1":
		return true
	}
	return false
}

func boolOr(m map[string]string, k string, def bool) bool {
	if v, ok := m[k]; ok {
		return isTrue(v)
	}
	return def
}

func (ws *workingSet) unpackOptions() {
	c := ws.in.CIB
	props := map[string]string{}
	for _, s := range c.Config.CRMConfig {
		if len(s.Rules) > 0 {
			continue
		}
		for _, p := range s.Pairs {
			n := cib.CanonicalProperty(normName(p.Name))
			if _, ok := props[n]; !ok {
				props[n] = p.Value
			}
		}
	}
	o := &ws.opts
	o.symmetric = boolOr(props, "symmetric-cluster", true)
	o.fencingEnabled = boolOr(props, "fencing-enabled", true)
	o.startupFencing = boolOr(props, "startup-fencing", true)
	o.noQuorumPolicy = strings.ToLower(props["no-quorum-policy"])
	if o.noQuorumPolicy == "" {
		o.noQuorumPolicy = "stop"
	}
	o.stopOrphans = boolOr(props, "stop-orphan-resources", true)
	o.startFailureFatal = boolOr(props, "start-failure-is-fatal", true)
	o.maintenanceMode = boolOr(props, "maintenance-mode", false)
	o.stopAll = boolOr(props, "stop-all-resources", false)
	o.healthStrategy = strings.ToLower(props["node-health-strategy"])
	o.healthRed = parseScore(orDefault(props["node-health-red"], "-INFINITY"))
	o.healthYellow = parseScore(orDefault(props["node-health-yellow"], "0"))
	o.healthGreen = parseScore(orDefault(props["node-health-green"], "0"))
	if v, ok := props["default-resource-stickiness"]; ok {
		o.stickinessDefault = v
	}
	switch {
	case ws.in.Quorum != nil:
		o.haveQuorum = *ws.in.Quorum
	default:
		o.haveQuorum = isTrue(c.HaveQuorum)
	}
	ws.rscDefaults = map[string]string{}
	if c.Config.RscDefaults != nil {
		ws.rscDefaults = nvMap(c.Config.RscDefaults.Meta)
	}
	if _, ok := ws.rscDefaults["resource-stickiness"]; !ok && o.stickinessDefault != "" {
		ws.rscDefaults["resource-stickiness"] = o.stickinessDefault
	}
	ws.opDefaults = map[string]string{}
	if c.Config.OpDefaults != nil {
		ws.opDefaults = nvMap(c.Config.OpDefaults.Meta)
	}
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func (ws *workingSet) unpackNodes() {
	ws.nodeByName = map[string]*node{}
	ws.nodeByID = map[string]*node{}
	for _, cn := range ws.in.CIB.Config.Nodes {
		if cn.Type == "remote" || cn.Type == "ping" {
			continue
		}
		n := &node{idx: len(ws.nodes), ID: cn.ID, Name: cn.Uname, attrs: map[string]string{}}
		if n.Name == "" {
			n.Name = n.ID
		}
		for k, v := range rawMap(cn.Attrs) {
			n.attrs[k] = v
		}
		n.attrs["#uname"] = n.Name
		n.attrs["#id"] = n.ID
		n.attrs["#kind"] = "cluster"
		// Until its status entry is seen, a node is unclean when fencing
		// is enabled with startup-fencing (Pacemaker's startup fencing).
		n.unseen = true
		n.unclean = ws.opts.fencingEnabled && ws.opts.startupFencing
		ws.nodes = append(ws.nodes, n)
		ws.nodeByName[n.Name] = n
		ws.nodeByID[n.ID] = n
	}
	sort.SliceStable(ws.nodes, func(i, j int) bool { return ws.nodes[i].Name < ws.nodes[j].Name })
	for i, n := range ws.nodes {
		n.idx = i
	}
}

// rawMap flattens NV sets without renaming (node attributes keep names).
func rawMap(sets []cib.NVSet) map[string]string {
	m := map[string]string{}
	for _, s := range sets {
		if len(s.Rules) > 0 {
			continue
		}
		for _, p := range s.Pairs {
			if _, ok := m[p.Name]; !ok {
				m[p.Name] = p.Value
			}
		}
	}
	return m
}

func (ws *workingSet) lookupNode(name string) *node {
	if n := ws.nodeByName[name]; n != nil {
		return n
	}
	return ws.nodeByID[name]
}
