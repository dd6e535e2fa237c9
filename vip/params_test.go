package vip

import (
	"strings"
	"testing"
	"time"

	"github.com/ovsha/ovsha/agents"
)

func TestParseDefaults(t *testing.T) {
	s, err := parse(agents.Params{"ip": "10.88.0.100"})
	if err != nil {
		t.Fatal(err)
	}
	if s.count != 5 || s.interval != 200*time.Millisecond || !s.background || s.refresh != 10*time.Second ||
		s.probe != DefaultARPProbe || s.preferred != 0 || s.bits != -1 || s.nic != "" || s.force || s.nonlocalBind || s.lvs {
		t.Errorf("defaults: %+v", s)
	}
	s, err = parse(agents.Params{"ip": "fd88::100", "cidr_netmask": "64", "nic": "br0:x", "preferred_lft": "forever",
		"arp_refresh": "0", "arp_probe": "off", "arp_interval": "50", "arp_count": "0", "flush_routes": "true"})
	if err == nil {
		t.Fatalf("label on IPv6 accepted: %+v", s)
	}
	s, err = parse(agents.Params{"ip": "192.0.2.1", "cidr_netmask": "255.255.255.0", "nic": "eth0:vip", "preferred_lft": "forever",
		"arp_refresh": "30", "arp_probe": "10ms", "arp_interval": "50", "arp_bg": "false", "flush_routes": "true"})
	if err != nil {
		t.Fatal(err)
	}
	if s.bits != 24 || s.nic != "eth0" || s.label != "vip" || s.preferred != forever || s.refresh != 30*time.Second ||
		s.probe != 10*time.Millisecond || s.interval != 50*time.Millisecond || s.background {
		t.Errorf("parsed %+v", s)
	}
}

var badParams = []struct {
	name   string
	params agents.Params
	param  string
}{
	{"missing ip", agents.Params{"nic": "br0"}, "ip"},
	{"invalid ip", agents.Params{"ip": "10.88.0.300"}, "ip"},
	{"ip with prefix", agents.Params{"ip": "10.88.0.1/24"}, "ip"},
	{"invalid CIDR", agents.Params{"ip": "10.88.0.100", "cidr_netmask": "33"}, "cidr_netmask"},
	{"invalid dotted mask", agents.Params{"ip": "10.88.0.100", "cidr_netmask": "255.0.255.0"}, "cidr_netmask"},
	{"nic too long", agents.Params{"ip": "10.88.0.100", "nic": "a-very-long-nic-name"}, "nic"},
	{"bad broadcast", agents.Params{"ip": "10.88.0.100", "broadcast": "x"}, "broadcast"},
	{"bad arp_count", agents.Params{"ip": "10.88.0.100", "arp_count": "-1"}, "arp_count"},
	{"bad arp_interval", agents.Params{"ip": "10.88.0.100", "arp_interval": "0"}, "arp_interval"},
	{"bad arp_bg", agents.Params{"ip": "10.88.0.100", "arp_bg": "sometimes"}, "arp_bg"},
	{"bad arp_sender", agents.Params{"ip": "10.88.0.100", "arp_sender": "nc"}, "arp_sender"},
	{"bad preferred_lft", agents.Params{"ip": "10.88.0.100", "preferred_lft": "soon"}, "preferred_lft"},
	{"bad arp_refresh", agents.Params{"ip": "10.88.0.100", "arp_refresh": "1ms"}, "arp_refresh"},
	{"bad arp_probe", agents.Params{"ip": "10.88.0.100", "arp_probe": "x"}, "arp_probe"},
	{"bad nonlocal_bind", agents.Params{"ip": "10.88.0.100", "nonlocal_bind": "2"}, "nonlocal_bind"},
	{"unsupported mac", agents.Params{"ip": "10.88.0.100", "mac": "02:00:00:00:00:01"}, "mac"},
	{"unknown parameter", agents.Params{"ip": "10.88.0.100", "colour": "red"}, "colour"},
	{"label too long", agents.Params{"ip": "10.88.0.100", "nic": "eth0", "iflabel": "averylonglabel"}, "iflabel"},
}

func TestParseRejects(t *testing.T) {
	for _, tt := range badParams {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(tt.params)
			if agents.Code(err) != agents.ErrConfigured {
				t.Fatalf("parse = %v (%s), want OCF_ERR_CONFIGURED", err, agents.Code(err))
			}
			if !strings.Contains(err.Error(), tt.param) {
				t.Errorf("%q does not name %s", err, tt.param)
			}
		})
	}
}
