package main

import (
	"strings"
	"testing"

	"github.com/ovsha/ovsha/appliance"
)

// TestCheckParams: parameters an agent does not declare are refused
// (unless forced), except the fencer's own pcmk_* settings on a fence
// device; required parameters are always needed.
func TestCheckParams(t *testing.T) {
	meta := &appliance.AgentResponse{Params: []appliance.AgentParam{{Name: "ip", Required: true}, {Name: "port"}}}
	tests := []struct {
		name    string
		spec    string
		params  map[string]string
		force   bool
		wantErr string
	}{
		{"declared", "ocf:heartbeat:IPaddr2", map[string]string{"ip": "192.0.2.1"}, false, ""},
		{"undeclared", "ocf:heartbeat:IPaddr2", map[string]string{"ip": "192.0.2.1", "colour": "red"}, false, "has no parameter colour"},
		{"undeclared, forced", "ocf:heartbeat:IPaddr2", map[string]string{"ip": "192.0.2.1", "colour": "red"}, true, ""},
		{"pcmk_ on a fence device", "stonith:fence_xvm", map[string]string{"ip": "192.0.2.1", "pcmk_host_list": "n1", "pcmk_delay_base": "1s"}, false, ""},
		{"pcmk_ on a resource", "ocf:heartbeat:IPaddr2", map[string]string{"ip": "192.0.2.1", "pcmk_host_list": "n1"}, false, "has no parameter pcmk_host_list"},
		{"required missing", "stonith:fence_xvm", map[string]string{"pcmk_host_list": "n1"}, true, "requires parameter ip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkParams("r1", tt.spec, meta, tt.params, tt.force)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("checkParams = %v, want success", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("checkParams = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}
