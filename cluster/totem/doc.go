// Package totem is the Totem single-ring ordering and membership protocol
// (Amir et al., ACM TOCS 1995; Corosync's totemsrp) as a pure state
// machine.
//
// An Engine takes time and messages as arguments and returns decisions: no
// goroutines, sockets, clocks or unseeded randomness inside. The runtime
// (cluster/membership) and the simulator (cluster/totem/totemtest) drive it
// the same way:
//
//	e, _ := totem.New(totem.DefaultConfig(id, nodes))
//	for {
//		e.Tick(now)               // every few ms: timers fire here
//		e.Step(from, msg)         // for every message received
//		e.Broadcast(payload, g)   // application data, in total order
//		rd := e.Ready()           // messages to send, deliveries and
//		send(rd.Messages)         // configuration changes, in order
//		apply(rd.Events)
//	}
//
// Delivery follows extended virtual synchrony: application messages are
// delivered in one total order (agreed, or safe once every member holds
// them); a configuration change is delivered as a transitional
// configuration (the old members that move on together) followed by the
// regular configuration (the new ring). Nodes that move together from one
// regular configuration to the next deliver the same set of messages in
// the first.
//
// Timers keep corosync.conf(5) names; DefaultConfig documents ovsha's LAN
// defaults. A node detects its own scheduling gaps (Tick times further
// apart than StallThreshold) and does not count them against its peers.
// design.md maps protocol states and messages to files.
package totem
