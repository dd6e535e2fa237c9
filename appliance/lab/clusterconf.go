package lab

import (
	"fmt"
	"os"
	"strings"

	"github.com/ovsha/ovsha/cluster/config"
)

// clusterConf renders the lab's cluster.conf (corosync.conf syntax).
// Timers are left to ovsha's defaults: the lab runs what a real appliance
// runs. Two-node labs set two_node, as a two-node appliance would.
func clusterConf(st *State, keyfile string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by `ovsha lab up` for lab %q; removed by `ovsha lab down`.\n", st.Name)
	fmt.Fprintf(&b, "totem {\n\tversion: 2\n\tcluster_name: lab-%s\n\tkeyfile: %s\n", st.Name, keyfile)
	for k := range hbPrefix {
		fmt.Fprintf(&b, "\tinterface {\n\t\tlinknumber: %d\n\t}\n", k)
	}
	b.WriteString("}\n\nnodelist {\n")
	for _, n := range st.Nodes {
		fmt.Fprintf(&b, "\tnode {\n\t\tnodeid: %d\n\t\tname: %s\n", n.ID, n.Name)
		for k, a := range n.Addrs {
			fmt.Fprintf(&b, "\t\tring%d_addr: %s\n", k, ipOf(a))
		}
		b.WriteString("\t}\n")
	}
	b.WriteString("}\n\nquorum {\n\tprovider: corosync_votequorum\n")
	if len(st.Nodes) == 2 {
		b.WriteString("\ttwo_node: 1\n")
	}
	b.WriteString("}\n\nlogging {\n\tto_stderr: yes\n\tto_syslog: no\n}\n")
	return b.String()
}

// writeConfig writes cluster.conf and checks that ovshad will accept it.
func writeConfig(st *State, keyfile string) error {
	if err := os.WriteFile(st.Config, []byte(clusterConf(st, keyfile)), 0o644); err != nil {
		return fmt.Errorf("writing lab configuration: %w", err)
	}
	if _, err := config.Load(st.Config); err != nil {
		return fmt.Errorf("lab configuration does not load (a bug in the lab): %w", err)
	}
	return nil
}
