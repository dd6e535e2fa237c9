package enginetest

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// numLinks is the number of redundant links per node: two bridges in the
// switch namespace, 10.210.0.0/24 and 10.211.0.0/24.
const numLinks = 2

// ringPort is the UDP port of the ring on every link.
const ringPort = 5405

// linkAddr returns node i's address on link l (10.210.0.i, 10.211.0.i).
func linkAddr(l, i int) netip.Addr {
	return netip.AddrFrom4([4]byte{10, byte(210 + l), 0, byte(i)})
}

// topology is one switch namespace with numLinks Linux bridges and n node
// namespaces, each with one veth into every bridge.
type topology struct {
	prefix string
	sw     netns.NsHandle
	nodes  []netns.NsHandle
	names  []string // every namespace created, for teardown
}

var topoSeq atomic.Uint32

// needRoot skips t unless the test runs as root with the tools it needs.
func needRoot(t testing.TB, tools ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: builds network namespaces, veths and bridges")
	}
	for _, tool := range append([]string{"ip"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s in PATH (Debian package %s): %v", tool, debPackage(tool), err)
		}
	}
}

func debPackage(tool string) string {
	switch tool {
	case "nft":
		return "nftables"
	case "ip":
		return "iproute2"
	}
	return tool
}

// nodeNS returns the namespace name of node i (1-based).
func (tp *topology) nodeNS(i int) string { return fmt.Sprintf("%sn%d", tp.prefix, i) }

// newTopology builds the switch and n node namespaces. Teardown is
// registered with t.Cleanup.
func newTopology(t testing.TB, n int) *topology {
	t.Helper()
	tp := &topology{prefix: fmt.Sprintf("oet%d-%d", os.Getpid(), topoSeq.Add(1))}
	t.Cleanup(tp.teardown)
	if err := tp.build(n); err != nil {
		t.Fatalf("building a %d-node topology: %v", n, err)
	}
	return tp
}

func (tp *topology) build(n int) error {
	var err error
	if tp.sw, err = tp.newNS(tp.prefix + "sw"); err != nil {
		return err
	}
	hs, err := netlink.NewHandleAt(tp.sw)
	if err != nil {
		return fmt.Errorf("netlink handle in the switch namespace: %w", err)
	}
	defer hs.Close()
	bridges := make([]netlink.Link, numLinks)
	for l := range numLinks {
		la := netlink.NewLinkAttrs()
		la.Name = fmt.Sprintf("br%d", l)
		if err := hs.LinkAdd(&netlink.Bridge{LinkAttrs: la}); err != nil {
			return fmt.Errorf("adding bridge %s: %w", la.Name, err)
		}
		if bridges[l], err = hs.LinkByName(la.Name); err != nil {
			return fmt.Errorf("finding bridge %s: %w", la.Name, err)
		}
		if err := hs.LinkSetUp(bridges[l]); err != nil {
			return fmt.Errorf("setting bridge %s up: %w", la.Name, err)
		}
	}
	for i := 1; i <= n; i++ {
		ns, err := tp.newNS(tp.nodeNS(i))
		if err != nil {
			return err
		}
		tp.nodes = append(tp.nodes, ns)
		hn, err := netlink.NewHandleAt(ns)
		if err != nil {
			return fmt.Errorf("netlink handle in %s: %w", tp.nodeNS(i), err)
		}
		for l := range numLinks {
			local, port := fmt.Sprintf("eth%d", l), fmt.Sprintf("n%dl%d", i, l)
			if err := veth(ns, local, tp.sw, port); err != nil {
				hn.Close()
				return err
			}
			sp, err := hs.LinkByName(port)
			if err == nil {
				err = hs.LinkSetMaster(sp, bridges[l])
			}
			if err != nil {
				hn.Close()
				return fmt.Errorf("attaching %s to br%d: %w", port, l, err)
			}
			ll, err := hn.LinkByName(local)
			var addr *netlink.Addr
			if err == nil {
				addr, err = netlink.ParseAddr(linkAddr(l, i).String() + "/24")
			}
			if err == nil {
				err = hn.AddrAdd(ll, addr)
			}
			if err != nil {
				hn.Close()
				return fmt.Errorf("addressing %s in %s: %w", local, tp.nodeNS(i), err)
			}
		}
		hn.Close()
	}
	return nil
}

// newNS creates a named namespace with lo up, without moving the caller.
func (tp *topology) newNS(name string) (netns.NsHandle, error) {
	var h netns.NsHandle
	err := onLockedThread(func() error {
		orig, err := netns.Get()
		if err != nil {
			return fmt.Errorf("reading the current namespace: %w", err)
		}
		defer orig.Close()
		h, err = netns.NewNamed(name) // switches this thread into it
		if serr := netns.Set(orig); serr != nil {
			return fmt.Errorf("returning from namespace %s: %w", name, serr)
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("creating namespace %s: %w", name, err)
	}
	tp.names = append(tp.names, name)
	hl, err := netlink.NewHandleAt(h)
	if err != nil {
		return 0, fmt.Errorf("netlink handle in %s: %w", name, err)
	}
	defer hl.Close()
	lo, err := hl.LinkByName("lo")
	if err == nil {
		err = hl.LinkSetUp(lo)
	}
	if err != nil {
		return 0, fmt.Errorf("setting lo up in %s: %w", name, err)
	}
	return h, nil
}

// onLockedThread runs fn on a locked OS thread. If fn leaves the thread in
// another namespace, the thread is not unlocked and so dies with the
// goroutine instead of being reused.
func onLockedThread(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			errc <- err
			return
		}
		defer orig.Close()
		err = fn()
		if cur, cerr := netns.Get(); cerr == nil && cur.Equal(orig) {
			runtime.UnlockOSThread()
			cur.Close()
		}
		errc <- err
	}()
	return <-errc
}

// veth creates a veth pair with each end born in its namespace, both up.
func veth(aNS netns.NsHandle, a string, bNS netns.NsHandle, b string) error {
	la := netlink.NewLinkAttrs()
	la.Name = a
	la.Namespace = netlink.NsFd(int(aNS))
	if err := netlink.LinkAdd(&netlink.Veth{LinkAttrs: la, PeerName: b, PeerNamespace: netlink.NsFd(int(bNS))}); err != nil {
		return fmt.Errorf("adding veth %s/%s: %w", a, b, err)
	}
	for _, end := range []struct {
		ns   netns.NsHandle
		name string
	}{{aNS, a}, {bNS, b}} {
		h, err := netlink.NewHandleAt(end.ns)
		if err != nil {
			return fmt.Errorf("netlink handle for %s: %w", end.name, err)
		}
		l, err := h.LinkByName(end.name)
		if err == nil {
			err = h.LinkSetUp(l)
		}
		h.Close()
		if err != nil {
			return fmt.Errorf("setting %s up: %w", end.name, err)
		}
	}
	return nil
}

func (tp *topology) teardown() {
	for _, h := range tp.nodes {
		h.Close()
	}
	if tp.sw != 0 {
		tp.sw.Close()
	}
	for _, name := range tp.names {
		_ = netns.DeleteNamed(name)
	}
}

// inNode runs a command inside node i's namespace.
func (tp *topology) inNode(i int, name string, args ...string) error {
	out, err := exec.Command("ip", append([]string{"netns", "exec", tp.nodeNS(i), name}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s in %s: %w: %s", name, strings.Join(args, " "), tp.nodeNS(i), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// errNoNft reports that nft is missing.
var errNoNft = errors.New("nft not found (Debian package nftables)")

// setLoss makes node i lose pct percent of the ring's UDP datagrams at
// random, both inbound (inet input hook) and outbound (netdev egress hook on
// every link: like loss on the wire, the sender's sendmsg still succeeds;
// an inet output drop would make it fail with EPERM instead). pct 0 removes
// the rules.
func (tp *topology) setLoss(i, pct int) error {
	if _, err := exec.LookPath("nft"); err != nil {
		return errNoNft
	}
	_ = tp.inNode(i, "nft", "delete", "table", "inet", "oetfault")
	_ = tp.inNode(i, "nft", "delete", "table", "netdev", "oetfault")
	if pct == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "table inet oetfault {\n  chain in { type filter hook input priority 0; policy accept; udp dport %d numgen random mod 100 < %d counter drop; }\n}\n", ringPort, pct)
	b.WriteString("table netdev oetfault {\n")
	for l := range numLinks {
		fmt.Fprintf(&b, "  chain eg%d { type filter hook egress device \"eth%d\" priority 0; policy accept; udp dport %d numgen random mod 100 < %d counter drop; }\n", l, l, ringPort, pct)
	}
	b.WriteString("}\n")
	c := exec.Command("ip", "netns", "exec", tp.nodeNS(i), "nft", "-f", "-")
	c.Stdin = strings.NewReader(b.String())
	if out, err := c.CombinedOutput(); err != nil {
		return fmt.Errorf("nft loss rules in %s: %w: %s", tp.nodeNS(i), err, strings.TrimSpace(string(out)))
	}
	return nil
}
