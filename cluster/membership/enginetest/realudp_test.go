package enginetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// TestRealUDPThreeNodes is the end-to-end proof over real processes and
// real, encrypted UDP on two links: the ring forms; 100,000 messages from
// three senders are delivered in the same order everywhere; a frozen node
// (SIGSTOP) is expelled and the two others form a ring; the thawed node
// merges back; messages sent throughout are delivered consistently.
func TestRealUDPThreeNodes(t *testing.T) {
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 110*time.Second)
	defer cancel()
	start := time.Now()
	c := newCluster(t, 3)
	all := allIDs(3)

	// 1. The ring forms.
	formed, err := c.waitRing(step(ctx, 20*time.Second), all, all, time.Time{})
	if err != nil {
		t.Fatalf("step 1, ring formation: %v", err)
	}
	t.Logf("ring of 3 formed %v after the processes started", formed.Sub(start).Round(time.Millisecond))
	for _, id := range all {
		st, err := c.status(ctx, int(id))
		if err != nil {
			t.Fatalf("step 1: %v", err)
		}
		if st.State != "operational" || !slices.Equal(st.Members, all) {
			t.Fatalf("step 1: node %d is %s with members %v, want operational with %v", id, st.State, st.Members, all)
		}
	}

	// 2. 100,000 messages from all three senders, same order everywhere.
	const total = 100_000
	t0 := time.Now()
	for i, id := range all {
		count := total / 3
		if i < total%3 {
			count++
		}
		go func() {
			// The senders' errors surface as missing deliveries below.
			if _, err := c.sendAll(ctx, []uint32{id}, request{Count: count, Size: 64}); err != nil {
				t.Errorf("step 2: %v", err)
			}
		}()
	}
	ds, err := c.waitTotal(step(ctx, 60*time.Second), all, total)
	if err != nil {
		t.Fatalf("step 2, %d messages from 3 senders: %v", total, err)
	}
	el := time.Since(t0)
	t.Logf("%d messages of 64 B from 3 senders delivered everywhere in %v (%.0f msgs/s)", total, el.Round(time.Millisecond), total/el.Seconds())
	if err := sameDigests(ds, all); err != nil {
		t.Fatalf("step 2: %v", err)
	}

	// 3. Traffic from every node while node 3 freezes and thaws.
	const faultMsgs, faultRate = 1000, 250
	sendDone := make(chan error, 1)
	go func() {
		_, err := c.sendAll(ctx, all, request{Count: faultMsgs, Size: 256, Rate: faultRate})
		sendDone <- err
	}()
	if _, err := c.waitTotal(step(ctx, 20*time.Second), []uint32{3}, total+300); err != nil {
		t.Fatalf("step 3, traffic before the freeze: %v", err)
	}
	stopped, err := c.node(3).freeze()
	if err != nil {
		t.Fatal(err)
	}
	ring2, err := c.waitRing(step(ctx, 20*time.Second), []uint32{1, 2}, []uint32{1, 2}, stopped)
	if err != nil {
		t.Fatalf("step 3, ring {1,2} after SIGSTOP of node 3: %v", err)
	}
	t.Logf("SIGSTOP of node 3 -> ring {1,2} installed on both survivors: %v", ring2.Sub(stopped).Round(time.Millisecond))
	d12, err := c.digests(ctx, []uint32{1, 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.waitTotal(step(ctx, 20*time.Second), []uint32{1, 2}, max(d12[1].Total, d12[2].Total)+200); err != nil {
		t.Fatalf("step 3, traffic in ring {1,2}: %v", err)
	}
	thawed := time.Now()
	if err := c.node(3).thaw(); err != nil {
		t.Fatal(err)
	}
	merged, err := c.waitRing(step(ctx, 20*time.Second), all, all, thawed)
	if err != nil {
		t.Fatalf("step 3, merge after SIGCONT of node 3: %v", err)
	}
	t.Logf("SIGCONT of node 3 -> ring {1,2,3} installed on all: %v", merged.Sub(thawed).Round(time.Millisecond))
	select {
	case err := <-sendDone:
		if err != nil {
			t.Fatalf("step 3, senders: %v", err)
		}
	case <-ctx.Done():
		t.Fatalf("step 3, senders did not finish: %v", ctx.Err())
	}

	// 4. Markers in the merged ring: once every node delivered every
	// sender's last message, the merged ring's deliveries are complete.
	if _, err := c.sendAll(ctx, all, request{Count: 10, Size: 64}); err != nil {
		t.Fatalf("step 4, markers: %v", err)
	}
	final, err := c.waitSeqs(step(ctx, 30*time.Second), all, c.sentSeqs())
	if err != nil {
		t.Fatalf("step 4, waiting for the markers: %v", err)
	}
	if err := checkFaultRun(ctx, c, final, total); err != nil {
		t.Fatalf("step 4: %v", err)
	}
	for _, id := range all {
		t.Logf("node %d: %d deliveries, configurations %s", id, final[id].Total, segmentsString(final[id].Segments))
	}
	// Not asserted (the scenario names no bound), but reported: the ideal
	// is 2 regular configurations on the survivors, {1,2} then {1,2,3}.
	for _, id := range []uint32{1, 2} {
		n := 0
		for _, s := range final[id].Segments {
			if s.Kind == "regular" && s.TimeNs >= stopped.UnixNano() {
				n++
			}
		}
		t.Logf("node %d installed %d regular configurations from the SIGSTOP to the end (ideal: 2)", id, n)
	}
}

// step bounds one step of a test.
func step(ctx context.Context, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(ctx, d)
	context.AfterFunc(ctx, cancel) // released when either ends
	return ctx
}

// sameDigests checks that nodes ids delivered the same sequence.
func sameDigests(ds map[uint32]*digest, ids []uint32) error {
	ref := ds[ids[0]]
	for _, id := range ids {
		d := ds[id]
		if d.FIFOViolations != 0 || d.BadPayloads != 0 {
			return fmt.Errorf("node %d: %d FIFO violations, %d bad payloads", id, d.FIFOViolations, d.BadPayloads)
		}
		if d.Total != ref.Total || d.Hash != ref.Hash {
			return fmt.Errorf("node %d delivered %d messages with hash %x, node %d %d with hash %x: different order or set",
				id, d.Total, d.Hash, ids[0], ref.Total, ref.Hash)
		}
		for s, n := range ref.PerSender {
			if d.PerSender[s] != n {
				return fmt.Errorf("node %d delivered %d messages from %d, node %d %d", id, d.PerSender[s], s, ids[0], n)
			}
		}
	}
	return nil
}

// checkFaultRun checks the deliveries of the freeze/thaw run: nodes 1 and
// 2 stayed together and delivered identical sequences; node 3 delivered the
// same sequence as they did until its first configuration change after the
// first `before` deliveries (a prefix of theirs), and all three delivered
// the same sequence in the merged ring.
func checkFaultRun(ctx context.Context, c *cluster, final map[uint32]*digest, before uint64) error {
	if err := sameDigests(final, []uint32{1, 2}); err != nil {
		return fmt.Errorf("nodes 1 and 2 stayed together: %w", err)
	}
	d3 := final[3]
	if d3.FIFOViolations != 0 || d3.BadPayloads != 0 {
		return fmt.Errorf("node 3: %d FIFO violations, %d bad payloads", d3.FIFOViolations, d3.BadPayloads)
	}
	var cut uint64
	for _, s := range d3.Segments {
		if s.At >= before {
			cut = s.At
			break
		}
	}
	if cut == 0 {
		return fmt.Errorf("node 3 saw no configuration change after %d deliveries: %s", before, segmentsString(d3.Segments))
	}
	ownOnly, err := checkFrozenPrefix(ctx, c, cut)
	if err != nil {
		return err
	}
	c.t.Logf("node 3 delivered %d messages before its first configuration change after the freeze; the last %d of them, its own, reached no other node", cut, ownOnly)
	// The merged ring is the last regular configuration on every node.
	last := func(d *digest) (segment, error) {
		for i := len(d.Segments) - 1; i >= 0; i-- {
			if d.Segments[i].Kind == "regular" {
				return d.Segments[i], nil
			}
		}
		return segment{}, errors.New("no regular configuration")
	}
	ref, err := last(final[1])
	if err != nil {
		return fmt.Errorf("node 1: %w", err)
	}
	for _, id := range []uint32{2, 3} {
		s, err := last(final[id])
		if err != nil {
			return fmt.Errorf("node %d: %w", id, err)
		}
		if s.Ring != ref.Ring || !slices.Equal(s.Members, ref.Members) {
			return fmt.Errorf("node %d ends in ring %s %v, node 1 in %s %v", id, s.Ring, s.Members, ref.Ring, ref.Members)
		}
		if s.Count != ref.Count || s.Hash != ref.Hash {
			return fmt.Errorf("merged ring %s: node %d delivered %d messages (hash %x), node 1 %d (hash %x)", s.Ring, id, s.Count, s.Hash, ref.Count, ref.Hash)
		}
	}
	return nil
}

// checkFrozenPrefix checks node 3's deliveries up to its first
// configuration change after the freeze (cut) against node 1's. Node 3 may
// have delivered its own last frames, broadcast while it held the token
// just before it froze, that never left the machine: agreed delivery lets a
// sender deliver its own frame at once, and extended virtual synchrony does
// not require survivors to deliver a failed node's frames they never
// received. So: for some k, node 3's last k deliveries before cut are its
// own, its first cut-k deliveries equal node 1's first cut-k, and node 1
// never delivered those k messages.
func checkFrozenPrefix(ctx context.Context, c *cluster, cut uint64) (ownOnly int, err error) {
	const look = 8192
	from := cut - min(cut, look)
	r3, err := c.node(3).call(ctx, request{Op: opDigest, EntriesFrom: from, EntriesTo: cut})
	if err != nil {
		return 0, err
	}
	e3 := r3.Digest.Entries
	k := 0
	for k < len(e3) && e3[len(e3)-1-k].Sender == 3 {
		k++
	}
	var at []uint64
	for j := 0; j <= k; j++ {
		at = append(at, cut-uint64(j))
	}
	pre, err := c.digests(ctx, []uint32{1, 3}, at)
	if err != nil {
		return 0, err
	}
	for j := 0; j <= k; j++ {
		h1, ok := pre[1].HashAt[cut-uint64(j)]
		if !ok || h1 != pre[3].HashAt[cut-uint64(j)] {
			continue
		}
		if j == 0 {
			return 0, nil
		}
		// Node 3's last j own messages must not appear on node 1 at all.
		r1, err := c.node(1).call(ctx, request{Op: opDigest, EntriesFrom: cut - uint64(j), EntriesTo: cut - uint64(j) + look})
		if err != nil {
			return 0, err
		}
		own := map[entry]bool{}
		for _, e := range e3[len(e3)-j:] {
			own[e] = true
		}
		for i, e := range r1.Digest.Entries {
			if own[e] {
				return j, fmt.Errorf("node 1 delivered node 3's message %d/%d at %d, after the common prefix of %d that it should have been in", e.Sender, e.Seq, cut-uint64(j)+uint64(i), cut-uint64(j))
			}
		}
		return j, nil
	}
	// Diagnose: the first index where node 1 and node 3 differ.
	r1, err := c.node(1).call(ctx, request{Op: opDigest, EntriesFrom: from, EntriesTo: cut})
	if err != nil {
		return 0, err
	}
	e1 := r1.Digest.Entries
	for i := range min(len(e1), len(e3)) {
		if e1[i] != e3[i] {
			lo, hi := max(0, i-3), min(len(e3), i+5)
			return 0, fmt.Errorf("node 3's first %d deliveries are not node 1's plus node 3's own tail (%d own messages at the end): they differ at %d: node 1 %v, node 3 %v",
				cut, k, from+uint64(i), e1[lo:min(len(e1), hi)], e3[lo:hi])
		}
	}
	return 0, fmt.Errorf("node 3's first %d deliveries differ from node 1's before index %d (node 1 has %d there)", cut, from, len(e1))
}

func segmentsString(segs []segment) string {
	s := ""
	for _, g := range segs {
		s += fmt.Sprintf("[%s %s %v at %d, %d msgs] ", g.Kind[:3], g.Ring, g.Members, g.At, g.Count)
	}
	return s
}
