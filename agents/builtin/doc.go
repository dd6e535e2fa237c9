// Package builtin registers ovsha's built-in resource agents with an
// agents.Registry: the Open vSwitch agents of package ovs and the
// IPaddr2-style vip agent of package vip, under their short names and the
// pcs-style names users know.
//
//	reg := agents.NewRegistry(agents.RegistryOptions{Logger: log})
//	closeBuiltins, err := builtin.Register(reg, builtin.Deps{OVSDB: db, Netlink: nl, Logger: log})
//	...
//	defer closeBuiltins()
//	a, err := reg.Lookup("ocf:heartbeat:IPaddr2")         // the built-in vip
//	s, err := reg.Lookup("ocf:heartbeat:IPaddr2!script")  // the real script
//
// It is the one place that knows every built-in agent; the daemon's
// composition root calls it once.
package builtin
