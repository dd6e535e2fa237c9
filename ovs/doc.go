// Package ovs owns ovsha's Open vSwitch resource agents and the OVSDB client
// they share.
//
// One [Client] per daemon holds a libovsdb connection to ovsdb-server with a
// monitored cache of the whole Open_vSwitch database; every read comes from
// that cache and every write is one transaction per intent, guarded by
// conditions (a "wait" on the row's ownership mark) so two agents never
// clobber each other. After each write the client waits, like ovs-vsctl, until
// ovs-vswitchd has applied it (Open_vSwitch.cur_cfg reaches next_cfg).
//
// The agents implement agents.Agent:
//
//   - [BridgeAgent] "ovs-bridge": a bridge with its local internal port.
//   - [PortAgent] "ovs-port": a port of one interface, or a bond of two or
//     more; for bonds, monitor reads `ovs-appctl bond/show` through a
//     [BondReader] and publishes bond health as node attributes.
//   - [InterfaceAgent] "ovs-interface": an internal port with MTU, MAC and
//     addresses (set through a *netlink.Handle).
//
// Ownership: every row an agent creates carries
// external_ids:ovsha-resource=<resource id>. Start refuses to take over a
// row of the same name that lacks that mark, stop removes only marked rows,
// and monitor reports a row without the mark as not running.
//
// The generated OVSDB models live in the vswitch sub-package. This package
// knows nothing of clustering.
package ovs
