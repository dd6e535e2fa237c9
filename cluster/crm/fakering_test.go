package crm

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ovsha/ovsha/agents"
	"github.com/ovsha/ovsha/cluster/totem"
)

// bus is an in-memory ring: one total order of deliveries, handed to
// every member's CRM by one goroutine, as the membership runtime does.
type bus struct {
	mu      sync.Mutex
	q       []totem.Event
	signal  chan struct{}
	members map[uint32]*CRM
	down    map[uint32]bool
}

func newBus() *bus {
	return &bus{signal: make(chan struct{}, 1), members: map[uint32]*CRM{}, down: map[uint32]bool{}}
}

type busPort struct {
	b  *bus
	id uint32
}

func (p busPort) Broadcast(_ context.Context, payload []byte, _ totem.Guarantee) error {
	p.b.mu.Lock()
	if !p.b.down[p.id] {
		p.b.q = append(p.b.q, totem.Event{Kind: totem.EventDeliver, Sender: totem.NodeID(p.id), Payload: append([]byte(nil), payload...)})
	}
	p.b.mu.Unlock()
	p.b.wake()
	return nil
}

func (b *bus) wake() {
	select {
	case b.signal <- struct{}{}:
	default:
	}
}

// regular queues a configuration of the live members.
func (b *bus) regular(seq uint64, left ...uint32) {
	b.mu.Lock()
	var ms []totem.NodeID
	for id := uint32(1); id <= 8; id++ {
		if b.members[id] != nil && !b.down[id] {
			ms = append(ms, totem.NodeID(id))
		}
	}
	ev := totem.Event{Kind: totem.EventRegular, Ring: totem.RingID{Rep: ms[0], Seq: seq}, Members: ms}
	for _, l := range left {
		ev.Left = append(ev.Left, totem.NodeID(l))
	}
	b.q = append(b.q, ev)
	b.mu.Unlock()
	b.wake()
}

func (b *bus) run(ctx context.Context) {
	for {
		b.mu.Lock()
		if len(b.q) == 0 {
			b.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-b.signal:
				continue
			}
		}
		ev := b.q[0]
		b.q = b.q[1:]
		var to []*CRM
		for id, c := range b.members {
			if !b.down[id] {
				to = append(to, c)
			}
		}
		b.mu.Unlock()
		for _, c := range to {
			c.HandleEvent(ev)
		}
	}
}

// fakeAgent records where each resource runs, shared by all nodes.
type fakeAgent struct {
	mu      sync.Mutex
	running map[string]map[string]bool // rsc → nodes
	log     []string
	failMon map[string]bool // "rsc@node": monitor reports not running
}

func newFakeAgent() *fakeAgent {
	return &fakeAgent{running: map[string]map[string]bool{}, failMon: map[string]bool{}}
}

func (f *fakeAgent) Metadata() agents.Metadata                     { return agents.Metadata{Name: "fake"} }
func (f *fakeAgent) Validate(context.Context, agents.Params) error { return nil }
func (f *fakeAgent) Start(_ context.Context, r agents.Resource) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := r.Params["CRM_meta_on_node"]
	if f.running[r.ID] == nil {
		f.running[r.ID] = map[string]bool{}
	}
	f.running[r.ID][n] = true
	f.log = append(f.log, "start "+r.ID+" "+n)
	delete(f.failMon, r.ID+"@"+n)
	return nil
}
func (f *fakeAgent) Stop(_ context.Context, r agents.Resource) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := r.Params["CRM_meta_on_node"]
	delete(f.running[r.ID], n)
	f.log = append(f.log, "stop "+r.ID+" "+n)
	return nil
}
func (f *fakeAgent) Monitor(_ context.Context, r agents.Resource) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := r.Params["CRM_meta_on_node"]
	if f.failMon[r.ID+"@"+n] || !f.running[r.ID][n] {
		return agents.Errorf(agents.NotRunning, "not running")
	}
	return nil
}

func (f *fakeAgent) where(rsc string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, n := range []string{"n1", "n2", "n3"} {
		if f.running[rsc][n] {
			out = append(out, n)
		}
	}
	return out
}

type cluster struct {
	t     *testing.T
	bus   *bus
	crms  map[uint32]*CRM
	agent *fakeAgent
	dir   string
	ctx   context.Context
}

func newCluster(t *testing.T, n int) *cluster {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	cl := &cluster{t: t, bus: newBus(), crms: map[uint32]*CRM{}, agent: newFakeAgent(), dir: dir, ctx: ctx}
	var nodes []Node
	for i := 1; i <= n; i++ {
		nodes = append(nodes, Node{ID: uint32(i), Name: fmt.Sprintf("n%d", i)})
	}
	var log *slog.Logger
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	for _, nd := range nodes {
		reg := agents.NewRegistry(agents.RegistryOptions{})
		if err := reg.Register("fake", cl.agent, "ocf:ovsha:fake"); err != nil {
			t.Fatal(err)
		}
		c, err := New(ctx, Config{Local: nd, Nodes: nodes, Ring: busPort{cl.bus, nd.ID}, Service: 2, Agents: reg,
			CIBPath: filepath.Join(cl.dir, nd.Name+".xml"), Quorate: func() bool { return true }, Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		if log != nil {
			c.log = log.With("node", nd.Name)
		}
		cl.crms[nd.ID] = c
		cl.bus.members[nd.ID] = c
		wg.Go(func() { c.Run(ctx) })
	}
	wg.Go(func() { cl.bus.run(ctx) })
	cl.bus.regular(1)
	return cl
}

// eventually polls cond (the fake agent and CRMs have no event stream to
// await) until it holds or 10s pass.
func (cl *cluster) eventually(what string, cond func() bool) {
	cl.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			cl.t.Fatalf("timed out waiting for %s; agent log: %v", what, cl.agent.log)
		}
		<-t.C
	}
}

const twoRsc = `<configuration>
  <crm_config><cluster_property_set id="o"><nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
  <resources>
    <group id="g">
      <primitive id="a" class="ocf" provider="ovsha" type="fake"><operations><op id="a-m" name="monitor" interval="50ms"/></operations></primitive>
      <primitive id="b" class="ocf" provider="ovsha" type="fake"/>
    </group>
  </resources>
  <constraints>%s</constraints>
</configuration>`

func equal(a []string, b ...string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (f *fakeAgent) count(prefix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, l := range f.log {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}
