// Package vip owns ovsha's floating-address agent, an IPaddr2-compatible
// "vip" agent (the registry also resolves ocf:heartbeat:IPaddr2 to it).
//
// Start adds the address through a *netlink.Handle with preferred lifetime 0
// (so the kernel never picks it as a source address) and an explicit
// infinite valid lifetime (IFA_F_NODAD for IPv6), after an ARP probe of a
// few milliseconds has checked that no other host answers for it (skipped
// when the cluster has just stopped the address on another node, which the
// CRM says with CRM_meta_stopped_on: a planned move). It then
// announces the address: for IPv4 a gratuitous ARP request and reply at
// once, repeated arp_count times every arp_interval; for IPv6 unsolicited
// neighbour advertisements on the same schedule. While running, the agent
// repeats one announcement every arp_refresh (10 s by default; IPaddr2 has
// no equivalent) so switches and neighbours that missed the first ones
// relearn the owner. Stop removes the address (or, with lvs_support, moves
// an IPv4 address to lo); monitor checks that the address is on the right
// interface and that the interface is up.
//
// Kernel access comes in through Config: the netlink handle, a Dialer that
// opens the ARP/NDP sockets, and a Sysctl writer (for nonlocal_bind). Host
// implements the last two for one network namespace; tests substitute
// in-memory fakes and run without root. This package knows nothing of
// clustering.
package vip
