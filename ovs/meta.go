package ovs

import (
	"time"

	"github.com/ovsha/ovsha/agents"
)

// Version is the metadata version of the ovs agents.
const Version = "1.0"

func standardActions() []agents.ActionSpec {
	return []agents.ActionSpec{
		{Name: "start", Timeout: 20 * time.Second},
		{Name: "stop", Timeout: 20 * time.Second},
		{Name: "monitor", Timeout: 20 * time.Second, Interval: 10 * time.Second},
		{Name: "migrate_to", Timeout: 20 * time.Second},
		{Name: "migrate_from", Timeout: 20 * time.Second},
		{Name: "validate-all", Timeout: 10 * time.Second},
		{Name: "meta-data", Timeout: 5 * time.Second},
	}
}
