package vip

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"

	"github.com/mdlayher/ndp"
	"github.com/mdlayher/packet"
	"github.com/vishvananda/netns"
	"golang.org/x/net/ipv6"
)

// etherTypeARP is the ARP EtherType, the protocol of the ARP packet socket.
const etherTypeARP = 0x0806

// NDPConn sends neighbour discovery messages (ndp.Conn implements it).
type NDPConn interface {
	WriteTo(m ndp.Message, cm *ipv6.ControlMessage, dst netip.Addr) error
	Close() error
}

// Dialer opens the sockets the agent announces through. ifi identifies the
// interface (Index, Name, HardwareAddr) in the agent's network namespace.
type Dialer interface {
	// ARP opens a raw Ethernet socket for ARP frames on ifi: WriteTo takes
	// whole frames and a *packet.Addr, ReadFrom returns whole frames.
	ARP(ctx context.Context, ifi *net.Interface) (net.PacketConn, error)
	// NDP opens an ICMPv6 socket on ifi whose source address is src.
	NDP(ctx context.Context, ifi *net.Interface, src netip.Addr) (NDPConn, error)
}

// Sysctl writes kernel parameters of the agent's network namespace.
type Sysctl interface {
	// Set writes value to key, e.g. "net.ipv4.ip_nonlocal_bind".
	Set(ctx context.Context, key, value string) error
}

// Host opens sockets and writes sysctls in one network namespace: the
// caller's, or the one given to HostIn. It implements Dialer and Sysctl.
type Host struct {
	ns    netns.NsHandle
	inNS  bool
	procs string // /proc/sys root, for tests
}

// CurrentHost acts in the calling process's network namespace.
func CurrentHost() Host { return Host{procs: "/proc/sys"} }

// HostIn acts in the network namespace ns (the caller keeps ns open).
func HostIn(ns netns.NsHandle) Host { return Host{ns: ns, inNS: true, procs: "/proc/sys"} }

// do runs fn on a locked OS thread switched into the namespace. Sockets
// opened there stay in that namespace; /proc/sys/net opened there is the
// namespace's.
func (h Host) do(fn func() error) error {
	if !h.inNS {
		return fn()
	}
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("reading current network namespace: %w", err)
	}
	defer orig.Close()
	if err := netns.Set(h.ns); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("entering network namespace: %w", err)
	}
	ferr := fn()
	if err := netns.Set(orig); err != nil {
		// Leave the thread locked: the runtime discards it when the
		// goroutine ends, so no other goroutine runs in the wrong namespace.
		return fmt.Errorf("leaving network namespace: %w", err)
	}
	runtime.UnlockOSThread()
	return ferr
}

// ARP implements Dialer.
func (h Host) ARP(_ context.Context, ifi *net.Interface) (net.PacketConn, error) {
	var c net.PacketConn
	err := h.do(func() error {
		pc, err := packet.Listen(ifi, packet.Raw, etherTypeARP, nil)
		if err != nil {
			return err
		}
		c = pc
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("opening ARP socket on %s: %w", ifi.Name, err)
	}
	return c, nil
}

// NDP implements Dialer.
func (h Host) NDP(_ context.Context, ifi *net.Interface, src netip.Addr) (NDPConn, error) {
	var c *ndp.Conn
	err := h.do(func() error {
		// ndp.Listen looks the address up on the interface by name.
		nifi, err := net.InterfaceByName(ifi.Name)
		if err != nil {
			return err
		}
		c, _, err = ndp.Listen(nifi, ndp.Addr(src.String()))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("opening NDP socket on %s from %s: %w", ifi.Name, src, err)
	}
	return c, nil
}

// Set implements Sysctl.
func (h Host) Set(_ context.Context, key, value string) error {
	root := h.procs
	if root == "" {
		root = "/proc/sys"
	}
	path := root + "/" + strings.ReplaceAll(key, ".", "/")
	err := h.do(func() error { return os.WriteFile(path, []byte(value), 0) })
	if err != nil {
		return fmt.Errorf("setting sysctl %s=%s: %w", key, value, err)
	}
	return nil
}
