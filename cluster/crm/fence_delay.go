package crm

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/ovsha/ovsha/agents"
	"github.com/ovsha/ovsha/cluster/cib"
	"github.com/ovsha/ovsha/cluster/scheduler"
)

// Fence delays settle a fence race: in a two-node split both nodes keep
// quorum (two_node) and each wants to fence the other. Delaying one side
// lets the other win. As in Pacemaker:
//
//   - pcmk_delay_base (device parameter): a static delay before fencing
//     through that device. Either one duration for every target, or a map
//     "n1:2s;n2:0" of per-target delays (a target not in the map: none).
//   - pcmk_delay_max (device parameter): a random delay; the delay is
//     drawn from [base, max]. A max below the base is raised to the base.
//   - priority-fencing-delay (cluster property): when the scheduler fences
//     a lost node and this partition holds at most half of the nodes, the
//     delay is added if the target runs the resources of the highest total
//     `priority` meta attribute (and not all nodes are equal), so the node
//     with the more important resources wins the race.
//
// Device delays apply to off and reboot only (not to on), per device
// attempt; the priority delay once per fencing request, before the first
// device. Durations take Pacemaker's syntax (cib.DurationMS).

// deviceDelay is the delay before fencing target through a device with
// params p; rnd(n) returns a random integer in [0, n). An unreadable value
// is an error naming the parameter.
func deviceDelay(p agents.Params, target, action string, rnd func(n int64) int64) (time.Duration, error) {
	if action != agents.FenceOff && action != agents.FenceReboot {
		return 0, nil
	}
	base, err := delayBase(p["pcmk_delay_base"], target)
	if err != nil {
		return 0, err
	}
	maxMS := int64(0)
	if v := strings.TrimSpace(p["pcmk_delay_max"]); v != "" {
		if maxMS = cib.DurationMS(v); maxMS < 0 {
			return 0, fmt.Errorf("pcmk_delay_max %q: expected a duration such as 5s or 500ms", v)
		}
	}
	if maxMS <= base {
		return time.Duration(base) * time.Millisecond, nil
	}
	return time.Duration(base+rnd(maxMS-base+1)) * time.Millisecond, nil
}

// delayBase reads pcmk_delay_base for target, in milliseconds: a single
// duration, or "node:duration" entries separated by ';', ' ' or ','.
func delayBase(v, target string) (int64, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, nil
	}
	if !strings.Contains(v, ":") {
		ms := cib.DurationMS(v)
		if ms < 0 {
			return 0, fmt.Errorf("pcmk_delay_base %q: expected a duration such as 5s, or a map such as \"n1:5s;n2:0\"", v)
		}
		return ms, nil
	}
	var found int64
	for _, e := range strings.FieldsFunc(v, func(r rune) bool { return r == ';' || r == ' ' || r == ',' }) {
		node, d, ok := strings.Cut(e, ":")
		ms := cib.DurationMS(d)
		if !ok || node == "" || ms < 0 {
			return 0, fmt.Errorf("pcmk_delay_base %q: entry %q: expected NODE:DURATION such as n1:5s", v, e)
		}
		if node == target {
			found = ms
		}
	}
	return found, nil
}

// randN is deviceDelay's random source in production.
func randN(n int64) int64 { return rand.Int64N(n) }

// priorityDelay is priority-fencing-delay for fencing target, given the
// CIB (configuration and status), the configured nodes and which of them
// are members of this partition. It is 0 when the property is unset, the
// target is a member, this partition holds more than half of the nodes,
// every node has the same priority, or the target's is not the highest.
func priorityDelay(c *cib.CIB, nodes []string, member func(string) bool, target string) (time.Duration, error) {
	v, ok := c.Property("priority-fencing-delay")
	if !ok || strings.TrimSpace(v) == "" {
		return 0, nil
	}
	ms := cib.DurationMS(v)
	if ms < 0 {
		return 0, fmt.Errorf("cluster property priority-fencing-delay %q: expected a duration such as 10s", v)
	}
	if ms == 0 || len(nodes) == 0 || member(target) {
		return 0, nil
	}
	online := 0
	for _, n := range nodes {
		if member(n) {
			online++
		}
	}
	if online > len(nodes)/2 {
		return 0, nil
	}
	prio, err := nodePriorities(c)
	if err != nil {
		return 0, err
	}
	top, low := prio[nodes[0]], prio[nodes[0]]
	for _, n := range nodes {
		top, low = max(top, prio[n]), min(low, prio[n])
	}
	if top == low || prio[target] < top {
		return 0, nil
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// nodePriorities sums, per node, the `priority` meta attribute of every
// primitive active there according to the status section (Pacemaker's
// node priority; promoted instances are not counted extra).
func nodePriorities(c *cib.CIB) (map[string]int, error) {
	res, err := scheduler.Run(scheduler.Input{CIB: c})
	if err != nil {
		return nil, fmt.Errorf("reading where resources run: %w", err)
	}
	rp := resourcePriorities(c)
	out := map[string]int{}
	for _, r := range res.Current.Resources {
		id, _, _ := strings.Cut(r.ID, ":") // clone instance id:N
		for _, n := range r.Nodes {
			out[n] += rp[id]
		}
	}
	return out, nil
}

// resourcePriorities returns every resource's effective `priority` meta
// attribute: its own, else its parent's, else rsc_defaults' (0 if none or
// not an integer).
func resourcePriorities(c *cib.CIB) map[string]int {
	def := 0
	if c.Config.RscDefaults != nil {
		if v, ok := cib.Lookup(c.Config.RscDefaults.Meta, "priority"); ok {
			def = atoiPriority(v)
		}
	}
	out := map[string]int{}
	c.Walk(func(r, parent *cib.Resource) {
		p := def
		if parent != nil {
			p = out[parent.ID]
		}
		if v, ok := cib.Lookup(r.Meta, "priority"); ok {
			p = atoiPriority(v)
		}
		out[r.ID] = p
	})
	return out
}

func atoiPriority(v string) int {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return 0
	}
	return n
}
