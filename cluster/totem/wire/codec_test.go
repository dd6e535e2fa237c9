package wire

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

const randomMessages = 3000

// TestRoundTrip: Decode(Encode(m)) == m for random valid messages of every
// kind, Size is exact, and Append keeps what dst already held.
func TestRoundTrip(t *testing.T) {
	g := newGen(1)
	prefix := []byte("prefix")
	for i := range randomMessages {
		m := g.message()
		if err := Validate(m); err != nil {
			t.Fatalf("message %d: generator made an invalid message: %v", i, err)
		}
		b := Encode(m)
		if len(b) != Size(m) {
			t.Fatalf("message %d (%s): Size = %d, encoded %d bytes", i, m.Kind(), Size(m), len(b))
		}
		if cap(b) != len(b) {
			t.Errorf("message %d: Encode returned cap %d for len %d, want exact", i, cap(b), len(b))
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("message %d (%s): Decode: %v\n%s", i, m.Kind(), err, hexDump(b))
		}
		if !reflect.DeepEqual(got, m) {
			t.Fatalf("message %d: round trip changed the message:\ngot  %+v\nwant %+v", i, got, m)
		}
		a := Append(bytes.Clone(prefix), m)
		if !bytes.Equal(a[:len(prefix)], prefix) || !bytes.Equal(a[len(prefix):], b) {
			t.Fatalf("message %d: Append(prefix, m) = %x, want prefix then %x", i, a, b)
		}
	}
}

// TestDecodeEmptyIsNil: empty lists, whether nil or empty in the original,
// decode as nil; this is the normalisation that makes round trips exact.
func TestDecodeEmptyIsNil(t *testing.T) {
	cases := []struct {
		in, want Message
	}{
		{&Token{Rtr: []uint64{}}, &Token{}},
		{&Mcast{Sender: 1, Frags: []Fragment{}}, &Mcast{Sender: 1}},
		{&Mcast{Sender: 1, Frags: []Fragment{{Data: []byte{}}}}, &Mcast{Sender: 1, Frags: []Fragment{{}}}},
		{&Join{Sender: 1, Proc: []NodeID{}, Fail: []NodeID{}}, &Join{Sender: 1}},
		{&Commit{Members: []NodeID{}, Entries: []CommitEntry{}}, &Commit{}},
	}
	for _, c := range cases {
		got, err := Decode(Encode(c.in))
		if err != nil {
			t.Fatalf("Decode(Encode(%+v)): %v", c.in, err)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("Decode(Encode(%+v)) = %+v, want %+v", c.in, got, c.want)
		}
	}
}

// TestFragmentDataAliasesInput documents that Data points into the input,
// with capacity clipped so appending to it cannot overwrite later bytes.
func TestFragmentDataAliasesInput(t *testing.T) {
	b := Encode(&Mcast{Sender: 1, Frags: []Fragment{{Data: []byte("ab")}, {Data: []byte("cd")}}})
	m, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	f := m.(*Mcast).Frags
	b[len(b)-1-2-3] = 'X' // the 'b' of the first fragment
	if string(f[0].Data) != "aX" {
		t.Errorf("Frags[0].Data = %q after changing the input, want it to alias the input (%q)", f[0].Data, "aX")
	}
	if cap(f[0].Data) != len(f[0].Data) {
		t.Errorf("cap(Frags[0].Data) = %d, want %d (clipped)", cap(f[0].Data), len(f[0].Data))
	}
	_ = append(f[0].Data, 'Z')
	if string(f[1].Data) != "cd" {
		t.Errorf("appending to Frags[0].Data changed Frags[1].Data to %q", f[1].Data)
	}
}

// TestOverheads: the packing constants describe Size exactly.
func TestOverheads(t *testing.T) {
	g := newGen(2)
	if got := Size(&Mcast{}); got != FrameOverhead {
		t.Errorf("Size(empty Mcast) = %d, FrameOverhead = %d", got, FrameOverhead)
	}
	if got := Size(&Token{}); got != TokenOverhead {
		t.Errorf("Size(empty Token) = %d, TokenOverhead = %d", got, TokenOverhead)
	}
	if FragmentOverhead(0) != 0 || FragmentOverhead(-1) != 0 {
		t.Errorf("FragmentOverhead(0), (-1) = %d, %d, want 0", FragmentOverhead(0), FragmentOverhead(-1))
	}
	for range 500 {
		frags := g.frags(100, 1500)
		data := 0
		for _, f := range frags {
			data += len(f.Data)
		}
		m := &Mcast{Sender: 1, Frags: frags}
		if got, want := len(Encode(m)), FrameOverhead+FragmentOverhead(len(frags))+data; got != want {
			t.Fatalf("%d fragments, %d data bytes: encoded %d bytes, overhead formula says %d", len(frags), data, got, want)
		}
		outer := &Mcast{Sender: 2, Encap: m}
		if got, want := len(Encode(outer)), len(Encode(m))+EncapOverhead; got != want {
			t.Fatalf("encapsulated frame is %d bytes, want frame + EncapOverhead = %d", got, want)
		}
	}
}

// TestPackingRuleFits: a frame packed to the documented rule fits the
// datagram even when encapsulated, and the rule wastes nothing.
func TestPackingRuleFits(t *testing.T) {
	for _, p := range []int{1200, 1472, 9000, MaxSize} {
		for _, n := range []int{1, 2, 20} {
			data := p - EncapOverhead - FrameOverhead - FragmentOverhead(n)
			frags := make([]Fragment, n)
			for i := range frags {
				sz := data / n
				if i == 0 {
					sz += data % n
				}
				frags[i] = Fragment{Start: true, End: true, Data: make([]byte, sz)}
			}
			frame := &Mcast{Sender: 1, Frags: frags}
			encap := &Mcast{Sender: 1, Encap: frame}
			if got := Size(encap); got != p {
				t.Errorf("P=%d n=%d: encapsulated size %d, want exactly %d", p, n, got, p)
			}
			if err := Validate(encap); err != nil {
				t.Errorf("P=%d n=%d: %v", p, n, err)
			}
		}
	}
}

// TestAppendAllocations: Append into a buffer with room allocates nothing;
// Encode allocates once.
func TestAppendAllocations(t *testing.T) {
	for _, c := range goldenCases() {
		buf := make([]byte, 0, MaxSize)
		if n := testing.AllocsPerRun(50, func() { buf = Append(buf[:0], c.msg) }); n != 0 {
			t.Errorf("%s: Append allocates %v times per call, want 0", c.name, n)
		}
		if n := testing.AllocsPerRun(50, func() { _ = Encode(c.msg) }); n != 1 {
			t.Errorf("%s: Encode allocates %v times per call, want 1", c.name, n)
		}
	}
}

// TestInvalidMessages: Append encodes anything without panicking, and
// Validate(m) fails exactly when Decode(Encode(m)) fails.
func TestInvalidMessages(t *testing.T) {
	ids := func(n int) []NodeID {
		s := make([]NodeID, n)
		for i := range s {
			s[i] = NodeID(i + 1)
		}
		return s
	}
	cyclic := &Mcast{Sender: 1}
	cyclic.Encap = cyclic
	big := make([]byte, 70000)
	cases := []struct {
		name string
		m    Message
		want error
	}{
		{"nil interface", nil, ErrInvalid},
		{"nil token", (*Token)(nil), ErrInvalid},
		{"nil mcast", (*Mcast)(nil), ErrInvalid},
		{"nil join", (*Join)(nil), ErrInvalid},
		{"nil commit", (*Commit)(nil), ErrInvalid},
		{"nil merge detect", (*MergeDetect)(nil), ErrInvalid},
		{"nil hold cancel", (*HoldCancel)(nil), ErrInvalid},
		{"nil leave", (*Leave)(nil), ErrInvalid},
		{"foreign type", foreign{}, ErrKind},
		{"token rtr over limit", &Token{Rtr: make([]uint64, MaxRtr+1)}, ErrTooLong},
		{"token over MaxSize", &Token{Rtr: make([]uint64, (MaxSize-TokenOverhead)/8+1)}, ErrTooLong},
		{"mcast sender 0", &Mcast{}, ErrInvalid},
		{"mcast undefined flag", &Mcast{Sender: 1, Flags: 0x80}, ErrInvalid},
		{"mcast too many fragments", &Mcast{Sender: 1, Frags: make([]Fragment, MaxFragments+1)}, ErrTooLong},
		{"mcast fragment over 64 KiB", &Mcast{Sender: 1, Frags: []Fragment{{Data: big}}}, ErrTooLong},
		{"mcast over MaxSize", &Mcast{Sender: 1, Frags: []Fragment{{Data: big[:MaxSize-FrameOverhead-2]}}}, ErrTooLong},
		{"mcast encap and fragments", &Mcast{Sender: 1, Frags: []Fragment{{}}, Encap: &Mcast{Sender: 2}}, ErrInvalid},
		{"mcast nested encap", &Mcast{Sender: 1, Encap: &Mcast{Sender: 2, Encap: &Mcast{Sender: 3}}}, ErrNesting},
		{"mcast cyclic encap", cyclic, ErrNesting},
		{"mcast inner sender 0", &Mcast{Sender: 1, Encap: &Mcast{}}, ErrInvalid},
		{"join sender 0", &Join{}, ErrInvalid},
		{"join proc unsorted", &Join{Sender: 1, Proc: []NodeID{1, 3, 2}}, ErrInvalid},
		{"join proc duplicate", &Join{Sender: 1, Proc: []NodeID{1, 2, 2}}, ErrInvalid},
		{"join proc zero", &Join{Sender: 1, Proc: []NodeID{0, 1}}, ErrInvalid},
		{"join fail unsorted", &Join{Sender: 1, Fail: []NodeID{5, 4}}, ErrInvalid},
		{"join proc over limit", &Join{Sender: 1, Proc: ids(MaxNodeIDs + 1)}, ErrTooLong},
		{"join fail over limit", &Join{Sender: 1, Fail: ids(MaxNodeIDs + 1)}, ErrTooLong},
		{"join at 0xffff ids", &Join{Sender: 1, Proc: ids(0x10000)}, ErrTooLong},
		{"commit members unsorted", &Commit{Members: []NodeID{2, 1}, Entries: make([]CommitEntry, 2)}, ErrInvalid},
		{"commit members zero", &Commit{Members: []NodeID{0}, Entries: make([]CommitEntry, 1)}, ErrInvalid},
		{"commit fewer entries", &Commit{Members: []NodeID{1, 2}, Entries: make([]CommitEntry, 1)}, ErrInvalid},
		{"commit more entries", &Commit{Members: []NodeID{1}, Entries: make([]CommitEntry, 2)}, ErrInvalid},
		{"commit members over limit", &Commit{Members: ids(MaxNodeIDs + 1), Entries: make([]CommitEntry, MaxNodeIDs+1)}, ErrTooLong},
		{"merge detect sender 0", &MergeDetect{}, ErrInvalid},
		{"hold cancel sender 0", &HoldCancel{}, ErrInvalid},
		{"leave sender 0", &Leave{}, ErrInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			verr := Validate(c.m)
			if !errors.Is(verr, c.want) {
				t.Errorf("Validate = %v, want %v", verr, c.want)
			}
			b := Encode(c.m)
			if len(b) != Size(c.m) {
				t.Errorf("Size = %d, encoded %d bytes", Size(c.m), len(b))
			}
			if m, err := Decode(b); err == nil {
				t.Errorf("Decode(Encode(m)) = %+v, nil error; want an error", m)
			}
		})
	}
}

// TestCountSaturates: a list longer than 0xffff is written with count
// 0xffff, above every limit, never with a wrapped-around count.
func TestCountSaturates(t *testing.T) {
	ids := make([]NodeID, 0x10000+3) // would wrap to 3
	b := Encode(&Join{Sender: 1, Proc: ids})
	if got := b[14:16]; got[0] != 0xff || got[1] != 0xff {
		t.Errorf("Proc count bytes = %x, want ffff", got)
	}
}

// foreign is a Message type this package does not know.
type foreign struct{}

func (foreign) Kind() Kind { return KindLeave }
