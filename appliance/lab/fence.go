package lab

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// The lab's fence device. A lab with fencing (Spec.Fencing) writes a
// fence-agents program, FenceDir/fence_ovshalab, that powers lab nodes off
// and on, points every ovshad at it (OVSHA_FENCE_DIR) and configures one
// stonith device per node through the CLI. The CRM finds and runs it as
// any stonith:fence_NAME agent: the program reads the fence-agents stdin
// protocol and execs `ovsha lab fence-agent`, which is FenceAgent below.
const (
	// FenceAgentName is the lab's agent: stonith:fence_ovshalab.
	FenceAgentName = "fence_ovshalab"
	// FenceDelayBase is pcmk_delay_base on the device that fences n1: in
	// a split where neither node runs more important resources, n1 wins.
	FenceDelayBase = "1s"
	// PriorityFencingDelay is the cluster's priority-fencing-delay: the
	// node running the gateway (priority GatewayPriority) wins a split.
	// Pacemaker advises at least twice the largest device delay.
	PriorityFencingDelay = "2s"
	// GatewayPriority is the gateway group's priority meta attribute.
	GatewayPriority = "10"
)

// FenceDir is the directory of the lab's fence agent.
func FenceDir(st *State) string { return filepath.Join(st.Dir, "fence") }

// FenceDevice is the id of the stonith device that fences node.
func FenceDevice(node string) string { return "fence-" + node }

// writeFenceAgent writes FenceDir/fence_ovshalab, a shell script that
// runs ovsha's implementation of the agent for this lab.
func writeFenceAgent(st *State, ovsha string) error {
	dir := FenceDir(st)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating the lab's fence directory: %w", err)
	}
	script := fmt.Sprintf(`#!/bin/sh
# Written by `+"`ovsha lab up --fencing`"+` for lab %s: the lab's fence device.
# Speaks the fence-agents stdin protocol (action=off|on|reboot|status|monitor|list|metadata,
# plug=NODE); off = `+"`ovsha lab fault NODE poweroff`"+`, on = poweron. See docs/lab.md.
exec %s lab fence-agent --name %s --dir %s
`, st.Name, shellQuote(ovsha), shellQuote(st.Name), shellQuote(filepath.Dir(st.Dir)))
	p := filepath.Join(dir, FenceAgentName)
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		return fmt.Errorf("writing the lab's fence agent: %w", err)
	}
	return nil
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// fenceCommands are the `ovsha` commands that turn fencing on: one device
// per node, the gateway's priority (gateway labs), the delays that settle
// a fence race, fencing-action=off (a fenced node stays off until `lab
// fault NODE poweron`), and fencing-enabled=true last.
func fenceCommands(st *State) [][]string {
	var cmds [][]string
	for i, n := range st.Nodes {
		c := []string{"stonith", "create", FenceDevice(n.Name), FenceAgentName, "pcmk_host_list=" + n.Name}
		if i == 0 {
			c = append(c, "pcmk_delay_base="+FenceDelayBase)
		}
		cmds = append(cmds, c)
	}
	if st.Gateway {
		cmds = append(cmds, []string{"resource", "update", GatewayGroup, "meta", "priority=" + GatewayPriority})
	}
	return append(cmds, []string{"property", "set", "fencing-action=off", "priority-fencing-delay=" + PriorityFencingDelay, "fencing-enabled=true"})
}

// configureFencing writes the agent's configuration through n1's socket.
func configureFencing(ctx context.Context, st *State, ovsha string) error {
	for _, args := range fenceCommands(st) {
		if err := runCLI(ctx, ovsha, st.Nodes[0].Socket, args...); err != nil {
			return err
		}
	}
	return nil
}

// Exit codes of the fence-agents protocol.
const (
	fenceOK     = 0
	fenceFailed = 1
	fenceOff    = 2 // action=status: the target is off
)

// fenceMetadata is what action=metadata prints.
const fenceMetadata = `<?xml version="1.0" ?>
<resource-agent name="` + FenceAgentName + `" shortdesc="Fence agent of an ovsha lab">
<longdesc>Powers lab nodes off and on as ` + "`ovsha lab fault NODE poweroff|poweron`" + ` does: off cuts every link of the node and stops all its processes; on reboots it.</longdesc>
<parameters>
	<parameter name="action" unique="0" required="0"><getopt mixed="-o, --action=[action]"/><content type="string" default="reboot"/><shortdesc lang="en">Fencing action</shortdesc></parameter>
	<parameter name="plug" unique="0" required="1" obsoletes="port"><getopt mixed="-n, --plug=[id]"/><content type="string"/><shortdesc lang="en">Lab node to act on (n1, n2, ...)</shortdesc></parameter>
	<parameter name="port" unique="0" required="0" deprecated="1"><getopt mixed="-n, --plug=[id]"/><content type="string"/><shortdesc lang="en">Lab node to act on</shortdesc></parameter>
</parameters>
<actions>
	<action name="on"/>
	<action name="off"/>
	<action name="reboot"/>
	<action name="status"/>
	<action name="list"/>
	<action name="monitor"/>
	<action name="metadata"/>
	<action name="validate-all"/>
</actions>
</resource-agent>
`

// fenceRequest is one parsed fence-agents request.
type fenceRequest struct {
	action string
	target string
}

// parseFenceRequest reads "key=value" lines (blank lines and # comments
// skipped). action (or its old name option) defaults to reboot; the
// target is plug, port or nodename, in that order.
func parseFenceRequest(in io.Reader) (fenceRequest, error) {
	req := fenceRequest{action: "reboot"}
	kv := map[string]string{}
	sc := bufio.NewScanner(in)
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			return req, fmt.Errorf("stdin line %d %q: expected key=value", line, s)
		}
		kv[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	if err := sc.Err(); err != nil {
		return req, fmt.Errorf("reading stdin: %w", err)
	}
	for _, k := range []string{"action", "option"} {
		if v := kv[k]; v != "" {
			req.action = v
			break
		}
	}
	for _, k := range []string{"plug", "port", "nodename"} {
		if v := kv[k]; v != "" {
			req.target = v
			break
		}
	}
	return req, nil
}

// FenceAgent is the lab's fence agent (`ovsha lab fence-agent`): it reads
// one fence-agents request from in, acts on lab name under base, and
// returns the protocol's exit code (0 success or on, 1 failure, 2 off),
// with messages on errw.
//
//	off       the node's poweroff fault (a node already off: success)
//	on        poweron of a node that is off (one that is on: success)
//	reboot    off, then on
//	status    0 "Status: ON" or 2 "Status: OFF" from the lab state
//	monitor, validate-all   0 if the lab is up
//	list      one "NODE," line per node
func FenceAgent(ctx context.Context, base, name string, in io.Reader, out, errw io.Writer) int {
	req, err := parseFenceRequest(in)
	if err != nil {
		fmt.Fprintf(errw, "%s: %v\n", FenceAgentName, err)
		return fenceFailed
	}
	if req.action == "metadata" {
		fmt.Fprint(out, fenceMetadata)
		return fenceOK
	}
	st, err := Load(base, name)
	if err != nil {
		fmt.Fprintf(errw, "%s: %v\n", FenceAgentName, err)
		return fenceFailed
	}
	switch req.action {
	case "monitor", "validate-all":
		return fenceOK
	case "list", "list-status":
		for _, n := range st.Nodes {
			fmt.Fprintf(out, "%s,\n", n.Name)
		}
		return fenceOK
	case "status", "off", "on", "reboot":
	default:
		fmt.Fprintf(errw, "%s: action %q: expected off, on, reboot, status, monitor, list, metadata or validate-all\n", FenceAgentName, req.action)
		return fenceFailed
	}
	n, ok := st.Node(req.target)
	if !ok {
		fmt.Fprintf(errw, "%s: %s: lab %s has no node %q (nodes: %s)\n", FenceAgentName, req.action, st.Name, req.target, nodeNames(st))
		return fenceFailed
	}
	if req.action == "status" {
		if n.Fault == FaultPowerOff {
			fmt.Fprintln(out, "Status: OFF")
			return fenceOff
		}
		fmt.Fprintln(out, "Status: ON")
		return fenceOK
	}
	steps := []string{FaultPowerOff}
	switch req.action {
	case "on":
		steps = []string{FaultPowerOn}
	case "reboot":
		steps = append(steps, FaultPowerOn)
	}
	for _, f := range steps {
		// Fault refreshes st from the state file under the lab lock, so
		// the node's current state decides.
		if err := fenceStep(ctx, st, n.Name, f); err != nil {
			fmt.Fprintf(errw, "%s: %s %s: %v\n", FenceAgentName, req.action, n.Name, err)
			return fenceFailed
		}
	}
	fmt.Fprintf(out, "Success: %s %s\n", req.action, n.Name)
	return fenceOK
}

// fenceStep applies poweroff to a node that is not off, or poweron to one
// that is; otherwise it does nothing.
func fenceStep(ctx context.Context, st *State, node, fault string) error {
	return faultIf(ctx, st, node, fault, func(n NodeState) bool {
		return (n.Fault == FaultPowerOff) == (fault == FaultPowerOn)
	})
}

// lockState takes the lab's lock (an exclusive flock on <dir>/lock), which
// serialises every fault of the lab: the CLI, the fence agents on the
// nodes and tests each read-modify-write the state file. unlock releases it.
func lockState(dir string) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the lab lock: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("locking the lab state: %w", err)
	}
	return func() { f.Close() }, nil
}

// refreshNodes replaces st's node records with the state file's, which
// may have changed since st was loaded (another process's fault).
func refreshNodes(st *State) error {
	disk, err := Load(filepath.Dir(st.Dir), st.Name)
	if err != nil {
		return err
	}
	if len(disk.Nodes) != len(st.Nodes) {
		return fmt.Errorf("lab state %s: %d nodes on disk, %d in memory", statePath(st.Dir), len(disk.Nodes), len(st.Nodes))
	}
	st.Nodes = disk.Nodes
	return nil
}
