// Package netnstest builds small root-only test networks for ovsha's kernel
// and OVS tests: anonymous network namespaces (no names, so parallel runs
// never collide), veth pairs born in their namespaces, Linux bridges, and a
// private ovsdb-server + ovs-vswitchd (userspace datapath) per namespace,
// following /work/shared/TESTBED.md.
//
// Everything is torn down through t.Cleanup. Tests call NeedRoot first; it
// skips with a reason when not root or when a needed tool is missing.
package netnstest
