package image

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"strings"
)

// ESP is a FAT file system inside a disk, image file or device, at Offset
// bytes, accessed with mtools (no mount, no vfat kernel module needed).
// Names are absolute paths inside the file system ("/ovsha/authkey").
type ESP struct {
	Disk   string
	Offset int64
}

// ErrNoMtools says mtools is missing.
var ErrNoMtools = errors.New("mtools is not installed (Debian package mtools): it is needed to read and write the FAT EFI system partition")

func (e ESP) target(name string) string { return "::" + path.Clean("/"+name) }

func (e ESP) run(ctx context.Context, tool string, args ...string) ([]byte, error) {
	if _, err := exec.LookPath(tool); err != nil {
		return nil, ErrNoMtools
	}
	all := append([]string{"-i", fmt.Sprintf("%s@@%d", e.Disk, e.Offset)}, args...)
	cmd := exec.CommandContext(ctx, tool, all...)
	cmd.Env = append(os.Environ(), "MTOOLS_SKIP_CHECK=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s %s on %s: %w: %s", tool, strings.Join(args, " "), e.Disk, err, strings.TrimSpace(errb.String()))
	}
	return out.Bytes(), nil
}

// ReadFile returns a (small) file's contents.
func (e ESP) ReadFile(ctx context.Context, name string) ([]byte, error) {
	return e.run(ctx, "mtype", e.target(name))
}

// CopyOut copies a file of the ESP to a local file.
func (e ESP) CopyOut(ctx context.Context, name, local string) error {
	_, err := e.run(ctx, "mcopy", "-n", "-o", e.target(name), local)
	return err
}

// CopyIn copies a local file into the ESP, replacing an existing file.
func (e ESP) CopyIn(ctx context.Context, local, name string) error {
	_, err := e.run(ctx, "mcopy", "-o", local, e.target(name))
	return err
}

// Mkdir creates a directory; an existing one is fine.
func (e ESP) Mkdir(ctx context.Context, name string) error {
	if names, err := e.List(ctx, path.Dir(path.Clean("/"+name))); err == nil {
		for _, n := range names {
			if n == path.Base(name) {
				return nil
			}
		}
	}
	_, err := e.run(ctx, "mmd", e.target(name))
	return err
}

// Remove deletes a file.
func (e ESP) Remove(ctx context.Context, name string) error {
	_, err := e.run(ctx, "mdel", e.target(name))
	return err
}

// List returns the names in a directory (without . and ..).
func (e ESP) List(ctx context.Context, dir string) ([]string, error) {
	out, err := e.run(ctx, "mdir", "-b", e.target(dir))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		b := path.Base(strings.TrimSuffix(l, "/"))
		if b != "." && b != ".." {
			names = append(names, b)
		}
	}
	return names, nil
}
