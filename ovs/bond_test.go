package ovs

import (
	"os"
	"testing"
)

func TestParseBondShow(t *testing.T) {
	ab, err := os.ReadFile("testdata/bond-show-ab.txt")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		text    string
		mode    string
		lacp    string
		active  string
		enabled int
		health  string
		members int
	}{
		{"active-backup one down (OVS 3.1)", string(ab), "active-backup", "off", "u0", 1, BondDegraded, 2},
		{"old slave wording, all up", "---- b ----\nbond_mode: balance-slb\nlacp_status: negotiated\n\nslave a: enabled\n\tactive slave\n\nslave b: enabled\n", "balance-slb", "negotiated", "a", 2, BondHealthy, 2},
		{"all down", "bond_mode: balance-tcp\nlacp_status: configured\n\nmember x: disabled\n\nmember y: disabled\n", "balance-tcp", "configured", "", 0, BondDown, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseBondShow(tt.text)
			if err != nil {
				t.Fatal(err)
			}
			if s.Mode != tt.mode || s.LACPStatus != tt.lacp || s.Active() != tt.active || s.Enabled() != tt.enabled ||
				s.Health() != tt.health || len(s.Members) != tt.members {
				t.Errorf("got %+v (active %q enabled %d health %s)", s, s.Active(), s.Enabled(), s.Health())
			}
		})
	}
}

func TestParseBondShowRejectsNonBond(t *testing.T) {
	for _, text := range []string{"", "no such bond\n", "bond_mode: active-backup\nmember broken\n"} {
		if _, err := ParseBondShow(text); err == nil {
			t.Errorf("ParseBondShow(%q) succeeded, want error", text)
		}
	}
}

func TestPublishBond(t *testing.T) {
	got := map[string]string{}
	publishBond(func(k, v string) { got[k] = v }, "bond0", BondStatus{Mode: "active-backup",
		Members: []BondMember{{Name: "u0", Enabled: true}, {Name: "u1"}}})
	if got["ovsha-bond-bond0"] != BondDegraded || got["ovsha-bond-bond0-up"] != "1" || len(got) != 2 {
		t.Errorf("attributes = %v", got)
	}
	publishBond(nil, "bond0", BondStatus{}) // no callback: no panic
}
