package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ovsha/ovsha/cluster/config"
)

func TestValidateName(t *testing.T) {
	for _, tt := range []struct {
		name string
		ok   bool
	}{
		{"ovsha", true}, {"a", true}, {"lab12345", true},
		{"", false}, {"lab123456", false}, {"1lab", false}, {"La", false}, {"a-b", false}, {"a/b", false},
	} {
		if err := ValidateName(tt.name); (err == nil) != tt.ok {
			t.Errorf("ValidateName(%q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

// TestInterfaceNamesFit: every name the largest lab makes fits IFNAMSIZ.
func TestInterfaceNamesFit(t *testing.T) {
	lab := "abcdefgh"
	names := []string{hubNS(lab), nodeNS(lab, MaxNodes)}
	for k := range hbPrefix {
		names = append(names, bridgeName(lab, k), hubPort(lab, MaxNodes, k), nodeLink(lab, k))
	}
	for _, n := range names {
		if len(n) > 15 {
			t.Errorf("%q is %d bytes, the kernel allows 15", n, len(n))
		}
	}
}

func TestClusterConfLoads(t *testing.T) {
	for _, n := range []int{2, 3, 8} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			dir := t.TempDir()
			st := &State{Name: "x", Dir: dir, Config: filepath.Join(dir, "cluster.conf")}
			for i := 1; i <= n; i++ {
				st.Nodes = append(st.Nodes, NodeState{Name: fmt.Sprintf("n%d", i), ID: uint32(i),
					Addrs: []string{fmt.Sprintf("10.201.0.%d/24", i), fmt.Sprintf("10.202.0.%d/24", i)}})
			}
			if err := writeConfig(st, filepath.Join(dir, "authkey")); err != nil {
				t.Fatal(err)
			}
			c, err := config.Load(st.Config)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Nodes) != n || len(c.Nodes[n-1].Addrs) != 2 || c.Quorum.TwoNode != (n == 2) {
				t.Fatalf("decoded %d nodes, two_node=%v", len(c.Nodes), c.Quorum.TwoNode)
			}
		})
	}
}

func TestDownWithoutLab(t *testing.T) {
	if err := Down(context.Background(), t.TempDir(), "nolab", nil); !errors.Is(err, ErrNoLab) {
		t.Fatalf("got %v, want ErrNoLab", err)
	}
}

// buildOvshad compiles the daemon for the root tests.
func buildOvshad(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ovshad")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/ovsha/ovsha/cmd/ovshad").CombinedOutput()
	if err != nil {
		t.Fatalf("building ovshad: %v\n%s", err, out)
	}
	return bin
}

// waitView waits until each named node reports a quorate view of exactly
// members.
func waitView(t *testing.T, st *State, nodes []string, members []uint32) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		all := Status(context.Background(), st)
		ok := true
		for _, s := range all {
			if slices.Contains(nodes, s.Name) && (!s.Quorate || !slices.Equal(s.Members, members)) {
				ok = false
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nodes %v never saw quorate members %v: %+v", nodes, members, all)
		}
		time.Sleep(50 * time.Millisecond) // polling the daemons' API
	}
}

// TestLabLifecycle is the engine lab end to end: up, status, exec, a
// frozen node, down — and nothing left behind.
func TestLabLifecycle(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates network namespaces")
	}
	bin := buildOvshad(t)
	base := t.TempDir()
	name := fmt.Sprintf("t%d", os.Getpid()%1000000)
	ctx := context.Background()
	st, err := Up(ctx, Spec{Name: name, Nodes: 3, BaseDir: base, Ovshad: bin, Timeout: 20 * time.Second})
	t.Cleanup(func() {
		if _, err := Load(base, name); err == nil {
			if err := Down(ctx, base, name, nil); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	waitView(t, st, []string{"n1", "n2", "n3"}, []uint32{1, 2, 3})

	if _, err := Up(ctx, Spec{Name: name, Nodes: 3, BaseDir: base, Ovshad: bin, Timeout: time.Second}); err == nil || !strings.Contains(err.Error(), "already up") {
		t.Fatalf("second Up: %v, want 'already up'", err)
	}

	// exec runs inside the node's namespace and passes the exit status.
	out := filepath.Join(t.TempDir(), "netdev")
	f, _ := os.Create(out)
	code, err := Exec(ctx, st, "n2", []string{"sh", "-c", "cat /proc/net/dev; echo $OVSHA_SOCKET; exit 3"}, nil, f, f)
	f.Close()
	if err != nil || code != 3 {
		t.Fatalf("exec: code %d, %v", code, err)
	}
	b, _ := os.ReadFile(out)
	if !strings.Contains(string(b), nodeLink(name, 0)) || !strings.Contains(string(b), st.Nodes[1].Socket) {
		t.Fatalf("exec did not run in n2's namespace with its socket:\n%s", b)
	}

	// A frozen node is dropped; the other two stay quorate; it rejoins.
	p3 := st.Nodes[2].PID
	if err := syscall.Kill(p3, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	waitView(t, st, []string{"n1", "n2"}, []uint32{1, 2})
	if err := syscall.Kill(p3, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	waitView(t, st, []string{"n1", "n2", "n3"}, []uint32{1, 2, 3})

	// The loss fault drops the node's traffic: at 100 % it is cut off;
	// at 0 % (the rule removed) it comes back.
	if err := Fault(ctx, st, "n3", FaultLoss, "100"); err != nil {
		t.Fatal(err)
	}
	waitView(t, st, []string{"n1", "n2"}, []uint32{1, 2})
	if err := Fault(ctx, st, "n3", FaultLoss, "0"); err != nil {
		t.Fatal(err)
	}
	waitView(t, st, []string{"n1", "n2", "n3"}, []uint32{1, 2, 3})

	if err := Down(ctx, base, name, nil); err != nil {
		t.Fatal(err)
	}
	for _, ns := range st.Namespaces {
		if nsExists(ns) {
			t.Errorf("namespace %s left behind", ns)
		}
	}
	for _, n := range st.Nodes {
		if alive(n.PID) {
			t.Errorf("ovshad of %s (pid %d) still running", n.Name, n.PID)
		}
	}
	if _, err := os.Stat(st.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lab directory left behind: %v", err)
	}
}

// TestLabDaemonFailureIsReportedAndCleanable: when ovshad dies at start,
// Up says which node and where its log is, and Down still removes
// everything the state file recorded.
func TestLabDaemonFailureIsReportedAndCleanable(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates network namespaces")
	}
	falseBin, err := exec.LookPath("false")
	if err != nil {
		t.Skip("no false(1)")
	}
	falseBin, _ = filepath.EvalSymlinks(falseBin)
	base := t.TempDir()
	name := fmt.Sprintf("f%d", os.Getpid()%1000000)
	ctx := context.Background()
	st, err := Up(ctx, Spec{Name: name, Nodes: 2, BaseDir: base, Ovshad: falseBin, Timeout: 10 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "exited") || !strings.Contains(err.Error(), "lab down") {
		t.Fatalf("Up with a failing daemon: %v", err)
	}
	if st == nil || !nsExists(st.Namespaces[0]) {
		t.Fatal("failed lab not left up for inspection")
	}
	if err := Down(ctx, base, name, nil); err != nil {
		t.Fatal(err)
	}
	for _, ns := range st.Namespaces {
		if nsExists(ns) {
			t.Errorf("namespace %s left behind", ns)
		}
	}
}
