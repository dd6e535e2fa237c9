package config

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// conf builds a valid two-node file with extra lines in totem, nodelist
// nodes and quorum.
func conf(totem, quorum string, nodes ...string) string {
	if nodes == nil {
		nodes = []string{"nodeid: 1\nname: a\nring0_addr: 10.0.0.1", "nodeid: 2\nname: b\nring0_addr: 10.0.0.2"}
	}
	var b strings.Builder
	b.WriteString("totem {\ncluster_name: t\n" + totem + "\n}\nnodelist {\n")
	for _, n := range nodes {
		b.WriteString("node {\n" + n + "\n}\n")
	}
	b.WriteString("}\nquorum {\nprovider: corosync_votequorum\n" + quorum + "\n}\n")
	return b.String()
}

func decodeString(t *testing.T, s string) (*Cluster, error) {
	t.Helper()
	f, err := Parse("cluster.conf", []byte(s))
	if err != nil {
		return nil, err
	}
	return Decode(f)
}

func mustDecode(t *testing.T, s string) *Cluster {
	t.Helper()
	c, err := decodeString(t, s)
	if err != nil {
		t.Fatalf("Decode: %v\n%s", err, s)
	}
	return c
}

// TestErrorMessages pins the error texts of the examples.
func TestErrorMessages(t *testing.T) {
	sixNodes := []string{
		"nodeid: 1\nring0_addr: 10.0.0.1", "nodeid: 3\nring0_addr: 10.0.0.3", "nodeid: 5\nring0_addr: 10.0.0.5",
	}
	tests := []struct {
		name, in, want string
	}{
		{"not a number", conf("token: abc", ""), `cluster.conf:3: totem.token: "abc" is not a number (milliseconds expected)`},
		{"nodeid twice", conf("", "", "nodeid: 1\nring0_addr: 10.0.0.1", "nodeid: 3\nring0_addr: 10.0.0.2", "nodeid: 3\nring0_addr: 10.0.0.3"),
			`cluster.conf:15: nodelist.node.2.nodeid: 3 is used twice (first at line 11)`},
		{"no nodes", "totem {\ncluster_name: x\n}\n", `cluster.conf: nodelist: no node entries; add a node { nodeid: N  name: NAME  ring0_addr: IP } section for every cluster node`},
		{"unclosed", "totem {\ncluster_name: x\n", `cluster.conf:1: syntax error: missing "}" for section totem opened here`},
		{"hostname", conf("", "", "nodeid: 1\nring0_addr: gw1.example"),
			`cluster.conf:8: nodelist.node.0.ring0_addr: "gw1.example" is not an IP address; ovsha needs literal addresses (it does no DNS lookups)`},
		{"two_node with 3 nodes", conf("", "two_node: 1", sixNodes...),
			`cluster.conf:21: quorum.two_node: needs exactly 2 nodes, the nodelist has 3; remove two_node or fix the nodelist`},
		{"two_node with 3 votes", conf("", "two_node: 1", "nodeid: 1\nring0_addr: 10.0.0.1\nquorum_votes: 2", "nodeid: 2\nring0_addr: 10.0.0.2"),
			`cluster.conf:18: quorum.two_node: needs 1 vote per node, the nodes have 3 votes in all; remove quorum_votes or two_node`},
		{"consensus <= join", conf("consensus: 15", ""), `cluster.conf:3: totem.consensus: 15 ms must be greater than join (15 ms)`},
		{"derived consensus <= join", conf("token: 100\njoin: 30", ""),
			`cluster.conf:4: totem.join: 30 ms must be less than consensus (30 ms, derived as 0.3 × the token timeout (100 ms)); lower join or set consensus`},
		{"hold vs effective token", conf("token: 100\ntoken_coefficient: 100\nhold: 100", "", sixNodes...),
			`cluster.conf:5: totem.hold: 100 ms must be less than half of the token timeout (200 ms = 100 + 1 × token_coefficient 100)`},
		{"window", conf("window_size: 10", ""), `cluster.conf:3: totem.window_size: max_messages (64) must not exceed window_size (10)`},
		{"netmtu", conf("netmtu: 70000", ""), `cluster.conf:3: totem.netmtu: 70000 is out of range (expected 576..65535)`},
		{"nodeid too big", conf("", "", "nodeid: 2147483648\nring0_addr: 10.0.0.1"),
			`cluster.conf:7: nodelist.node.0.nodeid: 2147483648 is out of range (expected 1..2147483647)`},
		{"huge number", conf("token: 99999999999999999999", ""), `cluster.conf:3: totem.token: 99999999999999999999 ms is out of range (expected 10..86400000 ms)`},
		{"explicit zero derived", conf("token_retransmit: 0", ""), `cluster.conf:3: totem.token_retransmit: 0 ms is out of range (expected 1..86400000 ms)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeString(t, tt.in)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error = %v\nwant  %s\ninput:\n%s", err, tt.want, tt.in)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("error is not an *Error")
			}
		})
	}
}

func TestDecodeCollectsAllErrorsByLine(t *testing.T) {
	_, err := decodeString(t, conf("netmtu: 1\ntoken: x", "two_node: maybe"))
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	want := []string{"cluster.conf:3: totem.netmtu", "cluster.conf:4: totem.token", "cluster.conf:20: quorum.two_node"}
	if len(lines) != len(want) {
		t.Fatalf("got %d error lines, want %d:\n%s", len(lines), len(want), err)
	}
	for i := range want {
		if !strings.HasPrefix(lines[i], want[i]) {
			t.Errorf("line %d = %q, want prefix %q", i, lines[i], want[i])
		}
	}
}

func TestDefaults(t *testing.T) {
	c := mustDecode(t, conf("", ""))
	want := DefaultTotem()
	want.ClusterName = "t"
	want.LinkTimeout = 200 * time.Millisecond
	want.Interfaces = []Interface{{LinkNumber: 0, Port: 5405}}
	if !reflect.DeepEqual(c.Totem, want) {
		t.Errorf("Totem = %+v\nwant    %+v", c.Totem, want)
	}
	if !reflect.DeepEqual(c.Logging, DefaultLogging()) {
		t.Errorf("Logging = %+v, want defaults", c.Logging)
	}
	if !reflect.DeepEqual(c.Ovsha, DefaultOvsha()) || c.Ovsha.APIGroup != "haclient" {
		t.Errorf("Ovsha = %+v, want defaults with api_group haclient", c.Ovsha)
	}
	q := DefaultQuorum()
	q.Provider = "corosync_votequorum"
	if !reflect.DeepEqual(c.Quorum, q) {
		t.Errorf("Quorum = %+v, want %+v", c.Quorum, q)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("unexpected warnings: %q", c.Warnings)
	}
	for _, n := range c.Nodes {
		if n.QuorumVotes != 1 {
			t.Errorf("node %d has %d votes, want the default 1", n.ID, n.QuorumVotes)
		}
	}
}

func TestEffective(t *testing.T) {
	base := DefaultTotem()
	tests := []struct {
		name                                   string
		mod                                    func(*Totem)
		nodes                                  int
		token, retransmit, hold, consensus, lt time.Duration
	}{
		{"ovsha defaults, 2 nodes", nil, 2, 150, 20, 15, 45, 200},
		{"coefficient 0 ignores node count", nil, 5, 150, 20, 15, 45, 200},
		{"corosync defaults, 2 nodes", corosyncTotem, 2, 3000, 714, 300, 900, 200},
		{"corosync defaults, 5 nodes: token + 3 × 650", corosyncTotem, 5, 4950, 1178, 495, 1485, 200},
		{"coefficient unused below 3 nodes", func(t *Totem) { t.TokenCoefficient = 100 * time.Millisecond }, 2, 150, 20, 15, 45, 200},
		{"explicit values are kept", func(t *Totem) {
			t.TokenRetransmit, t.Hold, t.Consensus, t.LinkTimeout = 50*time.Millisecond, 30*time.Millisecond, 150*time.Millisecond, time.Second
		}, 3, 150, 50, 30, 150, 1000},
		{"link timeout follows heartbeat", func(t *Totem) { t.HeartbeatInterval = 30 * time.Millisecond }, 2, 150, 20, 15, 45, 120},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tot := base
			if tt.mod != nil {
				tt.mod(&tot)
			}
			e := tot.Effective(tt.nodes)
			got := []time.Duration{e.Token, e.TokenRetransmit, e.Hold, e.Consensus, e.LinkTimeout}
			want := []time.Duration{tt.token, tt.retransmit, tt.hold, tt.consensus, tt.lt}
			for i := range want {
				want[i] *= time.Millisecond
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("token, retransmit, hold, consensus, link_timeout = %v, want %v", got, want)
			}
		})
	}
}

func corosyncTotem(t *Totem) {
	t.Token = 3000 * time.Millisecond
	t.TokenCoefficient = 650 * time.Millisecond
	t.TokenRetransmitsBeforeLossConst = 4
}

func TestBooleans(t *testing.T) {
	for _, v := range []string{"yes", "on", "1", "true", "YES", "On"} {
		c := mustDecode(t, conf("", "last_man_standing: "+v))
		if !c.Quorum.LastManStanding {
			t.Errorf("last_man_standing: %s decoded as false", v)
		}
	}
	for _, v := range []string{"no", "off", "0", "false"} {
		c := mustDecode(t, conf("", "last_man_standing: "+v))
		if c.Quorum.LastManStanding {
			t.Errorf("last_man_standing: %s decoded as true", v)
		}
	}
	if _, err := decodeString(t, conf("", "last_man_standing: 2")); err == nil || !strings.Contains(err.Error(), `"2" is not a boolean`) {
		t.Errorf("last_man_standing: 2: error = %v", err)
	}
}

func TestQuorum(t *testing.T) {
	c := mustDecode(t, conf("", "two_node: 1"))
	if !c.Quorum.TwoNode || !c.Quorum.WaitForAll {
		t.Errorf("two_node: 1 gives %+v, want TwoNode and WaitForAll (its default)", c.Quorum)
	}
	c = mustDecode(t, conf("", "two_node: 1\nwait_for_all: 0"))
	if c.Quorum.WaitForAll {
		t.Errorf("wait_for_all: 0 did not override the two_node default")
	}
	c = mustDecode(t, conf("", "auto_tie_breaker: 1\nauto_tie_breaker_node: 2 1"))
	if c.Quorum.AutoTieBreakerNode != "list" || !reflect.DeepEqual(c.Quorum.AutoTieBreakerNodes, []uint32{2, 1}) {
		t.Errorf("auto_tie_breaker_node: 2 1 gives %q %v", c.Quorum.AutoTieBreakerNode, c.Quorum.AutoTieBreakerNodes)
	}
	c = mustDecode(t, conf("", "auto_tie_breaker_node: highest\nlast_man_standing_window: 2500"))
	if c.Quorum.AutoTieBreakerNode != "highest" || c.Quorum.LastManStandingWindow != 2500*time.Millisecond {
		t.Errorf("got %+v", c.Quorum)
	}
	if got := c.ExpectedVotes(); got != 2 {
		t.Errorf("ExpectedVotes() = %d, want 2 (sum of votes)", got)
	}
	c = mustDecode(t, conf("", "expected_votes: 5"))
	if got := c.ExpectedVotes(); got != 5 {
		t.Errorf("ExpectedVotes() = %d, want 5 (quorum.expected_votes overrides)", got)
	}
}

func TestWarningsDoNotFail(t *testing.T) {
	c := mustDecode(t, conf("transport: udp\ncrypto_cipher: none\nsecauth: on\nmystery: 1", "")+"ovsha {\nfoo: bar\n}\n")
	want := []string{
		"cluster.conf:3: totem.transport: udp (multicast) is accepted but not used: ovsha always sends unicast UDP to every node",
		"cluster.conf:4: totem.crypto_cipher: none is ignored: ovsha always encrypts and authenticates with AES-256-GCM using /etc/ovsha/authkey",
		"cluster.conf:5: totem.secauth: corosync key not used by ovsha; kept in the file, ignored",
		"cluster.conf:6: totem.mystery: unknown key; kept in the file, ignored",
		"cluster.conf:25: ovsha.foo: unknown key; kept in the file, ignored",
	}
	if !reflect.DeepEqual(c.Warnings, want) {
		t.Errorf("Warnings =\n%s\nwant\n%s", strings.Join(c.Warnings, "\n"), strings.Join(want, "\n"))
	}
}

func TestNodeLookups(t *testing.T) {
	c := mustDecode(t, conf("", "",
		"nodeid: 1\nname: gw1\nring0_addr: 10.10.0.1\nring1_addr: fd00::1",
		"nodeid: 2\nname: gw2\nring0_addr: 10.10.0.2\nring1_addr: fd00::2",
		"nodeid: 7\nring0_addr: 10.10.0.7\nring1_addr: fd00::7"))
	if n, ok := c.NodeByID(2); !ok || n.Name != "gw2" {
		t.Errorf("NodeByID(2) = %+v, %v", n, ok)
	}
	if _, ok := c.NodeByID(3); ok {
		t.Errorf("NodeByID(3) found a node")
	}
	if n, ok := c.NodeByName("gw1"); !ok || n.ID != 1 {
		t.Errorf("NodeByName(gw1) = %+v, %v", n, ok)
	}
	if _, ok := c.NodeByName(""); ok {
		t.Errorf("NodeByName(\"\") found the unnamed node")
	}
	want := []netip.Addr{netip.MustParseAddr("10.10.0.7"), netip.MustParseAddr("fd00::7")}
	if n, _ := c.NodeByID(7); !reflect.DeepEqual(n.Addrs, want) {
		t.Errorf("node 7 Addrs = %v, want %v", n.Addrs, want)
	}

	local := func(s ...string) []netip.Addr {
		var out []netip.Addr
		for _, a := range s {
			out = append(out, netip.MustParseAddr(a))
		}
		return out
	}
	tests := []struct {
		addrs []netip.Addr
		id    uint32
		err   string
	}{
		{local("127.0.0.1", "10.10.0.2"), 2, ""},
		{local("fd00::7%eth1"), 7, ""},       // zone ignored
		{local("::ffff:10.10.0.1"), 1, ""},   // IPv4-mapped form
		{local("192.168.0.1"), 0, "no node"}, // not in the cluster
		{local("10.10.0.1", "fd00::2"), 0, "match nodes 1 and 2"},
		{nil, 0, "no node"},
	}
	for _, tt := range tests {
		n, err := c.LocalNode(tt.addrs)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.HasPrefix(err.Error(), "cluster.conf: nodelist: ") {
				t.Errorf("LocalNode(%v) error = %v, want %q", tt.addrs, err, tt.err)
			}
			continue
		}
		if err != nil || n.ID != tt.id {
			t.Errorf("LocalNode(%v) = node %d, %v; want node %d", tt.addrs, n.ID, err, tt.id)
		}
	}
}

func TestInterfaces(t *testing.T) {
	c := mustDecode(t, conf("interface {\nlinknumber: 1\nmcastport: 6000\nknet_link_priority: 3\n}", "",
		"nodeid: 1\nring0_addr: 10.0.0.1\nring1_addr: 10.1.0.1", "nodeid: 2\nring0_addr: 10.0.0.2\nring1_addr: 10.1.0.2"))
	want := []Interface{{LinkNumber: 0, Port: 5405}, {LinkNumber: 1, Port: 6000, Priority: 3}}
	if !reflect.DeepEqual(c.Totem.Interfaces, want) {
		t.Errorf("Interfaces = %+v, want %+v", c.Totem.Interfaces, want)
	}
	_, err := decodeString(t, conf("interface {\nlinknumber: 0\n}\ninterface {\nlinknumber: 0\n}", ""))
	if err == nil || !strings.Contains(err.Error(), "totem.interface.1.linknumber: 0 is used twice (first at line 3)") {
		t.Errorf("duplicate linknumber: error = %v", err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cluster.conf")
	if err := os.WriteFile(path, []byte(conf("token: nope", "")), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.HasPrefix(err.Error(), path+":3: totem.token: ") {
		t.Errorf("Load error = %v, want it to start with the path and line", err)
	}
	if err := os.WriteFile(path, []byte(conf("", "")), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil || c.File == nil || c.File.Name != path || len(c.Nodes) != 2 {
		t.Errorf("Load = %+v, %v", c, err)
	}
	_, err = Load(filepath.Join(dir, "missing.conf"))
	if err == nil || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "missing.conf") {
		t.Errorf("Load(missing) error = %v, want a not-exist error naming the file", err)
	}
}
