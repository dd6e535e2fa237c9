package totemtest

import (
	"strings"
	"testing"

	"github.com/ovsha/ovsha/cluster/totem"
)

// logBuilder feeds a synthetic event log to a Checker.
type logBuilder struct {
	t     *testing.T
	c     *Checker
	procs map[totem.NodeID]ProcID
	msgs  map[string][]byte
	n     uint64
}

func newLog(t *testing.T, nodes ...totem.NodeID) *logBuilder {
	b := &logBuilder{t: t, c: NewChecker(7), procs: map[totem.NodeID]ProcID{}, msgs: map[string][]byte{}}
	for _, n := range nodes {
		b.procs[n] = b.c.AddProc(n)
	}
	return b
}

// send broadcasts a message named name from sender.
func (b *logBuilder) send(sender totem.NodeID, name string, safe bool) {
	b.n++
	p := encodePayload(nil, MsgID{Sender: sender, Counter: b.n}, safe, []byte(name))
	b.msgs[name] = p
	b.c.Broadcast(0, p)
}

func (b *logBuilder) deliver(node totem.NodeID, names ...string) {
	for _, name := range names {
		p := b.msgs[name]
		id, _, _, _ := decodePayload(p)
		b.c.Event(0, b.procs[node], totem.Event{Kind: totem.EventDeliver, Sender: id.Sender, Payload: p})
	}
}

func (b *logBuilder) regular(node totem.NodeID, seq uint64, members, joined, left []totem.NodeID) {
	b.c.Event(0, b.procs[node], totem.Event{Kind: totem.EventRegular, Ring: totem.RingID{Rep: members[0], Seq: seq}, Members: members, Joined: joined, Left: left})
}

func (b *logBuilder) transitional(node totem.NodeID, seq uint64, members, left []totem.NodeID) {
	b.c.Event(0, b.procs[node], totem.Event{Kind: totem.EventTransitional, Ring: totem.RingID{Rep: members[0], Seq: seq}, Members: members, Left: left})
}

func ids(n ...totem.NodeID) []totem.NodeID { return n }

// expect asserts exactly the given invariants were violated (each at least
// once) and that a detail contains want.
func (b *logBuilder) expect(invs map[string]int, want string) {
	b.t.Helper()
	got := b.c.Counts()
	for inv, n := range got {
		if invs[inv] != n {
			b.t.Errorf("invariant %s: %d violations, want %d; violations: %v", inv, n, invs[inv], b.c.Violations())
		}
	}
	for inv, n := range invs {
		if got[inv] != n {
			b.t.Errorf("invariant %s: %d violations, want %d; violations: %v", inv, got[inv], n, b.c.Violations())
		}
	}
	if want == "" {
		return
	}
	for _, v := range b.c.Violations() {
		if strings.Contains(v.Detail, want) {
			return
		}
	}
	b.t.Errorf("no violation detail contains %q: %v", want, b.c.Violations())
}

// healthy is a clean history: 1,2,3 form a ring, deliver a b c, 3 leaves,
// 1,2 deliver d in the transitional configuration and form a new ring.
func healthy(b *logBuilder) {
	for _, n := range ids(1, 2, 3) {
		b.regular(n, 4, ids(1, 2, 3), nil, nil)
	}
	b.send(1, "a", false)
	b.send(2, "b", true)
	b.send(3, "c", false)
	b.send(1, "d", false)
	b.deliver(1, "a", "b")
	b.deliver(2, "a", "b", "c")
	b.deliver(3, "a", "b", "c")
	b.deliver(1, "c")
	for _, n := range ids(1, 2) {
		b.transitional(n, 8, ids(1, 2), ids(3))
		b.deliver(n, "d")
		b.regular(n, 8, ids(1, 2), nil, ids(3))
	}
}

func TestCheckerHealthyHistory(t *testing.T) {
	b := newLog(t, 1, 2, 3)
	healthy(b)
	b.expect(nil, "")
}

func TestCheckerDetects(t *testing.T) {
	tests := []struct {
		name  string
		run   func(b *logBuilder)
		invs  map[string]int
		match string
	}{
		{
			name: "reordered delivery",
			run: func(b *logBuilder) {
				for _, n := range ids(1, 2) {
					b.regular(n, 4, ids(1, 2), nil, nil)
				}
				b.send(1, "a", false)
				b.send(2, "b", false)
				b.send(2, "c", false)
				b.deliver(1, "a", "b", "c")
				b.deliver(2, "a", "c", "b")
			},
			invs:  map[string]int{InvAgreedOrder: 1},
			match: "node 2 delivered 2#3 then 2#2; node 1 delivered 2#2 then 2#3",
		},
		{
			name: "reordered delivery, interleaved in time",
			run: func(b *logBuilder) {
				for _, n := range ids(1, 2, 3) {
					b.regular(n, 4, ids(1, 2, 3), nil, nil)
				}
				b.send(1, "a", false)
				b.send(2, "b", false)
				b.deliver(3, "b")
				b.deliver(1, "a")
				b.deliver(2, "b")
				b.deliver(1, "b")
				b.deliver(2, "a") // 2: b a — conflicts with 1: a b
				b.deliver(3, "a") // 3: b a — agrees with 2, conflicts with 1
			},
			invs:  map[string]int{InvAgreedOrder: 2},
			match: "node 2 delivered 2#2 then 1#1; node 1 delivered 1#1 then 2#2",
		},
		{
			name: "missing message in virtual synchrony",
			run: func(b *logBuilder) {
				for _, n := range ids(1, 2, 3) {
					b.regular(n, 4, ids(1, 2, 3), nil, nil)
				}
				b.send(1, "a", false)
				b.send(1, "b", false)
				b.deliver(1, "a", "b")
				b.deliver(2, "a")
				for _, n := range ids(1, 2) {
					b.transitional(n, 8, ids(1, 2), ids(3))
					b.regular(n, 8, ids(1, 2), nil, ids(3))
				}
			},
			invs:  map[string]int{InvVirtualSynchrony: 1},
			match: "missing [1#2]",
		},
		{
			name: "different transitional members in virtual synchrony",
			run: func(b *logBuilder) {
				for _, n := range ids(1, 2, 3) {
					b.regular(n, 4, ids(1, 2, 3), nil, nil)
				}
				b.transitional(1, 8, ids(1, 2), ids(3))
				b.regular(1, 8, ids(1, 2), nil, ids(3))
				b.transitional(2, 8, ids(2), ids(1, 3))
				b.regular(2, 8, ids(1, 2), nil, ids(3))
			},
			invs:  map[string]int{InvVirtualSynchrony: 1},
			match: "transitional members [2] vs [1 2]",
		},
		{
			name: "transitional configuration lists a node that came from elsewhere",
			run: func(b *logBuilder) {
				for _, n := range ids(1, 2) {
					b.regular(n, 4, ids(1, 2), nil, nil)
				}
				b.regular(3, 5, ids(3), nil, nil)
				b.transitional(1, 8, ids(1, 2), nil)
				b.regular(1, 8, ids(1, 2, 3), ids(3), nil)
				b.transitional(3, 8, ids(3), nil)
				b.regular(3, 8, ids(1, 2, 3), ids(1, 2), nil)
				b.transitional(2, 8, ids(1, 2, 3), nil) // wrong: 3 came from ring 3.5
				b.regular(2, 8, ids(1, 2, 3), ids(3), nil)
			},
			invs:  map[string]int{InvVirtualSynchrony: 2, InvConfig: 1},
			match: "lists node 3, which came into 1.8 from 3.5",
		},
		{
			name: "ring id reused after restart",
			run: func(b *logBuilder) {
				b.regular(1, 4, ids(1), nil, nil)
				b.procs[1] = b.c.AddProc(1)
				b.regular(1, 4, ids(1), nil, nil)
			},
			invs:  map[string]int{InvConfig: 1},
			match: "ring id 1.4 reused",
		},
		{
			name: "duplicate",
			run: func(b *logBuilder) {
				b.regular(1, 4, ids(1), nil, nil)
				b.send(1, "a", false)
				b.deliver(1, "a", "a")
			},
			invs:  map[string]int{InvDuplicate: 1},
			match: "delivered 1#1 twice",
		},
		{
			name: "phantom: never broadcast",
			run: func(b *logBuilder) {
				b.regular(1, 4, ids(1), nil, nil)
				p := encodePayload(nil, MsgID{Sender: 2, Counter: 99}, false, nil)
				b.c.Event(0, b.procs[1], totem.Event{Kind: totem.EventDeliver, Sender: 2, Payload: p})
			},
			invs:  map[string]int{InvPhantom: 1},
			match: "2#99, which was never broadcast",
		},
		{
			name: "phantom: altered bytes",
			run: func(b *logBuilder) {
				b.regular(1, 4, ids(1), nil, nil)
				b.send(1, "abc", false)
				p := append([]byte(nil), b.msgs["abc"]...)
				p[len(p)-1] ^= 1
				b.c.Event(0, b.procs[1], totem.Event{Kind: totem.EventDeliver, Sender: 1, Payload: p})
			},
			invs:  map[string]int{InvPhantom: 1},
			match: "different bytes",
		},
		{
			name: "phantom: wrong sender",
			run: func(b *logBuilder) {
				b.regular(1, 4, ids(1, 2), nil, nil)
				b.send(1, "a", false)
				b.c.Event(0, b.procs[1], totem.Event{Kind: totem.EventDeliver, Sender: 2, Payload: b.msgs["a"]})
			},
			invs:  map[string]int{InvPhantom: 1},
			match: "with sender 2",
		},
		{
			name: "safe message missed by a member that moved on",
			run: func(b *logBuilder) {
				for _, n := range ids(1, 2) {
					b.regular(n, 4, ids(1, 2), nil, nil)
				}
				b.send(1, "s", true)
				b.transitional(2, 8, ids(2), ids(1))
				b.regular(2, 8, ids(2), nil, ids(1))
				b.deliver(1, "s") // safe in the regular part of ring 4, after 2 left it without s
			},
			invs:  map[string]int{InvSafe: 1},
			match: "node 2 left that ring",
		},
		{
			name: "same ring id, different members",
			run: func(b *logBuilder) {
				b.regular(1, 4, ids(1, 2), nil, nil)
				b.regular(2, 4, ids(1, 2, 3), nil, nil)
			},
			invs:  map[string]int{InvConfig: 1},
			match: "installed ring 1.4 with members [1 2 3]",
		},
		{
			name: "ring id goes backwards, no transitional, wrong joined",
			run: func(b *logBuilder) {
				b.regular(1, 8, ids(1), nil, nil)
				b.regular(1, 4, ids(1, 2), nil, nil)
			},
			invs:  map[string]int{InvConfig: 3},
			match: "ring id went from 1.8 to 1.4",
		},
		{
			name: "delivery before any configuration",
			run: func(b *logBuilder) {
				b.send(1, "a", false)
				b.deliver(1, "a")
			},
			invs:  map[string]int{InvConfig: 1},
			match: "before installing any configuration",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newLog(t, 1, 2, 3)
			tc.run(b)
			b.expect(tc.invs, tc.match)
		})
	}
}

func TestCheckerRestartIsANewProcess(t *testing.T) {
	b := newLog(t, 1, 2)
	for _, n := range ids(1, 2) {
		b.regular(n, 4, ids(1, 2), nil, nil)
	}
	b.send(1, "a", false)
	b.deliver(1, "a")
	// node 1 restarts: a new incarnation may deliver a again.
	b.procs[1] = b.c.AddProc(1)
	b.regular(1, 8, ids(1), nil, nil)
	b.deliver(1, "a")
	b.expect(nil, "")
}

func TestPayloadRoundTrip(t *testing.T) {
	id := MsgID{Sender: 3, Counter: 1 << 40}
	p := encodePayload(nil, id, true, []byte("xyz"))
	got, safe, body, err := decodePayload(p)
	if err != nil || got != id || !safe || string(body) != "xyz" {
		t.Fatalf("decodePayload = %v %v %q %v", got, safe, body, err)
	}
	if _, _, _, err := decodePayload([]byte("short")); err == nil {
		t.Fatal("decodePayload accepted a foreign payload")
	}
}

func TestParseFaultsAndGroups(t *testing.T) {
	f, err := ParseFaults("loss,crash")
	if err != nil || f != FaultLoss|FaultCrash || f.String() != "loss,crash" {
		t.Fatalf("ParseFaults = %v, %v", f, err)
	}
	if _, err := ParseFaults("loss,fire"); err == nil || !strings.Contains(err.Error(), `"fire"`) {
		t.Fatalf("ParseFaults(fire) error = %v", err)
	}
	g, err := ParseGroups("(1,2)|(3)")
	if err != nil || FormatGroups(g) != "(1,2)|(3)" {
		t.Fatalf("ParseGroups = %v, %v", g, err)
	}
	if _, err := ParseGroups("(1,x)"); err == nil {
		t.Fatal("ParseGroups accepted a bad id")
	}
}
