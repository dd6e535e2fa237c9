package e2e

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/ovsha/ovsha/appliance/lab"
)

// inNS runs fn on a fresh OS thread switched into the named network
// namespace. Sockets opened by fn stay in that namespace. The thread is
// never unlocked, so Go retires it with the goroutine instead of reusing
// a thread in the wrong namespace.
func inNS(nsName string, fn func() error) error {
	h, err := netns.GetFromName(nsName)
	if err != nil {
		return fmt.Errorf("opening namespace %s: %w", nsName, err)
	}
	defer h.Close()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := netns.Set(h); err != nil {
			errc <- fmt.Errorf("entering namespace %s: %w", nsName, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// nodeHolds reports whether node's namespace has ip on an interface
// (whatever the node's lab fault: unlike lab.Holder, an isolated node
// counts).
func nodeHolds(t *testing.T, st *lab.State, node, ip string) bool {
	t.Helper()
	n, ok := st.Node(node)
	if !ok {
		t.Fatalf("lab has no node %s", node)
	}
	h, err := netns.GetFromName(n.Namespace)
	if err != nil {
		t.Fatalf("opening namespace of %s: %v", node, err)
	}
	defer h.Close()
	nl, err := netlink.NewHandleAt(h)
	if err != nil {
		t.Fatalf("netlink in %s: %v", node, err)
	}
	defer nl.Close()
	addrs, err := nl.AddrList(nil, netlink.FAMILY_V4)
	if err != nil {
		t.Fatalf("listing addresses of %s: %v", node, err)
	}
	for _, a := range addrs {
		if a.IP.String() == ip {
			return true
		}
	}
	return false
}

// holders lists the nodes whose namespace holds the LAN VIP.
func holders(t *testing.T, st *lab.State) []string {
	t.Helper()
	var out []string
	for _, n := range st.Nodes {
		if nodeHolds(t, st, n.Name, lab.LANVIP) {
			out = append(out, n.Name)
		}
	}
	return out
}

// await polls cond every 20 ms until it returns "" (met) or limit passes,
// then fails with the last thing cond reported.
func await(t *testing.T, limit time.Duration, what string, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		last := cond()
		if last == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v (last: %s)", what, limit, last)
		}
		time.Sleep(20 * time.Millisecond) // polling state that emits no event
	}
}
