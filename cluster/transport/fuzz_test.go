package transport

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files and the fuzz seed corpus under testdata")

const fuzzCluster = "fuzz"

// fuzzSeeds are the datagrams of the committed seed corpus: valid ones of
// every kind and a few broken ones.
func fuzzSeeds(t testing.TB) map[string][]byte {
	seal := func(k kind, body []byte) []byte {
		return sealFor(t, testKey, fuzzCluster, header{kind: k, sender: 2, boot: 1700000000000000000, counter: 42}, body)
	}
	data := seal(kindData, []byte("hello, ring"))
	return map[string][]byte{
		"data":       data,
		"data-empty": seal(kindData, nil),
		"ping":       seal(kindPing, []byte{0, 0, 0, 0, 0, 0, 0, 9}),
		"pong":       seal(kindPong, []byte{0, 0, 0, 0, 0, 0, 0, 9}),
		"truncated":  data[:HeaderLen+3],
		"bad-tag":    append(bytes.Clone(data[:len(data)-1]), data[len(data)-1]^0xff),
		"bad-magic":  append([]byte("XX"), data[2:]...),
		"garbage":    bytes.Repeat([]byte{0xa5}, 64),
	}
}

// FuzzDecode feeds arbitrary bytes to the stateless receive path (header
// parse + AEAD open). It must never panic, and whatever it accepts must
// re-seal to exactly the same bytes.
func FuzzDecode(f *testing.F) {
	kr, err := newKeyring(testKey, fuzzCluster)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, pkt []byte) {
		h, body, err := decodeDatagram(kr, pkt)
		if err != nil {
			return
		}
		if h.kind > kindPong {
			t.Fatalf("accepted kind %d", h.kind)
		}
		if again := sealFor(t, testKey, fuzzCluster, h, body); !bytes.Equal(again, pkt) {
			t.Fatalf("accepted datagram does not re-seal to itself")
		}
	})
}

func TestFuzzSeedCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	kr, _ := newKeyring(testKey, fuzzCluster)
	for name, b := range fuzzSeeds(t) {
		path := filepath.Join(dir, name)
		want := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("seed %s: %v (run go test -run TestFuzzSeedCorpus -update)", path, err)
		}
		if string(got) != want {
			t.Errorf("seed %s is stale (run go test -run TestFuzzSeedCorpus -update)", path)
		}
		_, _, err = decodeDatagram(kr, b)
		if valid := name == "data" || name == "data-empty" || name == "ping" || name == "pong"; valid != (err == nil) {
			t.Errorf("seed %s: decode err = %v, want valid=%v", name, err, valid)
		}
	}
}
