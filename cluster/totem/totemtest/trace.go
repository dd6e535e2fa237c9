package totemtest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/ovsha/ovsha/cluster/totem"
	"github.com/ovsha/ovsha/cluster/totem/wire"
)

// tracer writes one line per simulator event:
//
//	1.204317s n2 recv token ring=1.8 tseq=91 seq=40 aru=40 from 1
//	1.204317s n2 deliver 3#12 (77 bytes)
//	1.300000s -- fault partition (1,2)|(3)
type tracer struct {
	w   io.Writer
	now func() time.Duration
}

func (t *tracer) logf(id totem.NodeID, format string, a ...any) {
	who := "--"
	if id != 0 {
		who = fmt.Sprintf("n%d", id)
	}
	fmt.Fprintf(t.w, "%12.6fs %s %s\n", t.now().Seconds(), who, fmt.Sprintf(format, a...))
}

func (t *tracer) event(id totem.NodeID, ev totem.Event) {
	switch ev.Kind {
	case totem.EventDeliver:
		mid, safe, _, err := decodePayload(ev.Payload)
		if err != nil {
			t.logf(id, "deliver from %d: undecodable payload (%d bytes)", ev.Sender, len(ev.Payload))
			return
		}
		t.logf(id, "deliver %v (%d bytes, %s)", mid, len(ev.Payload), g2s(safe))
	case totem.EventTransitional:
		t.logf(id, "TRANSITIONAL ring %v members %v left %v", ringStr(ev.Ring), ev.Members, ev.Left)
	case totem.EventRegular:
		t.logf(id, "REGULAR ring %v members %v joined %v left %v", ringStr(ev.Ring), ev.Members, ev.Joined, ev.Left)
	}
}

// describe summarises a protocol message's key fields.
func describe(m wire.Message) string {
	switch m := m.(type) {
	case *wire.Token:
		s := fmt.Sprintf("token ring=%s tseq=%d seq=%d aru=%d aruaddr=%d fcc=%d backlog=%d", ringStr(m.Ring), m.TokenSeq, m.Seq, m.Aru, m.AruAddr, m.Fcc, m.Backlog)
		if m.RetransFlg {
			s += " retrans"
		}
		if m.InstallSeq != 0 {
			s += fmt.Sprintf(" install=%d", m.InstallSeq)
		}
		if len(m.Rtr) > 0 {
			s += fmt.Sprintf(" rtr=%v", trimList(m.Rtr))
		}
		return s
	case *wire.Mcast:
		if m.Encap != nil {
			return fmt.Sprintf("mcast ring=%s seq=%d sender=%d encap(%s)", ringStr(m.Ring), m.Seq, m.Sender, describe(m.Encap))
		}
		var frags []string
		for _, f := range m.Frags {
			tag := ""
			if f.Start {
				tag += "S"
			}
			if f.End {
				tag += "E"
			}
			if len(f.Data) >= payloadHeaderSize && f.Start {
				if id, _, _, err := decodePayload(f.Data); err == nil {
					tag += ":" + id.String()
				}
			}
			frags = append(frags, fmt.Sprintf("%s/%d", tag, len(f.Data)))
		}
		return fmt.Sprintf("mcast ring=%s seq=%d sender=%d flags=%d frags=[%s]", ringStr(m.Ring), m.Seq, m.Sender, m.Flags, strings.Join(frags, " "))
	case *wire.Join:
		return fmt.Sprintf("join sender=%d ringseq=%d proc=%v fail=%v", m.Sender, m.RingSeq, m.Proc, m.Fail)
	case *wire.Commit:
		var ents []string
		for _, e := range m.Entries {
			if e.Filled {
				ents = append(ents, fmt.Sprintf("{%s aru=%d hd=%d hr=%d}", ringStr(e.OldRing), e.Aru, e.HighDelivered, e.HighReceived))
			} else {
				ents = append(ents, "{}")
			}
		}
		return fmt.Sprintf("commit ring=%s tseq=%d rot=%d members=%v entries=%s", ringStr(m.Ring), m.TokenSeq, m.Rotation, m.Members, strings.Join(ents, ""))
	case *wire.MergeDetect:
		return fmt.Sprintf("merge-detect sender=%d ring=%s", m.Sender, ringStr(m.Ring))
	case *wire.HoldCancel:
		return fmt.Sprintf("hold-cancel sender=%d ring=%s", m.Sender, ringStr(m.Ring))
	case *wire.Leave:
		return fmt.Sprintf("leave sender=%d ring=%s", m.Sender, ringStr(m.Ring))
	case *wire.TokenAck:
		return fmt.Sprintf("token-ack sender=%d ring=%s tseq=%d", m.Sender, ringStr(m.Ring), m.TokenSeq)
	}
	return fmt.Sprintf("%T", m)
}

func trimList(l []uint64) string {
	if len(l) <= 8 {
		return fmt.Sprint(l)
	}
	return fmt.Sprintf("%v…+%d", l[:8], len(l)-8)
}

// logger returns a slog.Logger that writes engine log records into the
// trace, tagged with the node and simulated time.
func (t *tracer) logger(id totem.NodeID) *slog.Logger {
	return slog.New(&traceHandler{t: t, id: id})
}

type traceHandler struct {
	t     *tracer
	id    totem.NodeID
	attrs string
}

func (h *traceHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *traceHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(h.attrs)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	h.t.logf(h.id, "log %s: %s%s", r.Level, r.Message, b.String())
	return nil
}

func (h *traceHandler) WithAttrs(as []slog.Attr) slog.Handler {
	var b strings.Builder
	b.WriteString(h.attrs)
	for _, a := range as {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
	}
	return &traceHandler{t: h.t, id: h.id, attrs: b.String()}
}

func (h *traceHandler) WithGroup(string) slog.Handler { return h }
