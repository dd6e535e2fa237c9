package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/ovsha/ovsha/cluster/cib"
)

// ErrCorrupt is returned (wrapped) when a CIB file fails its checksum or
// does not parse.
var ErrCorrupt = errors.New("cib file is corrupt")

// File format: a first line "<!-- ovsha-cib sha256=HEX -->" holding the
// checksum of everything after it, then the CIB XML. The previous good
// copy is kept next to it as PATH.last.
const checksumPrefix = "<!-- ovsha-cib sha256="

// Save writes the CIB to path atomically: it writes PATH.tmp, fsyncs it,
// keeps the current file as PATH.last, renames the temporary file over
// PATH and fsyncs the directory.
func Save(ctx context.Context, path string, c *cib.CIB) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	body, err := c.MarshalXMLBytes()
	if err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "%s%s -->\n", checksumPrefix, hex.EncodeToString(sum[:]))
	buf.Write(body)

	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("syncing %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", tmp, err)
	}
	// Keep the current copy as the last good one, if it is good.
	if _, err := readChecked(path); err == nil {
		if err := os.Rename(path, path+".last"); err != nil {
			return fmt.Errorf("keeping previous %s: %w", path, err)
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("renaming %s: %w", tmp, err)
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("opening %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	return nil
}

// readChecked reads and verifies one CIB file.
func readChecked(path string) (*cib.CIB, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	nl := bytes.IndexByte(data, '\n')
	if !bytes.HasPrefix(data, []byte(checksumPrefix)) || nl < 0 {
		return nil, fmt.Errorf("%s: missing checksum line: %w", path, ErrCorrupt)
	}
	head := string(data[len(checksumPrefix):nl])
	want := head[:min(len(head), 64)]
	body := data[nl+1:]
	sum := sha256.Sum256(body)
	if hex.EncodeToString(sum[:]) != want {
		return nil, fmt.Errorf("%s: checksum mismatch: %w", path, ErrCorrupt)
	}
	c, err := cib.Parse(body)
	if err != nil {
		return nil, fmt.Errorf("%s: %v: %w", path, err, ErrCorrupt)
	}
	return c, nil
}

// LoadResult says where a loaded CIB came from.
type LoadResult struct {
	CIB *cib.CIB
	// FromBackup is set when PATH was missing or corrupt and PATH.last
	// was used; Problem then holds what was wrong with PATH.
	FromBackup bool
	Problem    error
}

// Load reads the CIB saved at path. If the file is corrupt (or missing
// after an interrupted save), the last good copy is used and the problem
// is logged at error level and returned in the result.
func Load(ctx context.Context, path string, log *slog.Logger) (*LoadResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c, err := readChecked(path)
	if err == nil {
		return &LoadResult{CIB: c}, nil
	}
	prev, err2 := readChecked(path + ".last")
	if err2 != nil {
		return nil, fmt.Errorf("loading cib: %w (and the last good copy: %v)", err, err2)
	}
	if log != nil {
		log.Error("cib file unusable; using the last good copy",
			"component", "cib", "op", "load", "path", path, "reason", err.Error(),
			"version", prev.Version().String())
	}
	return &LoadResult{CIB: prev, FromBackup: true, Problem: err}, nil
}
