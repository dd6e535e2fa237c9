package wire

import (
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.hex and the golden seeds of testdata/fuzz/FuzzDecode")

func goldenPath(name string) string { return filepath.Join("testdata", "golden", name+".hex") }
func seedPath(name string) string {
	return filepath.Join("testdata", "fuzz", "FuzzDecode", "golden_"+name)
}

// readGolden parses a golden file: '#' lines are comments, the rest is hex
// with any whitespace.
func readGolden(t testing.TB, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(goldenPath(name))
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create it): %v", err)
	}
	var h strings.Builder
	for line := range strings.Lines(string(raw)) {
		if strings.HasPrefix(line, "#") {
			continue
		}
		h.WriteString(strings.Join(strings.Fields(line), ""))
	}
	b, err := hex.DecodeString(h.String())
	if err != nil {
		t.Fatalf("parsing %s: %v", goldenPath(name), err)
	}
	return b
}

func goldenFile(name string, m Message, b []byte) string {
	return fmt.Sprintf("# %s: wire version %d, kind %d (%s), %d bytes; layout in doc.go.\n"+
		"# Regenerate: go test ./cluster/totem/wire -run TestGolden -update\n%s",
		name, b[0], b[1], m.Kind(), len(b), hexDump(b))
}

func fuzzSeed(b []byte) string { return fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b) }

// TestGolden pins the byte layout of every kind: Encode must produce the
// committed bytes, and Decode of them must give back the message. The same
// bytes are committed as FuzzDecode seeds.
func TestGolden(t *testing.T) {
	for _, c := range goldenCases() {
		t.Run(c.name, func(t *testing.T) {
			got := Encode(c.msg)
			if *update {
				for path, data := range map[string]string{goldenPath(c.name): goldenFile(c.name, c.msg, got), seedPath(c.name): fuzzSeed(got)} {
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			want := readGolden(t, c.name)
			if !bytes.Equal(got, want) {
				t.Fatalf("Encode differs from %s (if the change is intended, the wire version must change too):\ngot:\n%swant:\n%s", goldenPath(c.name), hexDump(got), hexDump(want))
			}
			m, err := Decode(want)
			if err != nil {
				t.Fatalf("Decode(golden): %v", err)
			}
			if !reflect.DeepEqual(m, c.msg) {
				t.Fatalf("Decode(golden) = %+v, want %+v", m, c.msg)
			}
			seed, err := os.ReadFile(seedPath(c.name))
			if err != nil {
				t.Fatalf("reading fuzz seed: %v", err)
			}
			if string(seed) != fuzzSeed(want) {
				t.Fatalf("%s does not hold the golden bytes; run with -update", seedPath(c.name))
			}
		})
	}
}

// TestGoldenCoversEveryKind guards against adding a kind without a golden
// file.
func TestGoldenCoversEveryKind(t *testing.T) {
	seen := map[Kind]bool{}
	for _, c := range goldenCases() {
		seen[c.msg.Kind()] = true
	}
	for k := Kind(0); k < 255; k++ {
		if k.Known() && !seen[k] {
			t.Errorf("no golden case for kind %d (%s)", k, k)
		}
	}
}
