package netnstest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// OVS is a private ovsdb-server + ovs-vswitchd running in a namespace, with
// every file (db, sockets, pidfiles, logs) in Dir.
type OVS struct {
	NS  *NS
	Dir string // OVS_RUNDIR; short, so socket paths fit in 108 bytes
	t   testing.TB
}

// Endpoint is the OVSDB remote of this instance.
func (o *OVS) Endpoint() string { return "unix:" + filepath.Join(o.Dir, "db.sock") }

// StartOVS starts the two daemons in the foreground (killed with the test
// process) and returns once ovs-vswitchd has applied an initial
// configuration. Cleanup stops them and removes Dir.
func StartOVS(t testing.TB, n *NS) *OVS {
	t.Helper()
	dir, err := os.MkdirTemp("", "ovs")
	if err != nil {
		t.Fatal(err)
	}
	o := &OVS{NS: n, Dir: dir, t: t}
	t.Cleanup(func() { os.RemoveAll(dir) })
	db := filepath.Join(dir, "conf.db")
	if out, err := exec.Command("ovsdb-tool", "create", db, "/usr/share/openvswitch/vswitch.ovsschema").CombinedOutput(); err != nil {
		t.Fatalf("ovsdb-tool create: %v: %s", err, out)
	}
	o.daemon("ovsdb-server", db, "--remote=punix:"+filepath.Join(dir, "db.sock"), "--pidfile", "--log-file", "-vconsole:off", "--no-chdir")
	if err := waitSock(filepath.Join(dir, "db.sock"), 10*time.Second); err != nil {
		t.Fatalf("ovsdb-server socket: %v (log: %s)", err, o.Log("ovsdb-server"))
	}
	o.daemon("ovs-vswitchd", "unix:"+filepath.Join(dir, "db.sock"), "--pidfile", "--log-file", "-vconsole:off", "--no-chdir")
	// Without --no-wait, ovs-vsctl waits until ovs-vswitchd applied it.
	o.Vsctl("--timeout=10", "init")
	return o
}

func (o *OVS) daemon(args ...string) {
	o.t.Helper()
	c := o.NS.Command(args[0], args[1:]...)
	c.Env = append(os.Environ(), "OVS_RUNDIR="+o.Dir, "OVS_LOGDIR="+o.Dir, "OVS_DBDIR="+o.Dir)
	if err := c.Start(); err != nil {
		o.t.Fatalf("starting %s: %v", args[0], err)
	}
	o.t.Cleanup(func() {
		c.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { c.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			c.Process.Kill()
			<-done
		}
	})
}

// Log returns a daemon's log file (name "ovs-vswitchd" or "ovsdb-server").
func (o *OVS) Log(name string) string {
	b, _ := os.ReadFile(filepath.Join(o.Dir, name+".log"))
	return string(b)
}

// Vsctl runs ovs-vsctl against this instance and fails the test on error.
func (o *OVS) Vsctl(args ...string) string {
	o.t.Helper()
	out, err := exec.Command("ovs-vsctl", append([]string{"--db=" + o.Endpoint()}, args...)...).CombinedOutput()
	if err != nil {
		o.t.Fatalf("ovs-vsctl %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Appctl runs ovs-appctl against this instance's ovs-vswitchd.
func (o *OVS) Appctl(args ...string) (string, error) {
	c := exec.Command("ovs-appctl", append([]string{"-t", "ovs-vswitchd"}, args...)...)
	c.Env = append(os.Environ(), "OVS_RUNDIR="+o.Dir)
	out, err := c.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ovs-appctl %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

func waitSock(path string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		c, err := net.Dial("unix", path)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(2 * time.Millisecond) // no event to await: the daemon creates the socket
	}
}
