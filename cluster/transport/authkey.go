package transport

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// KeyLen is the size of a key written by WriteKey (corosync-keygen's
// default authkey size).
const KeyLen = 256

// ErrKeyExists is returned by WriteKey when the file exists and force is
// not set.
var ErrKeyExists = errors.New("key file already exists")

// ReadKey reads an authkey file and checks its size.
func ReadKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("reading authkey %s: file does not exist (create one with `ovsha keygen` and copy it to every node)", path)
		}
		return nil, fmt.Errorf("reading authkey %s: %w", path, err)
	}
	if len(b) < MinKeyLen {
		return nil, fmt.Errorf("authkey %s is %d bytes: too short, expected %d to %d bytes", path, len(b), MinKeyLen, MaxKeyLen)
	}
	if len(b) > MaxKeyLen {
		return nil, fmt.Errorf("authkey %s is %d bytes: too long, expected %d to %d bytes", path, len(b), MinKeyLen, MaxKeyLen)
	}
	return b, nil
}

// WriteKey writes KeyLen random bytes from crypto/rand to path with mode
// 0400. The file appears atomically (written to a temporary file in the
// same directory, synced, then linked or renamed into place); an existing
// file is replaced only with force. The parent directory must exist.
func WriteKey(path string, force bool) (err error) {
	if !force {
		if _, err := os.Lstat(path); err == nil {
			return fmt.Errorf("writing authkey %s: %w", path, ErrKeyExists)
		}
	}
	key := make([]byte, KeyLen)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("generating authkey: %w", err)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("writing authkey %s: %w", path, err)
	}
	name := tmp.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(name)
		}
	}()
	if err := tmp.Chmod(0o400); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("writing authkey %s: %w", path, err)
	}
	if _, err := tmp.Write(key); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("writing authkey %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("writing authkey %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing authkey %s: %w", path, err)
	}
	if force {
		if err := os.Rename(name, path); err != nil {
			return fmt.Errorf("writing authkey %s: %w", path, err)
		}
	} else {
		// link fails if path appeared meanwhile: never overwrite without force.
		if err := os.Link(name, path); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("writing authkey %s: %w", path, ErrKeyExists)
			}
			return fmt.Errorf("writing authkey %s: %w", path, err)
		}
		if err := os.Remove(name); err != nil {
			return fmt.Errorf("writing authkey %s: removing temporary file: %w", path, err)
		}
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
