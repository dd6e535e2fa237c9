package crm

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"time"

	"github.com/ovsha/ovsha/cluster/cib"
	"github.com/ovsha/ovsha/cluster/totem"
)

// syncState is one CIB synchronisation after a regular configuration:
// every member announces its version, digest and own operation history;
// when all have, the highest version wins (ties: the lowest node id) and,
// unless every digest is equal, the winner broadcasts its whole CIB.
// Other CRM messages delivered meanwhile are buffered and applied after,
// in order, on every member alike.
type syncState struct {
	ring      uint64
	members   []uint32
	announces map[uint32]*message
	winner    uint32
	started   time.Time
}

// regular starts a synchronisation for a new regular configuration.
func (c *CRM) regular(ev totem.Event) {
	c.members = make([]uint32, len(ev.Members))
	for i, m := range ev.Members {
		c.members[i] = uint32(m)
	}
	slices.Sort(c.members)
	c.ringSeq = ev.Ring.Seq
	c.regularAt = time.Now()
	applyMembership(c.cib, c.memberNames())
	c.cib.BumpStatus()
	c.sync = &syncState{ring: ev.Ring.Seq, members: c.members, announces: map[uint32]*message{}, started: c.regularAt}
	var lrm *cib.LRM
	if ns := c.cib.FindNodeState(c.cfg.Local.Name); ns != nil && ns.LRM != nil {
		lrm = ns.LRM
	}
	c.send(&message{Kind: kindAnnounce, Epoch: ev.Ring.Seq, Version: c.cib.Version(), Digest: digest(c.cib), Fresh: c.fresh, LRM: lrm})
	trigger := "membership changed"
	if len(ev.Left) > 0 {
		trigger = "node " + c.names(ev.Left) + " left"
	} else if len(ev.Joined) > 0 && len(ev.Joined) < len(ev.Members) {
		trigger = "node " + c.names(ev.Joined) + " joined"
	}
	c.markDirty(trigger)
	c.dc.membershipAt, c.dc.membershipTrigger = c.regularAt, trigger
	c.log.Info("configuration changed; synchronising the cib", "ring", ev.Ring.Seq, "members", c.members, "version", c.cib.Version().String())
}

func (c *CRM) names(ids []totem.NodeID) string {
	s := ""
	for i, id := range ids {
		if i > 0 {
			s += ","
		}
		s += c.nodeName(uint32(id))
	}
	return s
}

func digest(c *cib.CIB) string {
	b, err := c.MarshalXMLBytes()
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// onAnnounce records one member's announcement; it reports whether the
// CIB changed.
func (c *CRM) onAnnounce(from uint32, m *message) bool {
	s := c.sync
	if s == nil || m.Epoch != s.ring || !slices.Contains(s.members, from) {
		return false
	}
	s.announces[from] = m
	if len(s.announces) < len(s.members) {
		return false
	}
	// Everyone announced: the highest version wins, ties to the lowest id.
	same := true
	var best *message
	for _, id := range s.members {
		a := s.announces[id]
		if best == nil || a.Version.Compare(best.Version) > 0 {
			best = a
		}
		if a.Digest != s.announces[s.members[0]].Digest {
			same = false
		}
	}
	s.winner = best.From
	if same {
		return c.finishSync()
	}
	if s.winner == c.cfg.Local.ID {
		xml, err := c.cib.MarshalXMLBytes()
		if err != nil {
			c.log.Error("cannot encode the cib for synchronisation", "reason", err)
			return false
		}
		c.send(&message{Kind: kindSync, Epoch: s.ring, XML: string(xml)})
	}
	return false
}

// onSync installs the winner's CIB.
func (c *CRM) onSync(from uint32, m *message) bool {
	s := c.sync
	if s == nil || m.Epoch != s.ring || from != s.winner {
		return false
	}
	next, err := cib.Parse([]byte(m.XML))
	if err != nil {
		c.log.Error("cannot parse the synchronised cib; keeping ours", "from", c.nodeName(from), "reason", err)
	} else {
		if from != c.cfg.Local.ID {
			c.log.Info("cib replaced by the synchronisation winner", "from", c.nodeName(from), "old", c.cib.Version().String(), "new", next.Version().String())
		}
		c.cib = next
		c.ensureNodes()
	}
	return c.finishSync()
}

// finishSync makes every member the authority on its own operation
// history (a node that just started has none: the DC probes it), then
// applies what was buffered.
func (c *CRM) finishSync() bool {
	s := c.sync
	for _, id := range s.members {
		a := s.announces[id]
		name := c.nodeName(id)
		if a.Fresh {
			applyDown(c.cib, name)
		} else {
			setLRM(c.cib, name, a.LRM)
		}
	}
	applyMembership(c.cib, c.memberNames())
	c.cib.BumpStatus()
	c.fresh = false
	c.sync = nil
	c.dc.syncDone = time.Now()
	c.log.Info("cib synchronised", "version", c.cib.Version().String(), "winner", c.nodeName(s.winner), "took", time.Since(s.started).Round(time.Microsecond))
	// Written behind: the DC must not wait for an fsync (it can take
	// hundreds of ms on a busy disk) before it plans the failover; a copy
	// lost in a crash is synchronised again from the members.
	c.persistSoon()
	buf := c.buffered
	c.buffered = nil
	for _, d := range buf {
		c.deliver(d.from, d.m)
	}
	return true
}
