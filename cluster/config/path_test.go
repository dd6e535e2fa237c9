package config

import (
	"strings"
	"testing"
)

const pathConf = `totem {
	token: 100
	interface {
		linknumber: 0
		mcastport: 5405
	}
	interface {
		linknumber: 1
		mcastport: 5407
	}
}

totem {
	token: 300
}

nodelist {
	# first node
	node {
		nodeid: 1
	}
	node {
		nodeid: 2
	}
}
`

func TestGet(t *testing.T) {
	f, err := Parse("c", []byte(pathConf))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path, want string
		ok         bool
	}{
		{"totem.token", "300", true}, // repeated sections merge, last value wins (corosync)
		{"totem.interface.0.mcastport", "5405", true},
		{"totem.interface.1.mcastport", "5407", true},
		{"totem.interface.mcastport", "5407", true},
		{"totem.interface.2.mcastport", "", false},
		{"nodelist.node.1.nodeid", "2", true},
		{"nodelist.node.0.nodeid", "1", true},
		{"quorum.two_node", "", false},
		{"totem", "", false},
		{"totem.", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := f.Get(tt.path)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Get(%q) = %q, %v; want %q, %v", tt.path, got, ok, tt.want, tt.ok)
		}
	}
}

func TestSet(t *testing.T) {
	f, err := Parse("c", []byte("# top\ntotem {\n\ttoken: 100\n}\n"))
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct{ path, value string }{
		{"totem.token", "250"},          // replaced in place
		{"totem.cluster_name", "gw"},    // appended to the section
		{"quorum.two_node", "1"},        // new top-level section
		{"nodelist.node.0.nodeid", "1"}, // new nested sections
		{"nodelist.node.0.ring0_addr", "10.0.0.1"},
		{"nodelist.node.1.nodeid", "2"}, // index == count adds a section
		{"nodelist.node.1.ring0_addr", "10.0.0.2"},
		{"totem.interface.0.mcastport", "5405"}, // nested section inside an existing one
		{"ovsha.api_socket", " /odd path "},     // quoted on output
	}
	for _, s := range steps {
		if err := f.Set(s.path, s.value); err != nil {
			t.Fatalf("Set(%q, %q): %v", s.path, s.value, err)
		}
	}
	want := `# top
totem {
	token: 250
	cluster_name: gw
	interface {
		mcastport: 5405
	}
}

quorum {
	two_node: 1
}

nodelist {
	node {
		nodeid: 1
		ring0_addr: 10.0.0.1
	}
	node {
		nodeid: 2
		ring0_addr: 10.0.0.2
	}
}

ovsha {
	api_socket: " /odd path "
}
`
	if got := string(f.Format()); got != want {
		t.Errorf("after Set:\n%s\nwant:\n%s", got, want)
	}
	g, err := Parse("c", f.Format())
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := g.Get("ovsha.api_socket"); v != " /odd path " {
		t.Errorf("quoted value read back as %q", v)
	}
}

func TestSetErrors(t *testing.T) {
	f, err := Parse("c", []byte(pathConf))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ path, value, want string }{
		{"totem.token", "1\n2", "value must be one line"},
		{"token", "1", "want section.key"},
		{"totem.bad key", "1", "is not a valid key"},
		{"totem.0.interface.mcastport", "1", `2 "interface" sections; add an index, e.g. totem.0.interface.0`},
		{"nodelist.node.5.nodeid", "1", `index 5 out of range: there are 2 "node" sections (use 2 to add one)`},
		{"totem.x.token", "1", `2 "totem" sections`},
	}
	for _, tt := range tests {
		before := string(f.Format())
		err := f.Set(tt.path, tt.value)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Set(%q) error = %v, want it to contain %q", tt.path, err, tt.want)
		}
		if after := string(f.Format()); after != before {
			t.Errorf("failed Set(%q) changed the file", tt.path)
		}
	}
}

func TestDelete(t *testing.T) {
	f, err := Parse("c", []byte(pathConf))
	if err != nil {
		t.Fatal(err)
	}
	if !f.Delete("nodelist.node.0") {
		t.Fatal("Delete(nodelist.node.0) = false")
	}
	if v, _ := f.Get("nodelist.node.0.nodeid"); v != "2" {
		t.Errorf("after deleting node 0, node 0 has nodeid %q, want 2", v)
	}
	if strings.Contains(string(f.Format()), "# first node") {
		t.Errorf("the comment above the deleted section was kept")
	}
	if !f.Delete("totem.0.interface.1.mcastport") {
		t.Fatal("Delete(totem.0.interface.1.mcastport) = false")
	}
	if _, ok := f.Get("totem.interface.1.mcastport"); ok {
		t.Errorf("key still there after Delete")
	}
	if f.Delete("totem.token") {
		t.Errorf("Delete through an ambiguous section (two totem sections) succeeded")
	}
	if f.Delete("quorum.two_node") || f.Delete("nodelist.node.7") {
		t.Errorf("Delete of something absent reported true")
	}
	if _, err := Parse("c", f.Format()); err != nil {
		t.Errorf("file no longer parses after Delete: %v", err)
	}
}
