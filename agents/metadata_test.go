package agents_test

import (
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ovsha/ovsha/agents"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

func TestParseMetadata(t *testing.T) {
	b, err := os.ReadFile("testdata/vipish.xml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := agents.ParseMetadata(b)
	if err != nil {
		t.Fatal(err)
	}
	want := agents.Metadata{
		Name:      "vipish",
		Version:   "1.1",
		ShortDesc: "Virtual address",
		LongDesc:  "Manages a virtual IPv4 or IPv6 address on an interface, announcing it\nwith gratuitous ARP or unsolicited neighbour advertisements.\n\nWritten as a test fixture for the metadata parser.",
		Params: []agents.ParamSpec{
			{Name: "ip", Type: "string", Required: true, Unique: true, ShortDesc: "IPv4 or IPv6 address", LongDesc: "The address, without a prefix length."},
			{Name: "cidr_netmask", Type: "integer", Default: "32", ShortDesc: "Prefix length", LongDesc: "Prefix length of the address."},
			{Name: "arp_count", Type: "integer", Default: "5", ShortDesc: "Gratuitous ARPs to send"},
		},
		Actions: []agents.ActionSpec{
			{Name: "start", Timeout: 20 * time.Second},
			{Name: "stop", Timeout: 20 * time.Second},
			{Name: "monitor", Timeout: 20 * time.Second, Interval: 10 * time.Second},
			{Name: "monitor", Timeout: 40 * time.Second, Interval: time.Minute, Depth: 10},
			{Name: "validate-all", Timeout: 500 * time.Millisecond},
			{Name: "meta-data", Timeout: 5 * time.Second},
		},
	}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("ParseMetadata =\n%+v\nwant\n%+v", m, want)
	}
}

func TestParseMetadataErrors(t *testing.T) {
	for _, tc := range []struct{ name, xml, want string }{
		{"not xml", "usage: foo {start|stop}", "parsing meta-data XML"},
		{"wrong root", `<agent name="x"/>`, "parsing meta-data XML"},
		{"no name", `<resource-agent/>`, "has no name attribute"},
		{"unnamed parameter", `<resource-agent name="x"><parameters><parameter/></parameters></resource-agent>`, "parameter 1 has no name"},
		{"bad timeout", `<resource-agent name="x"><actions><action name="start" timeout="soon"/></actions></resource-agent>`, "action start: timeout"},
		{"bad unit", `<resource-agent name="x"><actions><action name="monitor" interval="10 fortnights"/></actions></resource-agent>`, `unknown unit`},
		{"bad depth", `<resource-agent name="x"><actions><action name="monitor" depth="deep"/></actions></resource-agent>`, `depth "deep" is not an integer`},
	} {
		_, err := agents.ParseMetadata([]byte(tc.xml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: ParseMetadata = %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}

func TestParseInterval(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"", 0, false},
		{"0", 0, false},
		{"20", 20 * time.Second, false},
		{"20s", 20 * time.Second, false},
		{"20sec", 20 * time.Second, false},
		{"100ms", 100 * time.Millisecond, false},
		{"100msec", 100 * time.Millisecond, false},
		{"2m", 2 * time.Minute, false},
		{"2min", 2 * time.Minute, false},
		{"1h", time.Hour, false},
		{"1hr", time.Hour, false},
		{"5us", 5 * time.Microsecond, false},
		{" 15 s ", 15 * time.Second, false},
		{"1.5s", 0, true},
		{"-1", 0, true},
		{"s", 0, true},
		{"10d", 0, true},
		{"99999999999999999999", 0, true},
		{"9999999999999h", 0, true},
	} {
		got, err := agents.ParseInterval(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseInterval(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

// TestDescribe compares Describe's output with golden files; run with
// -update to rewrite them.
func TestDescribe(t *testing.T) {
	b, err := os.ReadFile("testdata/vipish.xml")
	if err != nil {
		t.Fatal(err)
	}
	vipish, err := agents.ParseMetadata(b)
	if err != nil {
		t.Fatal(err)
	}
	lsbDir := t.TempDir()
	writeScript(t, lsbDir, "testd", lsbDaemon)
	lsb, err := agents.NewLSBAgent(lsbDir, "testd", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		golden string
		m      agents.Metadata
	}{
		{"describe-vipish.golden", vipish},
		{"describe-lsb.golden", lsb.Metadata()},
		{"describe-empty.golden", agents.Metadata{Name: "bare"}},
	} {
		got := agents.Describe(tc.m)
		path := filepath.Join("testdata", tc.golden)
		if *update {
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if got != string(want) {
			t.Errorf("Describe for %s =\n%s\nwant (%s)\n%s", tc.m.Name, got, path, want)
		}
	}
}
