package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"runtime"
	"strings"
	"testing"
)

// TestTruncated: every proper prefix of every golden message is rejected as
// truncated (and does not panic).
func TestTruncated(t *testing.T) {
	for _, c := range goldenCases() {
		b := readGolden(t, c.name)
		for i := range len(b) {
			m, err := Decode(b[:i])
			if !errors.Is(err, ErrTruncated) {
				t.Errorf("%s cut to %d of %d bytes: Decode = %+v, %v; want ErrTruncated", c.name, i, len(b), m, err)
			}
		}
	}
}

// TestTrailing: a golden message followed by anything is rejected.
func TestTrailing(t *testing.T) {
	for _, c := range goldenCases() {
		b := readGolden(t, c.name)
		for _, extra := range [][]byte{{0}, {1, 1}, b} {
			_, err := Decode(append(bytes.Clone(b), extra...))
			if !errors.Is(err, ErrTrailing) {
				t.Errorf("%s + %d bytes: Decode error %v, want ErrTrailing", c.name, len(extra), err)
			}
			var fe *FieldError
			if errors.As(err, &fe) && fe.Offset != len(b) {
				t.Errorf("%s + %d bytes: error offset %d, want %d", c.name, len(extra), fe.Offset, len(b))
			}
		}
	}
}

// patch returns golden message name with b[off:] overwritten by p.
func patch(t *testing.T, name string, off int, p ...byte) []byte {
	t.Helper()
	b := readGolden(t, name)
	copy(b[off:], p)
	return b
}

func le16(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }

// TestMalformed lists hand-made bad inputs with the sentinel and the field
// the error must name. Offsets follow the tables in doc.go.
func TestMalformed(t *testing.T) {
	const mcastFrag0 = HeaderSize + mcastBodySize // first fragment of golden mcast
	cases := []struct {
		name  string
		in    []byte
		want  error
		field string // substring of FieldError.Field; "" = no field
		kind  Kind
	}{
		{"empty", nil, ErrTruncated, "version", 0},
		{"version only", []byte{1}, ErrTruncated, "kind", 0},
		{"version 0", []byte{0, 1}, ErrVersion, "version", 0},
		{"version 2", patch(t, "token", 0, 2), ErrVersion, "version", 0},
		{"version 255", []byte{255}, ErrVersion, "version", 0},
		{"kind 0", []byte{1, 0}, ErrKind, "kind", 0},
		{"kind 9", []byte{1, 9, 0, 0}, ErrKind, "kind", 0},
		{"kind 255", []byte{1, 255}, ErrKind, "kind", 0},
		{"over MaxSize", append([]byte{1, 2}, make([]byte, MaxSize-1)...), ErrTooLong, "", 0},
		{"token flags 2", patch(t, "token", 50, 2), ErrInvalid, "RetransFlg", KindToken},
		{"token flags 3", patch(t, "token", 50, 3), ErrInvalid, "RetransFlg", KindToken},
		{"token rtr count over limit", patch(t, "token", 59, le16(MaxRtr+1)...), ErrTooLong, "Rtr", KindToken},
		{"token rtr count past end", patch(t, "token", 59, 1), ErrTruncated, "Rtr", KindToken},
		{"token rtr count 0xffff", patch(t, "token", 59, 0xff, 0xff), ErrTooLong, "Rtr", KindToken},
		{"mcast sender 0", patch(t, "mcast", 22, 0, 0, 0, 0), ErrInvalid, "Sender", KindMcast},
		{"mcast undefined flag", patch(t, "mcast", 26, 0x81), ErrInvalid, "Flags", KindMcast},
		{"mcast encap byte 2", patch(t, "mcast", 27, 2), ErrInvalid, "Encap", KindMcast},
		{"mcast encap with fragments", patch(t, "mcast", 27, 1), ErrInvalid, "Frags", KindMcast},
		{"mcast fragment count over limit", patch(t, "mcast", 28, le16(MaxFragments+1)...), ErrTooLong, "Frags", KindMcast},
		{"mcast fragment count past end", patch(t, "mcast", 28, 0xff, 0x0f), ErrTruncated, "Frags", KindMcast},
		{"mcast fragment flags 4", patch(t, "mcast", mcastFrag0, 4), ErrInvalid, "Frags[0]", KindMcast},
		{"mcast fragment length past end", patch(t, "mcast", mcastFrag0+1, 0xff), ErrTruncated, "Frags[0]", KindMcast},
		{"mcast encap inner sender 0", patch(t, "mcast_encap", 30+20, 0, 0, 0, 0), ErrInvalid, "Encap.Sender", KindMcast},
		{"mcast encap inner fragment flags", patch(t, "mcast_encap", 30+28, 0x10), ErrInvalid, "Encap.Frags[0]", KindMcast},
		{"mcast encap nested", patch(t, "mcast_encap", 30+25, 1), ErrNesting, "Encap.Encap", KindMcast},
		{"mcast encap nested, bytes from Append", Encode(&Mcast{Sender: 1, Encap: &Mcast{Sender: 2, Encap: &Mcast{Sender: 3}}}), ErrNesting, "Encap.Encap", KindMcast},
		{"join sender 0", patch(t, "join", 2, 0, 0, 0, 0), ErrInvalid, "Sender", KindJoin},
		{"join proc count over limit", patch(t, "join", 14, le16(MaxNodeIDs+1)...), ErrTooLong, "Proc", KindJoin},
		{"join proc unsorted", patch(t, "join", 16, 9), ErrInvalid, "Proc[1]", KindJoin},
		{"join proc duplicate", patch(t, "join", 20, 1), ErrInvalid, "Proc[1]", KindJoin},
		{"join proc zero", patch(t, "join", 16, 0), ErrInvalid, "Proc[0]", KindJoin},
		{"join proc count short", patch(t, "join", 14, 3), ErrTruncated, "Fail", KindJoin},
		{"join fail zero", patch(t, "join", 34, 0), ErrInvalid, "Fail[0]", KindJoin},
		{"join fail duplicate", Encode(&Join{Sender: 1, Fail: []NodeID{7, 7}}), ErrInvalid, "Fail[1]", KindJoin},
		{"commit members count over limit", patch(t, "commit", 23, le16(MaxNodeIDs+1)...), ErrTooLong, "Members", KindCommit},
		{"commit members unsorted", patch(t, "commit", 25, 3), ErrInvalid, "Members[1]", KindCommit},
		{"commit members zero", patch(t, "commit", 33, 0), ErrInvalid, "Members[2]", KindCommit},
		{"commit fewer entries", Encode(&Commit{Members: []NodeID{1, 2}, Entries: make([]CommitEntry, 1)}), ErrInvalid, "Entries", KindCommit},
		{"commit more entries", Encode(&Commit{Members: []NodeID{1}, Entries: make([]CommitEntry, 2)}), ErrInvalid, "Entries", KindCommit},
		{"commit entry flags 2", patch(t, "commit", 39, 2), ErrInvalid, "Entries[0]", KindCommit},
		{"commit last entry flags 0x80", patch(t, "commit", 39+2*commitEntrySize, 0x80), ErrInvalid, "Entries[2]", KindCommit},
		{"merge detect sender 0", patch(t, "merge_detect", 2, 0, 0, 0, 0), ErrInvalid, "Sender", KindMergeDetect},
		{"hold cancel sender 0", patch(t, "hold_cancel", 2, 0, 0, 0, 0), ErrInvalid, "Sender", KindHoldCancel},
		{"leave sender 0", patch(t, "leave", 2, 0, 0, 0, 0), ErrInvalid, "Sender", KindLeave},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := Decode(c.in)
			if !errors.Is(err, c.want) {
				t.Fatalf("Decode = %+v, %v; want %v", m, err, c.want)
			}
			if m != nil {
				t.Errorf("Decode returned a message %+v along with error %v", m, err)
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FieldError", err)
			}
			if fe.Kind != c.kind {
				t.Errorf("FieldError.Kind = %s, want %s (error %v)", fe.Kind, c.kind, err)
			}
			if c.field == "" && fe.Field != "" || !strings.Contains(fe.Field, c.field) {
				t.Errorf("FieldError.Field = %q, want %q (error %v)", fe.Field, c.field, err)
			}
			if fe.Offset > len(c.in) {
				t.Errorf("FieldError.Offset = %d beyond the %d byte input", fe.Offset, len(c.in))
			}
		})
	}
}

// TestErrorText pins the shape of one error message.
func TestErrorText(t *testing.T) {
	_, err := Decode(patch(t, "join", 16, 9))
	const want = "wire: join Proc[1] at offset 20: node id 2 after 9, ids must be ascending without duplicates: invalid value"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant    %s", err, want)
	}
}

// TestDecodeAllocationBound: inputs built to make a decoder allocate as much
// as possible cost at most a constant factor of their length.
func TestDecodeAllocationBound(t *testing.T) {
	ids := make([]NodeID, MaxNodeIDs)
	for i := range ids {
		ids[i] = NodeID(i + 1)
	}
	cases := map[string][]byte{
		"max empty fragments": Encode(&Mcast{Sender: 1, Frags: make([]Fragment, MaxFragments)}),
		"max commit":          Encode(&Commit{Members: ids, Entries: make([]CommitEntry, MaxNodeIDs)}),
		"max join":            Encode(&Join{Sender: 1, Proc: ids, Fail: ids}),
		"max token":           Encode(&Token{Rtr: make([]uint64, (MaxSize-TokenOverhead)/8)}),
		"lying fragment count": append(patch(t, "mcast", 28, le16(MaxFragments)...)[:30],
			make([]byte, 100)...),
		"lying rtr count": patch(t, "token", 59, le16(MaxRtr)...),
	}
	const factor = 12 // a Fragment is 32 bytes in memory, 3 on the wire
	for name, in := range cases {
		var before, after runtime.MemStats
		const runs = 20
		runtime.ReadMemStats(&before)
		for range runs {
			_, _ = Decode(in)
		}
		runtime.ReadMemStats(&after)
		perRun := int(after.TotalAlloc-before.TotalAlloc) / runs
		if limit := factor*len(in) + 256; perRun > limit {
			t.Errorf("%s: Decode of %d bytes allocates %d bytes, want at most %d", name, len(in), perRun, limit)
		}
	}
}
