package vip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/ovsha/ovsha/agents"
)

// Config gives the agent its kernel handles, all for one network namespace.
type Config struct {
	// Netlink manages links and addresses. Required.
	Netlink *netlink.Handle
	// Dialer opens the ARP and NDP sockets. Nil: CurrentHost().
	Dialer Dialer
	// Sysctl sets ip_nonlocal_bind. Nil: CurrentHost().
	Sysctl Sysctl
	// Logger; nil discards.
	Logger *slog.Logger
}

// Agent is the "vip" agent (IPaddr2-compatible). It keeps a background
// announcer per running resource for arp_bg and arp_refresh; Close stops
// them all. Safe for concurrent use.
type Agent struct {
	nl     *netlink.Handle
	dialer Dialer
	sysctl Sysctl
	log    *slog.Logger

	mu         sync.Mutex
	announcers map[string]*background // by resource id
	pending    []*background          // stopped, sockets maybe still closing
}

type background struct {
	addr   netip.Addr
	link   int
	cancel context.CancelFunc
	// quiet closes when the announcements have ended; done when the
	// sockets are closed too. Closing a packet socket waits for the
	// kernel (an RCU grace period, 5-15 ms): Stop waits only for quiet,
	// so a switchover does not pay for it.
	quiet chan struct{}
	done  chan struct{}
}

// New returns the agent. It fails only when cfg.Netlink is nil.
func New(cfg Config) (*Agent, error) {
	if cfg.Netlink == nil {
		return nil, errors.New("vip: Config.Netlink is required")
	}
	a := &Agent{nl: cfg.Netlink, dialer: cfg.Dialer, sysctl: cfg.Sysctl, log: cfg.Logger, announcers: map[string]*background{}}
	if a.dialer == nil {
		a.dialer = CurrentHost()
	}
	if a.sysctl == nil {
		a.sysctl = CurrentHost()
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	a.log = a.log.With("component", "vip")
	return a, nil
}

// Close stops every background announcer (addresses stay).
func (a *Agent) Close() {
	a.mu.Lock()
	bgs := a.pending
	a.pending = nil
	for _, b := range a.announcers {
		bgs = append(bgs, b)
	}
	a.announcers = map[string]*background{}
	a.mu.Unlock()
	for _, b := range bgs {
		b.cancel()
		<-b.done
	}
}

// Metadata implements agents.Agent.
func (a *Agent) Metadata() agents.Metadata {
	return agents.Metadata{
		Name:      "vip",
		Version:   "1.0",
		ShortDesc: "Floating IP address (IPaddr2-compatible)",
		LongDesc: "Adds ip/cidr_netmask to nic (never as a source address: preferred_lft 0), after an ARP probe of arp_probe " +
			"finds no other host using it (force=true skips the refusal), announces it with gratuitous ARP (request and reply) or " +
			"unsolicited neighbour advertisements arp_count times every arp_interval ms, and repeats one announcement every " +
			"arp_refresh while running. Stop removes the address; monitor checks it is on nic and nic is up.",
		Params: params,
		Actions: []agents.ActionSpec{
			{Name: "start", Timeout: 20 * time.Second},
			{Name: "stop", Timeout: 20 * time.Second},
			{Name: "monitor", Timeout: 20 * time.Second, Interval: 10 * time.Second},
			{Name: "validate-all", Timeout: 20 * time.Second},
			{Name: "meta-data", Timeout: 5 * time.Second},
		},
	}
}

// target is a parsed spec resolved against the namespace's links.
type target struct {
	spec
	link   netlink.Link
	prefix netip.Prefix
}

func (a *Agent) resolve(s spec) (target, error) {
	t := target{spec: s}
	family := netlink.FAMILY_V4
	if s.addr.Is6() {
		family = netlink.FAMILY_V6
	}
	if s.nic != "" {
		l, err := a.nl.LinkByName(s.nic)
		if err != nil {
			var nf netlink.LinkNotFoundError
			if errors.As(err, &nf) {
				return t, agents.Errorf(agents.ErrConfigured, "parameter nic: interface %q does not exist", s.nic)
			}
			return t, agents.Errorf(agents.ErrGeneric, "looking up nic %s: %v", s.nic, err)
		}
		t.link = l
	}
	bits := s.bits
	if t.link == nil || bits < 0 {
		rt, err := a.coveringRoute(s.addr, family, t.link)
		if err != nil {
			return t, err
		}
		if rt == nil {
			if t.link == nil {
				return t, agents.Errorf(agents.ErrConfigured, "parameter nic is not set and no route covers ip %s: set nic and cidr_netmask", s.addr)
			}
			return t, agents.Errorf(agents.ErrConfigured, "parameter cidr_netmask is not set and no route on %s covers ip %s: set cidr_netmask", s.nic, s.addr)
		}
		if t.link == nil {
			l, err := a.nl.LinkByIndex(rt.LinkIndex)
			if err != nil {
				return t, agents.Errorf(agents.ErrGeneric, "looking up interface %d of the route to %s: %v", rt.LinkIndex, s.addr, err)
			}
			t.link = l
		}
		if bits < 0 {
			bits, _ = rt.Dst.Mask.Size()
		}
	}
	t.prefix = netip.PrefixFrom(s.addr, bits)
	if t.label != "" && len(t.link.Attrs().Name)+1+len(t.label) > 15 {
		return t, agents.Errorf(agents.ErrConfigured, "parameter iflabel: %s:%s is longer than 15 characters", t.link.Attrs().Name, t.label)
	}
	return t, nil
}

// coveringRoute returns the most specific non-default route that contains
// addr (on link, when link is not nil), or nil: IPaddr2's findif.
func (a *Agent) coveringRoute(addr netip.Addr, family int, link netlink.Link) (*netlink.Route, error) {
	routes, err := a.nl.RouteListFiltered(family, &netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
	if err != nil {
		return nil, agents.Errorf(agents.ErrGeneric, "listing routes: %v", err)
	}
	var best *netlink.Route
	bestBits := -1
	for i := range routes {
		r := &routes[i]
		if r.Dst == nil || r.LinkIndex <= 0 || (link != nil && r.LinkIndex != link.Attrs().Index) {
			continue
		}
		ones, _ := r.Dst.Mask.Size()
		if ones == 0 || !r.Dst.Contains(net.IP(addr.AsSlice())) {
			continue
		}
		if ones > bestBits {
			best, bestBits = r, ones
		}
	}
	return best, nil
}

// Validate implements agents.Agent: parameters, and that nic exists (or a
// route names the interface). Read-only.
func (a *Agent) Validate(_ context.Context, p agents.Params) error {
	s, err := parse(p)
	if err != nil {
		return err
	}
	_, err = a.resolve(s)
	return err
}

// find returns the link holding addr and the address, or nil.
func (a *Agent) find(addr netip.Addr) (netlink.Link, *netlink.Addr, error) {
	family := netlink.FAMILY_V4
	if addr.Is6() {
		family = netlink.FAMILY_V6
	}
	addrs, err := a.nl.AddrList(nil, family)
	if err != nil {
		return nil, nil, agents.Errorf(agents.ErrGeneric, "listing addresses: %v", err)
	}
	for i := range addrs {
		if ip, ok := netip.AddrFromSlice(addrs[i].IP); ok && ip.Unmap() == addr {
			l, err := a.nl.LinkByIndex(addrs[i].LinkIndex)
			if err != nil {
				return nil, nil, agents.Errorf(agents.ErrGeneric, "looking up interface %d holding %s: %v", addrs[i].LinkIndex, addr, err)
			}
			return l, &addrs[i], nil
		}
	}
	return nil, nil, nil
}

func isLoopback(l netlink.Link) bool { return l.Attrs().Flags&net.FlagLoopback != 0 }

// Start implements agents.Agent.
func (a *Agent) Start(ctx context.Context, r agents.Resource) error {
	s, err := parse(r.Params)
	if err != nil {
		return err
	}
	t, err := a.resolve(s)
	if err != nil {
		return err
	}
	log := a.log.With("resource", r.ID, "ip", t.prefix, "nic", t.link.Attrs().Name)
	holder, held, err := a.find(s.addr)
	if err != nil {
		return err
	}
	if holder != nil && holder.Attrs().Index == t.link.Attrs().Index {
		// Running already: make sure its announcer runs.
		return a.ensureBackground(ctx, r.ID, t, log)
	}
	if holder != nil {
		if !isLoopback(holder) {
			return agents.Errorf(agents.ErrGeneric, "ip %s is already on interface %s, not on %s", s.addr, holder.Attrs().Name, t.link.Attrs().Name)
		}
		// LVS direct routing left it on lo: take it back.
		if err := a.nl.AddrDel(holder, held); err != nil {
			return agents.Errorf(agents.ErrGeneric, "removing %s from %s: %v", s.addr, holder.Attrs().Name, err)
		}
	}
	if s.nonlocalBind {
		key := "net.ipv4.ip_nonlocal_bind"
		if s.addr.Is6() {
			key = "net.ipv6.ip_nonlocal_bind"
		}
		if err := a.sysctl.Set(ctx, key, "1"); err != nil {
			return agents.Errorf(agents.ErrGeneric, "parameter nonlocal_bind: %v", err)
		}
	}
	an, err := a.open(ctx, t)
	if err != nil {
		return agents.Errorf(agents.ErrGeneric, "%v", err)
	}
	keep := false
	defer func() {
		if !keep {
			// Closing a packet socket waits for an RCU grace period
			// (~10 ms): do not make start wait for it.
			go an.close()
		}
	}()
	// The cluster just stopped this address on another node (a move):
	// nobody else holds it, and the probe would only lengthen the outage.
	handover := r.Params["CRM_meta_stopped_on"] != ""
	if s.addr.Is4() && s.probe > 0 && !handover {
		err := probe(ctx, an.arp, an.mac, s.addr, s.probe)
		switch {
		case errors.Is(err, ErrAddressInUse) && s.force:
			log.Warn("taking an address another host answers for (force=true)", "reason", err.Error())
		case errors.Is(err, ErrAddressInUse):
			return agents.Errorf(agents.ErrGeneric, "%v on %s: refusing to start (set force=true to take it anyway)", err, t.link.Attrs().Name)
		case err != nil:
			return agents.Errorf(agents.ErrGeneric, "%v", err)
		}
	}
	if err := a.nl.AddrAdd(t.link, a.addr(t)); err != nil {
		return agents.Errorf(agents.ErrGeneric, "adding %s to %s: %v", t.prefix, t.link.Attrs().Name, err)
	}
	if err := a.openNDP(ctx, t, an); err != nil {
		log.Warn("cannot send neighbour advertisements", "err", err)
	}
	if err := an.announce(); err != nil {
		log.Warn("first announcement failed", "err", err)
	}
	rounds := s.count - 1
	if !s.background {
		for ; rounds > 0; rounds-- {
			select {
			case <-ctx.Done():
				return agents.Errorf(agents.ErrGeneric, "announcing %s: %v", s.addr, ctx.Err())
			case <-time.After(s.interval):
			}
			if err := an.announce(); err != nil {
				log.Warn("announcement failed", "err", err)
			}
		}
	}
	if rounds > 0 || s.refresh > 0 {
		keep = true
		a.startBackground(r.ID, t, an, max(rounds, 0), log)
	}
	log.Info("started")
	return nil
}

func (a *Agent) addr(t target) *netlink.Addr {
	ad := &netlink.Addr{
		IPNet:       &net.IPNet{IP: net.IP(t.addr.AsSlice()), Mask: net.CIDRMask(t.prefix.Bits(), t.addr.BitLen())},
		PreferedLft: int(t.preferred),
		ValidLft:    forever,
	}
	if t.addr.Is6() {
		ad.Flags |= unix.IFA_F_NODAD
	}
	if t.noPrefixRoute {
		ad.Flags |= unix.IFA_F_NOPREFIXROUTE
	}
	if t.label != "" {
		ad.Label = t.link.Attrs().Name + ":" + t.label
	}
	if t.addr.Is4() {
		switch {
		case t.broadcast != "" && t.broadcast != "+" && t.broadcast != "-":
			ad.Broadcast = net.ParseIP(t.broadcast).To4()
		case t.broadcast != "-" && t.prefix.Bits() <= 30:
			b := t.addr.As4()
			m := net.CIDRMask(t.prefix.Bits(), 32)
			for i := range b {
				b[i] |= ^m[i]
			}
			ad.Broadcast = net.IP(b[:])
		}
	}
	return ad
}

// open prepares the announcer (and the socket the probe uses).
func (a *Agent) open(ctx context.Context, t target) (*announcer, error) {
	attrs := t.link.Attrs()
	ifi := &net.Interface{Index: attrs.Index, Name: attrs.Name, HardwareAddr: attrs.HardwareAddr, MTU: attrs.MTU}
	if len(ifi.HardwareAddr) != 6 {
		return nil, fmt.Errorf("interface %s has no Ethernet address (%v): cannot announce %s", ifi.Name, ifi.HardwareAddr, t.addr)
	}
	an := &announcer{addr: t.addr, mac: ifi.HardwareAddr}
	if t.addr.Is4() {
		c, err := a.dialer.ARP(ctx, ifi)
		if err != nil {
			return nil, err
		}
		an.arp = c
		if an.garp, err = garpFrames(ifi.HardwareAddr, t.addr); err != nil {
			c.Close()
			return nil, fmt.Errorf("building gratuitous ARP: %w", err)
		}
		return an, nil
	}
	return an, nil
}

// openNDP opens the IPv6 socket, which needs the address in place.
func (a *Agent) openNDP(ctx context.Context, t target, an *announcer) error {
	if an.arp != nil || an.ndp != nil {
		return nil
	}
	attrs := t.link.Attrs()
	c, err := a.dialer.NDP(ctx, &net.Interface{Index: attrs.Index, Name: attrs.Name, HardwareAddr: attrs.HardwareAddr}, t.addr)
	if err != nil {
		return err
	}
	an.ndp = c
	return nil
}

func (a *Agent) startBackground(id string, t target, an *announcer, rounds int, log *slog.Logger) {
	ctx, cancel := context.WithCancel(context.Background())
	b := &background{addr: t.addr, link: t.link.Attrs().Index, cancel: cancel, quiet: make(chan struct{}), done: make(chan struct{})}
	a.mu.Lock()
	old := a.announcers[id]
	a.announcers[id] = b
	a.mu.Unlock()
	if old != nil {
		old.cancel()
		<-old.quiet
	}
	go func() {
		defer close(b.done)
		defer an.close()
		defer close(b.quiet)
		an.repeat(ctx, rounds, t.interval, t.refresh, func(err error) { log.Warn("announcement failed", "err", err) })
	}()
}

// ensureBackground restarts the refresh announcer of a running address if
// it is missing (e.g. after a daemon restart).
func (a *Agent) ensureBackground(ctx context.Context, id string, t target, log *slog.Logger) error {
	if t.refresh <= 0 {
		return nil
	}
	a.mu.Lock()
	b := a.announcers[id]
	a.mu.Unlock()
	if b != nil && b.addr == t.addr && b.link == t.link.Attrs().Index {
		select {
		case <-b.quiet:
		default:
			return nil
		}
	}
	an, err := a.open(ctx, t)
	if err == nil {
		err = a.openNDP(ctx, t, an)
	}
	if err != nil {
		return agents.Errorf(agents.ErrGeneric, "restarting announcements for %s: %v", t.addr, err)
	}
	a.startBackground(id, t, an, 0, log)
	return nil
}

// stopBackground ends the announcements of id; its sockets close in the
// background (Close waits for those).
func (a *Agent) stopBackground(id string) {
	a.mu.Lock()
	b := a.announcers[id]
	delete(a.announcers, id)
	a.pending = slices.DeleteFunc(a.pending, func(p *background) bool {
		select {
		case <-p.done:
			return true
		default:
			return false
		}
	})
	if b != nil {
		a.pending = append(a.pending, b)
	}
	a.mu.Unlock()
	if b != nil {
		b.cancel()
		<-b.quiet
	}
}

// Stop implements agents.Agent: the address leaves nic (with lvs_support, an
// IPv4 address moves to lo as a /32).
func (a *Agent) Stop(ctx context.Context, r agents.Resource) error {
	s, err := parse(r.Params)
	if err != nil {
		return err
	}
	a.stopBackground(r.ID)
	holder, held, err := a.find(s.addr)
	if err != nil {
		return err
	}
	if holder == nil || isLoopback(holder) {
		return nil
	}
	if s.nic != "" && holder.Attrs().Name != s.nic {
		// Someone else's address on another interface: not ours to remove.
		return nil
	}
	if err := a.nl.AddrDel(holder, held); err != nil {
		return agents.Errorf(agents.ErrGeneric, "removing %s from %s: %v", s.addr, holder.Attrs().Name, err)
	}
	if s.lvs && s.addr.Is4() {
		lo, err := a.nl.LinkByName("lo")
		if err == nil {
			err = a.nl.AddrReplace(lo, &netlink.Addr{IPNet: &net.IPNet{IP: net.IP(s.addr.AsSlice()), Mask: net.CIDRMask(32, 32)}})
		}
		if err != nil {
			return agents.Errorf(agents.ErrGeneric, "lvs_support: moving %s to lo: %v", s.addr, err)
		}
	}
	a.log.Info("stopped", "resource", r.ID, "ip", s.addr, "nic", holder.Attrs().Name)
	return nil
}

// Monitor implements agents.Agent: the address must be on nic (the
// resolved interface), and nic administratively up with carrier.
func (a *Agent) Monitor(ctx context.Context, r agents.Resource) error {
	s, err := parse(r.Params)
	if err != nil {
		return err
	}
	holder, _, err := a.find(s.addr)
	if err != nil {
		return err
	}
	if holder == nil || isLoopback(holder) {
		return agents.Errorf(agents.NotRunning, "ip %s is not configured", s.addr)
	}
	if s.nic != "" && holder.Attrs().Name != s.nic {
		return agents.Errorf(agents.ErrGeneric, "ip %s is on %s, not on nic %s", s.addr, holder.Attrs().Name, s.nic)
	}
	attrs := holder.Attrs()
	if attrs.Flags&net.FlagUp == 0 {
		return agents.Errorf(agents.ErrGeneric, "interface %s holding %s is down", attrs.Name, s.addr)
	}
	if attrs.RawFlags&unix.IFF_LOWER_UP == 0 {
		return agents.Errorf(agents.ErrGeneric, "interface %s holding %s has no carrier", attrs.Name, s.addr)
	}
	t, err := a.resolve(s)
	if err != nil {
		return err
	}
	return a.ensureBackground(ctx, r.ID, t, a.log.With("resource", r.ID, "ip", s.addr))
}
