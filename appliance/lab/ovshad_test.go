package lab

import (
	"bytes"
	"context"
	"encoding/json"
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

	"github.com/ovsha/ovsha/appliance"
	"github.com/ovsha/ovsha/cluster/config"
)

// buildOvsha compiles the CLI for the root tests.
func buildOvsha(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ovsha")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/ovsha/ovsha/cmd/ovsha").CombinedOutput()
	if err != nil {
		t.Fatalf("building ovsha: %v\n%s", err, out)
	}
	return bin
}

// cli runs the ovsha binary and returns stdout, stderr and the exit code.
func cli(t *testing.T, bin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return out.String(), errb.String(), 0
	case errors.As(err, &ee):
		return out.String(), errb.String(), ee.ExitCode()
	}
	t.Fatalf("running ovsha %v: %v", args, err)
	return "", "", -1
}

// quorumJSON is `ovsha quorum status --json` of one node.
func quorumJSON(t *testing.T, bin string, n NodeState) (appliance.QuorumResponse, error) {
	t.Helper()
	out, stderr, code := cli(t, bin, "quorum", "status", "--json", "--socket", n.Socket)
	var q appliance.QuorumResponse
	if code != 0 {
		return q, fmt.Errorf("exit %d: %s", code, strings.TrimSpace(stderr))
	}
	if err := json.Unmarshal([]byte(out), &q); err != nil {
		return q, fmt.Errorf("ovsha quorum status --json printed %q: %v", out, err)
	}
	return q, nil
}

func memberIDs(q appliance.QuorumResponse) []uint32 {
	ids := []uint32{}
	for _, m := range q.Members {
		ids = append(ids, m.NodeID)
	}
	return ids
}

// waitCLI polls `ovsha quorum status --json` on nodes until each shows
// members with the given quorate state, and returns how long that took.
func waitCLI(t *testing.T, bin string, st *State, nodes []string, members []uint32, quorate bool, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		done, last := true, ""
		for _, name := range nodes {
			n, _ := st.Node(name)
			q, err := quorumJSON(t, bin, n)
			if err != nil || q.Quorate != quorate || !slices.Equal(memberIDs(q), members) {
				done, last = false, fmt.Sprintf("%s: members %v quorate %v (%v)", name, memberIDs(q), q.Quorate, err)
				break
			}
		}
		if done {
			return time.Since(start)
		}
		if time.Since(start) > limit {
			t.Fatalf("nodes %v: no view of members %v quorate=%v within %v (last: %s)", nodes, members, quorate, limit, last)
		}
		time.Sleep(20 * time.Millisecond) // polling the daemons through the CLI
	}
}

func labUp(t *testing.T, prefix string, nodes int, ovshad string) *State {
	t.Helper()
	base := t.TempDir()
	name := fmt.Sprintf("%s%d", prefix, os.Getpid()%100000)
	ctx := context.Background()
	st, err := Up(ctx, Spec{Name: name, Nodes: nodes, BaseDir: base, Ovshad: ovshad, Timeout: 20 * time.Second})
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
	return st
}

// TestOvshadThreeNodes: real ovshad processes in namespaces, observed only
// through the ovsha CLI: freeze one node, then a second, then thaw both;
// the CLI's error handling on bad requests; a node that is not in the
// nodelist is rejected and counted.
func TestOvshadThreeNodes(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates network namespaces")
	}
	ovshad, ovsha := buildOvshad(t), buildOvsha(t)
	st := labUp(t, "q", 3, ovshad)
	all := []string{"n1", "n2", "n3"}
	waitCLI(t, ovsha, st, all, []uint32{1, 2, 3}, true, 10*time.Second)

	c, err := config.Load(st.Config)
	if err != nil {
		t.Fatal(err)
	}
	eff := c.EffectiveTotem()
	// Detection takes a token timeout plus consensus; the margin covers
	// the CLI's polling and a loaded machine.
	limit := eff.Token + eff.Consensus + 3*time.Second

	p2, p3 := st.Nodes[1].PID, st.Nodes[2].PID
	if err := syscall.Kill(p3, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	took := waitCLI(t, ovsha, st, []string{"n1", "n2"}, []uint32{1, 2}, true, limit)
	t.Logf("n3 frozen: n1 and n2 show 2 quorate members after %v (token %v + consensus %v)", took.Round(time.Millisecond), eff.Token, eff.Consensus)
	if err := syscall.Kill(p2, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	took = waitCLI(t, ovsha, st, []string{"n1"}, []uint32{1}, false, limit)
	t.Logf("n2 frozen too: n1 alone and not quorate after %v", took.Round(time.Millisecond))
	for _, p := range []int{p2, p3} {
		if err := syscall.Kill(p, syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
	}
	took = waitCLI(t, ovsha, st, all, []uint32{1, 2, 3}, true, 15*time.Second)
	t.Logf("both thawed: 3 quorate members again after %v", took.Round(time.Millisecond))

	t.Run("cli errors", func(t *testing.T) {
		sock := st.Nodes[0].Socket
		tests := []struct {
			args []string
			code int
			want string
		}{
			{[]string{"quorum", "expected", "0"}, 2, "want a positive integer"},
			{[]string{"quorum", "expected", "9"}, 1, "would need quorum 5 but only 3 votes are present"},
			{[]string{"cmap", "set", "totem.token", "u32", "5"}, 1, "read-only"},
			{[]string{"cmap", "set", "user.a", "u99", "5"}, 2, "want one of"},
			{[]string{"cmap", "get", "user.none"}, 1, "not found"},
			{[]string{"quorum", "bogus"}, 2, ""},
		}
		for _, tt := range tests {
			_, stderr, code := cli(t, ovsha, append(tt.args, "--socket", sock)...)
			if code != tt.code || !strings.Contains(stderr, tt.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 && tt.code == 1 {
				t.Errorf("ovsha %v: exit %d stderr %q, want exit %d and one line mentioning %q", tt.args, code, stderr, tt.code, tt.want)
			}
		}
		if out, stderr, code := cli(t, ovsha, "cmap", "get", "runtime.votequorum.quorate", "--socket", sock); code != 0 || out != "runtime.votequorum.quorate (u8) = 1\n" {
			t.Errorf("cmap get: exit %d, %q %q", code, out, stderr)
		}
	})

	t.Run("SIGHUP reloads", func(t *testing.T) {
		n1 := st.Nodes[0]
		if err := syscall.Kill(n1.PID, syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			b, _ := os.ReadFile(n1.Log)
			if strings.Contains(string(b), "configuration reloaded") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no reload logged after SIGHUP:\n%s", tail(n1.Log, 5))
			}
			time.Sleep(20 * time.Millisecond) // polling the log
		}
		if !Running(n1) {
			t.Fatal("ovshad died on SIGHUP")
		}
	})

	t.Run("node not in nodelist", func(t *testing.T) {
		// Replace n3 by an impostor on n3's addresses that calls itself
		// node 9: the others must drop its datagrams and count them.
		if err := syscall.Kill(st.Nodes[2].PID, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		waitCLI(t, ovsha, st, []string{"n1", "n2"}, []uint32{1, 2}, true, limit)
		data, _ := os.ReadFile(st.Config)
		bad := strings.Replace(string(data), "nodeid: 3\n\t\tname: n3", "nodeid: 9\n\t\tname: n3", 1)
		dir := t.TempDir()
		cfg := filepath.Join(dir, "impostor.conf")
		if err := os.WriteFile(cfg, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		logf, _ := os.Create(filepath.Join(dir, "impostor.log"))
		defer logf.Close()
		cmd := exec.Command(ovshad, "-c", cfg, "--name", "n3", "--state-dir", dir, "--socket", filepath.Join(dir, "s.sock"))
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := startIn(st.Nodes[2].Namespace, cmd); err != nil {
			t.Fatal(err)
		}
		defer func() { cmd.Process.Kill(); cmd.Wait() }()
		c1 := appliance.NewClient(st.Nodes[0].Socket)
		deadline := time.Now().Add(10 * time.Second)
		for {
			r, err := c1.Ring(context.Background())
			if err == nil && r.Transport["unknown_sender"] > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("n1 never counted the impostor's datagrams: %v %v", r.Transport, err)
			}
			time.Sleep(50 * time.Millisecond) // polling the API
		}
		if q, err := quorumJSON(t, ovsha, st.Nodes[0]); err != nil || !slices.Equal(memberIDs(q), []uint32{1, 2}) {
			t.Errorf("the impostor changed n1's view: %v %v", memberIDs(q), err)
		}
		logText, _ := os.ReadFile(st.Nodes[0].Log)
		if !strings.Contains(string(logText), "dropping datagram from a node not in the nodelist") || !strings.Contains(string(logText), "claimed_node=9") {
			t.Errorf("n1's log does not report the impostor")
		}
	})
}

// TestOvshadTwoNodeRestart: a two_node cluster survives SIGKILL of one
// daemon and the restarted daemon rejoins.
func TestOvshadTwoNodeRestart(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates network namespaces")
	}
	ovshad, ovsha := buildOvshad(t), buildOvsha(t)
	st := labUp(t, "t", 2, ovshad)
	waitCLI(t, ovsha, st, []string{"n1", "n2"}, []uint32{1, 2}, true, 10*time.Second)
	if err := syscall.Kill(st.Nodes[1].PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitCLI(t, ovsha, st, []string{"n1"}, []uint32{1}, true, 10*time.Second) // two_node: the survivor keeps quorum
	for Running(st.Nodes[1]) {
		time.Sleep(10 * time.Millisecond) // the killed process is reaped by init
	}
	if err := StartNode(st, "n2"); err != nil {
		t.Fatal(err)
	}
	took := waitCLI(t, ovsha, st, []string{"n1", "n2"}, []uint32{1, 2}, true, 15*time.Second)
	t.Logf("restarted n2 rejoined after %v", took.Round(time.Millisecond))
}

// TestOvshadBadStartup: the daemon refuses to start on a bad key or config
// and says which file is at fault.
func TestOvshadBadStartup(t *testing.T) {
	ovshad := buildOvshad(t)
	dir := t.TempDir()
	shortKey := filepath.Join(dir, "short.key")
	os.WriteFile(shortKey, []byte("too short"), 0o600)
	conf := func(name, key string) string {
		p := filepath.Join(dir, name)
		body := fmt.Sprintf("totem {\n\tversion: 2\n\tcluster_name: c\n\tkeyfile: %s\n}\nnodelist {\n\tnode {\n\t\tnodeid: 1\n\t\tring0_addr: 127.0.0.1\n\t}\n}\n", key)
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	tests := []struct {
		name string
		cfg  string
		want []string
	}{
		{"missing authkey", conf("a.conf", filepath.Join(dir, "nokey")), []string{"totem.keyfile", filepath.Join(dir, "nokey")}},
		{"wrong authkey", conf("b.conf", shortKey), []string{"totem.keyfile", shortKey}},
		{"unreadable config", dir, []string{dir}},
		{"missing config", filepath.Join(dir, "none.conf"), []string{filepath.Join(dir, "none.conf")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			cmd := exec.Command(ovshad, "-c", tt.cfg, "--node-id", "1", "--socket", filepath.Join(t.TempDir(), "s"), "--state-dir", t.TempDir())
			cmd.Stderr = &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 1 {
				t.Fatalf("ovshad: %v, want exit 1 (stderr %q)", err, stderr.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr %q does not name %q", stderr.String(), w)
				}
			}
		})
	}
}
