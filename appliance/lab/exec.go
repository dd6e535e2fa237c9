package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"

	"github.com/vishvananda/netns"
)

// startIn starts cmd inside the named network namespace. The fork happens
// on a thread switched into the namespace, and the child inherits it; the
// caller's namespace is unchanged. (This is what `ip netns exec` does,
// minus its /etc/netns and /sys remounts, which ovshad does not need.)
func startIn(nsName string, cmd *exec.Cmd) error {
	h, err := netns.GetFromName(nsName)
	if err != nil {
		return fmt.Errorf("opening network namespace %s: %w", nsName, err)
	}
	defer h.Close()
	return inNS(h, cmd.Start)
}

// Exec runs argv inside node's namespace with the given stdio and returns
// its exit status (0 on success). OVSHA_SOCKET is set to the node's control
// socket, so `ovsha` commands inside talk to that node's ovshad.
func Exec(ctx context.Context, st *State, node string, argv []string, stdin, stdout, stderr *os.File) (int, error) {
	nsName, ok := st.Namespace(node)
	if !ok {
		return 0, fmt.Errorf("lab %s has no member %q (members: %s)", st.Name, node, memberNames(st))
	}
	n, isNode := st.Node(node)
	if !isNode { // a host: its `ovsha` commands talk to n1
		n = st.Nodes[0]
	}
	if len(argv) == 0 {
		return 0, errors.New("no command given: ovsha lab exec NODE -- COMMAND [ARG...]")
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	cmd.Env = append(os.Environ(), "OVSHA_SOCKET="+n.Socket, "OVSHA_LAB="+st.Name, "OVSHA_LAB_NODE="+node)
	if n.OVSDir != "" && isNode { // ovs-vsctl, ovs-appctl, ovs-ofctl find this node's OVS
		cmd.Env = append(cmd.Env, "OVS_RUNDIR="+n.OVSDir, "OVS_DBDIR="+n.OVSDir, "OVS_LOGDIR="+n.OVSDir)
	}
	if err := startIn(nsName, cmd); err != nil {
		return 0, fmt.Errorf("starting %s in %s: %w", argv[0], nsName, err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if code := ee.ExitCode(); code >= 0 {
			return code, nil
		}
		return 128 + 9, nil // killed by a signal
	}
	if err != nil {
		return 0, fmt.Errorf("running %s in %s: %w", argv[0], nsName, err)
	}
	return 0, nil
}

func nodeNames(st *State) string {
	s := ""
	for i, n := range st.Nodes {
		if i > 0 {
			s += ", "
		}
		s += n.Name
	}
	return s
}

// memberNames lists the nodes and hosts of the lab.
func memberNames(st *State) string {
	s := nodeNames(st)
	for _, h := range hostNames {
		if _, ok := st.Hosts[h]; ok {
			s += ", " + h
		}
	}
	return s
}
