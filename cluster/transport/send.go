package transport

import (
	"errors"
	"fmt"

	"golang.org/x/net/ipv4"
)

var _ Transport = (*UDP)(nil)

// sendState is the per-Send scratch space, pooled so that a Send does not
// allocate: the sealed datagram, and per link the batch of destinations.
type sendState struct {
	crypto  cryptoScratch
	buf     []byte
	bufs    [1][]byte
	arena   []byte   // SendMany: every sealed datagram, back to back
	many    [][]byte // SendMany: one buffer per datagram, into arena
	msgs    [MaxLinks][]ipv4.Message
	targets [MaxLinks][]*peerLink
}

// Send seals b once and sends the same bytes to every destination: on the
// lowest-numbered alive link, or with all set on every alive link; when no
// link to a destination is alive, on every configured link. Destinations
// sharing a link go out in one sendmmsg call. A destination equal to the
// local node is delivered straight to the local Receive channel (Link 0).
func (u *UDP) Send(to []NodeID, b []byte, all bool) error {
	if len(b) > MaxPayload {
		return fmt.Errorf("sending %d bytes (max %d): %w", len(b), MaxPayload, ErrTooLarge)
	}
	if u.closed.Load() {
		return ErrClosed
	}
	st := u.sendPool.Get().(*sendState)
	defer u.sendPool.Put(st)
	pkt := u.seal(st, kindData, b)
	st.bufs[0] = pkt
	now := u.now()
	var errs []error
	for _, id := range to {
		if id == u.local {
			u.deliver(Packet{From: id, Data: append([]byte(nil), b...)})
			continue
		}
		p := u.peers[id]
		if p == nil {
			errs = append(errs, fmt.Errorf("node %d: %w", id, ErrUnknownNode))
			continue
		}
		u.route(st, p, all, now)
	}
	for l := range st.msgs {
		if len(st.msgs[l]) > 0 {
			if err := u.writeBatch(l, st.msgs[l], st.targets[l]); err != nil {
				errs = append(errs, err)
			}
			clear(st.msgs[l])
			clear(st.targets[l])
			st.msgs[l], st.targets[l] = st.msgs[l][:0], st.targets[l][:0]
		}
	}
	st.bufs[0] = nil
	return errors.Join(errs...)
}

// Datagram is one payload for SendMany.
type Datagram struct {
	To   []NodeID
	Data []byte
	All  bool
}

// BatchSender is implemented by transports that can send several payloads
// with fewer system calls than one Send each.
type BatchSender interface {
	SendMany(ds []Datagram) error
}

var _ BatchSender = (*UDP)(nil)

// SendMany is Send for several payloads at once: each is sealed once, and
// all datagrams for one link leave in as few sendmmsg calls as the kernel
// allows. Payloads keep their order per destination.
func (u *UDP) SendMany(ds []Datagram) error {
	if u.closed.Load() {
		return ErrClosed
	}
	st := u.sendPool.Get().(*sendState)
	defer u.sendPool.Put(st)
	total := 0
	for _, d := range ds {
		if len(d.Data) > MaxPayload {
			return fmt.Errorf("sending %d bytes (max %d): %w", len(d.Data), MaxPayload, ErrTooLarge)
		}
		total += len(d.Data) + Overhead
	}
	if cap(st.arena) < total {
		st.arena = make([]byte, 0, total)
	}
	st.arena = st.arena[:0]
	if cap(st.many) < len(ds) {
		st.many = make([][]byte, len(ds))
	}
	st.many = st.many[:len(ds)]
	now := u.now()
	var errs []error
	for i, d := range ds {
		h := header{kind: kindData, sender: u.local, boot: u.boot, counter: u.counter.Add(1)}
		// The arena has room for every datagram (total above), so the
		// sealed packet is written in place right after the previous one.
		pkt := st.crypto.seal(u.sendAEAD, st.arena[len(st.arena):], h, d.Data)
		st.many[i] = pkt
		st.arena = st.arena[:len(st.arena)+len(pkt)]
		for _, id := range d.To {
			if id == u.local {
				u.deliver(Packet{From: id, Data: append([]byte(nil), d.Data...)})
				continue
			}
			p := u.peers[id]
			if p == nil {
				errs = append(errs, fmt.Errorf("node %d: %w", id, ErrUnknownNode))
				continue
			}
			u.routeBuf(st, p, d.All, now, st.many[i:i+1])
		}
	}
	for l := range st.msgs {
		if len(st.msgs[l]) > 0 {
			if err := u.writeBatch(l, st.msgs[l], st.targets[l]); err != nil {
				errs = append(errs, err)
			}
			clear(st.msgs[l])
			clear(st.targets[l])
			st.msgs[l], st.targets[l] = st.msgs[l][:0], st.targets[l][:0]
		}
	}
	clear(st.many)
	return errors.Join(errs...)
}

// route adds the links the datagram takes to peer p to the batches.
func (u *UDP) route(st *sendState, p *peer, all bool, now int64) {
	u.routeBuf(st, p, all, now, st.bufs[:])
}

// routeBuf is route for the sealed datagram bufs (one buffer).
func (u *UDP) routeBuf(st *sendState, p *peer, all bool, now int64, bufs [][]byte) {
	sent := false
	for _, pl := range p.links {
		if pl != nil && u.up(pl, now) {
			u.queue(st, pl, bufs)
			sent = true
			if !all {
				return
			}
		}
	}
	if sent {
		return
	}
	for _, pl := range p.links {
		if pl != nil {
			u.queue(st, pl, bufs)
		}
	}
}

func (u *UDP) queue(st *sendState, pl *peerLink, bufs [][]byte) {
	st.msgs[pl.link] = append(st.msgs[pl.link], ipv4.Message{Buffers: bufs, Addr: pl.udpAddr})
	st.targets[pl.link] = append(st.targets[pl.link], pl)
}

// seal builds a datagram of kind k with the next counter into st.buf.
func (u *UDP) seal(st *sendState, k kind, payload []byte) []byte {
	if need := len(payload) + Overhead; cap(st.buf) < need {
		st.buf = make([]byte, 0, max(need, 2048))
	}
	h := header{kind: k, sender: u.local, boot: u.boot, counter: u.counter.Add(1)}
	st.buf = st.crypto.seal(u.sendAEAD, st.buf, h, payload)
	return st.buf
}

// writeBatch sends msgs on link l, skipping over messages the kernel
// refuses. It returns the first error.
func (u *UDP) writeBatch(l int, msgs []ipv4.Message, targets []*peerLink) error {
	s := u.socks[l]
	var first error
	for i := 0; i < len(msgs); {
		n, err := s.batch.WriteBatch(msgs[i:], 0)
		n = max(n, 0) // sendmmsg reports -1 when the first message fails
		for j, pl := range targets[i : i+n] {
			pl.txPackets.Add(1)
			pl.txBytes.Add(uint64(len(msgs[i+j].Buffers[0])))
		}
		i += n
		if err != nil {
			if u.closed.Load() {
				return ErrClosed
			}
			pl := targets[i]
			pl.txErrors.Add(1)
			u.counters.sendErrors.Add(1)
			if first == nil {
				first = fmt.Errorf("sending to node %d on link %d (%s): %w", pl.peer, l, pl.remote, err)
			}
			u.warn.warn("send-error", "sending datagram failed", "peer", uint32(pl.peer), "link", l, "remote", pl.remote.String(), "err", err)
			i++
		} else if n == 0 {
			break
		}
	}
	return first
}

// sendControl sends a ping or pong with an 8-byte body to one peer link.
func (u *UDP) sendControl(pl *peerLink, k kind, body []byte) {
	if u.closed.Load() {
		return
	}
	st := u.sendPool.Get().(*sendState)
	defer u.sendPool.Put(st)
	st.bufs[0] = u.seal(st, k, body)
	st.msgs[pl.link] = append(st.msgs[pl.link], ipv4.Message{Buffers: st.bufs[:], Addr: pl.udpAddr})
	st.targets[pl.link] = append(st.targets[pl.link], pl)
	_ = u.writeBatch(pl.link, st.msgs[pl.link], st.targets[pl.link])
	clear(st.msgs[pl.link])
	clear(st.targets[pl.link])
	st.msgs[pl.link], st.targets[pl.link] = st.msgs[pl.link][:0], st.targets[pl.link][:0]
	st.bufs[0] = nil
}

// deliver hands a verified payload to the consumer, dropping it when the
// Receive channel is full.
func (u *UDP) deliver(p Packet) {
	select {
	case u.recv <- p:
	default:
		u.counters.queueFull.Add(1)
		u.warn.warn("queue-full", "receive queue full: dropping datagram", "from", uint32(p.From))
	}
}
