// Package lab builds and tears down ovsha test clusters inside network
// namespaces on one machine: the testbed behind `ovsha lab` and the
// end-to-end tests.
//
// With Spec.Gateway (the CLI's default) the lab is a gateway cluster
// (gateway.go, ovsd.go, resources.go): LAN switches <lab>-sw1/-sw2, hosts
// <lab>-client and <lab>-wan, one ovsdb-server + ovs-vswitchd per node
// (userspace datapath), and the gateway group created through the CRM;
// fault.go injects faults, probe.go and bench.go measure failover from
// the client. The engine-only base is: namespaces <lab>-n1..<lab>-nN, one per node,
// and a hub namespace <lab>-hub holding two Linux bridges, one per
// heartbeat network (10.201.0.0/24 is link 0, 10.202.0.0/24 is link 1; node
// i has .i on both). It writes cluster.conf and the authkey into the lab's
// state directory and starts one ovshad per node inside its namespace, as
// a detached process that outlives the CLI.
//
// Every object the lab creates is recorded in <dir>/state.json before it is
// created, so Down removes exactly what Up made — also after a crash — and
// nothing else. All names carry the lab name, so two labs coexist. The
// files are split by concern so the lab can grow (OVS per node, client
// namespace, fault injection): topology.go (namespaces, bridges, veths),
// clusterconf.go (configuration files), daemon.go (processes), exec.go
// (running commands in a node), state.go (the record).
package lab
