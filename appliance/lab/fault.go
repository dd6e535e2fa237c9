package lab

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// Faults `ovsha lab fault NODE ...` injects.
const (
	FaultPowerOff = "poweroff" // every link cut at the far end + every process of the node SIGSTOPped
	FaultPowerOn  = "poweron"  // a reboot: processes killed, addresses lost, links up, OVS and ovshad restarted
	FaultFreeze   = "freeze"   // ovshad SIGSTOPped (OVS keeps forwarding)
	FaultThaw     = "thaw"
	FaultIsolate  = "isolate" // every link cut at the far end; processes keep running
	FaultSplit    = "split"   // only the heartbeat links cut at the far end: the node keeps its LAN and WAN
	FaultHeal     = "heal"
	FaultLinkDown = "link-down" // IF: the far end of the node's interface down (the node sees no carrier)
	FaultLinkUp   = "link-up"
	FaultLoss     = "loss" // PCT: random loss on the node's own IP traffic, each way (0 removes)
)

// Fault applies a fault to a node and records it in the state file. arg is
// the interface of link-down/link-up and the percentage of loss. It holds
// the lab's lock and first reloads the node records from the state file,
// which other processes (the lab's fence agent) may have changed.
func Fault(ctx context.Context, st *State, node, fault, arg string) error {
	return applyFault(ctx, st, node, fault, arg, nil)
}

// faultIf is Fault without an argument, applied only if cond holds for
// the node's current record.
func faultIf(ctx context.Context, st *State, node, fault string, cond func(NodeState) bool) error {
	return applyFault(ctx, st, node, fault, "", cond)
}

func applyFault(ctx context.Context, st *State, node, fault, arg string, cond func(NodeState) bool) error {
	unlock, err := lockState(st.Dir)
	if err != nil {
		return err
	}
	defer unlock()
	if err := refreshNodes(st); err != nil {
		return err
	}
	idx := -1
	for i := range st.Nodes {
		if st.Nodes[i].Name == node {
			idx = i
		}
	}
	if idx < 0 {
		return fmt.Errorf("lab %s has no node %q (nodes: %s)", st.Name, node, nodeNames(st))
	}
	n := &st.Nodes[idx]
	if cond != nil && !cond(*n) {
		return nil
	}
	switch fault {
	case FaultPowerOff:
		// Stop everything first, in one sweep, then cut the links: the
		// node can neither act on nor observe its own death.
		err = errors.Join(signalNode(*n, syscall.SIGSTOP), setLinks(st, *n, "", false))
		n.Fault = FaultPowerOff
	case FaultPowerOn:
		err = powerOn(ctx, st, n)
	case FaultFreeze:
		err = signalDaemon(*n, syscall.SIGSTOP)
		n.Fault = FaultFreeze
	case FaultThaw:
		err = signalDaemon(*n, syscall.SIGCONT)
		n.Fault = ""
	case FaultIsolate:
		err = setLinks(st, *n, "", false)
		n.Fault = FaultIsolate
	case FaultSplit:
		err = setHeartbeatLinks(st, *n, false)
		n.Fault = FaultSplit
	case FaultHeal:
		err = setLinks(st, *n, "", true)
		n.Fault = ""
	case FaultLinkDown, FaultLinkUp:
		if arg == "" {
			return fmt.Errorf("%s needs an interface of %s (%s)", fault, node, strings.Join(nodeIfs(st, *n), ", "))
		}
		err = setLinks(st, *n, arg, fault == FaultLinkUp)
	case FaultLoss:
		pct, perr := strconv.Atoi(strings.TrimSuffix(arg, "%"))
		if perr != nil || pct < 0 || pct > 100 {
			return fmt.Errorf("loss %q: want a percentage from 0 to 100", arg)
		}
		err = setLoss(n.Namespace, pct)
	default:
		return fmt.Errorf("unknown fault %q: want poweroff, poweron, freeze, thaw, isolate, split, heal, link-down IF, link-up IF or loss PCT", fault)
	}
	return errors.Join(err, st.save())
}

// signalDaemon signals the node's ovshad if it is still ours.
func signalDaemon(n NodeState, sig syscall.Signal) error {
	if !ours(n) {
		return fmt.Errorf("ovshad of %s is not running", n.Name)
	}
	if err := syscall.Kill(n.PID, sig); err != nil {
		return fmt.Errorf("signalling ovshad of %s (pid %d): %w", n.Name, n.PID, err)
	}
	return nil
}

// signalNode signals ovshad and the OVS daemons of n.
func signalNode(n NodeState, sig syscall.Signal) error {
	var errs []error
	if ours(n) {
		if err := syscall.Kill(n.PID, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
			errs = append(errs, fmt.Errorf("signalling ovshad of %s: %w", n.Name, err))
		}
	}
	return errors.Join(append(errs, signalProcs(n, sig))...)
}

// nodeIfs lists the node's lab interfaces.
func nodeIfs(st *State, n NodeState) []string {
	var out []string
	for _, l := range st.Links {
		if l.ANS == n.Namespace {
			out = append(out, l.A)
		}
	}
	return out
}

// setLinks sets the far end of the node's interface dev (every interface
// when dev is "") up or down.
func setLinks(st *State, n NodeState, dev string, up bool) error {
	found := false
	var errs []error
	for _, l := range st.Links {
		if l.ANS != n.Namespace || (dev != "" && l.A != dev) {
			continue
		}
		found = true
		errs = append(errs, setLink(l.BNS, l.B, up))
	}
	if !found {
		return fmt.Errorf("%s has no lab interface %q (interfaces: %s)", n.Name, dev, strings.Join(nodeIfs(st, n), ", "))
	}
	return errors.Join(errs...)
}

// setHeartbeatLinks sets the far end of the node's heartbeat links (the
// Totem ring's networks) up or down.
func setHeartbeatLinks(st *State, n NodeState, up bool) error {
	var errs []error
	for k := range hbPrefix {
		errs = append(errs, setLinks(st, n, nodeLink(st.Name, k), up))
	}
	return errors.Join(errs...)
}

func setLink(ns, dev string, up bool) error {
	h, err := netns.GetFromName(ns)
	if err != nil {
		return fmt.Errorf("opening namespace %s: %w", ns, err)
	}
	defer h.Close()
	return withHandle(h, func(nl *netlink.Handle) error {
		l, err := nl.LinkByName(dev)
		if err != nil {
			return fmt.Errorf("finding %s in %s: %w", dev, ns, err)
		}
		if up {
			err = nl.LinkSetUp(l)
		} else {
			err = nl.LinkSetDown(l)
		}
		if err != nil {
			return fmt.Errorf("setting %s in %s up=%v: %w", dev, ns, up, err)
		}
		return nil
	})
}

// setLoss installs (or with 0 removes) random loss on the node's own IP
// traffic: an inet table dropping pct % of input and of output. Frames
// OVS switches in userspace do not pass these hooks.
func setLoss(ns string, pct int) error {
	script := "table inet ovshaloss\ndelete table inet ovshaloss\n"
	if pct > 0 {
		rule := fmt.Sprintf("numgen random mod 100 < %d drop", pct)
		if pct >= 100 {
			rule = "drop"
		}
		script += "table inet ovshaloss {\n"
		for _, hook := range []string{"input", "output", "forward"} {
			script += fmt.Sprintf("  chain %s { type filter hook %s priority 0; policy accept; %s; }\n", hook, hook, rule)
		}
		script += "}\n"
	}
	return nft(ns, script)
}

// powerOn reboots a node: whatever runs is killed, the addresses the
// cluster put on its interfaces are gone (the OVSDB on "disk" stays), its
// links come up, and OVS and ovshad start again.
func powerOn(ctx context.Context, st *State, n *NodeState) error {
	// Which processes are ours is decided before the kill: once dead, a
	// process's /proc entry no longer says what it ran, but it may linger
	// as a zombie, and OVS refuses to start while its pidfile names a pid
	// that still exists.
	pids := []int{}
	if ours(*n) {
		pids = append(pids, n.PID)
	}
	for _, p := range n.Procs {
		if procOurs(p) {
			pids = append(pids, p.PID)
		}
	}
	if err := signalNode(*n, syscall.SIGKILL); err != nil {
		return err
	}
	deadline := time.Now().Add(5 * time.Second)
	for slices.ContainsFunc(pids, alive) {
		if time.Now().After(deadline) {
			return fmt.Errorf("processes of %s did not die after SIGKILL", n.Name)
		}
		time.Sleep(5 * time.Millisecond) // reaped by init; no event to await
	}
	if err := flushAddrs(st, *n); err != nil {
		return err
	}
	if err := setLinks(st, *n, "", true); err != nil {
		return err
	}
	n.Fault = ""
	if n.OVSDir != "" {
		if err := startOVS(ctx, n, st.save); err != nil {
			return err
		}
	}
	if err := startDaemon(n, n.Binary, st.Config); err != nil {
		return err
	}
	return st.save()
}

func procsAlive(n NodeState) bool {
	for _, p := range n.Procs {
		if procOurs(p) && alive(p.PID) {
			return true
		}
	}
	return false
}

// flushAddrs removes every IPv4 address of the node except its heartbeat
// addresses and loopback: what a reboot loses.
func flushAddrs(st *State, n NodeState) error {
	h, err := netns.GetFromName(n.Namespace)
	if err != nil {
		return fmt.Errorf("opening namespace %s: %w", n.Namespace, err)
	}
	defer h.Close()
	keep := map[string]bool{}
	for _, a := range n.Addrs {
		keep[ipOf(a)] = true
	}
	return withHandle(h, func(nl *netlink.Handle) error {
		addrs, err := nl.AddrList(nil, netlink.FAMILY_V4)
		if err != nil {
			return fmt.Errorf("listing addresses of %s: %w", n.Name, err)
		}
		for _, a := range addrs {
			if keep[a.IP.String()] || a.IP.IsLoopback() {
				continue
			}
			l, err := nl.LinkByIndex(a.LinkIndex)
			if err != nil {
				continue
			}
			if err := nl.AddrDel(l, &a); err != nil {
				return fmt.Errorf("removing %s from %s on %s: %w", a.IPNet, l.Attrs().Name, n.Name, err)
			}
		}
		return nil
	})
}
