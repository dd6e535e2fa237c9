package appliance

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ovsha/ovsha/cluster/membership"
	"github.com/ovsha/ovsha/cluster/quorum"
	"github.com/ovsha/ovsha/cluster/totem"
	"github.com/ovsha/ovsha/cluster/transport"
)

// nodeInfo is what the control API needs to know about a configured node.
type nodeInfo struct {
	ID    uint32
	Name  string
	Votes uint32
}

// counterer is implemented by transports that keep node-wide counters
// (the UDP transport).
type counterer interface {
	Counters() transport.Counters
}

// quorumState is votequorum fed from the membership events. The quorum
// core is pure and not safe for concurrent use: the mutex serialises the
// event consumer, the timer and the control API.
type quorumState struct {
	mu    sync.Mutex
	q     *quorum.Quorum
	ring  totem.RingID
	start time.Time // monotonic origin of the quorum clock
}

func (s *quorumState) now() time.Duration { return time.Since(s.start) }

// applyRegular recomputes quorum for a new regular configuration and
// returns the status before and after.
func (s *quorumState) applyRegular(ev totem.Event) (before, after quorum.Status) {
	members := make([]quorum.NodeID, len(ev.Members))
	for i, m := range ev.Members {
		members[i] = quorum.NodeID(m)
	}
	left := make([]quorum.NodeID, len(ev.Left))
	for i, m := range ev.Left {
		left[i] = quorum.NodeID(m)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	before = s.q.Status()
	s.ring = ev.Ring
	after = s.q.SetMembers(s.now(), members, left)
	return before, after
}

// tick advances the quorum clock (last_man_standing_window).
func (s *quorumState) tick() (quorum.Status, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.q.Tick(s.now())
}

func (s *quorumState) status() (quorum.Status, totem.RingID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.q.Status(), s.ring
}

// source implements Source from the live components.
type source struct {
	clusterName string
	local       nodeInfo
	nodes       []nodeInfo // configured nodes, sorted by id
	startedAt   time.Time
	rt          *membership.Runtime
	tr          transport.Transport
	quorum      *quorumState
}

func (s *source) member(id uint32) Member {
	for _, n := range s.nodes {
		if n.ID == id {
			return Member{NodeID: id, Name: n.Name}
		}
	}
	return Member{NodeID: id, Name: fmt.Sprintf("node%d", id)}
}

func (s *source) Status(ctx context.Context) (StatusResponse, error) {
	ring, err := s.Ring(ctx)
	if err != nil {
		return StatusResponse{}, err
	}
	q, err := s.Quorum(ctx)
	if err != nil {
		return StatusResponse{}, err
	}
	return StatusResponse{
		ClusterName: s.clusterName,
		Node:        s.member(s.local.ID),
		StartedAt:   s.startedAt,
		Ring:        ring,
		Quorum:      q,
	}, nil
}

func (s *source) Ring(ctx context.Context) (RingResponse, error) {
	st, err := s.rt.Status(ctx)
	if err != nil {
		return RingResponse{}, fmt.Errorf("reading membership status: %w", err)
	}
	return buildRing(s, st), nil
}

func buildRing(s *source, st membership.Status) RingResponse {
	e := st.Engine
	r := RingResponse{
		Node:          s.member(s.local.ID),
		State:         e.State.String(),
		RingID:        RingID{Rep: uint32(e.Ring.Rep), Seq: e.Ring.Seq},
		Members:       []Member{},
		Seq:           e.Seq,
		Aru:           e.Aru,
		HighDelivered: e.HighDelivered,
		Queued:        e.Queued,
		Engine: EngineStats{
			TokensReceived:      e.Stats.TokensReceived,
			TokensRetransmitted: e.Stats.TokensRetransmitted,
			FramesSent:          e.Stats.FramesSent,
			FramesRetransmitted: e.Stats.FramesRetransmitted,
			FramesReceived:      e.Stats.FramesReceived,
			RtrRequested:        e.Stats.RtrRequested,
			MessagesDelivered:   e.Stats.MessagesDelivered,
			TokenLosses:         e.Stats.TokenLosses,
			ConsensusTimeouts:   e.Stats.ConsensusTimeouts,
			MembershipChanges:   e.Stats.MembershipChanges,
			Stalls:              e.Stats.Stalls,
			StalledForMS:        durMS(e.Stats.StalledFor),
			LastRotationMS:      durMS(e.Stats.LastRotation),
		},
		Runtime: RuntimeStats{
			PacketsReceived:   st.Counters.PacketsReceived,
			DecodeErrors:      st.Counters.DecodeErrors,
			MessagesSent:      st.Counters.MessagesSent,
			SendErrors:        st.Counters.SendErrors,
			BroadcastsWaiting: st.Counters.BroadcastsWaiting,
			EventBacklog:      st.EventBacklog,
		},
		Transport: TransportStat{},
	}
	if !st.Running {
		r.State = "stopped"
	}
	for _, m := range e.Members {
		r.Members = append(r.Members, s.member(uint32(m)))
	}
	for _, n := range s.nodes {
		nl := NodeLinks{NodeID: n.ID, Name: n.Name, Local: n.ID == s.local.ID, Links: []Link{}}
		for _, l := range st.Links {
			if uint32(l.Peer) != n.ID {
				continue
			}
			nl.Links = append(nl.Links, Link{
				Link: l.Link, Local: l.Local, Remote: l.Remote, Connected: l.Up,
				LatencyMS: durMS(l.Latency),
				TxPackets: l.TxPackets, RxPackets: l.RxPackets, TxBytes: l.TxBytes, RxBytes: l.RxBytes,
				RxErrors: l.RxErrors, AuthFailures: l.AuthFailures, Replays: l.Replays,
				Duplicates: l.Duplicates, TxErrors: l.TxErrors,
				LastHeard: l.LastHeard,
			})
		}
		slices.SortFunc(nl.Links, func(a, b Link) int { return a.Link - b.Link })
		r.Nodes = append(r.Nodes, nl)
	}
	if c, ok := s.tr.(counterer); ok {
		tc := c.Counters()
		r.Transport = TransportStat{
			"auth_failures":  tc.AuthFailures,
			"malformed":      tc.Malformed,
			"replays":        tc.Replays,
			"duplicates":     tc.Duplicates,
			"unknown_sender": tc.UnknownSender,
			"oversize":       tc.Oversize,
			"send_errors":    tc.SendErrors,
			"queue_full":     tc.QueueFull,
		}
	}
	return r
}

func (s *source) Quorum(context.Context) (QuorumResponse, error) {
	qs, ring := s.quorum.status()
	return buildQuorum(s, qs, ring), nil
}

func buildQuorum(s *source, qs quorum.Status, ring totem.RingID) QuorumResponse {
	r := QuorumResponse{
		Node:          s.member(s.local.ID),
		RingID:        RingID{Rep: uint32(ring.Rep), Seq: ring.Seq},
		Quorate:       qs.Quorate,
		ExpectedVotes: qs.ExpectedVotes,
		TotalVotes:    qs.TotalVotes,
		Quorum:        qs.Quorum,
		Flags:         []string{},
		Members:       []QuorumMember{},
	}
	if f := qs.Flags.String(); f != "" {
		r.Flags = strings.Fields(f)
	}
	for _, m := range qs.Members {
		mm := s.member(m.ID)
		r.Members = append(r.Members, QuorumMember{NodeID: m.ID, Name: mm.Name, Votes: m.Votes, Local: m.ID == s.local.ID})
	}
	return r
}
