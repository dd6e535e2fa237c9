package image

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func TestParseNodeConf(t *testing.T) {
	in := `# node 1
name: n1
link0: 52:54:00:AA:00:01 10.99.0.1/24
link1: enp2s0 10.98.0.1/24   # second ring
uplink: enp3s0 192.0.2.11/24 via 192.0.2.1
uplink: enp3s0 2001:db8::11/64
`
	got, err := ParseNodeConf("node.conf", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := &NodeConf{
		Name: "n1",
		Links: []Link{
			{Link: 0, Interface: "52:54:00:aa:00:01", Prefix: netip.MustParsePrefix("10.99.0.1/24")},
			{Link: 1, Interface: "enp2s0", Prefix: netip.MustParsePrefix("10.98.0.1/24")},
		},
		Uplinks: []Link{
			{Link: -1, Interface: "enp3s0", Prefix: netip.MustParsePrefix("192.0.2.11/24"), Via: netip.MustParseAddr("192.0.2.1")},
			{Link: -1, Interface: "enp3s0", Prefix: netip.MustParsePrefix("2001:db8::11/64")},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	if !got.Links[0].IsMAC() || got.Links[1].IsMAC() {
		t.Fatal("IsMAC wrong")
	}
}

func TestParseNodeConfErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"link0: eth0 10.0.0.1/24\n", "node.conf: name: missing"},
		{"name: n1\nname: n2\n", "node.conf:2: name: set twice (first on line 1)"},
		{"name: n 1\n", `node.conf:1: name: "n 1": expected a node name`},
		{"name: n1\nlink8: eth0 10.0.0.1/24\n", "node.conf:2: link8: unknown key"},
		{"name: n1\nlink0 eth0\n", `node.conf:2: link0 eth0: expected "key: value"`},
		{"name: n1\nlink0: eth0 10.0.0.1\n", `node.conf:2: link0: "10.0.0.1": expected ADDRESS/PREFIX`},
		{"name: n1\nlink0: eth0 10.0.0.1/24 via 10.0.0.254\n", "node.conf:2: link0: \"eth0 10.0.0.1/24 via 10.0.0.254\": expected INTERFACE ADDRESS/PREFIX"},
		{"name: n1\nuplink: eth1 10.0.0.1/24 via 2001:db8::1\n", `node.conf:2: uplink: gateway "2001:db8::1": expected an address of the same family`},
		{"name: n1\nuplink: eth/1 10.0.0.1/24\n", `node.conf:2: uplink: "eth/1": not an interface name or MAC address`},
	}
	for _, tt := range tests {
		_, err := ParseNodeConf("node.conf", []byte(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseNodeConf(%q) error %v, want %q", tt.in, err, tt.want)
		}
	}
}
