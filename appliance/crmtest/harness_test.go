package crmtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ovsha/ovsha/appliance"
	"github.com/ovsha/ovsha/appliance/lab"
)

// harness is one lab cluster running ovshad with the test agents.
type harness struct {
	t     *testing.T
	st    *lab.State
	base  string
	state string // the agents' shared state directory (pidfiles, log)
	bin   string
}

func buildOvshad(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ovshad")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/ovsha/ovsha/cmd/ovshad").CombinedOutput()
	if err != nil {
		t.Fatalf("building ovshad: %v\n%s", err, out)
	}
	return bin
}

func newHarness(t *testing.T, nodes int) *harness {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates network namespaces")
	}
	h := &harness{t: t, base: t.TempDir(), bin: buildOvshad(t)}
	h.state = filepath.Join(h.base, "agentstate")
	if err := os.MkdirAll(h.state, 0o755); err != nil {
		t.Fatal(err)
	}
	ocf, fence := writeAgents(t, h.base)
	t.Setenv(appliance.EnvOCFRoot, ocf) // inherited by the daemons
	t.Setenv(appliance.EnvFenceDir, fence)
	name := fmt.Sprintf("c%d", os.Getpid()%100000)
	ctx := context.Background()
	st, err := lab.Up(ctx, lab.Spec{Name: name, Nodes: nodes, BaseDir: h.base, Ovshad: h.bin, Timeout: 30 * time.Second})
	t.Cleanup(func() {
		if _, err := lab.Load(h.base, name); err == nil {
			// Continue frozen daemons so they can be stopped.
			for _, n := range h.st.Nodes {
				if n.PID > 0 {
					_ = syscall.Kill(n.PID, syscall.SIGCONT)
				}
			}
			if err := lab.Down(ctx, h.base, name, nil); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
		// Sleepers left by killed nodes.
		pids, _ := filepath.Glob(filepath.Join(h.state, "*.pid"))
		for _, p := range pids {
			if b, err := os.ReadFile(p); err == nil {
				if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		}
	})
	h.st = st
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range st.Nodes {
		if err := os.WriteFile(filepath.Join(h.state, "pids-"+n.Name), []byte(strconv.Itoa(n.PID)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

func (h *harness) client(node string) *appliance.Client {
	n, ok := h.st.Node(node)
	if !ok {
		h.t.Fatalf("no node %s", node)
	}
	return appliance.NewClient(n.Socket)
}

// waitFor polls cond every 10ms (the daemons offer no event stream to
// await) until it holds or timeout passes.
func (h *harness) waitFor(what string, timeout time.Duration, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(h.state, "log"))
			var daemons strings.Builder
			for _, n := range h.st.Nodes {
				b, _ := os.ReadFile(n.Log)
				lines := strings.Split(strings.TrimSpace(string(b)), "\n")
				fmt.Fprintf(&daemons, "--- %s (last lines of %s)\n%s\n", n.Name, n.Log, strings.Join(lines[max(0, len(lines)-25):], "\n"))
			}
			h.t.Fatalf("timed out waiting for %s\nagent log:\n%s\ndaemon logs:\n%s", what, log, daemons.String())
		}
		<-t.C
	}
}

func (h *harness) status(node string) (appliance.CRMStatusResponse, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return h.client(node).CRMStatus(ctx)
}

// where returns the nodes rsc is active on as node sees it.
func (h *harness) where(node, rsc string) []string {
	s, err := h.status(node)
	if err != nil {
		return nil
	}
	for _, r := range s.Resources {
		if r.ID == rsc {
			return r.Nodes
		}
	}
	return nil
}

// running reports whether rsc's sleeper runs on node (its pidfile's
// process is alive).
func (h *harness) running(node, rsc string) bool {
	b, err := os.ReadFile(filepath.Join(h.state, node+"-"+rsc+".pid"))
	if err != nil {
		return false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	return err == nil && !strings.Contains(string(stat), ") Z")
}

// runningOn lists the nodes where rsc's process is alive.
func (h *harness) runningOn(rsc string) []string {
	var out []string
	for _, n := range h.st.Nodes {
		if h.running(n.Name, rsc) {
			out = append(out, n.Name)
		}
	}
	return out
}

func (h *harness) put(node, xml, reason string) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := h.client(node).ReplaceCIB(ctx, appliance.CIBReplaceRequest{XML: xml, Reason: reason}); err != nil {
		h.t.Fatalf("replacing the cib through %s: %v", node, err)
	}
}

func (h *harness) pid(node string) int {
	n, _ := h.st.Node(node)
	return n.PID
}

// signal sends sig to node's ovshad.
func (h *harness) signal(node string, sig syscall.Signal) {
	h.t.Helper()
	if err := syscall.Kill(h.pid(node), sig); err != nil {
		h.t.Fatalf("signalling ovshad of %s: %v", node, err)
	}
}

func (h *harness) waitDC(nodes ...string) string {
	h.t.Helper()
	dc := ""
	h.waitFor("a DC on "+strings.Join(nodes, ","), 30*time.Second, func() bool {
		dc = ""
		for _, n := range nodes {
			s, err := h.status(n)
			if err != nil || s.DC == "" || (dc != "" && s.DC != dc) {
				return false
			}
			dc = s.DC
		}
		return true
	})
	return dc
}

// config renders a configuration: properties, the group g of sleepers a
// and b (monitor every second), extra resources and constraints.
func (h *harness) config(props map[string]string, meta, nodes, extra, constraints string) string {
	var b strings.Builder
	b.WriteString("<configuration><crm_config><cluster_property_set id=\"opts\">")
	for k, v := range props {
		fmt.Fprintf(&b, `<nvpair id="opts-%s" name="%s" value="%s"/>`, k, k, v)
	}
	b.WriteString("</cluster_property_set></crm_config>")
	fmt.Fprintf(&b, "<nodes>%s</nodes>", nodes)
	b.WriteString(`<resources><group id="g">`)
	for _, r := range []string{"a", "b"} {
		fmt.Fprintf(&b, `<primitive id="%s" class="ocf" provider="test" type="sleeper">%s<instance_attributes id="%s-ia"><nvpair id="%s-st" name="state" value="%s"/></instance_attributes><operations><op id="%s-mon" name="monitor" interval="1s" timeout="10s"/></operations></primitive>`,
			r, meta, r, r, h.state, r)
	}
	b.WriteString("</group>" + extra + "</resources>")
	fmt.Fprintf(&b, "<constraints>%s</constraints>", constraints)
	b.WriteString(`<rsc_defaults><meta_attributes id="rd"><nvpair id="rd-st" name="resource-stickiness" value="100"/></meta_attributes></rsc_defaults>`)
	b.WriteString("</configuration>")
	return b.String()
}

func (h *harness) nodesXML(standby string) string {
	var b strings.Builder
	for _, n := range h.st.Nodes {
		fmt.Fprintf(&b, `<node id="%d" uname="%s">`, n.ID, n.Name)
		if n.Name == standby {
			fmt.Fprintf(&b, `<instance_attributes id="%s-ia"><nvpair id="%s-standby" name="standby" value="on"/></instance_attributes>`, n.Name, n.Name)
		}
		b.WriteString("</node>")
	}
	return b.String()
}

// groupOn waits until a and b run (processes alive) on exactly one node,
// the same, and returns it; nodes in not are disregarded (frozen).
func (h *harness) groupOn(what string, timeout time.Duration, not ...string) string {
	h.t.Helper()
	on := ""
	h.waitFor(what, timeout, func() bool {
		skip := func(list []string) []string {
			return slices.DeleteFunc(list, func(n string) bool { return slices.Contains(not, n) })
		}
		a, b := skip(h.runningOn("a")), skip(h.runningOn("b"))
		if len(a) != 1 || len(b) != 1 || a[0] != b[0] {
			return false
		}
		on = a[0]
		return true
	})
	return on
}

// logLines returns the agents' log lines containing all of words.
func (h *harness) logLines(words ...string) []string {
	b, _ := os.ReadFile(filepath.Join(h.state, "log"))
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		ok := l != ""
		for _, w := range words {
			ok = ok && strings.Contains(l, w)
		}
		if ok {
			out = append(out, l)
		}
	}
	return out
}

// killSleeper kills rsc's process on node (an injected failure).
func killSleeper(h *harness, node, rsc string) {
	h.t.Helper()
	b, err := os.ReadFile(filepath.Join(h.state, node+"-"+rsc+".pid"))
	if err != nil {
		h.t.Fatalf("no pidfile for %s on %s: %v", rsc, node, err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		h.t.Fatalf("killing %s on %s: %v", rsc, node, err)
	}
}

// restartAll starts every node's ovshad again inside its namespace, with
// the lab's flags, after they were killed.
func (h *harness) restartAll() {
	h.t.Helper()
	for _, n := range h.st.Nodes {
		h.restart(n.Name)
	}
}

// restart starts node's ovshad again (after it was killed).
func (h *harness) restart(node string) {
	h.t.Helper()
	for i := range h.st.Nodes {
		n := &h.st.Nodes[i]
		if n.Name != node {
			continue
		}
		for lab.Running(*n) {
			_ = syscall.Kill(n.PID, syscall.SIGKILL)
			time.Sleep(10 * time.Millisecond) // reaped by init
		}
		// A killed daemon's sockets can outlive the check above for a
		// moment; a restart that finds its UDP port still bound exits at
		// once and is tried again.
		for attempt := 1; ; attempt++ {
			cmd, exited := h.startDaemon(n)
			select {
			case <-exited:
				if attempt < 5 {
					time.Sleep(100 * time.Millisecond) // the old sockets go away; no event to await
					continue
				}
				h.t.Fatalf("ovshad of %s exited right after its restart (see %s)", n.Name, n.Log)
			case <-time.After(500 * time.Millisecond):
			}
			n.PID = cmd.Process.Pid
			h.t.Cleanup(func() { _ = cmd.Process.Kill() })
			break
		}
	}
}

// startDaemon starts node n's ovshad inside its namespace; exited is
// closed when the process ends.
func (h *harness) startDaemon(n *lab.NodeState) (*exec.Cmd, <-chan struct{}) {
	h.t.Helper()
	logf, err := os.OpenFile(n.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		h.t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command("ip", "netns", "exec", n.Namespace, h.bin, "-c", h.st.Config, "--state-dir", n.Dir, "--socket", n.Socket, "-f")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		h.t.Fatalf("restarting ovshad of %s: %v", n.Name, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	return cmd, exited
}

// groupExactly waits until a and b run on node and nowhere else.
func (h *harness) groupExactly(what string, timeout time.Duration, node string) {
	h.t.Helper()
	h.waitFor(what, timeout, func() bool {
		return slices.Equal(h.runningOn("a"), []string{node}) && slices.Equal(h.runningOn("b"), []string{node})
	})
}
