package lab

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ovsha/ovsha/appliance"
	"github.com/ovsha/ovsha/cluster/transport"
)

// Node count limits of a lab.
const (
	MinNodes = 2
	MaxNodes = 8
)

// Spec describes a lab to bring up.
type Spec struct {
	// Name prefixes every namespace and interface (ValidateName).
	Name string
	// Nodes is the number of nodes, MinNodes..MaxNodes.
	Nodes int
	// BaseDir holds the lab's state directory BaseDir/Name.
	BaseDir string
	// Ovshad is the absolute path of the ovshad binary to run.
	Ovshad string
	// Timeout bounds the wait for a quorate ring on every node.
	Timeout time.Duration
	// Logger receives progress; nil discards it.
	Logger *slog.Logger
	// Gateway makes a gateway lab: LAN switches sw1/sw2, client, wan, OVS
	// per node and the gateway resources (Ovsha, the CLI binary, creates
	// them). Without it the lab is engine-only.
	Gateway bool
	Ovsha   string
	// Fencing gives the lab a fence device (fence.go): one stonith
	// device per node through the lab's fence agent, fencing enabled.
	// Needs Ovsha.
	Fencing bool
}

// Up builds the lab and starts its daemons, then waits until every node
// sees all nodes in one quorate ring. If building fails, whatever was made
// is removed again. If the ring does not form in time the lab is left
// running for inspection (logs under the state directory) and the error
// says so.
func Up(ctx context.Context, spec Spec) (*State, error) {
	if err := ValidateName(spec.Name); err != nil {
		return nil, err
	}
	if spec.Nodes < MinNodes || spec.Nodes > MaxNodes {
		return nil, fmt.Errorf("--nodes %d: a lab has %d to %d nodes", spec.Nodes, MinNodes, MaxNodes)
	}
	if !filepath.IsAbs(spec.Ovshad) {
		return nil, fmt.Errorf("ovshad binary %q: want an absolute path", spec.Ovshad)
	}
	if _, err := os.Stat(spec.Ovshad); err != nil {
		return nil, fmt.Errorf("ovshad binary: %w (run `make build`, or pass --ovshad)", err)
	}
	if spec.Gateway {
		if err := checkGatewayTools(spec.Ovsha); err != nil {
			return nil, err
		}
	}
	if spec.Fencing && !filepath.IsAbs(spec.Ovsha) {
		return nil, fmt.Errorf("fencing: the ovsha binary %q: want an absolute path (the lab's fence agent runs it)", spec.Ovsha)
	}
	log := spec.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	base, err := filepath.Abs(spec.BaseDir)
	if err != nil {
		return nil, fmt.Errorf("lab directory %s: %w", spec.BaseDir, err)
	}
	dir := filepath.Join(base, spec.Name)
	if _, err := os.Stat(statePath(dir)); err == nil {
		return nil, fmt.Errorf("lab %s is already up (state in %s); run `ovsha lab down --name %s` first", spec.Name, dir, spec.Name)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating lab directory: %w", err)
	}
	st := &State{Name: spec.Name, Dir: dir, Created: time.Now().UTC(), Config: filepath.Join(dir, "cluster.conf"), Gateway: spec.Gateway, Fencing: spec.Fencing}
	for i := 1; i <= spec.Nodes; i++ {
		nd := filepath.Join(dir, fmt.Sprintf("n%d", i))
		n := NodeState{Name: fmt.Sprintf("n%d", i), ID: uint32(i), Namespace: nodeNS(spec.Name, i), Dir: nd,
			Socket: filepath.Join(nd, "ovshad.sock"), Log: filepath.Join(nd, "ovshad.log")}
		if spec.Gateway {
			n.OVSDir = filepath.Join(nd, "ovs")
			// ovs-appctl (bond/show) finds the node's vswitchd through OVS_RUNDIR.
			n.Env = []string{"OVSHA_OVSDB=" + ovsEndpoint(&n), "OVS_RUNDIR=" + n.OVSDir}
		}
		if spec.Fencing {
			n.Env = append(n.Env, appliance.EnvFenceDir+"="+FenceDir(st))
		}
		for _, p := range hbPrefix {
			n.Addrs = append(n.Addrs, fmt.Sprintf("%s.%d/24", p, i))
		}
		st.Nodes = append(st.Nodes, n)
	}
	if err := st.save(); err != nil {
		return nil, err
	}
	t0 := time.Now()
	if err := build(st); err != nil {
		return nil, errors.Join(err, teardown(ctx, st, log))
	}
	if spec.Gateway {
		if err := buildGateway(st); err != nil {
			return nil, errors.Join(err, teardown(ctx, st, log))
		}
		if err := startAllOVS(ctx, st); err != nil {
			return nil, errors.Join(err, teardown(ctx, st, log))
		}
		log.Info("LAN, WAN and OVS on every node are up", "lab", st.Name, "took", time.Since(t0).Round(time.Millisecond))
	}
	log.Info("lab network built", "lab", st.Name, "nodes", spec.Nodes, "took", time.Since(t0).Round(time.Millisecond))
	if spec.Fencing {
		if err := writeFenceAgent(st, spec.Ovsha); err != nil {
			return nil, errors.Join(err, teardown(ctx, st, log))
		}
	}
	keyfile := filepath.Join(dir, "authkey")
	if err := transport.WriteKey(keyfile, true); err != nil {
		return nil, errors.Join(err, teardown(ctx, st, log))
	}
	if err := writeConfig(st, keyfile); err != nil {
		return nil, errors.Join(err, teardown(ctx, st, log))
	}
	for i := range st.Nodes {
		n := &st.Nodes[i]
		if err := os.MkdirAll(n.Dir, 0o700); err != nil {
			return nil, errors.Join(fmt.Errorf("creating node directory: %w", err), teardown(ctx, st, log))
		}
		err := startDaemon(n, spec.Ovshad, st.Config)
		if serr := st.save(); err == nil {
			err = serr
		}
		if err != nil {
			return nil, errors.Join(err, teardown(ctx, st, log))
		}
	}
	log.Info("ovshad started on every node; waiting for a quorate ring", "lab", st.Name)
	wctx, cancel := context.WithTimeout(ctx, spec.Timeout)
	defer cancel()
	if err := WaitRing(wctx, st, len(st.Nodes)); err != nil {
		return st, fmt.Errorf("%w; the lab is left up for inspection (logs: %s/n*/ovshad.log; remove it with `ovsha lab down --name %s`)", err, dir, st.Name)
	}
	log.Info("ring formed and quorate on every node", "lab", st.Name, "took", time.Since(t0).Round(time.Millisecond))
	if !spec.Gateway {
		if spec.Fencing {
			if err := configureFencing(wctx, st, spec.Ovsha); err != nil {
				return st, fmt.Errorf("configuring fencing: %w; the lab is left up for inspection (remove it with `ovsha lab down --name %s`)", err, st.Name)
			}
		}
		return st, nil
	}
	if err := configureGateway(wctx, st, spec.Ovsha); err != nil {
		return st, fmt.Errorf("configuring the gateway: %w; the lab is left up for inspection (remove it with `ovsha lab down --name %s`)", err, st.Name)
	}
	if spec.Fencing {
		if err := configureFencing(wctx, st, spec.Ovsha); err != nil {
			return st, fmt.Errorf("configuring fencing: %w; the lab is left up for inspection (remove it with `ovsha lab down --name %s`)", err, st.Name)
		}
		log.Info("fencing enabled: one lab fence device per node", "lab", st.Name, "agent", filepath.Join(FenceDir(st), FenceAgentName))
	}
	log.Info("gateway resources created; waiting until the client reaches wan through the VIP", "lab", st.Name)
	if err := WaitGateway(wctx, st); err != nil {
		return st, fmt.Errorf("%w; the lab is left up for inspection (logs: %s/n*/ovshad.log; remove it with `ovsha lab down --name %s`)", err, dir, st.Name)
	}
	log.Info("client reaches wan through the gateway", "lab", st.Name, "took", time.Since(t0).Round(time.Millisecond))
	return st, nil
}

// build creates the namespaces, bridges and links, recording each
// namespace in the state file before creating it.
func build(st *State) error {
	hub, err := newNS(st, hubNS(st.Name))
	if err != nil {
		return err
	}
	defer hub.Close()
	for k := range hbPrefix {
		if err := addBridge(hub, bridgeName(st.Name, k)); err != nil {
			return err
		}
	}
	for i, n := range st.Nodes {
		h, err := newNS(st, n.Namespace)
		if err != nil {
			return err
		}
		for k, addr := range n.Addrs {
			if err := wire(h, nodeLink(st.Name, k), addr, hub, hubPort(st.Name, i+1, k), bridgeName(st.Name, k)); err != nil {
				h.Close()
				return fmt.Errorf("wiring %s link %d: %w", n.Name, k, err)
			}
			st.Links = append(st.Links, Link{ANS: n.Namespace, A: nodeLink(st.Name, k), BNS: hubNS(st.Name), B: hubPort(st.Name, i+1, k)})
		}
		h.Close()
	}
	return nil
}

// WaitRing waits until every node's ovshad reports a quorate configuration
// of want members, or ctx ends. It fails early if a daemon died.
func WaitRing(ctx context.Context, st *State, want int) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last string
	for {
		ready := 0
		for _, n := range st.Nodes {
			if n.PID > 0 && !Running(n) {
				return fmt.Errorf("ovshad of %s (pid %d) exited: %s", n.Name, n.PID, tail(n.Log, 5))
			}
			qctx, cancel := context.WithTimeout(ctx, time.Second)
			q, err := appliance.NewClient(n.Socket).Quorum(qctx)
			cancel()
			switch {
			case err != nil:
				last = fmt.Sprintf("%s: %v", n.Name, err)
			case !q.Quorate || len(q.Members) != want:
				last = fmt.Sprintf("%s: %d member(s), quorate=%v", n.Name, len(q.Members), q.Quorate)
			default:
				ready++
			}
		}
		if ready == len(st.Nodes) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no quorate %d-node ring on every node (last seen: %s): %w", want, last, ctx.Err())
		case <-tick.C:
		}
	}
}

// tail returns the last n lines of a file, for error messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// Down stops the lab's daemons and removes everything its state file
// records, then the state directory. A lab that is not up is not an error
// (ErrNoLab is returned for the caller to report).
func Down(ctx context.Context, base, name string, log *slog.Logger) error {
	st, err := Load(base, name)
	if err != nil {
		return err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return teardown(ctx, st, log)
}

func teardown(ctx context.Context, st *State, log *slog.Logger) error {
	var wg sync.WaitGroup
	errs := make([]error, len(st.Nodes))
	for i, n := range st.Nodes {
		wg.Go(func() {
			errs[i] = errors.Join(stopDaemon(ctx, n, 3*time.Second), stopProcs(ctx, n, 3*time.Second))
		})
	}
	wg.Wait()
	for _, ns := range slices.Backward(st.Namespaces) {
		errs = append(errs, deleteNS(ns))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("tearing down lab %s (state kept in %s; retry `ovsha lab down --name %s`): %w", st.Name, st.Dir, st.Name, err)
	}
	if err := os.RemoveAll(st.Dir); err != nil {
		return fmt.Errorf("removing lab directory: %w", err)
	}
	log.Info("lab removed", "lab", st.Name)
	return nil
}

// NodeStatus is one node's line in `ovsha lab status`.
type NodeStatus struct {
	Name      string   `json:"name"`
	NodeID    uint32   `json:"nodeid"`
	Namespace string   `json:"namespace"`
	NSExists  bool     `json:"namespace_exists"`
	PID       int      `json:"pid"`
	Running   bool     `json:"running"`
	Socket    string   `json:"socket"`
	Ring      string   `json:"ring_id,omitempty"`
	Quorate   bool     `json:"quorate"`
	Members   []uint32 `json:"members"`
	// Gateway: the node holds the gateway (the LAN VIP); Fault is the lab
	// fault applied to it.
	Gateway bool   `json:"gateway"`
	Fault   string `json:"fault,omitempty"`
	Error   string `json:"error,omitempty"`
}

// Status reports every node of the lab.
func Status(ctx context.Context, st *State) []NodeStatus {
	out := make([]NodeStatus, len(st.Nodes))
	var wg sync.WaitGroup
	for i, n := range st.Nodes {
		wg.Go(func() {
			s := NodeStatus{Name: n.Name, NodeID: n.ID, Namespace: n.Namespace, NSExists: nsExists(n.Namespace),
				PID: n.PID, Running: Running(n), Socket: n.Socket, Members: []uint32{}, Fault: n.Fault}
			if st.Gateway && n.Fault != FaultPowerOff {
				s.Gateway, _, _ = holdsAddr(n.Namespace, LANVIP)
			}
			qctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			q, err := appliance.NewClient(n.Socket).Quorum(qctx)
			if err != nil {
				s.Error = err.Error()
			} else {
				s.Ring, s.Quorate = q.RingID.String(), q.Quorate
				for _, m := range q.Members {
					s.Members = append(s.Members, m.NodeID)
				}
			}
			out[i] = s
		})
	}
	wg.Wait()
	return out
}
