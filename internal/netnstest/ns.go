package netnstest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/ovsha/ovsha/internal/ethtool"
)

// NeedRoot skips the test unless it runs as root and every tool is on PATH.
func NeedRoot(t testing.TB, tools ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates network namespaces, veths and OVS daemons")
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s on PATH (Debian: openvswitch-switch, nftables, util-linux): %v", tool, err)
		}
	}
}

// NS is an anonymous network namespace with a netlink handle in it.
type NS struct {
	Handle netns.NsHandle
	NL     *netlink.Handle
	t      testing.TB
}

// New creates a namespace with lo up; t.Cleanup closes it (the namespace
// dies with its last user).
func New(t testing.TB) *NS {
	t.Helper()
	var h netns.NsHandle
	err := onLockedThread(func() error {
		orig, err := netns.Get()
		if err != nil {
			return err
		}
		defer orig.Close()
		h, err = netns.New()
		if err != nil {
			return err
		}
		return netns.Set(orig)
	})
	if err != nil {
		t.Fatalf("creating network namespace: %v", err)
	}
	nl, err := netlink.NewHandleAt(h)
	if err != nil {
		h.Close()
		t.Fatalf("netlink handle in namespace: %v", err)
	}
	n := &NS{Handle: h, NL: nl, t: t}
	t.Cleanup(func() { nl.Close(); h.Close() })
	n.Up("lo")
	return n
}

// onLockedThread runs fn on a locked OS thread. If fn leaves the thread in
// another namespace (an error switching back), the thread is not unlocked,
// so the runtime discards it.
func onLockedThread(fn func() error) error {
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer orig.Close()
	ferr := fn()
	cur, err := netns.Get()
	if err == nil && cur.Equal(orig) {
		cur.Close()
		runtime.UnlockOSThread()
	}
	return ferr
}

// Do runs fn on a locked OS thread inside the namespace. Sockets opened
// there stay in the namespace.
func (n *NS) Do(fn func() error) error {
	return onLockedThread(func() error {
		orig, err := netns.Get()
		if err != nil {
			return err
		}
		defer orig.Close()
		if err := netns.Set(n.Handle); err != nil {
			return err
		}
		ferr := fn()
		if err := netns.Set(orig); err != nil {
			return fmt.Errorf("returning to original namespace: %w", err)
		}
		return ferr
	})
}

// Command returns cmd prepared to run inside the namespace (through
// nsenter, which execs in place: the PID is the program's).
func (n *NS) Command(name string, args ...string) *exec.Cmd {
	// A dup, so the *os.File's finalizer never closes n.Handle.
	fd, err := unix.Dup(int(n.Handle))
	if err != nil {
		n.t.Fatalf("dup netns fd: %v", err)
	}
	f := os.NewFile(uintptr(fd), "netns")
	c := exec.Command("nsenter", append([]string{"--net=/proc/self/fd/3", "--", name}, args...)...)
	c.ExtraFiles = []*os.File{f}
	c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return c
}

// Run runs a command in the namespace and fails the test on error.
func (n *NS) Run(name string, args ...string) string {
	n.t.Helper()
	out, err := n.Command(name, args...).CombinedOutput()
	if err != nil {
		n.t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Link returns the named link or fails the test.
func (n *NS) Link(name string) netlink.Link {
	n.t.Helper()
	l, err := n.NL.LinkByName(name)
	if err != nil {
		n.t.Fatalf("link %s: %v", name, err)
	}
	return l
}

// Up sets the link up.
func (n *NS) Up(name string) {
	n.t.Helper()
	if err := n.NL.LinkSetUp(n.Link(name)); err != nil {
		n.t.Fatalf("link %s up: %v", name, err)
	}
}

// Down sets the link down.
func (n *NS) Down(name string) {
	n.t.Helper()
	if err := n.NL.LinkSetDown(n.Link(name)); err != nil {
		n.t.Fatalf("link %s down: %v", name, err)
	}
}

// AddAddr adds cidr (e.g. "10.0.0.1/24") to the link.
func (n *NS) AddAddr(name, cidr string) {
	n.t.Helper()
	a, err := netlink.ParseAddr(cidr)
	if err != nil {
		n.t.Fatal(err)
	}
	if err := n.NL.AddrAdd(n.Link(name), a); err != nil {
		n.t.Fatalf("adding %s to %s: %v", cidr, name, err)
	}
}

// SetHWAddr sets the link's MAC.
func (n *NS) SetHWAddr(name, mac string) {
	n.t.Helper()
	hw, err := net.ParseMAC(mac)
	if err != nil {
		n.t.Fatal(err)
	}
	if err := n.NL.LinkSetHardwareAddr(n.Link(name), hw); err != nil {
		n.t.Fatalf("setting %s mac: %v", name, err)
	}
}

// Veth creates a veth pair, a in na and b in nb, both up.
func Veth(t testing.TB, na *NS, a string, nb *NS, b string) {
	t.Helper()
	la := netlink.NewLinkAttrs()
	la.Name = a
	la.Namespace = netlink.NsFd(int(na.Handle))
	if err := netlink.LinkAdd(&netlink.Veth{LinkAttrs: la, PeerName: b, PeerNamespace: netlink.NsFd(int(nb.Handle))}); err != nil {
		t.Fatalf("veth %s/%s: %v", a, b, err)
	}
	na.Up(a)
	nb.Up(b)
}

// Bridge creates a Linux bridge with the given ports, all up.
func (n *NS) Bridge(name string, ports ...string) {
	n.t.Helper()
	la := netlink.NewLinkAttrs()
	la.Name = name
	if err := n.NL.LinkAdd(&netlink.Bridge{LinkAttrs: la}); err != nil {
		n.t.Fatalf("bridge %s: %v", name, err)
	}
	br := n.Link(name)
	for _, p := range ports {
		if err := n.NL.LinkSetMaster(n.Link(p), br); err != nil {
			n.t.Fatalf("enslaving %s to %s: %v", p, name, err)
		}
	}
	n.Up(name)
}

// TxCsumOff turns tx checksum offload off on a non-OVS endpoint (ethtool -K
// dev tx off through SIOCETHTOOL); without it TCP into the userspace
// datapath arrives with bad checksums.
func (n *NS) TxCsumOff(dev string) {
	n.t.Helper()
	err := n.Do(func() error { return ethtool.TxCsumOff(dev) })
	if err != nil {
		n.t.Fatalf("tx checksum off on %s: %v", dev, err)
	}
}

// IgnoreOVSPorts makes the namespace's kernel drop frames arriving on the
// given OVS-owned ports (an nft netdev ingress chain each); OVS still sees
// them, because its AF_PACKET taps run before the ingress hook.
func (n *NS) IgnoreOVSPorts(ports ...string) {
	n.t.Helper()
	var b strings.Builder
	b.WriteString("table netdev ovshatest {\n")
	for _, p := range ports {
		fmt.Fprintf(&b, "  chain %s { type filter hook ingress device %q priority 0; policy drop; }\n", p, p)
	}
	b.WriteString("}\n")
	c := n.Command("nft", "-f", "-")
	c.Stdin = strings.NewReader(b.String())
	if out, err := c.CombinedOutput(); err != nil {
		n.t.Fatalf("nft ignore table: %v: %s", err, out)
	}
}

// Sysctl writes /proc/sys/<key with dots as slashes> inside the namespace.
func (n *NS) Sysctl(key, value string) {
	n.t.Helper()
	err := n.Do(func() error {
		return os.WriteFile("/proc/sys/"+strings.ReplaceAll(key, ".", "/"), []byte(value), 0)
	})
	if err != nil {
		n.t.Fatalf("sysctl %s=%s: %v", key, value, err)
	}
}
