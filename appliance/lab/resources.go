package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/ovsha/ovsha/appliance"
	"github.com/ovsha/ovsha/cluster/cib"
	"github.com/ovsha/ovsha/ovs"
)

// gatewayCommands are the `ovsha` commands that configure the gateway
// through the CRM, exactly as an operator would type them. Fencing is off
// here; `lab up --fencing` (the default for two nodes) adds the lab's fence
// devices afterwards (fenceCommands). Stickiness keeps the gateway where it
// is when a node returns, and multiple-active=stop_unexpected keeps it
// running there when the returning node brings back the bridge from its
// OVSDB (only that copy is stopped; stop_start would restart the gateway).
// The OVS members may migrate (allow-migrate): a planned move brings the
// bridge, bond and internal port up on the new node while the old one
// still serves, and only the VIPs go stop → start.
func gatewayCommands() [][]string {
	vip := func(id, ip, nic string) []string {
		return []string{"resource", "create", id, "vip", "ip=" + ip, fmt.Sprintf("cidr_netmask=%d", vipBits), "nic=" + nic,
			"op", "monitor", "interval=2s", "timeout=10s", "--group", GatewayGroup}
	}
	return [][]string{
		{"property", "set", "fencing-enabled=false"},
		{"rsc-defaults", "resource-stickiness=100", "multiple-active=stop_unexpected"},
		{"resource", "create", bridgeRes, "ovs-bridge", "bridge_name=" + bridgeRes, "datapath_type=netdev", "meta", "allow-migrate=true", "--group", GatewayGroup},
		// The bond's monitor publishes its health (node attribute
		// ovsha-bond-bond0), which uplinkRule reads.
		{"resource", "create", bondRes, "ovs-port", "bridge_name=" + bridgeRes, "port_name=" + bondRes,
			"interfaces=" + uplink0 + "," + uplink1, "bond_mode=active-backup", "other_config=bond-primary=" + uplink0,
			"op", "monitor", "interval=1s", "timeout=10s", "meta", "allow-migrate=true", "--group", GatewayGroup},
		{"resource", "create", lanIf, "ovs-interface", "bridge_name=" + bridgeRes, "interface_name=" + lanIf, "meta", "allow-migrate=true", "--group", GatewayGroup},
		vip("lan-vip", LANVIP, lanIf),
		vip("wan-vip", WANVIP, wanLink),
	}
}

// GatewayResources are the gateway group's members in start order.
var GatewayResources = []string{bridgeRes, bondRes, lanIf, "lan-vip", "wan-vip"}

// configureGateway runs gatewayCommands with the ovsha CLI against node
// n1's control socket, then adds the uplink rule.
func configureGateway(ctx context.Context, st *State, ovsha string) error {
	for _, args := range gatewayCommands() {
		if err := runCLI(ctx, ovsha, st.Nodes[0].Socket, args...); err != nil {
			return err
		}
		if len(args) > 2 && args[0] == "resource" && args[1] == "create" {
			if err := waitStarted(ctx, st.Nodes[0].Socket, args[2]); err != nil {
				return err
			}
		}
	}
	return addUplinkRule(ctx, st.Nodes[0].Socket)
}

// waitStarted waits until rsc is started and the DC runs no transition,
// as an operator would before typing the next command. A CIB change that
// aborts the transition between a start and its recurring monitor would
// otherwise leave the resource unmonitored: the scheduler does not
// schedule a recurring monitor again for a resource that is already
// running (seen with bond0, whose monitor publishes the bond health).
func waitStarted(ctx context.Context, socket, rsc string) error {
	c := appliance.NewClient(socket)
	last := "no answer"
	for {
		s, err := c.CRMStatus(ctx)
		if err == nil {
			last = "not configured"
			for _, r := range s.Resources {
				if r.ID == rsc {
					last = fmt.Sprintf("%s on %v", r.Role, r.Nodes)
					if r.Role == "Started" && !s.TransitionInProgress {
						return nil
					}
				}
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s to start (last: %s): %w", rsc, last, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// UplinkRule is the id of the location constraint that keeps the gateway
// off a node whose bond has no enabled member.
const UplinkRule = "location-gateway-uplink"

// addUplinkRule adds, through the CIB API (the CLI has no rule syntax),
//
//	<rsc_location id="location-gateway-uplink" rsc="gateway">
//	  <rule score="-INFINITY"><expression attribute="ovsha-bond-bond0" operation="eq" value="down"/></rule>
//	</rsc_location>
//
// so that losing both uplinks of the holder moves the gateway, while
// losing one (the bond fails over inside OVS) does not. Only the node
// running bond0 publishes the attribute; nodes without it are unaffected.
func addUplinkRule(ctx context.Context, socket string) error {
	c := appliance.NewClient(socket)
	// Status updates (probe results) move num_updates between the read
	// and the write; the write is refused then, so re-read and retry.
	for attempt := 0; ; attempt++ {
		cur, err := c.CIB(ctx)
		if err != nil {
			return fmt.Errorf("reading the CIB to add %s: %w", UplinkRule, err)
		}
		doc, err := cib.Parse([]byte(cur.XML))
		if err != nil {
			return fmt.Errorf("parsing the CIB to add %s: %w", UplinkRule, err)
		}
		doc.Config.Constraints.Items = append(doc.Config.Constraints.Items, cib.Constraint{
			Kind: cib.KindLocation, ID: UplinkRule, Rsc: GatewayGroup,
			Rules: []cib.Rule{{ID: UplinkRule + "-rule", Score: "-INFINITY", Expressions: []cib.Expression{{
				ID: UplinkRule + "-expr", Attribute: ovs.BondAttribute(bondRes), Operation: "eq", Value: ovs.BondDown}}}},
		})
		data, err := doc.MarshalXMLBytes()
		if err != nil {
			return fmt.Errorf("encoding the CIB with %s: %w", UplinkRule, err)
		}
		base := cur.Version
		_, err = c.ReplaceCIB(ctx, appliance.CIBReplaceRequest{BaseVersion: &base, XML: string(data), Reason: "lab: " + UplinkRule})
		if errors.Is(err, appliance.ErrConflict) && attempt < 20 {
			continue
		}
		if err != nil {
			return fmt.Errorf("adding %s: %w", UplinkRule, err)
		}
		return nil
	}
}

// runCLI runs `ovsha --socket SOCK ARGS...` and fails with its stderr.
func runCLI(ctx context.Context, ovsha, socket string, args ...string) error {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, ovsha, append(args, "--socket", socket)...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("ovsha %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}

// WaitGateway waits until the client reaches wan through the gateway
// (one ping through the LAN VIP, forwarded by the node holding both VIPs).
func WaitGateway(ctx context.Context, st *State) error {
	if _, ok := st.Hosts["client"]; !ok {
		return fmt.Errorf("lab %s is not a gateway lab", st.Name)
	}
	for {
		err := Ping(ctx, st, "client", WANAddr, 300*time.Millisecond)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the client never reached wan (%s) through the gateway (last: %v): %w", WANAddr, err, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// holdsAddr reports whether namespace ns has ip on any interface, and on
// which (its MAC too).
func holdsAddr(ns, ip string) (bool, string, net.HardwareAddr) {
	h, err := netns.GetFromName(ns)
	if err != nil {
		return false, "", nil
	}
	defer h.Close()
	var dev string
	var mac net.HardwareAddr
	found := false
	_ = withHandle(h, func(nl *netlink.Handle) error {
		addrs, err := nl.AddrList(nil, netlink.FAMILY_V4)
		if err != nil {
			return err
		}
		for _, a := range addrs {
			if a.IP.String() == ip {
				found = true
				if l, err := nl.LinkByIndex(a.LinkIndex); err == nil {
					dev, mac = l.Attrs().Name, l.Attrs().HardwareAddr
				}
			}
		}
		return nil
	})
	return found, dev, mac
}

// Holder returns the node whose namespace holds the LAN VIP ("" if none)
// and the MAC of the interface holding it. A powered-off node holds
// nothing, whatever its frozen kernel still has configured.
func Holder(st *State) (string, net.HardwareAddr) {
	for _, n := range st.Nodes {
		if n.Fault == FaultPowerOff {
			continue
		}
		if ok, _, mac := holdsAddr(n.Namespace, LANVIP); ok {
			return n.Name, mac
		}
	}
	return "", nil
}

// Namespace returns the namespace of a lab member: a node (n1...) or a
// host (sw1, sw2, client, wan).
func (s *State) Namespace(member string) (string, bool) {
	if n, ok := s.Node(member); ok {
		return n.Namespace, true
	}
	ns, ok := s.Hosts[member]
	return ns, ok
}

// GatewayStatus is the gateway part of `ovsha lab status --json`.
type GatewayStatus struct {
	LANVIP string `json:"lan_vip"`
	WANVIP string `json:"wan_vip"`
	Client string `json:"client"`
	WAN    string `json:"wan"`
	Holder string `json:"holder"` // node holding the gateway, "" when none
	MAC    string `json:"mac,omitempty"`
}

// Gateway reports the gateway lab's addresses and holder.
func Gateway(st *State) GatewayStatus {
	h, mac := Holder(st)
	g := GatewayStatus{LANVIP: LANVIP, WANVIP: WANVIP, Client: ClientAddr, WAN: WANAddr, Holder: h}
	if mac != nil {
		g.MAC = mac.String()
	}
	return g
}
