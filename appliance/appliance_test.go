package appliance

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ovsha/ovsha/cluster/config"
	"github.com/ovsha/ovsha/cluster/quorum"
	"github.com/ovsha/ovsha/cluster/totem/wire"
	"github.com/ovsha/ovsha/cluster/transport"
)

// writeCluster writes a cluster.conf for nodes on 127.0.0.1..n (one link)
// and its authkey, and returns the config path.
func writeCluster(t *testing.T, n int, quorumSection string) string {
	t.Helper()
	dir := t.TempDir()
	key := filepath.Join(dir, "authkey")
	if err := transport.WriteKey(key, false); err != nil {
		t.Fatal(err)
	}
	port := freeUDPPort(t)
	var b strings.Builder
	fmt.Fprintf(&b, "totem {\n\tversion: 2\n\tcluster_name: test\n\tkeyfile: %s\n\tinterface {\n\t\tlinknumber: 0\n\t\tmcastport: %d\n\t}\n}\nnodelist {\n", key, port)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "\tnode {\n\t\tnodeid: %d\n\t\tname: n%d\n\t\tring0_addr: 127.0.0.%d\n\t}\n", i, i, i)
	}
	fmt.Fprintf(&b, "}\nquorum {\n\tprovider: corosync_votequorum\n%s}\n", quorumSection)
	path := filepath.Join(dir, "cluster.conf")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

type daemon struct {
	client *Client
	stop   context.CancelFunc
	done   chan error
}

func startDaemon(t *testing.T, cfg string, id uint32) *daemon {
	t.Helper()
	dir := t.TempDir()
	a, err := New(Options{ConfigPath: cfg, StateDir: filepath.Join(dir, "state"), Socket: filepath.Join(dir, "s.sock"), NodeID: id, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &daemon{client: NewClient(a.Socket()), stop: cancel, done: make(chan error, 1)}
	go func() { d.done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-d.done
	})
	return d
}

// waitQuorum polls the control API (the only view a client has) until
// members nodes are in a quorate configuration.
func waitQuorum(t *testing.T, d *daemon, members int) QuorumResponse {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		q, err := d.client.Quorum(context.Background())
		if err == nil && q.Quorate && len(q.Members) == members {
			return q
		}
		if time.Now().After(deadline) {
			t.Fatalf("no quorate %d-member view at %s: %+v, %v", members, d.client.Socket(), q, err)
		}
		time.Sleep(20 * time.Millisecond) // polling the API; there is no event to await
	}
}

// TestThreeDaemonsOverLoopback runs the whole composition (config, key,
// UDP, membership, quorum, control API) for three nodes in one process.
func TestThreeDaemonsOverLoopback(t *testing.T) {
	cfg := writeCluster(t, 3, "")
	var ds []*daemon
	for id := uint32(1); id <= 3; id++ {
		ds = append(ds, startDaemon(t, cfg, id))
	}
	for _, d := range ds {
		q := waitQuorum(t, d, 3)
		if q.ExpectedVotes != 3 || q.Quorum != 2 || q.Members[0].Name != "n1" {
			t.Fatalf("quorum view %+v", q)
		}
	}
	r, err := ds[0].client.Ring(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if r.State != "operational" || len(r.Nodes) != 3 || !r.Nodes[0].Local || len(r.Nodes[1].Links) != 1 {
		t.Fatalf("ring view %+v", r)
	}
	// Graceful stop of node 3: Run returns nil and the others carry on quorate.
	ds[2].stop()
	if err := <-ds[2].done; err != nil {
		t.Fatalf("node 3 Run: %v", err)
	}
	ds[2].done <- nil
	for _, d := range ds[:2] {
		q := waitQuorum(t, d, 2)
		if q.TotalVotes != 2 || q.ExpectedVotes != 3 {
			t.Fatalf("after leave: %+v", q)
		}
	}
}

func TestNewErrorsNameTheCulprit(t *testing.T) {
	good := writeCluster(t, 3, "")
	noKey := filepath.Join(t.TempDir(), "cluster.conf")
	data, _ := os.ReadFile(good)
	os.WriteFile(noKey, []byte(strings.Replace(string(data), "keyfile: ", "keyfile: /nonexistent", 1)), 0o644)
	tests := []struct {
		name string
		opts Options
		want []string
	}{
		{"missing config", Options{ConfigPath: "/nonexistent/cluster.conf", NodeID: 1}, []string{"/nonexistent/cluster.conf"}},
		{"missing key", Options{ConfigPath: noKey, NodeID: 1}, []string{noKey, "totem.keyfile", "/nonexistent"}},
		{"unknown node id", Options{ConfigPath: good, NodeID: 9}, []string{"--node-id 9", good}},
		{"unknown name", Options{ConfigPath: good, NodeName: "zz"}, []string{"--name zz"}},
		{"id and name disagree", Options{ConfigPath: good, NodeID: 1, NodeName: "n2"}, []string{"--node-id 1", "--name n2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.opts)
			if err == nil {
				t.Fatal("New succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestQuorumConfigFromFile(t *testing.T) {
	tests := []struct {
		name    string
		section string
		check   func(quorum.Config) bool
	}{
		{"defaults", "", func(c quorum.Config) bool { return c.WaitForAll == quorum.Default && !c.TwoNode && c.Votes[2] == 1 }},
		{"two_node implies wait_for_all", "\ttwo_node: 1\n", func(c quorum.Config) bool { return c.TwoNode && c.WaitForAll == quorum.On }},
		{"two_node without wait_for_all", "\ttwo_node: 1\n\twait_for_all: 0\n", func(c quorum.Config) bool { return c.WaitForAll == quorum.Off }},
		{"tie breaker highest", "\tauto_tie_breaker: 1\n\tauto_tie_breaker_node: highest\n", func(c quorum.Config) bool {
			return c.AutoTieBreaker && c.TieBreaker.Mode == quorum.TieBreakHighest
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := 3
			if strings.Contains(tt.section, "two_node") {
				n = 2
			}
			c, err := config.Load(writeCluster(t, n, tt.section))
			if err != nil {
				t.Fatal(err)
			}
			qc, err := quorumConfig(c)
			if err != nil || !tt.check(qc) {
				t.Fatalf("quorum config %+v (%v)", qc, err)
			}
			if _, err := quorum.New(qc); err != nil {
				t.Fatalf("quorum.New rejects it: %v", err)
			}
		})
	}
}

// TestMaxFrameFitsTheMTU: a full frame split into 8 fragments, re-broadcast
// encapsulated during recovery, still fits one IPv6 datagram of the MTU.
func TestMaxFrameFitsTheMTU(t *testing.T) {
	for _, mtu := range []int{576, 1500, 9000} {
		f := maxFrame(mtu)
		data := f - wire.FragmentOverhead(8) // MaxFrame counts fragment headers
		inner := &wire.Mcast{Seq: 1, Sender: 1}
		for i := range 8 {
			n := data / 8
			if i == 7 {
				n = data - 7*(data/8)
			}
			inner.Frags = append(inner.Frags, wire.Fragment{Data: make([]byte, n)})
		}
		outer := &wire.Mcast{Seq: 2, Sender: 2, Encap: inner}
		if got := wire.Size(outer) + transport.Overhead + 48; got > mtu {
			t.Errorf("mtu %d: maxFrame %d gives %d-byte datagrams", mtu, f, got)
		}
		if f < mtu/2 {
			t.Errorf("mtu %d: maxFrame %d wastes more than half the datagram", mtu, f)
		}
	}
}
