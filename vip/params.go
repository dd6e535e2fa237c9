package vip

import (
	"fmt"
	"math"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ovsha/ovsha/agents"
)

// Defaults (IPaddr2's where IPaddr2 has the parameter).
const (
	DefaultARPCount    = 5                      // IPaddr2 arp_count
	DefaultARPInterval = 200 * time.Millisecond // IPaddr2 arp_interval (ms)
	// DefaultARPRefresh is the period of the gratuitous ARP / unsolicited NA
	// repeated while the address runs: short enough that a switch or
	// neighbour that lost the first burst relearns within seconds, long
	// enough to cost nothing (IPaddr2 has no such parameter).
	DefaultARPRefresh = 10 * time.Second
	// DefaultARPProbe is how long start waits for an answer to its ARP probe
	// before taking the address: LAN replies come within a millisecond, and
	// start must stay fast.
	DefaultARPProbe = 3 * time.Millisecond
)

// forever is the kernel's infinite address lifetime.
const forever = math.MaxUint32

var params = []agents.ParamSpec{
	{Name: "ip", Type: "string", Required: true, Unique: true, ShortDesc: "IPv4 or IPv6 address to manage"},
	{Name: "cidr_netmask", Type: "string", ShortDesc: "prefix length (or IPv4 dotted mask); default: from the route that covers ip"},
	{Name: "nic", Type: "string", ShortDesc: "interface to add the address to; default: the interface whose route covers ip"},
	{Name: "broadcast", Type: "string", ShortDesc: "IPv4 broadcast address; empty or + computes it, - sets none"},
	{Name: "iflabel", Type: "string", ShortDesc: "IPv4 address label suffix (nic:iflabel, at most 15 characters in all)"},
	{Name: "lvs_support", Type: "boolean", Default: "false", ShortDesc: "IPv4: on stop move the address to lo instead of removing it (LVS direct routing)"},
	{Name: "arp_count", Type: "integer", Default: strconv.Itoa(DefaultARPCount), ShortDesc: "announcement rounds at start (each: ARP request + reply, or one NA)"},
	{Name: "arp_interval", Type: "integer", Default: strconv.Itoa(int(DefaultARPInterval / time.Millisecond)), ShortDesc: "milliseconds between announcement rounds"},
	{Name: "arp_bg", Type: "boolean", Default: "true", ShortDesc: "send the rounds after the first in the background (start returns after the first)"},
	{Name: "arp_sender", Type: "string", Default: "send_arp", ShortDesc: "accepted for IPaddr2 compatibility; ovsha always uses its built-in sender"},
	{Name: "preferred_lft", Type: "string", Default: "0", ShortDesc: "preferred lifetime in seconds or forever; 0 (default) keeps the address from being a source address"},
	{Name: "noprefixroute", Type: "boolean", Default: "false", ShortDesc: "do not create a prefix route for the address"},
	{Name: "nonlocal_bind", Type: "boolean", Default: "false", ShortDesc: "set net.ipv4/ipv6.ip_nonlocal_bind=1 in the agent's network namespace at start (never reset)"},
	{Name: "arp_refresh", Type: "duration", Default: DefaultARPRefresh.String(), ShortDesc: "period of the announcement repeated while running (0 disables)"},
	{Name: "arp_probe", Type: "duration", Default: DefaultARPProbe.String(), ShortDesc: "IPv4: wait this long for another host to answer an ARP probe for ip before adding it (0 disables; skipped when the cluster has just stopped this resource on another node, CRM_meta_stopped_on)"},
	{Name: "force", Type: "boolean", Default: "false", ShortDesc: "take the address even when another host answers the ARP probe"},
}

// IPaddr2 parameters accepted for compatibility and ignored.
var ignoredParams = map[string]bool{
	"arp_count_refresh": true, "send_arp_opts": true, "flush_routes": true, "run_arping": true,
	"unique_clone_address": true, "lvs_ipv6_addrlabel": true, "lvs_ipv6_addrlabel_value": true, "trace_ra": true, "trace_file": true,
}

// IPaddr2 parameters for features ovsha does not implement: rejected when set.
var unsupportedParams = []string{"mac", "clusterip_hash", "network_namespace"}

type spec struct {
	addr          netip.Addr
	bits          int    // -1: from the covering route
	nic           string // "": from the covering route
	broadcast     string // "", "+", "-" or an address
	label         string
	lvs           bool
	count         int
	interval      time.Duration
	background    bool
	preferred     uint32
	noPrefixRoute bool
	nonlocalBind  bool
	refresh       time.Duration
	probe         time.Duration
	force         bool
}

func bad(name, value, want string) error {
	return agents.Errorf(agents.ErrConfigured, "parameter %s=%q is invalid: want %s", name, value, want)
}

func boolParam(p agents.Params, name string, def bool) (bool, error) {
	switch v := strings.ToLower(strings.TrimSpace(p[name])); v {
	case "":
		return def, nil
	case "1", "true", "yes", "on", "y":
		return true, nil
	case "0", "false", "no", "off", "n":
		return false, nil
	}
	return false, bad(name, p[name], "a boolean (true or false)")
}

// durationParam accepts Go durations ("10s", "500ms"), whole seconds, or
// 0/off to disable.
func durationParam(p agents.Params, name string, def time.Duration) (time.Duration, error) {
	v := strings.ToLower(strings.TrimSpace(p[name]))
	switch v {
	case "":
		return def, nil
	case "0", "off", "false", "no":
		return 0, nil
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, bad(name, p[name], "a duration like 10s or 500ms, or 0 to disable")
	}
	return d, nil
}

func intParam(p agents.Params, name string, def, min, max int) (int, error) {
	v := strings.TrimSpace(p[name])
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		return 0, bad(name, v, fmt.Sprintf("an integer from %d to %d", min, max))
	}
	return n, nil
}

// parse checks parameters without touching the system.
func parse(p agents.Params) (spec, error) {
	s := spec{bits: -1}
	known := map[string]bool{}
	for _, ps := range params {
		known[ps.Name] = true
	}
	var unknown []string
	for k := range p {
		if !known[k] && !ignoredParams[k] && !strings.HasPrefix(k, "CRM_meta_") {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unsupportedParams {
		if strings.TrimSpace(p[k]) != "" {
			return s, agents.Errorf(agents.ErrConfigured, "parameter %s is not supported by ovsha's IPaddr2: remove it", k)
		}
	}
	for _, k := range unknown {
		if !contains(unsupportedParams, k) {
			return s, agents.Errorf(agents.ErrConfigured, "unknown parameter %s", k)
		}
	}
	ip := strings.TrimSpace(p["ip"])
	if ip == "" {
		return s, agents.Errorf(agents.ErrConfigured, "parameter ip is required: the address to manage")
	}
	a, err := netip.ParseAddr(ip)
	if err != nil || a.Zone() != "" || a.IsUnspecified() || a.IsMulticast() || a.IsLoopback() {
		return s, bad("ip", ip, "a unicast IPv4 or IPv6 address like 192.0.2.10 (no prefix: use cidr_netmask)")
	}
	s.addr = a.Unmap()
	if v := strings.TrimSpace(p["cidr_netmask"]); v != "" {
		if s.bits, err = prefixLen(v, s.addr); err != nil {
			return s, bad("cidr_netmask", v, fmt.Sprintf("a prefix length from 1 to %d or a dotted IPv4 mask", s.addr.BitLen()))
		}
	}
	if v := strings.TrimSpace(p["nic"]); v != "" {
		if len(v) > 15 || strings.ContainsAny(v, "/ \t") {
			return s, bad("nic", v, "an interface name of at most 15 characters")
		}
		// IPaddr2 allows "eth0:label" in nic; the label goes to iflabel.
		name, label, _ := strings.Cut(v, ":")
		s.nic, s.label = name, label
	}
	if v := strings.TrimSpace(p["iflabel"]); v != "" {
		s.label = v
	}
	if s.label != "" {
		if s.addr.Is6() {
			return s, bad("iflabel", s.label, "no label: labels exist for IPv4 only")
		}
		if s.nic != "" && len(s.nic)+1+len(s.label) > 15 {
			return s, bad("iflabel", s.label, "a label that fits nic:label in 15 characters")
		}
	}
	s.broadcast = strings.TrimSpace(p["broadcast"])
	if b := s.broadcast; b != "" && b != "+" && b != "-" {
		ba, err := netip.ParseAddr(b)
		if err != nil || !ba.Is4() || !s.addr.Is4() {
			return s, bad("broadcast", b, "an IPv4 address, + (computed) or - (none), for IPv4 ip only")
		}
	}
	if s.lvs, err = boolParam(p, "lvs_support", false); err != nil {
		return s, err
	}
	if s.count, err = intParam(p, "arp_count", DefaultARPCount, 0, 1000); err != nil {
		return s, err
	}
	ms, err := intParam(p, "arp_interval", int(DefaultARPInterval/time.Millisecond), 1, 3600_000)
	if err != nil {
		return s, err
	}
	s.interval = time.Duration(ms) * time.Millisecond
	if s.background, err = boolParam(p, "arp_bg", true); err != nil {
		return s, err
	}
	switch v := strings.TrimSpace(p["arp_sender"]); v {
	case "", "send_arp", "iputils_arping", "libnet_arping", "ipoibarping":
	default:
		return s, bad("arp_sender", v, "send_arp, iputils_arping, libnet_arping or ipoibarping")
	}
	switch v := strings.ToLower(strings.TrimSpace(p["preferred_lft"])); v {
	case "", "0":
		s.preferred = 0
	case "forever", "infinite":
		s.preferred = forever
	default:
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || n >= forever {
			return s, bad("preferred_lft", v, "seconds, or forever")
		}
		s.preferred = uint32(n)
	}
	if s.noPrefixRoute, err = boolParam(p, "noprefixroute", false); err != nil {
		return s, err
	}
	if s.nonlocalBind, err = boolParam(p, "nonlocal_bind", false); err != nil {
		return s, err
	}
	if s.refresh, err = durationParam(p, "arp_refresh", DefaultARPRefresh); err != nil {
		return s, err
	}
	if s.refresh > 0 && s.refresh < 100*time.Millisecond {
		return s, bad("arp_refresh", p["arp_refresh"], "at least 100ms, or 0 to disable")
	}
	if s.probe, err = durationParam(p, "arp_probe", DefaultARPProbe); err != nil {
		return s, err
	}
	if s.probe > 10*time.Second {
		return s, bad("arp_probe", p["arp_probe"], "at most 10s (a few milliseconds is enough on a LAN)")
	}
	if s.force, err = boolParam(p, "force", false); err != nil {
		return s, err
	}
	return s, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// prefixLen parses a prefix length or a dotted IPv4 mask.
func prefixLen(v string, a netip.Addr) (int, error) {
	if n, err := strconv.Atoi(v); err == nil {
		if n < 1 || n > a.BitLen() {
			return 0, fmt.Errorf("out of range")
		}
		return n, nil
	}
	m := net.ParseIP(v).To4()
	if m == nil || !a.Is4() {
		return 0, fmt.Errorf("not a mask")
	}
	ones, bits := net.IPMask(m).Size()
	if bits == 0 || ones == 0 {
		return 0, fmt.Errorf("not a contiguous mask")
	}
	return ones, nil
}
