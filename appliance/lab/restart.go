package lab

import (
	"fmt"
)

// StartNode starts node's ovshad again (after a crash or a kill) with the
// binary it ran before, and records the new pid. It refuses while the
// node's daemon is still running.
func StartNode(st *State, node string) error {
	for i := range st.Nodes {
		n := &st.Nodes[i]
		if n.Name != node {
			continue
		}
		if Running(*n) {
			return fmt.Errorf("ovshad of %s (pid %d) is still running; stop it first", n.Name, n.PID)
		}
		if n.Binary == "" {
			return fmt.Errorf("node %s never ran ovshad in lab %s", n.Name, st.Name)
		}
		if err := startDaemon(n, n.Binary, st.Config); err != nil {
			return err
		}
		return st.save()
	}
	return fmt.Errorf("no node %s in lab %s (nodes: %s)", node, st.Name, nodeNames(st))
}
