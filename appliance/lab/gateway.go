package lab

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/ovsha/ovsha/internal/ethtool"
)

// The gateway lab's addresses. The LAN (10.203.0.0/24) is the two switches
// sw1 and sw2; the client has .100 and routes everything through LANVIP.
// The WAN (10.204.0.0/24) is one Linux bridge inside the wan namespace,
// which holds .100 on that bridge and routes the LAN back through WANVIP.
const (
	LANVIP     = "10.203.0.1"
	WANVIP     = "10.204.0.1"
	ClientAddr = "10.203.0.100"
	WANAddr    = "10.204.0.100"
	vipBits    = 24
	lanNet     = "10.203.0.0/24"
)

// Interface names inside the lab's namespaces (each namespace is private,
// so the names are short and fixed).
const (
	uplink0   = "u0"   // node → sw1, bond0 member
	uplink1   = "u1"   // node → sw2, bond0 member
	wanLink   = "w0"   // node → wan bridge (plain veth, WAN VIP lives here)
	lanBridge = "lan"  // Linux bridge in sw1 and sw2
	wanBridge = "wan"  // Linux bridge in the wan namespace
	islPort   = "isl"  // inter-switch link, in sw1 and sw2
	clientIf  = "eth0" // the client's LAN interface
	// Resource names of the gateway group.
	GatewayGroup = "gateway"
	bridgeRes    = "br-ex"
	bondRes      = "bond0"
	lanIf        = "lan0" // ovs-interface: the internal port holding the LAN VIP
)

// Host names of the non-node lab members, as `lab exec` and `lab fault`
// take them.
var hostNames = []string{"sw1", "sw2", "client", "wan"}

func hostNS(lab, host string) string { return lab + "-" + host }

// nodeMAC is the fixed Ethernet address of node i's k-th lab interface.
func nodeMAC(i, k int) net.HardwareAddr {
	return net.HardwareAddr{0x02, 0x0a, 0, 0, byte(i), byte(k)}
}

// buildGateway adds the LAN switches, the client and wan and every node's
// uplinks and WAN link. Namespaces are recorded before they are created,
// veth pairs after.
func buildGateway(st *State) error {
	st.Hosts = map[string]string{}
	hs := map[string]netns.NsHandle{}
	defer func() {
		for _, h := range hs {
			h.Close()
		}
	}()
	for _, host := range hostNames {
		name := hostNS(st.Name, host)
		h, err := newNS(st, name)
		if err != nil {
			return err
		}
		st.Hosts[host] = name
		hs[host] = h
	}
	for _, sw := range []string{"sw1", "sw2"} {
		if err := addBridge(hs[sw], lanBridge); err != nil {
			return err
		}
	}
	if err := addBridge(hs["wan"], wanBridge); err != nil {
		return err
	}
	if err := veth(st, hs["sw1"], st.Hosts["sw1"], islPort, nil, hs["sw2"], st.Hosts["sw2"], islPort, lanBridge, lanBridge); err != nil {
		return err
	}
	if err := veth(st, hs["client"], st.Hosts["client"], clientIf, nil, hs["sw1"], st.Hosts["sw1"], "client", "", lanBridge); err != nil {
		return err
	}
	for i, n := range st.Nodes {
		h, err := netns.GetFromName(n.Namespace)
		if err != nil {
			return fmt.Errorf("opening namespace %s: %w", n.Namespace, err)
		}
		port := fmt.Sprintf("n%d", i+1)
		err = veth(st, h, n.Namespace, uplink0, nodeMAC(i+1, 1), hs["sw1"], st.Hosts["sw1"], port, "", lanBridge)
		if err == nil {
			err = veth(st, h, n.Namespace, uplink1, nodeMAC(i+1, 2), hs["sw2"], st.Hosts["sw2"], port, "", lanBridge)
		}
		if err == nil {
			err = veth(st, h, n.Namespace, wanLink, nodeMAC(i+1, 3), hs["wan"], st.Hosts["wan"], port, "", wanBridge)
		}
		if err == nil {
			err = inNS(h, func() error {
				// arp_ignore=1: answer ARP only on the interface holding the
				// address, so br-ex's internal port does not answer for the
				// VIP on lan0 (both sit on the same OVS bridge).
				return writeSysctls(map[string]string{"net.ipv4.ip_forward": "1",
					"net.ipv4.conf.all.arp_ignore": "1", "net.ipv4.conf.default.arp_ignore": "1"})
			})
		}
		if err == nil {
			err = txCsumOff(h, wanLink)
		}
		if err == nil {
			err = ignoreOVSPorts(n.Namespace, uplink0, uplink1)
		}
		h.Close()
		if err != nil {
			return fmt.Errorf("wiring %s to the LAN and WAN: %w", n.Name, err)
		}
	}
	if err := addrRoute(hs["client"], clientIf, ClientAddr, "0.0.0.0/0", LANVIP); err != nil {
		return fmt.Errorf("configuring client: %w", err)
	}
	if err := addrRoute(hs["wan"], wanBridge, WANAddr, lanNet, WANVIP); err != nil {
		return fmt.Errorf("configuring wan: %w", err)
	}
	// Non-OVS endpoints must send complete checksums into the userspace
	// datapath (TESTBED §3).
	if err := txCsumOff(hs["client"], clientIf); err != nil {
		return err
	}
	return st.save()
}

// veth creates a veth pair with each end born in its namespace, optionally
// enslaves either end to a bridge, sets both up and records the pair.
func veth(st *State, a netns.NsHandle, aNS, aName string, aMAC net.HardwareAddr, b netns.NsHandle, bNS, bName, aMaster, bMaster string) error {
	la := netlink.NewLinkAttrs()
	la.Name = aName
	la.Namespace = netlink.NsFd(int(a))
	la.HardwareAddr = aMAC
	if err := netlink.LinkAdd(&netlink.Veth{LinkAttrs: la, PeerName: bName, PeerNamespace: netlink.NsFd(int(b))}); err != nil {
		return fmt.Errorf("creating veth %s:%s - %s:%s: %w", aNS, aName, bNS, bName, err)
	}
	st.Links = append(st.Links, Link{ANS: aNS, A: aName, BNS: bNS, B: bName})
	for _, end := range []struct {
		h            netns.NsHandle
		name, master string
	}{{a, aName, aMaster}, {b, bName, bMaster}} {
		if err := withHandle(end.h, func(nl *netlink.Handle) error {
			l, err := nl.LinkByName(end.name)
			if err != nil {
				return fmt.Errorf("finding %s: %w", end.name, err)
			}
			if end.master != "" {
				br, err := nl.LinkByName(end.master)
				if err != nil {
					return fmt.Errorf("finding bridge %s: %w", end.master, err)
				}
				if err := nl.LinkSetMaster(l, br); err != nil {
					return fmt.Errorf("attaching %s to %s: %w", end.name, end.master, err)
				}
			}
			return nl.LinkSetUp(l)
		}); err != nil {
			return err
		}
	}
	return nil
}

// addrRoute puts addr/24 on dev and a route to dst via gw.
func addrRoute(h netns.NsHandle, dev, addr, dst, gw string) error {
	return withHandle(h, func(nl *netlink.Handle) error {
		l, err := nl.LinkByName(dev)
		if err != nil {
			return fmt.Errorf("finding %s: %w", dev, err)
		}
		a, err := netlink.ParseAddr(fmt.Sprintf("%s/%d", addr, vipBits))
		if err != nil {
			return err
		}
		if err := nl.AddrAdd(l, a); err != nil {
			return fmt.Errorf("adding %s to %s: %w", addr, dev, err)
		}
		_, d, err := net.ParseCIDR(dst)
		if err != nil {
			return err
		}
		if err := nl.RouteAdd(&netlink.Route{LinkIndex: l.Attrs().Index, Dst: d, Gw: net.ParseIP(gw)}); err != nil {
			return fmt.Errorf("adding route %s via %s: %w", dst, gw, err)
		}
		return nil
	})
}

// writeSysctls writes /proc/sys keys (dotted) in the calling thread's
// network namespace.
func writeSysctls(kv map[string]string) error {
	for k, v := range kv {
		p := "/proc/sys/" + strings.ReplaceAll(k, ".", "/")
		if err := os.WriteFile(p, []byte(v), 0); err != nil {
			return fmt.Errorf("sysctl %s=%s: %w", k, v, err)
		}
	}
	return nil
}

// txCsumOff is `ethtool -K dev tx off` through SIOCETHTOOL, inside h.
func txCsumOff(h netns.NsHandle, dev string) error {
	err := inNS(h, func() error { return ethtool.TxCsumOff(dev) })
	if err != nil {
		return fmt.Errorf("turning tx checksum offload off on %s: %w", dev, err)
	}
	return nil
}

// ignoreOVSPorts makes the node's kernel drop frames arriving on the
// OVS-owned uplinks (OVS's AF_PACKET taps still see them); otherwise the
// kernel answers ARP for the VIP on the uplinks too (TESTBED §3).
func ignoreOVSPorts(ns string, ports ...string) error {
	var b strings.Builder
	b.WriteString("table netdev ovshalab {\n")
	for _, p := range ports {
		fmt.Fprintf(&b, "  chain %s { type filter hook ingress device %q priority 0; policy drop; }\n", p, p)
	}
	b.WriteString("}\n")
	return nft(ns, b.String())
}

// nft runs `nft -f -` with script inside namespace ns.
func nft(ns, script string) error {
	cmd := exec.Command("nft", "-f", "-")
	cmd.Stdin = strings.NewReader(script)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := startIn(ns, cmd); err != nil {
		return fmt.Errorf("running nft in %s (install nftables): %w", ns, err)
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("nft in %s: %w: %s", ns, err, strings.TrimSpace(out.String()))
	}
	return nil
}
