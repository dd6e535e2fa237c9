package totem

import "github.com/ovsha/ovsha/cluster/totem/wire"

// deliver hands the application every frame of the regular ring that is
// in agreed order (all earlier frames held) — and, for frames that need
// safe delivery, held by every member.
func (e *Engine) deliver() {
	if e.state != StateOperational {
		return
	}
	r := &e.reg
	for r.highDelivered < r.aru {
		f := r.frames[r.highDelivered+1]
		if f == nil {
			break
		}
		if f.Flags&wire.FlagSafe != 0 && f.Seq > r.safe {
			break
		}
		r.highDelivered++
		e.deliverFrame(f)
	}
	r.release(min(r.safe, r.highDelivered))
}

// deliverFrame reassembles application messages from the fragments of f.
// A single-fragment message's payload aliases the frame: the application
// must not modify delivered payloads.
func (e *Engine) deliverFrame(f *wire.Mcast) {
	s := f.Sender
	for _, fr := range f.Frags {
		switch {
		case fr.Start && fr.End:
			delete(e.reasm, s)
			e.deliverMsg(s, fr.Data)
		case fr.Start:
			e.reasm[s] = append([]byte(nil), fr.Data...)
		default:
			buf, ok := e.reasm[s]
			if !ok {
				continue // the start was in a previous configuration
			}
			buf = append(buf, fr.Data...)
			if fr.End {
				delete(e.reasm, s)
				e.deliverMsg(s, buf)
			} else {
				e.reasm[s] = buf
			}
		}
	}
}

func (e *Engine) deliverMsg(from NodeID, p []byte) {
	if p == nil {
		p = []byte{}
	}
	e.events = append(e.events, Event{Kind: EventDeliver, Sender: from, Payload: p})
	e.stats.MessagesDelivered++
}
