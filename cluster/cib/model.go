package cib

import "encoding/xml"

// CIB is a whole cluster information base: version attributes, the
// configuration (desired state) and the status section (observed state).
type CIB struct {
	XMLName      xml.Name      `xml:"cib" json:"-"`
	AdminEpoch   int           `xml:"admin_epoch,attr" json:"admin_epoch"`
	Epoch        int           `xml:"epoch,attr" json:"epoch"`
	NumUpdates   int           `xml:"num_updates,attr" json:"num_updates"`
	ValidateWith string        `xml:"validate-with,attr,omitempty" json:"validate_with,omitempty"`
	HaveQuorum   string        `xml:"have-quorum,attr,omitempty" json:"have_quorum,omitempty"`
	DCUUID       string        `xml:"dc-uuid,attr,omitempty" json:"dc_uuid,omitempty"`
	Other        []xml.Attr    `xml:",any,attr" json:"other_attrs,omitempty"`
	Config       Configuration `xml:"configuration" json:"configuration"`
	Status       Status        `xml:"status" json:"status"`
}

// Configuration is the desired state: what the administrator wrote.
type Configuration struct {
	CRMConfig   []NVSet     `xml:"crm_config>cluster_property_set" json:"crm_config,omitempty"`
	Nodes       []Node      `xml:"nodes>node" json:"nodes,omitempty"`
	Resources   Resources   `xml:"resources" json:"resources"`
	Constraints Constraints `xml:"constraints" json:"constraints"`
	RscDefaults *Defaults   `xml:"rsc_defaults,omitempty" json:"rsc_defaults,omitempty"`
	OpDefaults  *Defaults   `xml:"op_defaults,omitempty" json:"op_defaults,omitempty"`
	Extra       []Element   `xml:",any" json:"extra,omitempty"`
}

// Defaults is rsc_defaults or op_defaults: meta attribute sets.
type Defaults struct {
	Meta []NVSet `xml:"meta_attributes" json:"meta,omitempty"`
}

// NVSet is a set of name/value pairs (cluster_property_set,
// instance_attributes, meta_attributes), optionally conditional on a rule.
type NVSet struct {
	ID    string   `xml:"id,attr,omitempty" json:"id,omitempty"`
	Score string   `xml:"score,attr,omitempty" json:"score,omitempty"`
	Rules []Rule   `xml:"rule" json:"rules,omitempty"`
	Pairs []NVPair `xml:"nvpair" json:"pairs,omitempty"`
}

// NVPair is one name/value pair.
type NVPair struct {
	ID    string `xml:"id,attr,omitempty" json:"id,omitempty"`
	Name  string `xml:"name,attr" json:"name"`
	Value string `xml:"value,attr" json:"value"`
}

// Node is a configured cluster node with its permanent attributes.
type Node struct {
	ID          string     `xml:"id,attr" json:"id"`
	Uname       string     `xml:"uname,attr" json:"uname"`
	Type        string     `xml:"type,attr,omitempty" json:"type,omitempty"`
	Attrs       []NVSet    `xml:"instance_attributes" json:"attributes,omitempty"`
	Utilization []NVSet    `xml:"utilization" json:"utilization,omitempty"`
	Other       []xml.Attr `xml:",any,attr" json:"other_attrs,omitempty"`
}

// Resources is the ordered list of top-level resources.
type Resources struct {
	Items []Resource `xml:",any" json:"items,omitempty"`
}

// Resource kinds, as XML element names.
const (
	KindPrimitive = "primitive"
	KindGroup     = "group"
	KindClone     = "clone"
	KindMaster    = "master" // legacy promotable clone; parsed, not scheduled
)

// Resource is a primitive, a group or a clone. Kind is the XML element name;
// Children holds group members or the clone's single child, in order.
type Resource struct {
	XMLName  xml.Name    `json:"-"`
	Kind     string      `xml:"-" json:"kind"`
	ID       string      `xml:"id,attr" json:"id"`
	Class    string      `xml:"class,attr,omitempty" json:"class,omitempty"`
	Provider string      `xml:"provider,attr,omitempty" json:"provider,omitempty"`
	Type     string      `xml:"type,attr,omitempty" json:"type,omitempty"`
	Other    []xml.Attr  `xml:",any,attr" json:"other_attrs,omitempty"`
	Meta     []NVSet     `xml:"meta_attributes" json:"meta,omitempty"`
	Instance []NVSet     `xml:"instance_attributes" json:"instance,omitempty"`
	Ops      *Operations `xml:"operations,omitempty" json:"operations,omitempty"`
	Util     []NVSet     `xml:"utilization" json:"utilization,omitempty"`
	Children []Resource  `xml:",any" json:"children,omitempty"`
}

// Operations is a primitive's operation definitions.
type Operations struct {
	ID  string `xml:"id,attr,omitempty" json:"id,omitempty"`
	Ops []Op   `xml:"op" json:"ops,omitempty"`
}

// Op is one operation definition (start, stop, monitor with an interval).
type Op struct {
	ID       string     `xml:"id,attr,omitempty" json:"id,omitempty"`
	Name     string     `xml:"name,attr" json:"name"`
	Interval string     `xml:"interval,attr" json:"interval"`
	Timeout  string     `xml:"timeout,attr,omitempty" json:"timeout,omitempty"`
	OnFail   string     `xml:"on-fail,attr,omitempty" json:"on_fail,omitempty"`
	Role     string     `xml:"role,attr,omitempty" json:"role,omitempty"`
	Enabled  string     `xml:"enabled,attr,omitempty" json:"enabled,omitempty"`
	Other    []xml.Attr `xml:",any,attr" json:"other_attrs,omitempty"`
	Meta     []NVSet    `xml:"meta_attributes" json:"meta,omitempty"`
	Instance []NVSet    `xml:"instance_attributes" json:"instance,omitempty"`
}

// Constraint kinds, as XML element names.
const (
	KindLocation   = "rsc_location"
	KindColocation = "rsc_colocation"
	KindOrder      = "rsc_order"
)

// Constraints is the ordered list of constraints.
type Constraints struct {
	Items []Constraint `xml:",any" json:"items,omitempty"`
}

// Constraint is an rsc_location, rsc_colocation or rsc_order (Kind is the
// element name). Only the attributes of its kind are set.
type Constraint struct {
	XMLName xml.Name `json:"-"`
	Kind    string   `xml:"-" json:"kind"`
	ID      string   `xml:"id,attr" json:"id"`
	// rsc_location: Rsc on Node with Score, or Rules.
	// rsc_colocation: Rsc (dependent) with WithRsc at Score.
	Rsc           string `xml:"rsc,attr,omitempty" json:"rsc,omitempty"`
	RscPattern    string `xml:"rsc-pattern,attr,omitempty" json:"rsc_pattern,omitempty"`
	Node          string `xml:"node,attr,omitempty" json:"node,omitempty"`
	Score         string `xml:"score,attr,omitempty" json:"score,omitempty"`
	Role          string `xml:"role,attr,omitempty" json:"role,omitempty"`
	WithRsc       string `xml:"with-rsc,attr,omitempty" json:"with_rsc,omitempty"`
	RscRole       string `xml:"rsc-role,attr,omitempty" json:"rsc_role,omitempty"`
	WithRscRole   string `xml:"with-rsc-role,attr,omitempty" json:"with_rsc_role,omitempty"`
	NodeAttribute string `xml:"node-attribute,attr,omitempty" json:"node_attribute,omitempty"`
	Influence     string `xml:"influence,attr,omitempty" json:"influence,omitempty"`
	// rsc_order: First (FirstAction) then Then (ThenAction).
	First       string `xml:"first,attr,omitempty" json:"first,omitempty"`
	Then        string `xml:"then,attr,omitempty" json:"then,omitempty"`
	FirstAction string `xml:"first-action,attr,omitempty" json:"first_action,omitempty"`
	ThenAction  string `xml:"then-action,attr,omitempty" json:"then_action,omitempty"`
	// OrderKind is Mandatory (default), Optional or Serialize.
	OrderKind   string        `xml:"kind,attr,omitempty" json:"order_kind,omitempty"`
	Symmetrical string        `xml:"symmetrical,attr,omitempty" json:"symmetrical,omitempty"`
	Other       []xml.Attr    `xml:",any,attr" json:"other_attrs,omitempty"`
	Rules       []Rule        `xml:"rule" json:"rules,omitempty"`
	Sets        []ResourceSet `xml:"resource_set" json:"sets,omitempty"`
}

// ResourceSet is a resource_set inside a colocation or order constraint.
type ResourceSet struct {
	ID         string     `xml:"id,attr,omitempty" json:"id,omitempty"`
	Sequential string     `xml:"sequential,attr,omitempty" json:"sequential,omitempty"`
	RequireAll string     `xml:"require-all,attr,omitempty" json:"require_all,omitempty"`
	Action     string     `xml:"action,attr,omitempty" json:"action,omitempty"`
	Role       string     `xml:"role,attr,omitempty" json:"role,omitempty"`
	Score      string     `xml:"score,attr,omitempty" json:"score,omitempty"`
	Kind       string     `xml:"kind,attr,omitempty" json:"kind,omitempty"`
	Other      []xml.Attr `xml:",any,attr" json:"other_attrs,omitempty"`
	Refs       []struct {
		ID string `xml:"id,attr" json:"id"`
	} `xml:"resource_ref" json:"refs,omitempty"`
}

// Rule is a rule over node attributes, with nested expressions and rules.
type Rule struct {
	ID             string       `xml:"id,attr,omitempty" json:"id,omitempty"`
	Score          string       `xml:"score,attr,omitempty" json:"score,omitempty"`
	ScoreAttribute string       `xml:"score-attribute,attr,omitempty" json:"score_attribute,omitempty"`
	BooleanOp      string       `xml:"boolean-op,attr,omitempty" json:"boolean_op,omitempty"`
	Role           string       `xml:"role,attr,omitempty" json:"role,omitempty"`
	Expressions    []Expression `xml:"expression" json:"expressions,omitempty"`
	Rules          []Rule       `xml:"rule" json:"rules,omitempty"`
	Other          []Element    `xml:",any" json:"other,omitempty"`
}

// Expression compares a node attribute with a value.
type Expression struct {
	ID          string `xml:"id,attr,omitempty" json:"id,omitempty"`
	Attribute   string `xml:"attribute,attr" json:"attribute"`
	Operation   string `xml:"operation,attr" json:"operation"`
	Value       string `xml:"value,attr,omitempty" json:"value,omitempty"`
	Type        string `xml:"type,attr,omitempty" json:"type,omitempty"`
	ValueSource string `xml:"value-source,attr,omitempty" json:"value_source,omitempty"`
}

// Element is an XML element ovsha does not model, kept verbatim.
type Element struct {
	XMLName xml.Name   `json:"name"`
	Attrs   []xml.Attr `xml:",any,attr" json:"attrs,omitempty"`
	Inner   string     `xml:",innerxml" json:"inner,omitempty"`
}

// Status is the observed state: one entry per node.
type Status struct {
	Nodes []NodeState `xml:"node_state" json:"nodes,omitempty"`
}

// NodeState is one node's membership state, transient attributes and
// resource operation history.
type NodeState struct {
	ID        string     `xml:"id,attr" json:"id"`
	Uname     string     `xml:"uname,attr,omitempty" json:"uname,omitempty"`
	InCCM     string     `xml:"in_ccm,attr,omitempty" json:"in_ccm,omitempty"`
	Crmd      string     `xml:"crmd,attr,omitempty" json:"crmd,omitempty"`
	Join      string     `xml:"join,attr,omitempty" json:"join,omitempty"`
	Expected  string     `xml:"expected,attr,omitempty" json:"expected,omitempty"`
	Other     []xml.Attr `xml:",any,attr" json:"other_attrs,omitempty"`
	Transient *Transient `xml:"transient_attributes,omitempty" json:"transient,omitempty"`
	LRM       *LRM       `xml:"lrm,omitempty" json:"lrm,omitempty"`
}

// Transient holds a node's transient attributes (failcounts, standby...).
type Transient struct {
	ID    string  `xml:"id,attr,omitempty" json:"id,omitempty"`
	Attrs []NVSet `xml:"instance_attributes" json:"attributes,omitempty"`
}

// LRM is a node's resource operation history.
type LRM struct {
	ID        string        `xml:"id,attr,omitempty" json:"id,omitempty"`
	Resources []LRMResource `xml:"lrm_resources>lrm_resource" json:"resources,omitempty"`
}

// LRMResource is the operation history of one resource on one node.
type LRMResource struct {
	ID       string     `xml:"id,attr" json:"id"`
	Class    string     `xml:"class,attr,omitempty" json:"class,omitempty"`
	Provider string     `xml:"provider,attr,omitempty" json:"provider,omitempty"`
	Type     string     `xml:"type,attr,omitempty" json:"type,omitempty"`
	Other    []xml.Attr `xml:",any,attr" json:"other_attrs,omitempty"`
	Ops      []LRMOp    `xml:"lrm_rsc_op" json:"ops,omitempty"`
}

// LRMOp is one recorded operation result.
type LRMOp struct {
	ID              string     `xml:"id,attr" json:"id"`
	Operation       string     `xml:"operation,attr" json:"operation"`
	Interval        string     `xml:"interval,attr,omitempty" json:"interval,omitempty"`
	OpStatus        string     `xml:"op-status,attr,omitempty" json:"op_status,omitempty"`
	RCCode          string     `xml:"rc-code,attr,omitempty" json:"rc_code,omitempty"`
	CallID          string     `xml:"call-id,attr,omitempty" json:"call_id,omitempty"`
	TransitionKey   string     `xml:"transition-key,attr,omitempty" json:"transition_key,omitempty"`
	TransitionMagic string     `xml:"transition-magic,attr,omitempty" json:"transition_magic,omitempty"`
	LastRCChange    string     `xml:"last-rc-change,attr,omitempty" json:"last_rc_change,omitempty"`
	LastRun         string     `xml:"last-run,attr,omitempty" json:"last_run,omitempty"`
	FeatureSet      string     `xml:"crm_feature_set,attr,omitempty" json:"crm_feature_set,omitempty"`
	OnNode          string     `xml:"on_node,attr,omitempty" json:"on_node,omitempty"`
	Other           []xml.Attr `xml:",any,attr" json:"other_attrs,omitempty"`
}
