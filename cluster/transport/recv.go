package transport

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"time"

	"golang.org/x/net/ipv4"
)

// readLoop receives datagrams on one socket, up to readBatch per
// recvmmsg call, until the socket is closed.
func (u *UDP) readLoop(s *udpSocket) {
	defer u.wg.Done()
	msgs := make([]ipv4.Message, readBatch)
	for i := range msgs {
		msgs[i].Buffers = [][]byte{make([]byte, readBufSize)}
	}
	var scratch rxScratch
	for {
		n, err := s.batch.ReadBatch(msgs, 0)
		if err != nil {
			if u.closed.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			u.warn.warn("read-error", "reading datagrams failed", "link", s.link, "addr", s.addr.String(), "err", err)
			select { // do not spin on a persistent error
			case <-u.done:
				return
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		for i := range msgs[:n] {
			m := &msgs[i]
			u.handle(s, &scratch, m.Buffers[0][:m.N], m.Addr)
		}
	}
}

// rxScratch is one receive goroutine's reusable buffers.
type rxScratch struct {
	crypto cryptoScratch
	ctl    [pingLen + TagLen]byte
}

func addrPortOf(a net.Addr) netip.AddrPort {
	if ua, ok := a.(*net.UDPAddr); ok {
		return unmap(ua.AddrPort())
	}
	return netip.AddrPort{}
}

// handle verifies one datagram received on socket s from address from. The
// checks run cheapest first, and the body is not looked at before the AEAD
// tag has been verified.
func (u *UDP) handle(s *udpSocket, sc *rxScratch, pkt []byte, from net.Addr) {
	if len(pkt) > MaxDatagram {
		u.counters.oversize.Add(1)
		u.warn.warn("oversize", "dropping oversize datagram", "link", s.link, "from", addrPortOf(from).String(), "bytes", len(pkt))
		return
	}
	h, err := parseHeader(pkt)
	if err != nil {
		u.counters.malformed.Add(1)
		u.warn.warn("malformed", "dropping malformed datagram", "link", s.link, "from", addrPortOf(from).String(), "err", err)
		return
	}
	src := addrPortOf(from)
	p := u.peers[h.sender]
	if p == nil {
		u.counters.unknownSender.Add(1)
		u.warn.warn("unknown-node", "dropping datagram from a node not in the nodelist", "link", s.link, "from", src.String(), "claimed_node", uint32(h.sender))
		return
	}
	pl := p.links[s.link]
	if pl == nil || pl.remote != src {
		u.counters.unknownSender.Add(1)
		expected := "none"
		if pl != nil {
			expected = pl.remote.String()
		}
		u.warn.warn("unknown-address", "dropping datagram from an address that is not the node's address on this link",
			"link", s.link, "from", src.String(), "claimed_node", uint32(h.sender), "expected", expected)
		return
	}

	p.rx.mu.Lock()
	curBoot, a := p.rx.boot, p.rx.aead
	p.rx.mu.Unlock()
	if h.boot < curBoot {
		u.countReplay(pl, h, "stale-boot")
		return
	}
	if h.boot != curBoot || a == nil {
		if a, err = u.keys.aead(h.sender, h.boot); err != nil {
			u.counters.authFailures.Add(1)
			return
		}
	}
	var dst []byte
	if h.kind == kindData {
		dst = make([]byte, 0, len(pkt)-Overhead)
	} else {
		dst = sc.ctl[:0]
	}
	body, err := sc.crypto.open(a, dst, pkt, h)
	if err != nil {
		u.counters.authFailures.Add(1)
		pl.authFailures.Add(1)
		pl.rxErrors.Add(1)
		u.warn.warn("auth", "dropping datagram that fails authentication (wrong authkey or cluster name?)",
			"link", s.link, "from", src.String(), "claimed_node", uint32(h.sender))
		return
	}

	p.rx.mu.Lock()
	if h.boot < p.rx.boot {
		p.rx.mu.Unlock()
		u.countReplay(pl, h, "stale-boot")
		return
	}
	if h.boot > p.rx.boot {
		if p.rx.boot != 0 {
			u.log.Info("peer restarted", "peer", uint32(p.id), "old_boot", p.rx.boot, "boot", h.boot)
		}
		p.rx.boot, p.rx.aead = h.boot, a
		p.rx.window.reset()
	}
	v := p.rx.window.check(h.counter, uint8(s.link))
	p.rx.mu.Unlock()
	switch v {
	case verdictDuplicate:
		u.counters.duplicates.Add(1)
		pl.duplicate.Add(1)
		return
	case verdictReplay:
		u.countReplay(pl, h, "replay")
		return
	}

	now := u.now()
	pl.lastHeard.Store(now)
	pl.rxPackets.Add(1)
	pl.rxBytes.Add(uint64(len(pkt)))
	switch h.kind {
	case kindData:
		u.deliver(Packet{From: h.sender, Link: s.link, Data: body})
	case kindPing:
		if len(body) != pingLen {
			u.malformedBody(pl, h)
			return
		}
		u.sendControl(pl, kindPong, body)
	case kindPong:
		if len(body) != pingLen {
			u.malformedBody(pl, h)
			return
		}
		u.sample(pl, now-int64(binary.BigEndian.Uint64(body)))
	}
}

func (u *UDP) countReplay(pl *peerLink, h header, reason string) {
	u.counters.replays.Add(1)
	pl.replays.Add(1)
	u.warn.warn(reason, "dropping replayed datagram", "peer", uint32(pl.peer), "link", pl.link, "boot", h.boot, "counter", h.counter)
}

func (u *UDP) malformedBody(pl *peerLink, h header) {
	u.counters.malformed.Add(1)
	pl.rxErrors.Add(1)
	u.warn.warn("malformed", "dropping authenticated datagram with a bad body", "peer", uint32(pl.peer), "link", pl.link, "kind", h.kind.String())
}

// sample folds one RTT measurement into the smoothed RTT (RFC 6298 style,
// gain 1/8). Only the receive goroutine of the link's socket calls it.
func (u *UDP) sample(pl *peerLink, rtt int64) {
	if rtt <= 0 {
		return
	}
	old := pl.srtt.Load()
	if old == 0 {
		pl.srtt.Store(rtt)
		return
	}
	pl.srtt.Store(old + (rtt-old)/8)
}
