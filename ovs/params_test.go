package ovs

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ovsha/ovsha/agents"
)

// badCase is a parameter set that validate-all must reject with
// OCF_ERR_CONFIGURED and a message naming param.
type badCase struct {
	name   string
	params agents.Params
	param  string
}

func merge(base agents.Params, kv ...string) agents.Params {
	p := agents.Params{}
	for k, v := range base {
		p[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "<unset>" {
			delete(p, kv[i])
			continue
		}
		p[kv[i]] = kv[i+1]
	}
	return p
}

var (
	goodBridge = agents.Params{"bridge_name": "br-test", "datapath_type": "netdev", "other_config": "hwaddr=02:77:00:00:00:01"}
	goodBond   = agents.Params{"bridge_name": "br-test", "port_name": "bond0", "interfaces": "u0,u1", "bond_mode": "active-backup"}
	goodIface  = agents.Params{"bridge_name": "br-test", "interface_name": "gw0", "address": "10.77.0.1/24", "mac": "02:77:00:00:01:01", "mtu": "1400"}

	badBridge = []badCase{
		{"too long bridge name", merge(goodBridge, "bridge_name", "a-very-long-name-x"), "bridge_name"},
		{"missing bridge name", merge(goodBridge, "bridge_name", "<unset>"), "bridge_name"},
		{"slash in name", merge(goodBridge, "bridge_name", "br/0"), "bridge_name"},
		{"unknown datapath", merge(goodBridge, "datapath_type", "dpdk"), "datapath_type"},
		{"bad fail_mode", merge(goodBridge, "fail_mode", "open"), "fail_mode"},
		{"bad stp", merge(goodBridge, "stp", "maybe"), "stp"},
		{"bad other_config", merge(goodBridge, "other_config", "hwaddr"), "other_config"},
		{"reserved external id", merge(goodBridge, "external_ids", OwnerKey+"=x"), "external_ids"},
		{"unknown parameter", merge(goodBridge, "colour", "blue"), "colour"},
	}
	badBond = []badCase{
		{"unknown bond_mode", merge(goodBond, "bond_mode", "round-robin"), "bond_mode"},
		{"bad lacp", merge(goodBond, "lacp", "fast"), "lacp"},
		{"too long port name", merge(goodBond, "port_name", "bond-with-a-long-name"), "port_name"},
		{"too long bridge name", merge(goodBond, "bridge_name", "a-very-long-name-x"), "bridge_name"},
		{"repeated member", merge(goodBond, "interfaces", "u0,u0"), "interfaces"},
		{"bond_mode on one interface", merge(goodBond, "interfaces", "u0"), "bond_mode"},
		{"negative updelay", merge(goodBond, "bond_updelay", "-1"), "bond_updelay"},
		{"tag out of range", merge(goodBond, "tag", "4096"), "tag"},
		{"bad trunks", merge(goodBond, "trunks", "10,x"), "trunks"},
	}
	badIface = []badCase{
		{"invalid CIDR", merge(goodIface, "address", "10.77.0.300/24"), "address"},
		{"address without prefix", merge(goodIface, "address", "10.77.0.1"), "address"},
		{"multicast mac", merge(goodIface, "mac", "01:00:5e:00:00:01"), "mac"},
		{"mtu too small", merge(goodIface, "mtu", "10"), "mtu"},
		{"too long interface name", merge(goodIface, "interface_name", "interface-name-x"), "interface_name"},
		{"same as bridge", merge(goodIface, "interface_name", "br-test"), "interface_name"},
	}
)

func checkBad(t *testing.T, a agents.Agent, cases []badCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := a.Validate(context.Background(), c.params)
			if agents.Code(err) != agents.ErrConfigured {
				t.Fatalf("Validate = %v (%s), want OCF_ERR_CONFIGURED", err, agents.Code(err))
			}
			if !strings.Contains(err.Error(), c.param) {
				t.Errorf("error %q does not name parameter %s", err, c.param)
			}
			var e *agents.Error
			if !errors.As(err, &e) {
				t.Errorf("error is not an *agents.Error")
			}
		})
	}
}

// The agents validate without an OVSDB connection: nil clients are fine.
func TestValidate(t *testing.T) {
	ctx := context.Background()
	for _, g := range []struct {
		a    agents.Agent
		good agents.Params
		bad  []badCase
	}{
		{NewBridgeAgent(nil, nil), goodBridge, badBridge},
		{NewPortAgent(nil, nil, nil), goodBond, badBond},
		{NewInterfaceAgent(nil, nil, nil), goodIface, badIface},
	} {
		t.Run(g.a.Metadata().Name, func(t *testing.T) {
			if err := g.a.Validate(ctx, g.good); err != nil {
				t.Fatalf("good params rejected: %v", err)
			}
			checkBad(t, g.a, g.bad)
		})
	}
}

func TestParsePortDefaults(t *testing.T) {
	s, err := parsePort(agents.Params{"bridge_name": "br0", "port_name": "eth1"})
	if err != nil {
		t.Fatal(err)
	}
	if s.bond() || len(s.interfaces) != 1 || s.interfaces[0] != "eth1" || s.tag != nil {
		t.Errorf("single port defaults: %+v", s)
	}
	s, err = parsePort(agents.Params{"bridge_name": "br0", "port_name": "b", "interfaces": "a b,c", "trunks": "30,10", "other_config": "bond-detect-mode=miimon,bond-miimon-interval=100"})
	if err != nil {
		t.Fatal(err)
	}
	if !s.bond() || len(s.interfaces) != 3 || s.trunks[0] != 10 || s.otherConfig["bond-miimon-interval"] != "100" {
		t.Errorf("bond parse: %+v", s)
	}
}

func TestMetadataListsEveryParameter(t *testing.T) {
	for _, a := range []agents.Agent{NewBridgeAgent(nil, nil), NewPortAgent(nil, nil, nil), NewInterfaceAgent(nil, nil, nil)} {
		m := a.Metadata()
		if m.Name == "" || len(m.Params) == 0 || len(m.Actions) < 4 {
			t.Errorf("%s: incomplete metadata %+v", m.Name, m)
		}
	}
}
