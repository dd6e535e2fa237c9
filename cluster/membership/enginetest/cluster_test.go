package enginetest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// cluster is a topology with one node process per node namespace.
type cluster struct {
	t     testing.TB
	topo  *topology
	nodes []*nodeProc // nodes[i-1] is node i
	dir   string      // node logs

	mu   sync.Mutex
	sent map[uint32]uint64 // messages broadcast so far per sender = its last sequence number
}

// nodeProc is the parent's handle on one node process.
type nodeProc struct {
	id      uint32
	cmd     *exec.Cmd
	logPath string

	wmu   sync.Mutex
	stdin io.WriteCloser

	mu      sync.Mutex
	nextID  uint64
	pending map[uint64]chan reply
	readErr error
	exited  chan struct{}
}

// newCluster builds an n-node topology and starts a node process in every
// node namespace. Processes and namespaces are torn down in t.Cleanup; the
// node logs are printed on failure.
func newCluster(t testing.TB, n int) *cluster {
	t.Helper()
	c := &cluster{t: t, topo: newTopology(t, n), sent: map[uint32]uint64{}}
	c.dir = t.TempDir()
	if *keepLogs {
		d, err := os.MkdirTemp("", "enginetest-logs-")
		if err != nil {
			t.Fatalf("creating the log directory: %v", err)
		}
		c.dir = d
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatalf("finding the test binary: %v", err)
	}
	// A fixed, seeded test authkey: the test needs a key, not a secret.
	rng := rand.New(rand.NewPCG(uint64(n), 0x6b6579))
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(rng.Uint32())
	}
	peers := make([]peerAddr, n)
	for i := range n {
		peers[i] = peerAddr{ID: uint32(i + 1)}
		for l := range numLinks {
			peers[i].Addrs = append(peers[i].Addrs, linkAddr(l, i+1).String())
		}
	}
	t.Cleanup(c.stop)
	for i := 1; i <= n; i++ {
		cfg := nodeConfig{ID: uint32(i), Peers: peers, Port: ringPort, Key: key, Cluster: "enginetest", Debug: os.Getenv("OVSHA_ENGINETEST_DEBUG") != ""}
		p, err := startNodeProc(self, c.topo.nodeNS(i), cfg, filepath.Join(c.dir, fmt.Sprintf("node%d.log", i)))
		if err != nil {
			t.Fatalf("starting node %d: %v", i, err)
		}
		c.nodes = append(c.nodes, p)
	}
	return c
}

func startNodeProc(self, ns string, cfg nodeConfig, logPath string) (*nodeProc, error) {
	b, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("encoding the node config: %w", err)
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", logPath, err)
	}
	defer logf.Close() // the child has its own copy
	// ip netns exec execs in place: the PID is the node's.
	cmd := exec.Command("ip", "netns", "exec", ns, self, "-test.run=^$")
	cmd.Env = append(os.Environ(), envNode+"="+string(b), "GOMAXPROCS=2")
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("stdin pipe: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("stdout pipe: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s in %s: %w", self, ns, err)
	}
	p := &nodeProc{id: cfg.ID, cmd: cmd, logPath: logPath, stdin: stdin, pending: map[uint64]chan reply{}, exited: make(chan struct{})}
	go p.readLoop(stdout)
	return p, nil
}

func (p *nodeProc) readLoop(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for sc.Scan() {
		var rep reply
		if err := json.Unmarshal(sc.Bytes(), &rep); err != nil {
			continue // not a reply (stray output)
		}
		p.mu.Lock()
		ch := p.pending[rep.ID]
		delete(p.pending, rep.ID)
		p.mu.Unlock()
		if ch != nil {
			ch <- rep
		}
	}
	p.mu.Lock()
	p.readErr = fmt.Errorf("node %d control channel closed (see %s)", p.id, p.logPath)
	p.mu.Unlock()
	close(p.exited)
}

// call sends req and waits for its reply.
func (p *nodeProc) call(ctx context.Context, req request) (reply, error) {
	ch := make(chan reply, 1)
	p.mu.Lock()
	if p.readErr != nil {
		err := p.readErr
		p.mu.Unlock()
		return reply{}, err
	}
	p.nextID++
	req.ID = p.nextID
	p.pending[req.ID] = ch
	p.mu.Unlock()
	if dl, ok := ctx.Deadline(); ok && req.TimeoutMs == 0 {
		// The node gives up a little before the parent, so its error (which
		// says what it was waiting for) arrives first.
		req.TimeoutMs = max(1, int((time.Until(dl) - 250*time.Millisecond).Milliseconds()))
	}
	b, err := json.Marshal(req)
	if err != nil {
		return reply{}, fmt.Errorf("encoding %s request: %w", req.Op, err)
	}
	p.wmu.Lock()
	_, err = p.stdin.Write(append(b, '\n'))
	p.wmu.Unlock()
	if err != nil {
		return reply{}, fmt.Errorf("node %d: writing %s request: %w", p.id, req.Op, err)
	}
	select {
	case rep := <-ch:
		if rep.Error != "" {
			return rep, fmt.Errorf("node %d %s: %s", p.id, req.Op, rep.Error)
		}
		return rep, nil
	case <-p.exited:
		return reply{}, p.readErr
	case <-ctx.Done():
		p.mu.Lock()
		delete(p.pending, req.ID)
		p.mu.Unlock()
		return reply{}, fmt.Errorf("node %d %s: %w", p.id, req.Op, ctx.Err())
	}
}

func (p *nodeProc) pid() int { return p.cmd.Process.Pid }

// freeze stops the process (SIGSTOP) and returns the time it was sent.
func (p *nodeProc) freeze() (time.Time, error) {
	t := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		return t, fmt.Errorf("SIGSTOP node %d: %w", p.id, err)
	}
	return t, nil
}

func (p *nodeProc) thaw() error {
	if err := p.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		return fmt.Errorf("SIGCONT node %d: %w", p.id, err)
	}
	return nil
}

// stopProc ends the process: SIGCONT (in case it is frozen), close stdin,
// SIGTERM, then SIGKILL after a grace period.
func (p *nodeProc) stopProc() {
	_ = p.cmd.Process.Signal(syscall.SIGCONT)
	_ = p.stdin.Close()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

func (c *cluster) stop() {
	var wg sync.WaitGroup
	for _, p := range c.nodes {
		wg.Go(p.stopProc)
	}
	wg.Wait()
	if c.t.Failed() || *keepLogs {
		for _, p := range c.nodes {
			c.t.Logf("node %d log: %s", p.id, p.logPath)
			if c.t.Failed() {
				c.t.Logf("--- tail of node %d log ---\n%s", p.id, tail(p.logPath, 40))
			}
		}
	}
}

func tail(path string, lines int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(reading %s: %v)", path, err)
	}
	l := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}

// node returns node i (1-based).
func (c *cluster) node(i int) *nodeProc { return c.nodes[i-1] }

// ids returns the node ids 1..n, or the given subset.
func allIDs(n int) []uint32 {
	ids := make([]uint32, n)
	for i := range ids {
		ids[i] = uint32(i + 1)
	}
	return ids
}

// waitRing waits until every node in ids has installed a regular
// configuration with exactly members at or after since, and returns the
// latest install time among them.
func (c *cluster) waitRing(ctx context.Context, ids, members []uint32, since time.Time) (time.Time, error) {
	var latest time.Time
	var mu sync.Mutex
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for k, id := range ids {
		wg.Go(func() {
			rep, err := c.node(int(id)).call(ctx, request{Op: opWaitRing, Members: members, SinceNs: since.UnixNano()})
			if err != nil {
				errs[k] = err
				return
			}
			at := time.Unix(0, rep.Ring.TimeNs)
			mu.Lock()
			if at.After(latest) {
				latest = at
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	return latest, errors.Join(errs...)
}

// status returns the status of node i.
func (c *cluster) status(ctx context.Context, i int) (*nodeStatus, error) {
	rep, err := c.node(i).call(ctx, request{Op: opStatus})
	if err != nil {
		return nil, err
	}
	return rep.Status, nil
}

// digests returns the delivery digests of nodes ids.
func (c *cluster) digests(ctx context.Context, ids []uint32, hashAt []uint64) (map[uint32]*digest, error) {
	out := map[uint32]*digest{}
	for _, id := range ids {
		rep, err := c.node(int(id)).call(ctx, request{Op: opDigest, HashAt: hashAt})
		if err != nil {
			return nil, err
		}
		out[id] = rep.Digest
	}
	return out, nil
}

// waitTotal waits until every node in ids has delivered total messages.
func (c *cluster) waitTotal(ctx context.Context, ids []uint32, total uint64) (map[uint32]*digest, error) {
	out := map[uint32]*digest{}
	var mu sync.Mutex
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for k, id := range ids {
		wg.Go(func() {
			rep, err := c.node(int(id)).call(ctx, request{Op: opWaitTotal, Total: total})
			if err != nil {
				errs[k] = err
				return
			}
			mu.Lock()
			out[id] = rep.Digest
			mu.Unlock()
		})
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// sentSeqs returns the last sequence number each sender has broadcast.
func (c *cluster) sentSeqs() map[uint32]uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[uint32]uint64{}
	for k, v := range c.sent {
		out[k] = v
	}
	return out
}

// waitSeqs waits until every node in ids has delivered, from every sender
// in seqs, the message with that sequence number.
func (c *cluster) waitSeqs(ctx context.Context, ids []uint32, seqs map[uint32]uint64) (map[uint32]*digest, error) {
	out := map[uint32]*digest{}
	var mu sync.Mutex
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for k, id := range ids {
		wg.Go(func() {
			rep, err := c.node(int(id)).call(ctx, request{Op: opWaitSeqs, Seqs: seqs})
			if err != nil {
				errs[k] = err
				return
			}
			mu.Lock()
			out[id] = rep.Digest
			mu.Unlock()
		})
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// sendAll runs req on every node in senders at once and returns the
// results.
func (c *cluster) sendAll(ctx context.Context, senders []uint32, req request) (map[uint32]*sendResult, error) {
	req.Op = opSend
	out := map[uint32]*sendResult{}
	var mu sync.Mutex
	errs := make([]error, len(senders))
	var wg sync.WaitGroup
	for k, id := range senders {
		wg.Go(func() {
			rep, err := c.node(int(id)).call(ctx, req)
			if err != nil {
				errs[k] = err
				return
			}
			mu.Lock()
			out[id] = rep.Sent
			mu.Unlock()
			c.mu.Lock()
			c.sent[id] += uint64(rep.Sent.Sent)
			c.mu.Unlock()
		})
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// procCPU returns the utime+stime of pid (from /proc/PID/stat).
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("reading the stat of %d: %w", pid, err)
	}
	s := string(b)
	// Fields after the command name, which is in parentheses.
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc/%d/stat utime/stime: %w", pid, err)
	}
	const clkTck = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / clkTck, nil
}

// procRSS returns VmRSS of pid in bytes.
func procRSS(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("reading the status of %d: %w", pid, err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) < 1 {
				break
			}
			kb, err := strconv.ParseUint(f[0], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("/proc/%d/status VmRSS %q: %w", pid, rest, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no VmRSS line", pid)
}
