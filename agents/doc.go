// Package agents defines the resource agent interface (metadata, start,
// stop, monitor, validate-all with OCF result codes), a registry that
// resolves agent names (class:provider:type or a short built-in name), and
// runners for the ecosystem's agents: OCF scripts, LSB init scripts,
// systemd units and fence agents.
//
// Built-in agents (ovs, vip) implement Agent in their own packages; package
// agents/builtin registers them. agents/agenttest is the conformance suite
// every agent passes.
//
// Resolving names: NewRegistry(RegistryOptions) makes a registry (no
// global state); built-ins are added with Register(name, agent, aliases...)
// and Lookup resolves "vip", "ocf:heartbeat:IPaddr2" (the built-in when
// one is registered under that alias), "ocf:heartbeat:IPaddr2!script"
// (always the script), "lsb:NAME", "systemd:UNIT" and "stonith:fence_NAME".
// List feeds `resource list-agents`, Describe `resource describe`.
//
// Runners, one file each: ocf.go (OCFAgent: argv[1] action, OCF_RESKEY_*
// environment, exit code = result, meta-data XML parsed by ParseMetadata),
// lsb.go (LSBAgent: LSB status codes mapped as Pacemaker does), systemd.go
// (SystemdAgent: start/stop jobs and ActiveState over D-Bus) and fence.go
// (FenceAgent: key=value lines on stdin; Fence, Status, List). run.go
// executes programs for all but systemd: own process group killed on
// timeout, bounded output, the agent's exit reason in the error.
package agents
