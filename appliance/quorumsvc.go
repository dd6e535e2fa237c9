package appliance

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ovsha/ovsha/cluster/membership"
	"github.com/ovsha/ovsha/cluster/quorum"
	"github.com/ovsha/ovsha/cluster/totem"
)

// Votequorum messages over Totem (service byte ServiceQuorum). Every member
// applies them in the ring's total order, so all members of a view reach
// the same quorum state, as corosync's votequorum exec messages do.
//
//	nodeinfo: 0x01 0x01 expected:u32 flags:u8 config_version:u64
//	  broadcast by each node after every regular configuration; a peer
//	  that is quorate (flag bit 0) makes a non-quorate member adopt its
//	  expected votes (quorum.PeerQuorate): a node restarting into a running
//	  cluster agrees with it.
//	expected: 0x01 0x02 request:u64 expected:u32
//	  `ovsha quorum expected N`: every member calls quorum.SetExpected(N)
//	  at delivery; the sender answers its client with its own result.
const (
	quorumMsgNodeinfo byte = 0x01
	quorumMsgExpected byte = 0x02

	nodeinfoQuorate byte = 1 << 0

	nodeinfoLen = 2 + 4 + 1 + 8
	expectedLen = 2 + 8 + 4
)

// quorumService sends and applies votequorum messages.
type quorumService struct {
	log           *slog.Logger
	local         uint32
	configVersion uint64
	q             *quorumState
	onPeerInfo    func(node uint32, configVersion uint64)

	mu      sync.Mutex
	rt      *membership.Runtime // nil until Run starts the runtime
	next    uint64
	pending map[uint64]chan error

	sendq chan []byte
}

func newQuorumService(log *slog.Logger, local uint32, configVersion uint64, q *quorumState) *quorumService {
	var seed [8]byte
	_, _ = rand.Read(seed[:]) // crypto/rand.Read never fails on Linux
	return &quorumService{
		log: log.With("component", "quorum"), local: local, configVersion: configVersion, q: q,
		next:    binary.LittleEndian.Uint64(seed[:]),
		pending: make(map[uint64]chan error),
		sendq:   make(chan []byte, 16),
	}
}

// run broadcasts queued nodeinfo messages until ctx ends. It is the only
// sender of nodeinfo so a slow ring never blocks the event consumer.
func (s *quorumService) run(ctx context.Context, rt *membership.Runtime) {
	s.mu.Lock()
	s.rt = rt
	s.mu.Unlock()
	for {
		select {
		case <-ctx.Done():
			return
		case msg := <-s.sendq:
			bctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := rt.Broadcast(bctx, msg, totem.Agreed)
			cancel()
			if err != nil && ctx.Err() == nil {
				s.log.Warn("cannot broadcast quorum nodeinfo", "reason", err)
			}
		}
	}
}

// onRegular queues this node's nodeinfo after a configuration change.
func (s *quorumService) onRegular() {
	st, _ := s.q.status()
	msg := make([]byte, nodeinfoLen)
	msg[0], msg[1] = ServiceQuorum, quorumMsgNodeinfo
	binary.BigEndian.PutUint32(msg[2:], st.ExpectedVotes)
	if st.Quorate && !st.WaitForAllPending {
		msg[6] = nodeinfoQuorate
	}
	binary.BigEndian.PutUint64(msg[7:], s.configVersion)
	select {
	case s.sendq <- msg:
	default: // a burst of configurations: the latest nodeinfo that got queued suffices
		s.log.Debug("nodeinfo queue full; skipping one")
	}
}

// deliver applies one ServiceQuorum message delivered by the ring and
// returns the quorum status before and after, and whether it changed.
func (s *quorumService) deliver(sender totem.NodeID, p []byte) (before, after quorum.Status, changed bool) {
	if len(p) < 2 {
		s.log.Warn("dropping short quorum message", "sender", sender, "bytes", len(p))
		return
	}
	switch p[1] {
	case quorumMsgNodeinfo:
		if len(p) != nodeinfoLen {
			s.log.Warn("dropping malformed quorum nodeinfo", "sender", sender, "bytes", len(p))
			return
		}
		expected, flags, cv := binary.BigEndian.Uint32(p[2:]), p[6], binary.BigEndian.Uint64(p[7:])
		if s.onPeerInfo != nil {
			s.onPeerInfo(uint32(sender), cv)
		}
		if uint32(sender) == s.local || flags&nodeinfoQuorate == 0 {
			return
		}
		before, after = s.q.peerQuorate(uint32(sender), expected)
		return before, after, !before.Equal(after)
	case quorumMsgExpected:
		if len(p) != expectedLen {
			s.log.Warn("dropping malformed quorum expected-votes message", "sender", sender, "bytes", len(p))
			return
		}
		req, n := binary.BigEndian.Uint64(p[2:]), binary.BigEndian.Uint32(p[10:])
		before, after, err := s.q.setExpected(n)
		if err != nil {
			s.log.Warn("expected votes change refused", "sender", sender, "expected_votes", n, "reason", err)
		} else {
			s.log.Info("expected votes changed", "sender", sender, "expected_votes", n)
		}
		if uint32(sender) == s.local {
			s.mu.Lock()
			ch := s.pending[req]
			delete(s.pending, req)
			s.mu.Unlock()
			if ch != nil {
				ch <- err
			}
		}
		return before, after, !before.Equal(after)
	default:
		s.log.Warn("dropping quorum message of unknown kind", "sender", sender, "kind", p[1])
	}
	return
}

// errNotRunning: a request needs the ring and the runtime is not running.
var errNotRunning = errors.New("the membership runtime is not running")

// setExpected changes expected votes on every member of the current view
// (corosync-quorumtool -e) and returns this node's result: nil, or the
// quorum package's refusal.
func (s *quorumService) setExpected(ctx context.Context, n uint32) error {
	s.mu.Lock()
	rt := s.rt
	s.next++
	req := s.next
	ch := make(chan error, 1)
	s.pending[req] = ch
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.pending, req)
		s.mu.Unlock()
	}()
	if rt == nil {
		return errNotRunning
	}
	msg := make([]byte, expectedLen)
	msg[0], msg[1] = ServiceQuorum, quorumMsgExpected
	binary.BigEndian.PutUint64(msg[2:], req)
	binary.BigEndian.PutUint32(msg[10:], n)
	if err := rt.Broadcast(ctx, msg, totem.Agreed); err != nil {
		return fmt.Errorf("broadcasting the expected votes change: %w", err)
	}
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return fmt.Errorf("waiting for the expected votes change to be delivered: %w", ctx.Err())
	}
}

// peerQuorate applies a peer's quorate nodeinfo.
func (s *quorumState) peerQuorate(peer, expected uint32) (before, after quorum.Status) {
	s.mu.Lock()
	defer s.mu.Unlock()
	before = s.q.Status()
	return before, s.q.PeerQuorate(peer, expected)
}

// setExpected applies quorum.SetExpected.
func (s *quorumState) setExpected(n uint32) (before, after quorum.Status, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	before = s.q.Status()
	err = s.q.SetExpected(n)
	return before, s.q.Status(), err
}
