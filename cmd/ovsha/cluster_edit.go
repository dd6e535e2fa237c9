package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/ovsha/ovsha/agents"
	"github.com/ovsha/ovsha/cluster/cib"
)

// setNodeAttr sets (value != "") or removes a node's permanent attribute
// (standby, maintenance) in the nodes section, as pcs node standby does.
func setNodeAttr(c *cib.CIB, node, name, value string) error {
	for i := range c.Config.Nodes {
		n := &c.Config.Nodes[i]
		if n.Uname != node && n.ID != node {
			continue
		}
		if value == "" {
			if !unsetNV(&n.Attrs, name) {
				return noChangef("node %s has no %s attribute", node, name)
			}
			return nil
		}
		if !setNV(&n.Attrs, idsIn(c), "nodes-"+n.ID, name, value) {
			return noChangef("node %s already has %s=%s", node, name, value)
		}
		return nil
	}
	if len(c.Config.Nodes) == 0 {
		return fmt.Errorf("node %q is not in the CIB (its nodes section is empty: has the cluster formed?)", node)
	}
	return checkNode(c, node)
}

// valueCheck validates one property or meta-attribute value; it returns a
// description of what is expected when the value does not fit.
type valueCheck func(string) (ok bool, want string)

func enumOf(vals ...string) valueCheck {
	return func(s string) (bool, string) {
		for _, v := range vals {
			if strings.EqualFold(s, v) {
				return true, ""
			}
		}
		return false, "one of " + strings.Join(vals, ", ")
	}
}

func isBool(s string) (bool, string) {
	_, ok := parseBool(s)
	return ok, "true or false"
}

func isDuration(s string) (bool, string) {
	_, err := agents.ParseInterval(s)
	return err == nil && s != "", "a duration such as 15min, 30s or 500ms"
}

func isInt(s string) (bool, string) {
	_, err := strconv.Atoi(s)
	return err == nil, "an integer"
}

func isScore(s string) (bool, string) {
	_, err := cib.ParseScore(s)
	return err == nil, "an integer or [+-]INFINITY"
}

func isAny(string) (bool, string) { return true, "" }

// clusterProperties are the crm_config properties ovsha knows (canonical
// Pacemaker 3 names; the stonith-* spellings are accepted as aliases).
var clusterProperties = map[string]valueCheck{
	"fencing-enabled":             isBool,
	"fencing-action":              enumOf("reboot", "off", "poweroff"),
	"fencing-timeout":             isDuration,
	"fencing-max-attempts":        isInt,
	"fencing-watchdog-timeout":    isDuration,
	"priority-fencing-delay":      isDuration,
	"concurrent-fencing":          isBool,
	"startup-fencing":             isBool,
	"no-quorum-policy":            enumOf("stop", "freeze", "ignore", "demote", "suicide"),
	"symmetric-cluster":           isBool,
	"maintenance-mode":            isBool,
	"stop-all-resources":          isBool,
	"stop-orphan-resources":       isBool,
	"stop-orphan-actions":         isBool,
	"start-failure-is-fatal":      isBool,
	"cluster-recheck-interval":    isDuration,
	"cluster-delay":               isDuration,
	"dc-deadtime":                 isDuration,
	"election-timeout":            isDuration,
	"shutdown-escalation":         isDuration,
	"join-integration-timeout":    isDuration,
	"join-finalization-timeout":   isDuration,
	"batch-limit":                 isInt,
	"migration-limit":             isInt,
	"cluster-name":                isAny,
	"placement-strategy":          enumOf("default", "utilization", "minimal", "balanced"),
	"node-health-strategy":        enumOf("none", "migrate-on-red", "only-green", "progressive", "custom"),
	"node-health-red":             isScore,
	"node-health-yellow":          isScore,
	"node-health-green":           isScore,
	"default-resource-stickiness": isScore,
	"enable-startup-probes":       isBool,
	"shutdown-lock":               isBool,
	"shutdown-lock-limit":         isDuration,
}

// rscDefaults are the resource meta attributes rsc-defaults may set.
var rscDefaultNames = map[string]valueCheck{
	"resource-stickiness": isScore,
	"migration-threshold": isScore,
	"failure-timeout":     isDuration,
	"target-role":         enumOf("Started", "Stopped", "Promoted", "Unpromoted", "Master", "Slave"),
	"is-managed":          isBool,
	"maintenance":         isBool,
	"priority":            isInt,
	"multiple-active":     enumOf("block", "stop_only", "stop_start", "stop_unexpected"),
	"allow-migrate":       isBool,
	"critical":            isBool,
	"requires":            enumOf("nothing", "quorum", "fencing", "unfencing"),
}

// checkNameValue validates name=value against known; force accepts
// unknown names (values of known names are always checked).
func checkNameValue(what string, known map[string]valueCheck, name, value string, force bool) error {
	check, ok := known[name]
	if !ok {
		if force {
			return nil
		}
		names := make([]string, 0, len(known))
		for n := range known {
			names = append(names, n)
		}
		sort.Strings(names)
		return usageErrorf("unknown %s %q (known: %s; --force sets it anyway)", what, name, strings.Join(names, ", "))
	}
	if value == "" {
		return nil
	}
	if good, want := check(value); !good {
		return usageErrorf("%s %s=%q: want %s", what, name, value, want)
	}
	return nil
}

// bootstrapSet is the cluster_property_set pcs writes properties to.
const bootstrapSet = "cib-bootstrap-options"

// setProperty sets a cluster property under its canonical name, renaming
// an older stonith-* spelling in place; value "" removes it.
func setProperty(c *cib.CIB, name, value string) error {
	name = cib.CanonicalProperty(name)
	found, removed := false, false
	for i := range c.Config.CRMConfig {
		s := &c.Config.CRMConfig[i]
		if len(s.Rules) > 0 {
			continue
		}
		kept := s.Pairs[:0]
		for _, p := range s.Pairs {
			if cib.CanonicalProperty(p.Name) != name {
				kept = append(kept, p)
				continue
			}
			if value == "" || found {
				removed = true // unset, or a duplicate of the one already set
				continue
			}
			found = true
			p.Name, p.Value = name, value
			kept = append(kept, p)
		}
		s.Pairs = kept
	}
	if value == "" {
		if !removed {
			return noChangef("property %s is not set", name)
		}
		return nil
	}
	if found {
		return nil
	}
	sets := c.Config.CRMConfig
	idx := -1
	for i, s := range sets {
		if s.ID == bootstrapSet && len(s.Rules) == 0 {
			idx = i
		}
	}
	used := idsIn(c)
	if idx < 0 {
		c.Config.CRMConfig = append(c.Config.CRMConfig, cib.NVSet{ID: fresh(used, bootstrapSet)})
		idx = len(c.Config.CRMConfig) - 1
	}
	s := &c.Config.CRMConfig[idx]
	s.Pairs = append(s.Pairs, cib.NVPair{ID: fresh(used, s.ID+"-"+name), Name: name, Value: value})
	return nil
}

// properties lists the crm_config properties (rule-less sets), canonical
// names, first definition wins.
func properties(c *cib.CIB) []kv {
	seen := map[string]bool{}
	var out []kv
	for _, p := range nvList(c.Config.CRMConfig) {
		n := cib.CanonicalProperty(p.Key)
		if seen[n] {
			continue
		}
		seen[n] = true
		out = append(out, kv{n, p.Value})
	}
	return out
}

// setRscDefault sets (or with value "" removes) a resource default.
func setRscDefault(c *cib.CIB, name, value string) error {
	if c.Config.RscDefaults == nil {
		c.Config.RscDefaults = &cib.Defaults{}
	}
	d := c.Config.RscDefaults
	if value == "" {
		unsetNV(&d.Meta, name)
	} else {
		setNV(&d.Meta, idsIn(c), "rsc_defaults-meta_attributes", name, value)
	}
	if len(d.Meta) == 0 {
		c.Config.RscDefaults = nil
	}
	return nil
}
