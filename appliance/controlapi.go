package appliance

import (
	"errors"
	"fmt"

	"github.com/ovsha/ovsha/cluster/cmap"
)

// Control API paths added for operations and cmap (see docs/control-api.md).
const (
	// PathReload: POST, no body or {} — re-read the configuration
	// (ReloadResponse), like corosync-cfgtool -R.
	PathReload = "/v1/reload"
	// PathQuorumExpected: POST ExpectedRequest — change expected votes on
	// every member of the view (corosync-quorumtool -e); answers
	// QuorumResponse after the change, 409 with the quorum package's
	// reason when refused.
	PathQuorumExpected = "/v1/quorum/expected"
	// PathCmap: GET ?prefix=P lists keys (CmapListResponse).
	// PathCmap+"/"+KEY: GET (CmapEntry), PUT CmapValue (CmapEntry),
	// DELETE (204).
	PathCmap = "/v1/cmap"
	// PathCmapTrack: GET ?prefix=P streams CmapEvent objects, one JSON
	// object per line, until the client goes away. The key "track" is
	// therefore not addressable through PathCmap+"/track".
	PathCmapTrack = "/v1/cmap/track"
)

// ExpectedRequest is the body of POST /v1/quorum/expected.
type ExpectedRequest struct {
	ExpectedVotes uint32 `json:"expected_votes"`
}

// Validate implements validator.
func (r *ExpectedRequest) Validate() error {
	if r.ExpectedVotes == 0 {
		return errors.New(`field "expected_votes": want at least 1`)
	}
	return nil
}

// CmapValue is a typed cmap value: Type is corosync's short name (i8 u8
// i16 u16 i32 u32 i64 u64 flt dbl str bin), Value its text (bin in hex).
// It is the body of PUT /v1/cmap/KEY.
type CmapValue struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// Validate implements validator.
func (v *CmapValue) Validate() error {
	_, err := v.parse()
	return err
}

func (v *CmapValue) parse() (cmap.Value, error) {
	t, err := cmap.ParseType(v.Type)
	if err != nil {
		return cmap.Value{}, fmt.Errorf(`field "type": %w`, err)
	}
	val, err := cmap.ParseValue(t, v.Value)
	if err != nil {
		return cmap.Value{}, fmt.Errorf(`field "value": %w`, err)
	}
	return val, nil
}

// CmapEntry is one key with its typed value.
type CmapEntry struct {
	Key   string `json:"key"`
	Type  string `json:"type"`
	Value string `json:"value"`
}

func cmapEntry(key string, v cmap.Value) CmapEntry {
	return CmapEntry{Key: key, Type: v.Type().String(), Value: v.String()}
}

// CmapListResponse is GET /v1/cmap?prefix=P, in key order.
type CmapListResponse struct {
	Entries []CmapEntry `json:"entries"`
}

// CmapEvent is one line of GET /v1/cmap/track.
type CmapEvent struct {
	// Event is "added", "modified" or "deleted".
	Event string `json:"event"`
	Key   string `json:"key"`
	// Type and Value are the new value (empty for deleted).
	Type  string `json:"type,omitempty"`
	Value string `json:"value,omitempty"`
	// OldType and OldValue are the previous value (empty for added).
	OldType  string `json:"old_type,omitempty"`
	OldValue string `json:"old_value,omitempty"`
	// Missed counts events dropped before this one because the client
	// read too slowly; re-read the keys with GET /v1/cmap.
	Missed uint64 `json:"missed,omitempty"`
}

// ConfigChange is one configuration key whose value differs between the
// running configuration and the file ("" = absent).
type ConfigChange struct {
	Key string `json:"key"`
	Old string `json:"old"`
	New string `json:"new"`
}

// ReloadResponse is the answer to POST /v1/reload.
type ReloadResponse struct {
	Config string `json:"config"`
	// Applied changes are in effect now.
	Applied []ConfigChange `json:"applied"`
	// NeedsRestart changes are recorded in cmap but take effect only when
	// ovshad restarts (totem timers, nodelist, quorum options other than
	// expected_votes, the metrics listener, the control socket path).
	NeedsRestart []ConfigChange `json:"needs_restart"`
}
