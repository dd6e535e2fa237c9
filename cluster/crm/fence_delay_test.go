package crm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ovsha/ovsha/agents"
	"github.com/ovsha/ovsha/cluster/cib"
)

func TestDeviceDelay(t *testing.T) {
	// rnd returns its bound minus one: the top of the range.
	top := func(n int64) int64 { return n - 1 }
	zero := func(int64) int64 { return 0 }
	tests := []struct {
		name   string
		params agents.Params
		target string
		action string
		rnd    func(int64) int64
		want   time.Duration
		err    string
	}{
		{"none", agents.Params{}, "n1", "off", top, 0, ""},
		{"base", agents.Params{"pcmk_delay_base": "2s"}, "n1", "off", top, 2 * time.Second, ""},
		{"base for reboot", agents.Params{"pcmk_delay_base": "500ms"}, "n1", "reboot", top, 500 * time.Millisecond, ""},
		{"no delay for on", agents.Params{"pcmk_delay_base": "2s", "pcmk_delay_max": "5s"}, "n1", "on", top, 0, ""},
		{"iso duration", agents.Params{"pcmk_delay_base": "PT3S"}, "n1", "off", top, 3 * time.Second, ""},
		{"bare seconds", agents.Params{"pcmk_delay_base": "4"}, "n1", "off", top, 4 * time.Second, ""},
		{"max top of range", agents.Params{"pcmk_delay_max": "5s"}, "n1", "off", top, 5 * time.Second, ""},
		{"max bottom of range", agents.Params{"pcmk_delay_max": "5s"}, "n1", "off", zero, 0, ""},
		{"base and max top", agents.Params{"pcmk_delay_base": "1s", "pcmk_delay_max": "3s"}, "n1", "off", top, 3 * time.Second, ""},
		{"base and max bottom", agents.Params{"pcmk_delay_base": "1s", "pcmk_delay_max": "3s"}, "n1", "off", zero, time.Second, ""},
		{"max below base", agents.Params{"pcmk_delay_base": "4s", "pcmk_delay_max": "3s"}, "n1", "off", top, 4 * time.Second, ""},
		{"map hit", agents.Params{"pcmk_delay_base": "n1:2s;n2:0"}, "n1", "off", top, 2 * time.Second, ""},
		{"map other", agents.Params{"pcmk_delay_base": "n1:2s;n2:0"}, "n2", "off", top, 0, ""},
		{"map miss", agents.Params{"pcmk_delay_base": "n1:2s"}, "n3", "off", top, 0, ""},
		{"map spaces", agents.Params{"pcmk_delay_base": "n1:1s n2:300ms"}, "n2", "off", top, 300 * time.Millisecond, ""},
		{"bad base", agents.Params{"pcmk_delay_base": "soon"}, "n1", "off", top, 0, `pcmk_delay_base "soon": expected a duration`},
		{"bad map entry", agents.Params{"pcmk_delay_base": "n1:2s;n2"}, "n1", "off", top, 0, `entry "n2": expected NODE:DURATION`},
		{"bad map duration", agents.Params{"pcmk_delay_base": "n1:later"}, "n1", "off", top, 0, `entry "n1:later"`},
		{"bad max", agents.Params{"pcmk_delay_max": "5 parsecs"}, "n1", "off", top, 0, `pcmk_delay_max "5 parsecs": expected a duration`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := deviceDelay(tc.params, tc.target, tc.action, tc.rnd)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("delay %v, want %v", got, tc.want)
			}
		})
	}
}

// TestDeviceDelayRandomRange: with pcmk_delay_max every drawn delay lies in
// [base, max] and both ends of the range are reachable (seeded source).
func TestDeviceDelayRandomRange(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	p := agents.Params{"pcmk_delay_base": "10ms", "pcmk_delay_max": "14ms"}
	seen := map[time.Duration]bool{}
	for range 500 {
		d, err := deviceDelay(p, "n1", "off", r.Int64N)
		if err != nil {
			t.Fatal(err)
		}
		if d < 10*time.Millisecond || d > 14*time.Millisecond {
			t.Fatalf("delay %v outside [10ms, 14ms]", d)
		}
		seen[d] = true
	}
	if !seen[10*time.Millisecond] || !seen[14*time.Millisecond] {
		t.Errorf("delays drawn %v: want both ends of [10ms, 14ms]", seen)
	}
}

// prioCIB is a two-or-more-node cluster: the gateway group (priority from
// groupPrio, "" for none) running on holder, a fence device on n2, and
// priority-fencing-delay set to pfd ("" for unset). The lost nodes are
// recorded as the CRM records a lost peer: out of the membership, still
// expected up, operation history kept.
func prioCIB(nodes int, holder, groupPrio, defPrio, pfd string, lost ...string) *cib.CIB {
	c := &cib.CIB{Epoch: 1, ValidateWith: "pacemaker-3.9", HaveQuorum: "1"}
	props := []cib.NVPair{{Name: "fencing-enabled", Value: "true"}}
	if pfd != "" {
		props = append(props, cib.NVPair{Name: "priority-fencing-delay", Value: pfd})
	}
	c.Config.CRMConfig = []cib.NVSet{{ID: "opts", Pairs: props}}
	if defPrio != "" {
		c.Config.RscDefaults = &cib.Defaults{Meta: []cib.NVSet{{ID: "rsc-opts", Pairs: []cib.NVPair{{Name: "priority", Value: defPrio}}}}}
	}
	group := cib.Resource{Kind: cib.KindGroup, ID: "gateway"}
	if groupPrio != "" {
		group.Meta = []cib.NVSet{{ID: "gateway-meta", Pairs: []cib.NVPair{{Name: "priority", Value: groupPrio}}}}
	}
	for _, id := range []string{"br-ex", "vip"} {
		group.Children = append(group.Children, cib.Resource{Kind: cib.KindPrimitive, ID: id, Class: "ocf", Provider: "ovsha", Type: "fake"})
	}
	c.Config.Resources.Items = []cib.Resource{{Kind: cib.KindPrimitive, ID: "fence", Class: "stonith", Type: "fence_x"}, group}
	for i := 1; i <= nodes; i++ {
		name := fmt.Sprintf("n%d", i)
		c.Config.Nodes = append(c.Config.Nodes, cib.Node{ID: fmt.Sprint(i), Uname: name})
		lrm := &cib.LRM{ID: fmt.Sprint(i)}
		op := func(rsc string) []cib.LRMOp {
			return []cib.LRMOp{{ID: rsc + "_start_0", Operation: "start", Interval: "0", OpStatus: "0", RCCode: "0", CallID: "2",
				TransitionKey: "2:1:0:00000000-0000-0000-0000-000000000000"}}
		}
		if name == "n2" {
			lrm.Resources = append(lrm.Resources, cib.LRMResource{ID: "fence", Class: "stonith", Type: "fence_x", Ops: op("fence")})
		}
		if name == holder {
			for _, id := range []string{"br-ex", "vip"} {
				lrm.Resources = append(lrm.Resources, cib.LRMResource{ID: id, Class: "ocf", Provider: "ovsha", Type: "fake", Ops: op(id)})
			}
		}
		ns := cib.NodeState{ID: fmt.Sprint(i), Uname: name, InCCM: "true", Crmd: "online", Join: "member", Expected: "member", LRM: lrm}
		for _, l := range lost {
			if l == name {
				ns.InCCM, ns.Crmd, ns.Join = "false", "offline", "lost"
			}
		}
		c.Status.Nodes = append(c.Status.Nodes, ns)
	}
	return c
}

func TestPriorityDelay(t *testing.T) {
	two := []string{"n1", "n2"}
	three := []string{"n1", "n2", "n3"}
	only := func(names ...string) func(string) bool {
		return func(n string) bool {
			for _, m := range names {
				if m == n {
					return true
				}
			}
			return false
		}
	}
	tests := []struct {
		name    string
		c       *cib.CIB
		nodes   []string
		member  func(string) bool
		target  string
		want    time.Duration
		wantErr string
	}{
		{"holder lost: delayed", prioCIB(2, "n1", "10", "", "2s", "n1"), two, only("n2"), "n1", 2 * time.Second, ""},
		{"non-holder lost: none", prioCIB(2, "n2", "10", "", "2s", "n1"), two, only("n2"), "n1", 0, ""},
		{"property unset", prioCIB(2, "n1", "10", "", "", "n1"), two, only("n2"), "n1", 0, ""},
		{"property zero", prioCIB(2, "n1", "10", "", "0", "n1"), two, only("n2"), "n1", 0, ""},
		{"equal priorities", prioCIB(2, "n1", "", "", "2s", "n1"), two, only("n2"), "n1", 0, ""},
		{"priority from rsc_defaults", prioCIB(2, "n1", "", "5", "2s", "n1"), two, only("n2"), "n1", 2 * time.Second, ""},
		{"group overrides defaults", prioCIB(2, "n1", "0", "5", "2s", "n1"), two, only("n2"), "n1", 0, ""},
		{"target still a member", prioCIB(2, "n1", "10", "", "2s"), two, only("n1", "n2"), "n1", 0, ""},
		{"majority partition: none", prioCIB(3, "n1", "10", "", "2s", "n1"), three, only("n2", "n3"), "n1", 0, ""},
		{"minority partition: delayed", prioCIB(3, "n1", "10", "", "2s", "n1", "n3"), three, only("n2"), "n1", 2 * time.Second, ""},
		{"bad property", prioCIB(2, "n1", "10", "", "a while", "n1"), two, only("n2"), "n1", 0, `priority-fencing-delay "a while"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := priorityDelay(tc.c, tc.nodes, tc.member, tc.target)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("delay %v, want %v", got, tc.want)
			}
		})
	}
}

func TestNodePriorities(t *testing.T) {
	got, err := nodePriorities(prioCIB(2, "n1", "10", "", ""))
	if err != nil {
		t.Fatal(err)
	}
	// Two members of the group, each inheriting 10; the fence device on
	// n2 has none.
	if got["n1"] != 20 || got["n2"] != 0 {
		t.Errorf("node priorities %v, want n1=20 n2=0", got)
	}
}

// fenceRecorder is stonith:fence_rec: it appends "ACTION PLUG" to the
// file named by its "log" parameter.
const fenceRecorder = `#!/bin/sh
while IFS== read -r k v; do
	case "$k" in action) action=$v ;; plug) plug=$v ;; log) log=$v ;; esac
done
case "$action" in
off|reboot|on) echo "$action $plug" >> "$log"; exit 0 ;;
monitor) exit 0 ;;
esac
exit 1
`

// fenceCRM is a CRM with just what fence needs: a registry finding
// fence_rec, and a CIB with one fence_rec device with extra parameters.
func fenceCRM(t *testing.T, extra string) (*CRM, string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "fence_rec"), []byte(fenceRecorder), 0o755); err != nil {
		t.Fatal(err)
	}
	logf := filepath.Join(dir, "log")
	doc := `<cib epoch="1" num_updates="0" admin_epoch="0" validate-with="pacemaker-3.9"><configuration>
<crm_config><cluster_property_set id="o"><nvpair id="o1" name="fencing-enabled" value="true"/></cluster_property_set></crm_config>
<nodes><node id="1" uname="n1"/><node id="2" uname="n2"/></nodes>
<resources><primitive id="fence-n2" class="stonith" type="fence_rec"><instance_attributes id="fence-n2-ia">
<nvpair id="p1" name="log" value="` + logf + `"/><nvpair id="p2" name="pcmk_host_list" value="n2"/>` + extra + `
</instance_attributes></primitive></resources><constraints/></configuration><status/></cib>`
	c, err := cib.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	reg := agents.NewRegistry(agents.RegistryOptions{FenceDir: dir})
	return &CRM{cfg: Config{Local: Node{ID: 1, Name: "n1"}, Agents: reg}, log: slog.New(slog.DiscardHandler), cib: c}, logf
}

// TestFenceWaitsDeviceDelay: the device's pcmk_delay_base passes before
// the agent runs; ending the request during the delay fails it without
// running the agent.
func TestFenceWaitsDeviceDelay(t *testing.T) {
	const delay = 150 * time.Millisecond
	c, logf := fenceCRM(t, `<nvpair id="p3" name="pcmk_delay_base" value="150ms"/>`)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	ev := c.fence(ctx, "n2", "off", 0)
	if ev.OK || !strings.Contains(ev.Reason, "during its fencing delay") {
		t.Fatalf("fencing cancelled during the delay: ok=%v reason %q, want a failure during the delay", ev.OK, ev.Reason)
	}
	if _, err := os.Stat(logf); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the agent ran although the request ended during the device delay (%v)", err)
	}

	ev = c.fence(context.Background(), "n2", "off", 0)
	if !ev.OK || ev.Device != "fence-n2" {
		t.Fatalf("fencing: ok=%v device %q reason %q", ev.OK, ev.Device, ev.Reason)
	}
	if ev.Duration < delay {
		t.Errorf("fencing took %v, less than pcmk_delay_base %v", ev.Duration, delay)
	}
	if b, _ := os.ReadFile(logf); string(b) != "off n2\n" {
		t.Errorf("agent log %q, want \"off n2\\n\"", b)
	}
}

// TestFenceWaitsPriorityDelay: the request's delay passes before any
// device runs.
func TestFenceWaitsPriorityDelay(t *testing.T) {
	c, logf := fenceCRM(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	ev := c.fence(ctx, "n2", "reboot", time.Minute)
	if ev.OK || !strings.Contains(ev.Reason, "during priority-fencing-delay") {
		t.Fatalf("ok=%v reason %q, want a failure during priority-fencing-delay", ev.OK, ev.Reason)
	}
	if _, err := os.Stat(logf); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the agent ran although the request ended during the priority delay (%v)", err)
	}
}

// TestFenceBadDelay: an unreadable pcmk_delay_base fails that device with
// a message naming it.
func TestFenceBadDelay(t *testing.T) {
	c, logf := fenceCRM(t, `<nvpair id="p3" name="pcmk_delay_base" value="soon"/>`)
	ev := c.fence(context.Background(), "n2", "off", 0)
	if ev.OK || !strings.Contains(ev.Reason, `fence-n2: pcmk_delay_base "soon"`) {
		t.Fatalf("ok=%v reason %q, want fence-n2's bad pcmk_delay_base named", ev.OK, ev.Reason)
	}
	if _, err := os.Stat(logf); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("the agent ran with an unreadable delay")
	}
}
