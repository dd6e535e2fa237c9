package totemtest

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ovsha/ovsha/cluster/totem"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of testdata/*.txt scripts")

// TestScripts runs testdata/*.txt: datadriven scripts in the style of
// etcd-io/raft. Each block is a command line, a "----" line and the
// expected output, ended by a blank line; lines starting with # before a
// command are comments. -rewrite regenerates the expected output.
//
// Commands:
//
//	add-nodes N            start nodes 1..N (fixed 200µs links, no faults, no workload)
//	tick D                 run for simulated duration D; prints configuration changes
//	stabilize              run until every running node is operational with an empty queue
//	                       and nothing changed for 1s (at most 30s); prints configuration changes
//	partition (1,2)|(3)    split the network; heal removes the split
//	freeze N / thaw N      stop / resume node N's clock and packet processing
//	crash N / restart N    kill node N / start it again with a fresh engine
//	broadcast N TEXT [safe] node N broadcasts TEXT; prints the message id
//	status                 one line per node: state, ring, members
//	deliveries             per node, the messages delivered since the last deliveries
//
// Any invariant violation found while a command runs is printed after its
// output.
func TestScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts in testdata: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) { runScript(t, f) })
	}
}

type scriptCase struct {
	pre      []string // comments and blank lines before the command
	cmd      string
	line     int
	expected string
}

func parseScript(path string) ([]scriptCase, []string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("reading script: %w", err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	var cases []scriptCase
	var pre []string
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			pre = append(pre, l)
			continue
		}
		c := scriptCase{pre: pre, cmd: l, line: i + 1}
		pre = nil
		if i+1 >= len(lines) || lines[i+1] != "----" {
			return nil, nil, fmt.Errorf("%s:%d: expected ---- after command %q", path, i+1, l)
		}
		i += 2
		var out []string
		for ; i < len(lines) && lines[i] != ""; i++ {
			out = append(out, lines[i])
		}
		c.expected = strings.Join(out, "\n")
		cases = append(cases, c)
	}
	return cases, pre, nil
}

func runScript(t *testing.T, path string) {
	cases, trailer, err := parseScript(path)
	if err != nil {
		t.Fatal(err)
	}
	r := &scriptRunner{}
	var b strings.Builder
	for _, c := range cases {
		out := r.run(c.cmd)
		if out == "" {
			out = "ok"
		}
		for _, p := range c.pre {
			b.WriteString(p + "\n")
		}
		fmt.Fprintf(&b, "%s\n----\n%s\n\n", c.cmd, out)
		if !*rewrite && out != c.expected {
			t.Errorf("%s:%d: %s\ngot:\n%s\nwant:\n%s", path, c.line, c.cmd, out, c.expected)
		}
	}
	for _, p := range trailer {
		b.WriteString(p + "\n")
	}
	if *rewrite {
		if err := os.WriteFile(path, []byte(strings.TrimRight(b.String(), "\n")+"\n"), 0o644); err != nil {
			t.Fatalf("rewriting %s: %v", path, err)
		}
	}
}

type scriptRunner struct {
	s          *Sim
	events     []string // configuration changes since the last command
	deliveries map[totem.NodeID][]string
	texts      map[MsgID]string
	seenViol   int
}

func (r *scriptRunner) run(cmd string) string {
	f := strings.Fields(cmd)
	var out string
	if f[0] != "add-nodes" && r.s == nil {
		return "error: add-nodes first"
	}
	node := func(i int) (totem.NodeID, error) {
		if len(f) <= i {
			return 0, fmt.Errorf("%s: missing node id", f[0])
		}
		var id uint32
		if _, err := fmt.Sscan(f[i], &id); err != nil || id == 0 || int(id) > len(r.s.ids) {
			return 0, fmt.Errorf("%s: %q is not a node id", f[0], f[i])
		}
		return totem.NodeID(id), nil
	}
	switch f[0] {
	case "add-nodes":
		var n int
		if len(f) != 2 {
			return "error: add-nodes N"
		}
		fmt.Sscan(f[1], &n)
		r.s = NewSim(SimConfig{Seed: 1, Nodes: n, Duration: time.Hour, MeanInterval: -1, Latency: 200 * time.Microsecond, Jitter: -1, Links: 1})
		r.s.calm.Jitter, r.s.link.Jitter = 0, 0
		r.s.net.setAll(r.s.calm)
		r.deliveries = map[totem.NodeID][]string{}
		r.texts = map[MsgID]string{}
		r.s.onEvent = r.record
		for _, id := range r.s.ids {
			r.s.Start(id)
		}
	case "tick":
		d, err := time.ParseDuration(f[len(f)-1])
		if err != nil {
			return "error: " + err.Error()
		}
		r.s.RunFor(d)
		out = r.flushEvents()
	case "stabilize":
		out = r.stabilize()
	case "partition":
		g, err := ParseGroups(strings.Join(f[1:], ""))
		if err != nil {
			return "error: " + err.Error()
		}
		r.s.Partition(g)
	case "heal":
		r.s.Heal()
	case "freeze", "thaw", "crash", "restart":
		id, err := node(1)
		if err != nil {
			return "error: " + err.Error()
		}
		map[string]func(totem.NodeID){"freeze": r.s.Freeze, "thaw": r.s.Thaw, "crash": r.s.Crash, "restart": r.s.Restart}[f[0]](id)
		out = r.flushEvents()
	case "broadcast":
		id, err := node(1)
		if err != nil || len(f) < 3 {
			return fmt.Sprintf("error: broadcast N TEXT [safe]: %v", err)
		}
		mid, err := r.s.Broadcast(id, []byte(f[2]), len(f) > 3 && f[3] == "safe")
		if err != nil {
			return "error: " + err.Error()
		}
		r.texts[mid] = f[2]
		out = mid.String()
	case "status":
		var lines []string
		for _, id := range r.s.ids {
			st, up := r.s.Status(id)
			switch {
			case !up:
				lines = append(lines, fmt.Sprintf("n%d: down", id))
			default:
				fz := ""
				if r.s.Frozen(id) {
					fz = " (frozen)"
				}
				lines = append(lines, fmt.Sprintf("n%d: %v ring=%s members=%v queued=%d%s", id, st.State, ringStr(st.Ring), st.Members, st.Queued, fz))
			}
		}
		out = strings.Join(lines, "\n")
	case "deliveries":
		var lines []string
		for _, id := range r.s.ids {
			lines = append(lines, fmt.Sprintf("n%d: %s", id, strings.Join(r.deliveries[id], " ")))
			r.deliveries[id] = nil
		}
		out = strings.Join(lines, "\n")
	default:
		return fmt.Sprintf("error: unknown command %q", f[0])
	}
	return strings.TrimSpace(out + "\n" + r.newViolations())
}

func (r *scriptRunner) record(id totem.NodeID, ev totem.Event) {
	switch ev.Kind {
	case totem.EventDeliver:
		mid, _, body, err := decodePayload(ev.Payload)
		if err != nil {
			r.deliveries[id] = append(r.deliveries[id], "?")
			return
		}
		r.deliveries[id] = append(r.deliveries[id], fmt.Sprintf("%v:%s", mid, body))
	case totem.EventTransitional:
		r.events = append(r.events, fmt.Sprintf("n%d: transitional members=%v left=%v", id, ev.Members, ev.Left))
	case totem.EventRegular:
		r.events = append(r.events, fmt.Sprintf("n%d: regular ring=%s members=%v joined=%v left=%v", id, ringStr(ev.Ring), ev.Members, ev.Joined, ev.Left))
	}
}

func (r *scriptRunner) flushEvents() string {
	out := strings.Join(r.events, "\n")
	r.events = nil
	return out
}

// stabilize runs until every running, unfrozen node is operational with an
// empty queue and no configuration changed for a second.
func (r *scriptRunner) stabilize() string {
	const step = 10 * time.Millisecond
	quiet := time.Duration(0)
	start := r.s.Now()
	for r.s.Now()-start < 30*time.Second {
		n := len(r.events)
		r.s.RunFor(step)
		settled := len(r.events) == n
		for _, id := range r.s.ids {
			st, up := r.s.Status(id)
			if up && !r.s.Frozen(id) && (st.State != totem.StateOperational || st.Queued > 0) {
				settled = false
			}
		}
		if !settled {
			quiet = 0
			continue
		}
		if quiet += step; quiet >= time.Second {
			return r.flushEvents()
		}
	}
	return strings.TrimSpace(r.flushEvents() + "\nnot stable after 30s")
}

func (r *scriptRunner) newViolations() string {
	vs := r.s.Checker().Violations()
	var lines []string
	for _, v := range vs[r.seenViol:] {
		lines = append(lines, "VIOLATION "+v.Invariant+": "+v.Detail)
	}
	r.seenViol = len(vs)
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
