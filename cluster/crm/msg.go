package crm

import (
	"encoding/json"
	"fmt"

	"github.com/ovsha/ovsha/cluster/cib"
)

// Message kinds. Each is one CRM message in the ring's total order; the
// payload on the wire is the service byte followed by the JSON message.
const (
	kindReplace  = "replace"  // configuration replacement (client write)
	kindOp       = "op"       // an operation result from a node's executor
	kindAttr     = "attr"     // a transient node attribute set or removed
	kindCleanup  = "cleanup"  // clear failcounts and operation history
	kindExec     = "exec"     // the DC asks a node to run an action
	kindFenced   = "fenced"   // the DC fenced a node (or failed to)
	kindAnnounce = "announce" // CIB version after a configuration change
	kindSync     = "sync"     // the winner's whole CIB
	kindDown     = "down"     // a node leaves cleanly (expected down)
)

// message is the one wire form of every CRM message; Kind says which
// fields are set.
type message struct {
	Kind string `json:"k"`
	From uint32 `json:"from"`
	// Req identifies a client request so its origin can answer it.
	Req string `json:"req,omitempty"`
	// At is the sender's clock (Unix seconds) when it matters to the
	// content (last-rc-change, last-failure): every node applies the same.
	At int64 `json:"at,omitempty"`

	// replace
	Base   *cib.Version `json:"base,omitempty"`
	XML    string       `json:"xml,omitempty"`
	Reason string       `json:"reason,omitempty"`

	// op
	Op *opResult `json:"op,omitempty"`

	// attr, cleanup, fenced, down
	Node     string `json:"node,omitempty"`
	Name     string `json:"name,omitempty"`
	Value    string `json:"value,omitempty"`
	Delete   bool   `json:"delete,omitempty"`
	Resource string `json:"rsc,omitempty"`

	// exec
	Exec *execRequest `json:"exec,omitempty"`

	// fenced
	Fence *FenceEvent `json:"fence,omitempty"`

	// announce
	Version cib.Version `json:"version,omitzero"`
	Digest  string      `json:"digest,omitempty"`
	Fresh   bool        `json:"fresh,omitempty"`
	LRM     *cib.LRM    `json:"lrm,omitempty"`
	Epoch   uint64      `json:"sync_epoch,omitempty"`
}

// opResult is one finished operation as the executor reports it.
type opResult struct {
	Node       string `json:"node"`
	Resource   string `json:"rsc"`
	Class      string `json:"class,omitempty"`
	Provider   string `json:"provider,omitempty"`
	Type       string `json:"type,omitempty"`
	Task       string `json:"task"`
	IntervalMS int64  `json:"interval_ms,omitempty"`
	RC         int    `json:"rc"`
	// OpStatus is Pacemaker's execution status: 0 done, 2 timed out,
	// 4 error (the rc says which).
	OpStatus   int    `json:"op_status"`
	Expected   int    `json:"expected"`
	Transition string `json:"transition,omitempty"` // the DC's graph key, "" outside a transition
	Action     int    `json:"action"`
	Reason     string `json:"reason,omitempty"`
	DurationMS int64  `json:"duration_ms"`
	// MigrateSource and MigrateTarget are set on migrate_to and
	// migrate_from results (recorded as the op's migrate_source and
	// migrate_target, as Pacemaker does).
	MigrateSource string `json:"migrate_source,omitempty"`
	MigrateTarget string `json:"migrate_target,omitempty"`
}

// failed reports whether the result is a failure that counts against the
// resource (the probe results 0 and 7 are findings, not failures).
func (o *opResult) failed() bool {
	if o.OpStatus != 0 && o.OpStatus != 4 {
		return true
	}
	if o.Task == "monitor" && o.IntervalMS == 0 {
		return o.RC != 0 && o.RC != 7
	}
	return o.RC != o.Expected
}

// execRequest is one transition action addressed to a node.
type execRequest struct {
	Node       string `json:"node"`
	Resource   string `json:"rsc"`
	Task       string `json:"task"`
	IntervalMS int64  `json:"interval_ms,omitempty"`
	Transition string `json:"transition"`
	Action     int    `json:"action"`
	Expected   int    `json:"expected"`
	// MigrateSource and MigrateTarget name the two ends of a migrate_to
	// or migrate_from (the agent sees them as CRM_meta_migrate_source
	// and CRM_meta_migrate_target).
	MigrateSource string `json:"migrate_source,omitempty"`
	MigrateTarget string `json:"migrate_target,omitempty"`
	// StoppedOn names the node this transition just stopped the same
	// resource on (a start that completes a move): the agent sees it as
	// CRM_meta_stopped_on and may skip checks that only matter when the
	// previous holder is unknown (the VIP's duplicate-address probe).
	StoppedOn string `json:"stopped_on,omitempty"`
}

func encode(service byte, m *message) ([]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encoding crm %s message: %w", m.Kind, err)
	}
	return append([]byte{service}, b...), nil
}

func decode(payload []byte) (*message, error) {
	if len(payload) < 2 {
		return nil, fmt.Errorf("crm message of %d bytes: too short", len(payload))
	}
	var m message
	if err := json.Unmarshal(payload[1:], &m); err != nil {
		return nil, fmt.Errorf("decoding crm message: %w", err)
	}
	if m.Kind == "" {
		return nil, fmt.Errorf("crm message without a kind")
	}
	return &m, nil
}
