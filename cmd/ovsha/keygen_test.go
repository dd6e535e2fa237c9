package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestKeygen(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "etc", "ovsha", "authkey") // parents do not exist yet

	if code := run([]string{"keygen", "-o", key}); code != 0 {
		t.Fatalf("keygen -o %s: exit %d, want 0", key, code)
	}
	fi, err := os.Stat(key)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != 256 || fi.Mode().Perm() != 0o400 {
		t.Errorf("key: %d bytes mode %v, want 256 bytes mode 0400", fi.Size(), fi.Mode().Perm())
	}
	if di, err := os.Stat(filepath.Dir(key)); err != nil || di.Mode().Perm() != 0o755 {
		t.Errorf("parent directory: %v, %v; want created with mode 0755", di.Mode().Perm(), err)
	}
	first, _ := os.ReadFile(key)

	if code := run([]string{"keygen", "-o", key}); code != 1 {
		t.Errorf("keygen over an existing key: exit %d, want 1", code)
	}
	if again, _ := os.ReadFile(key); !bytes.Equal(again, first) {
		t.Error("keygen without --force replaced the key")
	}
	if code := run([]string{"keygen", "--output", key, "--force"}); code != 0 {
		t.Errorf("keygen --force: exit %d, want 0", code)
	}
	if again, _ := os.ReadFile(key); bytes.Equal(again, first) {
		t.Error("keygen --force kept the old key")
	}

	for _, args := range [][]string{
		{"keygen", "extra"},
		{"keygen", "--bogus"},
		{"keygen", "-o", ""},
	} {
		if code := run(args); code != 2 {
			t.Errorf("%q: exit %d, want 2 (usage)", args, code)
		}
	}
	// A directory cannot be created under a regular file: an error, not a usage error.
	if code := run([]string{"keygen", "-o", filepath.Join(key, "sub", "authkey")}); code != 1 {
		t.Errorf("keygen under a file: exit %d, want 1", code)
	}
}
