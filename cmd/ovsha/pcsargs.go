package main

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/ovsha/ovsha/agents"
)

// kv is one key=value argument, in the order given.
type kv struct{ Key, Value string }

// opArg is one `op NAME key=value…` definition.
type opArg struct {
	Name  string
	Attrs []kv
}

// rscArgs are the pcs-style trailing arguments of `resource create`,
// `resource update` and `stonith create`: instance parameters, then any
// number of `op NAME key=value…` and `meta key=value…` sections.
type rscArgs struct {
	Params []kv
	Ops    []opArg
	Meta   []kv
}

// parseKV splits key=value; an empty value is allowed (update: remove).
func parseKV(s, section string) (kv, error) {
	k, v, ok := strings.Cut(s, "=")
	if !ok {
		return kv{}, usageErrorf("%s: %q is not key=value", section, s)
	}
	if k == "" {
		return kv{}, usageErrorf("%s: %q has an empty key", section, s)
	}
	return kv{k, v}, nil
}

// parseRscArgs reads `key=value… [op NAME key=value…]… [meta key=value…]`
// as pcs does: the words op and meta switch sections; inside op, a bare
// word starts the next operation. A key given twice in one section is an
// error.
func parseRscArgs(args []string) (rscArgs, error) {
	var out rscArgs
	section := "params"
	seen := map[string]bool{}
	dup := func(scope, key string) error {
		id := scope + "\x00" + key
		if seen[id] {
			return usageErrorf("%s: %q given twice", scope, key)
		}
		seen[id] = true
		return nil
	}
	for _, a := range args {
		switch a {
		case "op":
			section = "op"
			continue
		case "meta":
			section = "meta"
			continue
		}
		switch section {
		case "params", "meta":
			p, err := parseKV(a, section)
			if err != nil {
				return rscArgs{}, err
			}
			if err := dup(section, p.Key); err != nil {
				return rscArgs{}, err
			}
			if section == "params" {
				out.Params = append(out.Params, p)
			} else {
				out.Meta = append(out.Meta, p)
			}
		case "op":
			if !strings.Contains(a, "=") {
				out.Ops = append(out.Ops, opArg{Name: a})
				continue
			}
			if len(out.Ops) == 0 {
				return rscArgs{}, usageErrorf("op: %q comes before an operation name (want: op monitor interval=10s)", a)
			}
			p, err := parseKV(a, "op "+out.Ops[len(out.Ops)-1].Name)
			if err != nil {
				return rscArgs{}, err
			}
			if err := dup(fmt.Sprintf("op %s #%d", out.Ops[len(out.Ops)-1].Name, len(out.Ops)), p.Key); err != nil {
				return rscArgs{}, err
			}
			last := &out.Ops[len(out.Ops)-1]
			last.Attrs = append(last.Attrs, p)
		}
	}
	if section == "op" && len(out.Ops) == 0 {
		return rscArgs{}, usageErrorf("op: missing operation name (want: op monitor interval=10s)")
	}
	for _, o := range out.Ops {
		if err := checkOp(o); err != nil {
			return rscArgs{}, err
		}
	}
	return out, nil
}

var opNames = map[string]bool{"start": true, "stop": true, "monitor": true, "promote": true, "demote": true,
	"notify": true, "reload": true, "reload-agent": true, "migrate_to": true, "migrate_from": true, "validate-all": true, "meta-data": true}

// checkOp rejects unknown operation names and unreadable durations.
func checkOp(o opArg) error {
	if !opNames[o.Name] {
		return usageErrorf("op %q: unknown operation (want start, stop, monitor, promote, demote, notify, reload, migrate_to, migrate_from)", o.Name)
	}
	for _, a := range o.Attrs {
		switch a.Key {
		case "interval", "timeout", "start-delay", "interval-origin":
			if a.Key == "interval-origin" {
				continue
			}
			if _, err := agents.ParseInterval(a.Value); err != nil || a.Value == "" {
				return usageErrorf("op %s %s=%q: want a duration such as 10s, 500ms or 2min", o.Name, a.Key, a.Value)
			}
		case "on-fail":
			switch a.Value {
			case "ignore", "block", "stop", "restart", "standby", "fence", "restart-container", "demote":
			default:
				return usageErrorf("op %s on-fail=%q: want ignore, block, stop, restart, standby, fence or demote", o.Name, a.Value)
			}
		case "enabled", "record-pending":
			if _, ok := parseBool(a.Value); !ok {
				return usageErrorf("op %s %s=%q: want true or false", o.Name, a.Key, a.Value)
			}
		}
	}
	return nil
}

// parseBool reads Pacemaker's booleans (true/false, yes/no, on/off, 1/0).
func parseBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "true", "yes", "on", "1", "y":
		return true, true
	case "false", "no", "off", "0", "n":
		return false, true
	}
	return false, false
}

// xmlID matches the ids Pacemaker accepts (an XML NCName, ASCII subset).
var xmlID = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)

func checkID(what, id string) error {
	if !xmlID.MatchString(id) {
		return usageErrorf("%s %q: an id starts with a letter or '_' and holds only letters, digits, '_', '.' and '-'", what, id)
	}
	return nil
}

// builtinAgents maps the short built-in names to the class:provider:type
// written into the CIB (vip is IPaddr2-compatible, so a CIB exported to
// Pacemaker keeps working there).
var builtinAgents = map[string]string{
	"ovs-bridge":    "ocf:ovsha:ovs-bridge",
	"ovs-port":      "ocf:ovsha:ovs-port",
	"ovs-interface": "ocf:ovsha:ovs-interface",
	"vip":           "ocf:heartbeat:IPaddr2",
}

// agentRef is a parsed agent name.
type agentRef struct{ Class, Provider, Type string }

func (a agentRef) String() string {
	if a.Provider != "" {
		return a.Class + ":" + a.Provider + ":" + a.Type
	}
	return a.Class + ":" + a.Type
}

// parseAgent reads class:provider:type (ocf), class:type (lsb, systemd,
// service, stonith) or a short built-in name.
func parseAgent(s string) (agentRef, error) {
	if full, ok := builtinAgents[s]; ok {
		s = full
	}
	parts := strings.Split(s, ":")
	bad := func(why string) (agentRef, error) {
		return agentRef{}, usageErrorf("agent %q: %s (want class:provider:type such as ocf:heartbeat:IPaddr2, lsb:NAME, systemd:UNIT, stonith:fence_NAME, or a built-in: ovs-bridge, ovs-port, ovs-interface, vip)", s, why)
	}
	for _, p := range parts {
		if p == "" || strings.ContainsAny(p, " \t/") {
			return bad("malformed name")
		}
	}
	switch {
	case len(parts) == 1:
		return bad("not a built-in agent")
	case parts[0] == "ocf":
		if len(parts) > 3 {
			return bad("too many ':'")
		}
		if len(parts) != 3 {
			return bad("ocf agents need a provider")
		}
		return agentRef{"ocf", parts[1], parts[2]}, nil
	case len(parts) == 2:
		switch parts[0] {
		case "lsb", "systemd", "service", "stonith":
			return agentRef{Class: parts[0], Type: parts[1]}, nil
		}
		return bad("unknown class " + parts[0])
	}
	return bad("too many ':'")
}
