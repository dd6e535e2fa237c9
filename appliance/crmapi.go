package appliance

import "time"

// Resource-manager control API (issue 5). The daemon side lives with the
// CRM wiring; the CLI (cmd/ovsha) is a thin client of these types. Writes
// return once the change is committed cluster-wide (every member of the
// ring holds it: Totem safe delivery) or fail; nothing is half-applied.
const (
	// GET: the CIB with its version; ?format=xml returns Pacemaker XML as
	// CIBResponse.XML, otherwise the JSON form in CIBResponse.CIB.
	// PUT: replace the configuration section (CIBReplaceRequest). 409 when
	// BaseVersion is no longer current (re-read and retry), 400 when the
	// new configuration is invalid (the message names the object).
	PathCIB = "/v1/cib"
	// GET: the CRM's view, like crm_mon --one-shot (CRMStatusResponse).
	PathCRMStatus = "/v1/crm/status"
	// GET: recent transitions with what triggered them and the time each
	// phase took (HistoryResponse). ?limit=N.
	PathCRMHistory = "/v1/crm/history"
	// POST: clear failcounts and operation history (CleanupRequest).
	PathCleanup = "/v1/crm/cleanup"
	// POST: fence a node now (FenceRequest); returns when done or failed.
	// GET: the cluster's fencing attempts, newest first
	// (FenceHistoryResponse).
	PathFence = "/v1/crm/fence"
	// GET: agent names this daemon resolves (AgentsResponse).
	// GET PathAgents+"/"+SPEC: one agent's metadata (AgentResponse).
	PathAgents = "/v1/agents"
	// POST: run one agent action on this node outside the cluster's
	// control, like crm_resource --force-start (DebugRequest/DebugResponse).
	PathDebug = "/v1/crm/debug"
)

// CIBVersion is Pacemaker's (admin_epoch, epoch, num_updates).
type CIBVersion struct {
	AdminEpoch int64 `json:"admin_epoch"`
	Epoch      int64 `json:"epoch"`
	NumUpdates int64 `json:"num_updates"`
}

// CIBResponse is GET /v1/cib.
type CIBResponse struct {
	Version CIBVersion `json:"version"`
	// XML is the whole CIB in Pacemaker's schema (format=xml).
	XML string `json:"xml,omitempty"`
	// CIB is the JSON form (cluster/cib's JSON encoding).
	CIB any `json:"cib,omitempty"`
}

// CIBReplaceRequest is PUT /v1/cib: the new configuration section (and
// nodes' permanent attributes) as Pacemaker XML, either a whole <cib> or
// just <configuration>, applied only if the CIB is still at BaseVersion.
// A nil BaseVersion forces the replacement (ovsha cib push --force).
type CIBReplaceRequest struct {
	BaseVersion *CIBVersion `json:"base_version,omitempty"`
	XML         string      `json:"xml"`
	// Reason is recorded in the transition history ("resource create vip").
	Reason string `json:"reason,omitempty"`
}

// CIBReplaceResponse is the answer to a committed PUT /v1/cib.
type CIBReplaceResponse struct {
	Version CIBVersion `json:"version"`
}

// CRMNode is one node in CRMStatusResponse.
type CRMNode struct {
	ID          uint32 `json:"nodeid"`
	Name        string `json:"name"`
	Online      bool   `json:"online"`
	Standby     bool   `json:"standby"`
	Maintenance bool   `json:"maintenance"`
	Unclean     bool   `json:"unclean"`
	// Attributes are the node's transient attributes (e.g. bond health).
	Attributes map[string]string `json:"attributes,omitempty"`
}

// CRMResource is one primitive (clone instances folded into its id).
type CRMResource struct {
	ID    string   `json:"id"`
	Agent string   `json:"agent"` // class:provider:type
	Role  string   `json:"role"`  // Started, Stopped, Starting, Stopping, FAILED, ...
	Nodes []string `json:"nodes"` // where it is active ([] when stopped)
	Group string   `json:"group,omitempty"`
	Clone string   `json:"clone,omitempty"`
	// Managed is false when is-managed=false or the cluster is in
	// maintenance; Disabled when target-role=Stopped.
	Managed  bool `json:"managed"`
	Disabled bool `json:"disabled"`
	// FailCount per node with failures.
	FailCount map[string]int `json:"failcount,omitempty"`
}

// FailedAction is a failed operation kept in the status section.
type FailedAction struct {
	Resource string    `json:"resource"`
	Op       string    `json:"op"` // start, stop, monitor
	Interval string    `json:"interval,omitempty"`
	Node     string    `json:"node"`
	RC       int       `json:"rc"`
	RCText   string    `json:"rc_text"` // e.g. OCF_NOT_RUNNING
	Reason   string    `json:"reason,omitempty"`
	At       time.Time `json:"at"`
}

// CRMStatusResponse is GET /v1/crm/status: at least dc, quorate, nodes
// and resources (the fields `ovsha status --json` prints).
type CRMStatusResponse struct {
	ClusterName   string         `json:"cluster_name"`
	DC            string         `json:"dc"` // node name, "" when none
	Quorate       bool           `json:"quorate"`
	Nodes         []CRMNode      `json:"nodes"`
	Resources     []CRMResource  `json:"resources"`
	FailedActions []FailedAction `json:"failed_actions"`
	CIBVersion    CIBVersion     `json:"cib_version"`
	// LastChange is when the CIB last changed and by which node.
	LastChange     time.Time `json:"last_change"`
	LastChangeNode string    `json:"last_change_node,omitempty"`
	// TransitionInProgress is true while the DC runs a transition.
	TransitionInProgress bool `json:"transition_in_progress"`
}

// Phase is one stage of a transition with how long it took.
type Phase struct {
	Name     string        `json:"name"` // detection, membership, scheduling, fencing, stop, start
	Duration time.Duration `json:"duration_ns"`
}

// Transition is one scheduler run as the DC executed it.
type Transition struct {
	ID       int       `json:"id"`
	DC       string    `json:"dc"`
	Trigger  string    `json:"trigger"` // what caused it: "node n2 left", "cib changed by n1: resource create vip", ...
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished,omitempty"`
	Result   string    `json:"result"`  // complete, aborted, failed
	Actions  []string  `json:"actions"` // "start vip on n2", ...
	Phases   []Phase   `json:"phases"`
}

// HistoryResponse is GET /v1/crm/history.
type HistoryResponse struct {
	Transitions []Transition `json:"transitions"`
}

// CleanupRequest is POST /v1/crm/cleanup. An empty Node means every node;
// an empty Resource every resource.
type CleanupRequest struct {
	Resource string `json:"resource,omitempty"`
	Node     string `json:"node,omitempty"`
}

// FenceRequest is POST /v1/crm/fence.
type FenceRequest struct {
	Node   string `json:"node"`
	Action string `json:"action,omitempty"` // reboot (default), off, on
}

// FenceEvent is one fencing attempt as the cluster recorded it.
type FenceEvent struct {
	Target   string        `json:"target"`
	Action   string        `json:"action"` // reboot, off, on
	Device   string        `json:"device,omitempty"`
	By       string        `json:"by"` // the node that fenced
	OK       bool          `json:"ok"`
	Reason   string        `json:"reason,omitempty"`
	At       time.Time     `json:"at"`
	Duration time.Duration `json:"duration_ns"` // including any fencing delay
}

// FenceHistoryResponse is GET /v1/crm/fence: newest first.
type FenceHistoryResponse struct {
	Events []FenceEvent `json:"events"`
}

// AgentsResponse is GET /v1/agents.
type AgentsResponse struct {
	Agents []string `json:"agents"`
}

// AgentParam is one parameter in AgentResponse.
type AgentParam struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Default  string `json:"default,omitempty"`
	Required bool   `json:"required"`
	Unique   bool   `json:"unique,omitempty"`
	Desc     string `json:"desc,omitempty"`
}

// AgentResponse is GET /v1/agents/SPEC.
type AgentResponse struct {
	Name    string       `json:"name"`
	Desc    string       `json:"desc,omitempty"`
	Params  []AgentParam `json:"params"`
	Actions []string     `json:"actions"`
	// Text is agents.Describe's human-readable form.
	Text string `json:"text"`
}

// DebugRequest is POST /v1/crm/debug.
type DebugRequest struct {
	Resource string `json:"resource"`
	Action   string `json:"action"` // start, stop, monitor, validate-all
}

// DebugResponse reports the action's OCF result.
type DebugResponse struct {
	RC     int    `json:"rc"`
	RCText string `json:"rc_text"`
	Output string `json:"output,omitempty"`
}
