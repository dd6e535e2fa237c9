package config

import (
	"bytes"
	"encoding"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// TestGolden decodes every testdata/*.conf and compares the result (the
// decoded Cluster and its effective timers as JSON, or the error text) with
// testdata/*.golden. Run with -update to regenerate after a deliberate change.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.conf")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/*.conf files (err %v)", err)
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(strings.TrimSuffix(name, ".conf"), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got := decodeReport(name, data)
			golden := strings.TrimSuffix(path, ".conf") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("decoding %s differs from %s (go test -update rewrites it)\n--- got:\n%s\n--- want:\n%s", path, golden, got, want)
			}
		})
	}
}

// TestManExamplesParse: the examples of corosync.conf(5), votequorum(5) and
// Debian's corosync.conf must be accepted by Parse (Decode may still reject
// them, e.g. for lacking ovsha's required nodeid: that is in their goldens).
func TestManExamplesParse(t *testing.T) {
	files, _ := filepath.Glob("testdata/man-*.conf")
	files = append(files, "testdata/debian-corosync.conf")
	if len(files) < 5 {
		t.Fatalf("expected the man page examples in testdata, found %v", files)
	}
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(filepath.Base(path), data); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
}

func decodeReport(name string, data []byte) []byte {
	f, err := Parse(name, data)
	if err != nil {
		return []byte("parse error:\n" + err.Error() + "\n")
	}
	c, err := Decode(f)
	if err != nil {
		return []byte("decode error:\n" + err.Error() + "\n")
	}
	out := orderedMap{
		{"cluster", readable(reflect.ValueOf(*c))},
		{"effective_totem", readable(reflect.ValueOf(c.EffectiveTotem()))},
		{"expected_votes", c.ExpectedVotes()},
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return []byte("marshal error: " + err.Error() + "\n")
	}
	return append(b, '\n')
}

// orderedMap marshals as a JSON object keeping field order.
type orderedMap []struct {
	k string
	v any
}

func (m orderedMap) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, kv := range m {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(kv.k)
		v, err := json.Marshal(kv.v)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

var (
	durationType      = reflect.TypeFor[time.Duration]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

// readable converts v for the goldens: durations as "200ms", addresses as
// text, struct fields in declaration order, json:"-" fields left out.
func readable(v reflect.Value) any {
	if v.Type() == durationType {
		return time.Duration(v.Int()).String()
	}
	if v.Type().Implements(textMarshalerType) {
		b, _ := v.Interface().(encoding.TextMarshaler).MarshalText()
		return string(b)
	}
	switch v.Kind() {
	case reflect.Struct:
		var m orderedMap
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if f.Tag.Get("json") == "-" || !f.IsExported() {
				continue
			}
			m = append(m, struct {
				k string
				v any
			}{f.Name, readable(v.Field(i))})
		}
		return m
	case reflect.Slice:
		if v.IsNil() {
			return nil
		}
		out := make([]any, v.Len())
		for i := range v.Len() {
			out[i] = readable(v.Index(i))
		}
		return out
	default:
		return v.Interface()
	}
}
