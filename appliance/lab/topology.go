package lab

import (
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// Heartbeat networks: link k of node i has address hbPrefix[k].i/24.
var hbPrefix = [...]string{"10.201.0", "10.202.0"}

func nodeNS(lab string, i int) string { return fmt.Sprintf("%s-n%d", lab, i) }
func hubNS(lab string) string         { return lab + "-hub" }
func bridgeName(lab string, k int) string {
	return fmt.Sprintf("%s-br%d", lab, k)
}
func hubPort(lab string, i, k int) string { return fmt.Sprintf("%s-n%dl%d", lab, i, k) }
func nodeLink(lab string, k int) string   { return fmt.Sprintf("%s-l%d", lab, k) }

// inNS runs fn on a thread switched into ns. If the thread cannot be
// switched back it stays locked, so Go retires it instead of reusing a
// thread in the wrong namespace.
func inNS(ns netns.NsHandle, fn func() error) error {
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("reading current network namespace: %w", err)
	}
	defer orig.Close()
	if err := netns.Set(ns); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("entering network namespace: %w", err)
	}
	ferr := fn()
	if err := netns.Set(orig); err != nil {
		return errors.Join(ferr, fmt.Errorf("returning to the original network namespace: %w", err))
	}
	runtime.UnlockOSThread()
	return ferr
}

// errNSExists: a namespace the lab wanted to create is already there.
var errNSExists = errors.New("network namespace already exists")

// newNS records name in the state file, then creates it (so that a crash
// in between still leaves it on record for lab down). A namespace that
// already existed is not the lab's: it is taken off the record again, so
// that cleanup never deletes it.
func newNS(st *State, name string) (netns.NsHandle, error) {
	st.Namespaces = append(st.Namespaces, name)
	if err := st.save(); err != nil {
		return 0, err
	}
	h, err := createNS(name)
	if errors.Is(err, errNSExists) {
		st.Namespaces = st.Namespaces[:len(st.Namespaces)-1]
		if serr := st.save(); serr != nil {
			return 0, errors.Join(err, serr)
		}
	}
	return h, err
}

// createNS creates the named namespace with lo up. NewNamed switches the
// calling thread into the new namespace; inNS switches it back.
func createNS(name string) (netns.NsHandle, error) {
	if _, err := os.Stat("/run/netns/" + name); err == nil {
		return 0, fmt.Errorf("%w: %s; is another lab using that name? (ovsha lab down --name ...)", errNSExists, name)
	}
	cur, err := netns.Get()
	if err != nil {
		return 0, fmt.Errorf("reading current network namespace: %w", err)
	}
	defer cur.Close()
	var h netns.NsHandle
	if err := inNS(cur, func() error {
		var err error
		h, err = netns.NewNamed(name)
		return err
	}); err != nil {
		return 0, fmt.Errorf("creating network namespace %s: %w", name, err)
	}
	if err := withHandle(h, func(nl *netlink.Handle) error {
		lo, err := nl.LinkByName("lo")
		if err != nil {
			return err
		}
		return nl.LinkSetUp(lo)
	}); err != nil {
		h.Close()
		return 0, fmt.Errorf("bringing lo up in %s: %w", name, err)
	}
	return h, nil
}

func withHandle(ns netns.NsHandle, fn func(*netlink.Handle) error) error {
	nl, err := netlink.NewHandleAt(ns)
	if err != nil {
		return fmt.Errorf("opening netlink in namespace: %w", err)
	}
	defer nl.Close()
	return fn(nl)
}

// addBridge creates a Linux bridge inside ns and sets it up.
func addBridge(ns netns.NsHandle, name string) error {
	return withHandle(ns, func(nl *netlink.Handle) error {
		la := netlink.NewLinkAttrs()
		la.Name = name
		if err := nl.LinkAdd(&netlink.Bridge{LinkAttrs: la}); err != nil {
			return fmt.Errorf("creating bridge %s: %w", name, err)
		}
		br, err := nl.LinkByName(name)
		if err != nil {
			return fmt.Errorf("finding bridge %s: %w", name, err)
		}
		return nl.LinkSetUp(br)
	})
}

// wire connects node namespace nodeNS (interface nodeIf with address addr)
// to bridge br in hubNS (port hubIf). Both veth ends are born in their own
// namespace, so nothing ever appears in the caller's namespace.
func wire(node netns.NsHandle, nodeIf, addr string, hub netns.NsHandle, hubIf, br string) error {
	la := netlink.NewLinkAttrs()
	la.Name = nodeIf
	la.Namespace = netlink.NsFd(int(node))
	if err := netlink.LinkAdd(&netlink.Veth{LinkAttrs: la, PeerName: hubIf, PeerNamespace: netlink.NsFd(int(hub))}); err != nil {
		return fmt.Errorf("creating veth %s/%s: %w", nodeIf, hubIf, err)
	}
	if err := withHandle(hub, func(nl *netlink.Handle) error {
		p, err := nl.LinkByName(hubIf)
		if err != nil {
			return fmt.Errorf("finding %s: %w", hubIf, err)
		}
		b, err := nl.LinkByName(br)
		if err != nil {
			return fmt.Errorf("finding bridge %s: %w", br, err)
		}
		if err := nl.LinkSetMaster(p, b); err != nil {
			return fmt.Errorf("attaching %s to %s: %w", hubIf, br, err)
		}
		return nl.LinkSetUp(p)
	}); err != nil {
		return err
	}
	return withHandle(node, func(nl *netlink.Handle) error {
		l, err := nl.LinkByName(nodeIf)
		if err != nil {
			return fmt.Errorf("finding %s: %w", nodeIf, err)
		}
		a, err := netlink.ParseAddr(addr)
		if err != nil {
			return fmt.Errorf("parsing %s: %w", addr, err)
		}
		if err := nl.AddrAdd(l, a); err != nil {
			return fmt.Errorf("adding %s to %s: %w", addr, nodeIf, err)
		}
		return nl.LinkSetUp(l)
	})
}

// deleteNS removes a named namespace; a missing one is not an error.
func deleteNS(name string) error {
	if _, err := os.Stat("/run/netns/" + name); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err := netns.DeleteNamed(name); err != nil {
		return fmt.Errorf("deleting network namespace %s: %w", name, err)
	}
	return nil
}

// nsExists reports whether the named namespace exists.
func nsExists(name string) bool {
	_, err := os.Stat("/run/netns/" + name)
	return err == nil
}

// ipOf strips the prefix length from "a.b.c.d/nn".
func ipOf(cidr string) string {
	ip, _, err := net.ParseCIDR(cidr)
	if err != nil {
		return cidr
	}
	return ip.String()
}
