package wire

import "testing"

func benchMessages() []struct {
	name string
	msg  Message
} {
	rtr := make([]uint64, 10)
	for i := range rtr {
		rtr[i] = uint64(1000 + 3*i)
	}
	small := make([]Fragment, 20)
	for i := range small {
		small[i] = Fragment{Start: true, End: true, Data: make([]byte, 64)}
	}
	return []struct {
		name string
		msg  Message
	}{
		{"token-10rtr", &Token{Ring: RingID{Rep: 1, Seq: 5}, TokenSeq: 99, Seq: 1040, Aru: 999, Fcc: 20, Rtr: rtr}},
		{"mcast-20x64B", &Mcast{Ring: RingID{Rep: 1, Seq: 5}, Seq: 1041, Sender: 2, Frags: small}},
		{"mcast-1x1400B", &Mcast{Ring: RingID{Rep: 1, Seq: 5}, Seq: 1042, Sender: 2,
			Frags: []Fragment{{Start: true, End: true, Data: make([]byte, 1400)}}}},
	}
}

func BenchmarkAppend(b *testing.B) {
	for _, c := range benchMessages() {
		b.Run(c.name, func(b *testing.B) {
			buf := make([]byte, 0, MaxSize)
			b.SetBytes(int64(Size(c.msg)))
			b.ReportAllocs()
			for b.Loop() {
				buf = Append(buf[:0], c.msg)
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, c := range benchMessages() {
		b.Run(c.name, func(b *testing.B) {
			in := Encode(c.msg)
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Decode(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
