package transport

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
)

func TestHeaderRoundTripAndLayout(t *testing.T) {
	h := header{kind: kindPong, sender: 0x01020304, boot: 0x1112131415161718, counter: 0x2122232425262728}
	b := make([]byte, Overhead)
	h.put(b)
	want := "4f5601020102030411121314151617182122232425262728"
	if got := hex.EncodeToString(b[:HeaderLen]); got != want {
		t.Errorf("header bytes = %s, want %s (wire format changed?)", got, want)
	}
	got, err := parseHeader(b)
	if err != nil || got != h {
		t.Errorf("parseHeader = %+v, %v; want %+v", got, err, h)
	}
}

func TestParseHeaderRejects(t *testing.T) {
	good := make([]byte, Overhead)
	header{kind: kindData, sender: 1, boot: 2, counter: 3}.put(good)
	with := func(i int, v byte) []byte { b := bytes.Clone(good); b[i] = v; return b }
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"nil", nil, errShort},
		{"header only", good[:HeaderLen], errShort},
		{"one short", good[:Overhead-1], errShort},
		{"magic", with(0, 'X'), errMagic},
		{"magic 2", with(1, 'X'), errMagic},
		{"version", with(2, 2), errVersion},
		{"kind 3", with(3, 3), errFlags},
		{"high flag bit", with(3, 0x04), errFlags},
	}
	for _, tt := range tests {
		if _, err := parseHeader(tt.b); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestSealOpen(t *testing.T) {
	kr, err := newKeyring(testKey, "alpha")
	if err != nil {
		t.Fatal(err)
	}
	h := header{kind: kindData, sender: 3, boot: 99, counter: 12}
	pkt := sealFor(t, testKey, "alpha", h, []byte("hello"))
	if len(pkt) != len("hello")+Overhead {
		t.Fatalf("sealed %d bytes, want %d", len(pkt), len("hello")+Overhead)
	}
	gh, body, err := decodeDatagram(kr, pkt)
	if err != nil || gh != h || string(body) != "hello" {
		t.Fatalf("decode = %+v %q %v", gh, body, err)
	}
	// Flipping any single bit anywhere (header included) fails authentication
	// or header parsing.
	for i := range pkt {
		bad := bytes.Clone(pkt)
		bad[i] ^= 0x01
		if _, _, err := decodeDatagram(kr, bad); err == nil {
			t.Errorf("bit flip at byte %d was accepted", i)
		}
	}
	// Another cluster name or key derives other keys.
	for _, other := range []struct {
		key     []byte
		cluster string
	}{{testKey, "beta"}, {bytes.Repeat([]byte{1}, 32), "alpha"}} {
		okr, _ := newKeyring(other.key, other.cluster)
		if _, _, err := decodeDatagram(okr, pkt); !errors.Is(err, errAuth) {
			t.Errorf("cluster %q: err = %v, want authentication failure", other.cluster, err)
		}
	}
	// Distinct (sender, boot) give distinct keys: the same header fields
	// under another sender id do not verify.
	moved := bytes.Clone(pkt)
	header{kind: kindData, sender: 4, boot: 99, counter: 12}.put(moved)
	if _, _, err := decodeDatagram(kr, moved); !errors.Is(err, errAuth) {
		t.Errorf("re-labelled sender: err = %v, want authentication failure", err)
	}
}

func TestKeyringRejectsKeySize(t *testing.T) {
	for _, n := range []int{0, MinKeyLen - 1, MaxKeyLen + 1} {
		if _, err := newKeyring(make([]byte, n), "c"); err == nil {
			t.Errorf("key of %d bytes accepted", n)
		}
	}
	for _, n := range []int{MinKeyLen, KeyLen, MaxKeyLen} {
		if _, err := newKeyring(make([]byte, n), "c"); err != nil {
			t.Errorf("key of %d bytes: %v", n, err)
		}
	}
}
