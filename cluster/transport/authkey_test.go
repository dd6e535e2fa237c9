package transport

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadKey(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, n int) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, bytes.Repeat([]byte{7}, n), 0o400); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, path string
		want       string // error substring; "" = ok
	}{
		{"min", write("min", MinKeyLen), ""},
		{"max", write("max", MaxKeyLen), ""},
		{"too short", write("short", MinKeyLen-1), "is 31 bytes: too short"},
		{"too long", write("long", MaxKeyLen+1), "is 4097 bytes: too long"},
		{"missing", filepath.Join(dir, "nope"), "does not exist"},
		{"directory", dir, "reading authkey"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ReadKey(tt.path)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("ReadKey: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("ReadKey accepted a %d-byte key", len(k))
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.path) {
				t.Errorf("error %q should contain %q and name %s", err, tt.want, tt.path)
			}
		})
	}
}

func TestWriteKey(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "authkey")
	if err := WriteKey(p, false); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o400 || fi.Size() != KeyLen {
		t.Errorf("key file mode %v size %d, want 0400 and %d", fi.Mode().Perm(), fi.Size(), KeyLen)
	}
	first, err := ReadKey(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteKey(p, false); !errors.Is(err, ErrKeyExists) || !strings.Contains(err.Error(), p) {
		t.Errorf("second WriteKey: %v, want ErrKeyExists naming %s", err, p)
	}
	if again, _ := ReadKey(p); !bytes.Equal(again, first) {
		t.Error("a refused WriteKey changed the key")
	}
	if err := WriteKey(p, true); err != nil {
		t.Fatalf("forced WriteKey: %v", err)
	}
	if again, _ := ReadKey(p); bytes.Equal(again, first) {
		t.Error("forced WriteKey kept the old key")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the key (temporary file left behind?)", len(entries))
	}
	if err := WriteKey(filepath.Join(dir, "missing", "authkey"), false); err == nil {
		t.Error("WriteKey into a missing directory succeeded")
	}
}
