package lab

import (
	"testing"
	"time"

	"github.com/ovsha/ovsha/appliance"
)

// TestFailoverTransition: the bench reports the phases of the transition
// that started the LAN VIP on the new node, not of whatever transition
// came first after the fault (a bond attribute appearing, a clear).
func TestFailoverTransition(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	tr := func(id int, at time.Duration, actions ...string) appliance.Transition {
		return appliance.Transition{ID: id, Started: t0.Add(at), Actions: actions}
	}
	// newest first, as the history API returns them
	hist := []appliance.Transition{
		tr(9, 400*time.Millisecond, "monitor(1000ms) bond0 on n2"),
		tr(8, 150*time.Millisecond, "start br-ex on n2", "start lan-vip on n2", "start wan-vip on n2"),
		tr(7, 120*time.Millisecond, "monitor(2000ms) lan-vip on n3"),
		tr(3, -5*time.Second, "start lan-vip on n2"),
	}
	tests := []struct {
		name   string
		to     string
		wantID int
		found  bool
	}{
		{"the one starting the VIP on the new node", "n2", 8, true},
		{"none for another node", "n3", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := failoverTransition(hist, tt.to, t0)
			if ok != tt.found || got.ID != tt.wantID {
				t.Errorf("failoverTransition = %d, %v; want %d, %v", got.ID, ok, tt.wantID, tt.found)
			}
		})
	}
	// A transition from before the fault never counts.
	if got, ok := failoverTransition(hist[3:], "n2", t0); ok {
		t.Errorf("picked transition %d from before the fault", got.ID)
	}
}
