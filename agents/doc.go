// Package agents defines the resource agent interface (metadata, start,
// stop, monitor, validate-all with OCF result codes), a registry that
// resolves agent names (class:provider:type or a short built-in name), and
// runners for the ecosystem's agents: OCF scripts, LSB init scripts,
// systemd units and fence agents.
//
// Built-in agents (ovs, vip) implement Agent in their own packages; package
// agents/builtin registers them. agents/agenttest is the conformance suite
// every agent passes.
package agents
