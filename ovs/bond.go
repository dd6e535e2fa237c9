package ovs

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// BondMember is one member of a bond as `ovs-appctl bond/show` reports it.
type BondMember struct {
	Name    string
	Enabled bool
	Active  bool // the active member of an active-backup bond
}

// BondStatus is the parsed output of `ovs-appctl bond/show <port>`.
type BondStatus struct {
	Mode       string // bond_mode
	LACPStatus string // off, negotiated, configured, ...
	Members    []BondMember
}

// Bond health values published as the node attribute BondAttribute(port).
const (
	BondHealthy  = "healthy"  // every member enabled
	BondDegraded = "degraded" // some but not all members enabled
	BondDown     = "down"     // no member enabled
)

// BondAttribute is the node attribute that carries a bond's health
// (healthy, degraded or down). BondAttribute(port)+"-up" carries the number
// of enabled members. Location rules can use either, e.g.
// `ovsha-bond-bond0 eq healthy` or `ovsha-bond-bond0-up gte 1`.
func BondAttribute(port string) string { return "ovsha-bond-" + port }

// Enabled returns the number of enabled members.
func (s BondStatus) Enabled() int {
	n := 0
	for _, m := range s.Members {
		if m.Enabled {
			n++
		}
	}
	return n
}

// Health classifies the bond as BondHealthy, BondDegraded or BondDown.
func (s BondStatus) Health() string {
	n := s.Enabled()
	switch {
	case n == 0:
		return BondDown
	case n < len(s.Members):
		return BondDegraded
	}
	return BondHealthy
}

// Active returns the name of the active member, or "".
func (s BondStatus) Active() string {
	for _, m := range s.Members {
		if m.Active {
			return m.Name
		}
	}
	return ""
}

// ParseBondShow parses the text of `ovs-appctl bond/show <port>` (OVS 2.x
// "slave" and 3.x "member" wordings).
func ParseBondShow(text string) (BondStatus, error) {
	var s BondStatus
	var cur *BondMember
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		indented := strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t")
		switch {
		case trimmed == "":
			cur = nil
		case indented && cur != nil:
			if trimmed == "active member" || trimmed == "active slave" {
				cur.Active = true
			}
		case strings.HasPrefix(trimmed, "bond_mode:"):
			s.Mode = strings.TrimSpace(strings.TrimPrefix(trimmed, "bond_mode:"))
		case strings.HasPrefix(trimmed, "lacp_status:"):
			s.LACPStatus = strings.TrimSpace(strings.TrimPrefix(trimmed, "lacp_status:"))
		case strings.HasPrefix(trimmed, "member ") || strings.HasPrefix(trimmed, "slave "):
			_, rest, _ := strings.Cut(trimmed, " ")
			name, state, ok := strings.Cut(rest, ":")
			if !ok {
				return s, fmt.Errorf("parsing bond/show: malformed member line %q", trimmed)
			}
			s.Members = append(s.Members, BondMember{Name: strings.TrimSpace(name), Enabled: strings.TrimSpace(state) == "enabled"})
			cur = &s.Members[len(s.Members)-1]
		}
	}
	if s.Mode == "" {
		return s, fmt.Errorf("parsing bond/show: no bond_mode line in %q", firstLine(text))
	}
	return s, nil
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// BondReader reads a bond's live state from ovs-vswitchd.
type BondReader interface {
	BondShow(ctx context.Context, port string) (BondStatus, error)
}

// Appctl runs `ovs-appctl bond/show` against one ovs-vswitchd. It is the
// only place the ovs package executes an OVS command: OVSDB has no member
// state and go-openvswitch has no bond/show.
type Appctl struct {
	// Rundir sets OVS_RUNDIR for ovs-appctl (empty: inherit, normally
	// /var/run/openvswitch).
	Rundir string
	// Target is ovs-appctl's -t: a daemon name resolved through its pidfile
	// in the rundir, or a control socket path. Empty means "ovs-vswitchd".
	Target string
	// Command is the ovs-appctl binary; empty means "ovs-appctl" on PATH.
	Command string
}

// BondShow implements BondReader.
func (a Appctl) BondShow(ctx context.Context, port string) (BondStatus, error) {
	target, cmd := a.Target, a.Command
	if target == "" {
		target = "ovs-vswitchd"
	}
	if cmd == "" {
		cmd = "ovs-appctl"
	}
	x := exec.CommandContext(ctx, cmd, "-t", target, "bond/show", port)
	if a.Rundir != "" {
		x.Env = append(os.Environ(), "OVS_RUNDIR="+a.Rundir)
	}
	out, err := x.CombinedOutput()
	if err != nil {
		return BondStatus{}, fmt.Errorf("running %s -t %s bond/show %s: %w: %s", cmd, target, port, err, strings.TrimSpace(string(out)))
	}
	return ParseBondShow(string(out))
}

// clearBond removes the bond's node attributes through set (nil: no-op;
// an empty value deletes).
func clearBond(set func(name, value string), port string) {
	if set == nil {
		return
	}
	set(BondAttribute(port), "")
	set(BondAttribute(port)+"-up", "")
}

// publishBond sets the bond's node attributes through set (nil: no-op).
func publishBond(set func(name, value string), port string, s BondStatus) {
	if set == nil {
		return
	}
	set(BondAttribute(port), s.Health())
	set(BondAttribute(port)+"-up", strconv.Itoa(s.Enabled()))
}
