package totem

import (
	"slices"

	"github.com/ovsha/ovsha/cluster/totem/wire"
)

// ring is one ring's frame store and counters.
type ring struct {
	id      RingID
	members []NodeID // sorted; immutable once set (slices are shared with Outgoing.To)
	others  []NodeID // members without this node
	next    NodeID   // this node's successor: where the token goes

	frames map[uint64]*wire.Mcast
	// aru: every frame up to aru is held; highSeq: highest frame seen;
	// highDelivered: highest frame delivered to the application; low:
	// frames up to low have been released (every member has them).
	aru, highSeq, highDelivered, low uint64
	// safe: every member is known to hold every frame up to safe.
	safe uint64
}

func newRing(id RingID, members []NodeID, me NodeID) ring {
	r := ring{id: id, members: slices.Clone(members), frames: make(map[uint64]*wire.Mcast)}
	i := slices.Index(r.members, me)
	for _, m := range r.members {
		if m != me {
			r.others = append(r.others, m)
		}
	}
	if i >= 0 {
		r.next = r.members[(i+1)%len(r.members)]
	}
	return r
}

func (r *ring) isMember(n NodeID) bool {
	_, ok := slices.BinarySearch(r.members, n)
	return ok
}

// rep is the ring's representative: the lowest member, which formed it.
func (r *ring) rep() NodeID {
	if len(r.members) == 0 {
		return 0
	}
	return r.members[0]
}

// store keeps frame f; it reports false for a duplicate or a released frame.
func (r *ring) store(f *wire.Mcast) bool {
	if f.Seq == 0 || f.Seq <= r.low {
		return false
	}
	if _, ok := r.frames[f.Seq]; ok {
		return false
	}
	r.frames[f.Seq] = f
	if f.Seq > r.highSeq {
		r.highSeq = f.Seq
	}
	for {
		if _, ok := r.frames[r.aru+1]; !ok {
			break
		}
		r.aru++
	}
	return true
}

// release drops frames up to upto: every member holds them and this node
// has delivered them.
func (r *ring) release(upto uint64) {
	for s := r.low + 1; s <= upto; s++ {
		delete(r.frames, s)
	}
	if upto > r.low {
		r.low = upto
	}
}
