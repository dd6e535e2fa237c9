package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// vswitchSchema is the OVSDB schema Debian's openvswitch-common installs.
const vswitchSchema = "/usr/share/openvswitch/vswitch.ovsschema"

// Proc is a helper daemon of a node (ovsdb-server, ovs-vswitchd). Like
// ovshad it is only ever signalled while /proc/PID/exe is Binary and its
// command line contains Tag (the node's OVS directory).
type Proc struct {
	Name   string `json:"name"`
	PID    int    `json:"pid"`
	Binary string `json:"binary"`
	Tag    string `json:"tag"`
}

// procOurs reports whether p.PID still runs the recorded daemon.
func procOurs(p Proc) bool {
	if p.PID <= 0 {
		return false
	}
	exe, err := os.Readlink("/proc/" + strconv.Itoa(p.PID) + "/exe")
	if err != nil || strings.TrimSuffix(exe, " (deleted)") != p.Binary {
		return false
	}
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(p.PID) + "/cmdline")
	return err == nil && strings.Contains(string(cmdline), p.Tag)
}

// ovsEnv is the environment of every OVS program of node n.
func ovsEnv(n *NodeState) []string {
	return append(os.Environ(), "OVS_RUNDIR="+n.OVSDir, "OVS_LOGDIR="+n.OVSDir, "OVS_DBDIR="+n.OVSDir)
}

// ovsEndpoint is node n's OVSDB remote.
func ovsEndpoint(n *NodeState) string { return "unix:" + filepath.Join(n.OVSDir, "db.sock") }

// startProc starts argv detached inside n's namespace (own session, output
// appended to OVSDir/<name>.out) and records it in n.Procs.
func startProc(n *NodeState, argv ...string) error {
	bin, err := exec.LookPath(argv[0])
	if err != nil {
		return fmt.Errorf("finding %s (install openvswitch-switch): %w", argv[0], err)
	}
	if bin, err = filepath.EvalSymlinks(bin); err != nil {
		return fmt.Errorf("resolving %s: %w", argv[0], err)
	}
	out, err := os.OpenFile(filepath.Join(n.OVSDir, argv[0]+".out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("opening output of %s: %w", argv[0], err)
	}
	defer out.Close()
	cmd := exec.Command(bin, argv[1:]...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = ovsEnv(n)
	cmd.Dir = n.OVSDir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := startIn(n.Namespace, cmd); err != nil {
		return fmt.Errorf("starting %s for %s: %w", argv[0], n.Name, err)
	}
	n.Procs = append(n.Procs, Proc{Name: argv[0], PID: cmd.Process.Pid, Binary: bin, Tag: n.OVSDir})
	return cmd.Process.Release()
}

// startOVS creates the node's OVSDB (first boot only) and starts
// ovsdb-server and ovs-vswitchd (userspace datapath) in the node's
// namespace, in the foreground of their own session, and returns once
// ovs-vswitchd has applied the initial configuration. save is called after
// each start so the pids are on record.
func startOVS(ctx context.Context, n *NodeState, save func() error) error {
	if err := os.MkdirAll(n.OVSDir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", n.OVSDir, err)
	}
	db := filepath.Join(n.OVSDir, "conf.db")
	if _, err := os.Stat(db); errors.Is(err, os.ErrNotExist) {
		if out, err := exec.CommandContext(ctx, "ovsdb-tool", "create", db, vswitchSchema).CombinedOutput(); err != nil {
			return fmt.Errorf("ovsdb-tool create %s: %w: %s", db, err, strings.TrimSpace(string(out)))
		}
	}
	removeStaleControls(n.OVSDir)
	sock := filepath.Join(n.OVSDir, "db.sock")
	n.Procs = nil
	if err := startProc(n, "ovsdb-server", db, "--remote=punix:"+sock, "--pidfile", "--log-file", "-vconsole:off", "--no-chdir"); err != nil {
		return err
	}
	if err := save(); err != nil {
		return err
	}
	if err := waitSocket(ctx, sock, 10*time.Second); err != nil {
		return fmt.Errorf("ovsdb-server of %s: %w (log: %s)", n.Name, err, tail(filepath.Join(n.OVSDir, "ovsdb-server.log"), 3))
	}
	if err := startProc(n, "ovs-vswitchd", "unix:"+sock, "--pidfile", "--log-file", "-vconsole:off", "--no-chdir"); err != nil {
		return err
	}
	if err := save(); err != nil {
		return err
	}
	// Without --no-wait, ovs-vsctl returns once ovs-vswitchd applied it.
	// The idle bridge keeps the userspace (netdev) datapath alive on every
	// node: creating that datapath costs ~100 ms, which the first gateway
	// bridge on a standby node would otherwise pay during failover. A real
	// appliance's OVS runs other bridges (management, ...) for the same
	// effect; the cluster never touches this one.
	c := exec.CommandContext(ctx, "ovs-vsctl", "--db="+ovsEndpoint(n), "--timeout=10", "init",
		"--", "--may-exist", "add-br", warmBridge, "--", "set", "bridge", warmBridge, "datapath_type=netdev")
	c.Env = ovsEnv(n)
	if out, err := c.CombinedOutput(); err != nil {
		return fmt.Errorf("ovs-vswitchd of %s did not come up: %w: %s (log: %s)", n.Name, err, strings.TrimSpace(string(out)),
			tail(filepath.Join(n.OVSDir, "ovs-vswitchd.log"), 3))
	}
	return nil
}

// warmBridge is the idle netdev bridge every lab node's OVS keeps.
const warmBridge = "br-warm"

// signalProcs sends sig to every recorded OVS daemon of n that is still
// ours.
func signalProcs(n NodeState, sig syscall.Signal) error {
	var errs []error
	for _, p := range n.Procs {
		if !procOurs(p) {
			continue
		}
		if err := syscall.Kill(p.PID, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
			errs = append(errs, fmt.Errorf("signalling %s of %s (pid %d): %w", p.Name, n.Name, p.PID, err))
		}
	}
	return errors.Join(errs...)
}

// stopProcs terminates n's OVS daemons (SIGCONT first, in case the node is
// frozen), SIGKILLs what is left after grace and waits until they are gone.
func stopProcs(ctx context.Context, n NodeState, grace time.Duration) error {
	if err := signalProcs(n, syscall.SIGTERM); err != nil {
		return err
	}
	_ = signalProcs(n, syscall.SIGCONT)
	deadline := time.Now().Add(grace)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		left := false
		for _, p := range n.Procs {
			if procOurs(p) && alive(p.PID) {
				left = true
			}
		}
		if !left {
			return nil
		}
		if time.Now().After(deadline) {
			if err := signalProcs(n, syscall.SIGKILL); err != nil {
				return err
			}
			deadline = time.Now().Add(grace)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// waitSocket waits until a unix socket accepts connections.
func waitSocket(ctx context.Context, path string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		c, err := net.Dial("unix", path)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("socket %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Millisecond): // the daemon creates it; no event to await
		}
	}
}

// startAllOVS starts every node's OVS in parallel.
func startAllOVS(ctx context.Context, st *State) error {
	var mu sync.Mutex
	save := func() error { mu.Lock(); defer mu.Unlock(); return st.save() }
	errs := make([]error, len(st.Nodes))
	var wg sync.WaitGroup
	for i := range st.Nodes {
		wg.Go(func() { errs[i] = startOVS(ctx, &st.Nodes[i], save) })
	}
	wg.Wait()
	return errors.Join(append(errs, st.save())...)
}

// checkGatewayTools fails early, naming what is missing, when a gateway
// lab cannot be built on this machine.
func checkGatewayTools(ovsha string) error {
	if !filepath.IsAbs(ovsha) {
		return fmt.Errorf("ovsha binary %q: want an absolute path", ovsha)
	}
	if _, err := os.Stat(ovsha); err != nil {
		return fmt.Errorf("ovsha binary: %w", err)
	}
	for _, tool := range []string{"ovsdb-tool", "ovsdb-server", "ovs-vswitchd", "ovs-vsctl", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found: install openvswitch-switch nftables (`sudo make lab` does)", tool)
		}
	}
	if _, err := os.Stat(vswitchSchema); err != nil {
		return fmt.Errorf("OVSDB schema: %w (install openvswitch-common)", err)
	}
	return nil
}

// removeStaleControls deletes the NAME.PID.ctl control sockets that killed
// OVS daemons leave behind (a powered-on node would collect one pair per
// reboot).
func removeStaleControls(dir string) {
	ctls, _ := filepath.Glob(filepath.Join(dir, "*.ctl"))
	for _, c := range ctls {
		parts := strings.Split(filepath.Base(c), ".")
		if len(parts) < 3 {
			continue
		}
		pid, err := strconv.Atoi(parts[len(parts)-2])
		if err == nil && !alive(pid) {
			os.Remove(c)
		}
	}
}
