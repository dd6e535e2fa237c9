package config

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// maxLinks is the most links a node may have (ring0_addr .. ring7_addr).
const maxLinks = 8

// maxNodeID is the largest nodeid: a positive signed 32-bit number, which
// clients such as Pacemaker's tools require.
const maxNodeID = 1<<31 - 1

func (d *decoder) nodelist(secs []*Entry) []Node {
	s := d.section("nodelist", secs)
	nodeSecs := s.sub("node")
	s.finish()
	if len(nodeSecs) == 0 {
		d.errorf(0, "nodelist", "no node entries; add a node { nodeid: N  name: NAME  ring0_addr: IP } section for every cluster node")
		return nil
	}
	type seen struct {
		line int
		key  string
	}
	ids := map[int64]int{}
	names := map[string]int{}
	addrs := map[netip.Addr]seen{}
	var nodes []Node
	var lines []int
	var keySets []uint8
	for i, sec := range nodeSecs {
		path := fmt.Sprintf("nodelist.node.%d", i)
		ns := d.section(path, []*Entry{sec})
		var n Node
		if !ns.has("nodeid") {
			d.errorf(sec.Line, path+".nodeid", "missing; every node needs a unique nodeid (1..%d)", maxNodeID)
		}
		if id := ns.num("nodeid", 0, 1, maxNodeID); id != 0 {
			if first, dup := ids[id]; dup {
				d.errorf(ns.lineOf("nodeid"), path+".nodeid", "%d is used twice (first at line %d)", id, first)
			} else {
				ids[id] = ns.lineOf("nodeid")
			}
			n.ID = uint32(id)
		}
		n.Name = ns.str("name", "")
		if n.Name != "" {
			if first, dup := names[n.Name]; dup {
				d.errorf(ns.lineOf("name"), path+".name", "%q is used twice (first at line %d)", n.Name, first)
			} else {
				names[n.Name] = ns.lineOf("name")
			}
		}
		var keySet uint8
		for link := range maxLinks {
			key := "ring" + strconv.Itoa(link) + "_addr"
			if ns.has(key) {
				keySet |= 1 << link
			}
			a := ns.addr(key)
			if !a.IsValid() {
				continue
			}
			line := ns.lineOf(key)
			if a.IsUnspecified() || a.IsMulticast() {
				d.errorf(line, path+"."+key, "%s is not a unicast address; give the node's own address on link %d", a, link)
				continue
			}
			norm := a.WithZone("").Unmap()
			if first, dup := addrs[norm]; dup {
				d.errorf(line, path+"."+key, "%s is used twice (first at line %d, %s)", a, first.line, first.key)
				continue
			}
			addrs[norm] = seen{line, path + "." + key}
			for len(n.Addrs) <= link {
				n.Addrs = append(n.Addrs, netip.Addr{})
			}
			n.Addrs[link] = a
		}
		if !ns.has("ring0_addr") {
			d.errorf(sec.Line, path, "no ring0_addr; every node needs an address on link 0")
		}
		n.QuorumVotes = uint32(ns.num("quorum_votes", DefaultQuorumVotes, 0, 65535))
		ns.finish()
		nodes = append(nodes, n)
		lines = append(lines, sec.Line)
		keySets = append(keySets, keySet)
	}
	d.sameLinks(nodes, lines, keySets)
	return nodes
}

// sameLinks checks that every node has the same ringN_addr keys (keySets)
// and that the addresses of one link are of one IP version.
func (d *decoder) sameLinks(nodes []Node, lines []int, keySets []uint8) {
	want := keySets[0]
	for i := range nodes[1:] {
		if got := keySets[i+1]; got != want {
			d.errorf(lines[i+1], fmt.Sprintf("nodelist.node.%d", i+1), "has links %s but nodelist.node.0 (line %d) has links %s; every node must have the same ringN_addr keys",
				linkList(got), lines[0], linkList(want))
		}
	}
	for link := range maxLinks {
		var first netip.Addr
		firstNode := 0
		for i, n := range nodes {
			if link >= len(n.Addrs) || !n.Addrs[link].IsValid() {
				continue
			}
			a := n.Addrs[link].Unmap()
			if !first.IsValid() {
				first, firstNode = a, i
				continue
			}
			if a.Is4() != first.Is4() {
				d.errorf(lines[i], fmt.Sprintf("nodelist.node.%d.ring%d_addr", i, link),
					"%s and nodelist.node.%d's %s are of different IP versions; all addresses of one link must be IPv4 or all IPv6", a, firstNode, first)
			}
		}
	}
}

func linkList(set uint8) string {
	var parts []string
	for link := range maxLinks {
		if set&(1<<link) != 0 {
			parts = append(parts, strconv.Itoa(link))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ",")
}
