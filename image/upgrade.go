package image

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// UpgradeOptions control System.Upgrade.
type UpgradeOptions struct {
	// Verify selects the image checks (checksum, signature).
	Verify VerifyOptions
	// Tries is the new entry's boot counter: failed boots before
	// systemd-boot falls back to the other slot (default 3).
	Tries int
	// Standby runs after the slot is written and before the reboot: the
	// node hands its resources to its peer. Nil means none.
	Standby func(ctx context.Context) error
	// Progress, when set, sees the verify and write phases.
	Progress Progress
}

// UpgradeResult says what Upgrade wrote.
type UpgradeResult struct {
	Slot     string
	Entry    string
	Version  string
	Kernel   string
	RootSize int64
}

// Upgrade installs an image's release into the inactive slot: verify the
// image, drop the slot's old entries, write its squashfs root (read back
// and compared), its kernel image and manifest, then a boot entry with a
// boot counter that sorts first. The caller reboots. If the new release
// never reaches boot-complete.target, systemd-boot falls back by itself.
func (s *System) Upgrade(ctx context.Context, img string, o UpgradeOptions) (*UpgradeResult, error) {
	log := s.log()
	if o.Tries == 0 {
		o.Tries = 3
	}
	if o.Tries < 1 || o.Tries > 9 {
		return nil, fmt.Errorf("tries %d: expected 1 to 9", o.Tries)
	}
	booted, err := s.BootedSlot()
	if err != nil {
		return nil, err
	}
	target := OtherSlot(booted)
	vo := o.Verify
	if o.Progress != nil {
		vo.Progress = func(d, t int64) { o.Progress("verify", d, t) }
	}
	vr, err := Verify(ctx, img, vo)
	if err != nil {
		return nil, err
	}
	if vr.Note != "" {
		log.Warn(vr.Note)
	}
	f, err := os.Open(img)
	if err != nil {
		return nil, fmt.Errorf("opening image: %w", err)
	}
	defer f.Close()
	parts, err := ReadGPT(f, vr.Size)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", img, err)
	}
	root, err := FindPartition(parts, "root-a")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", img, err)
	}
	espPart, err := FindPartition(parts, "esp")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", img, err)
	}
	newESP := ESP{Disk: img, Offset: espPart.Offset}
	mdata, err := newESP.ReadFile(ctx, "/EFI/ovsha/slot-a.json")
	if err != nil {
		return nil, fmt.Errorf("reading the new release's manifest: %w", err)
	}
	m, err := ParseManifest(img+":/EFI/ovsha/slot-a.json", mdata)
	if err != nil {
		return nil, err
	}
	rootLen, err := squashfsLen(io.NewSectionReader(f, root.Offset, root.Size))
	if err != nil {
		return nil, fmt.Errorf("%s: root-a: %w", img, err)
	}
	dev := filepath.Join(s.PartDir, "root-"+target)
	devSize, err := fileSize(dev)
	if err != nil {
		return nil, fmt.Errorf("slot %s: %w", target, err)
	}
	if rootLen > devSize {
		return nil, fmt.Errorf("the new root is %d bytes, slot %s (%s) holds %d", rootLen, target, dev, devSize)
	}
	log.Info("upgrade: writing the inactive slot", "slot", target, "version", m.Version, "kernel", m.Kernel, "root_bytes", rootLen)

	// 1. the slot stops being bootable before it is overwritten
	entries, err := s.Entries()
	if err != nil {
		return nil, err
	}
	gen := 0
	for _, e := range entries {
		gen = max(gen, e.Generation)
		if e.Slot == target {
			if err := os.Remove(filepath.Join(s.entriesDir(), e.File)); err != nil {
				return nil, fmt.Errorf("removing old entry of slot %s: %w", target, err)
			}
		}
	}
	gen++
	for _, ext := range []string{".efi", ".json"} {
		if err := os.Remove(s.slotFile(target, ext)); err != nil && !os.IsNotExist(err) {
			return nil, fmt.Errorf("removing old files of slot %s: %w", target, err)
		}
	}
	if err := syncFS(s.entriesDir()); err != nil {
		return nil, err
	}

	// 2. the root file system, read back and compared
	var wprog func(d, t int64)
	if o.Progress != nil {
		wprog = func(d, t int64) { o.Progress("write root-"+target, d, t) }
	}
	want, err := copyRange(ctx, f, root.Offset, rootLen, dev, wprog)
	if err != nil {
		return nil, err
	}
	got, err := readBack(ctx, dev, rootLen, nil)
	if err != nil {
		return nil, err
	}
	if got != want {
		return nil, fmt.Errorf("slot %s read back with SHA-256 %s, wrote %s: the disk is faulty", target, got, want)
	}

	// 3. kernel image and manifest, then the entry (boot counter) last
	if err := os.MkdirAll(filepath.Dir(s.slotFile(target, ".efi")), 0o755); err != nil {
		return nil, fmt.Errorf("creating ESP directory: %w", err)
	}
	tmp := s.slotFile(target, ".efi.tmp")
	if err := newESP.CopyOut(ctx, "/EFI/ovsha/slot-a.efi", tmp); err != nil {
		return nil, fmt.Errorf("copying the new kernel image: %w", err)
	}
	if err := os.Rename(tmp, s.slotFile(target, ".efi")); err != nil {
		return nil, fmt.Errorf("installing the new kernel image: %w", err)
	}
	if err := writeFileAtomic(s.slotFile(target, ".json"), mdata, 0o644); err != nil {
		return nil, err
	}
	name := EntryFileName(gen, target, o.Tries)
	if err := writeFileAtomic(filepath.Join(s.entriesDir(), name), []byte(EntryContent(m.Version, gen, target, m.Cmdline)), 0o644); err != nil {
		return nil, err
	}
	if err := syncFS(s.entriesDir()); err != nil {
		return nil, err
	}
	log.Info("upgrade: slot written; it boots next, on trial", "slot", target, "entry", name, "tries", o.Tries)

	// 4. hand the resources over before the reboot
	if o.Standby != nil {
		if err := o.Standby(ctx); err != nil {
			return nil, fmt.Errorf("standby before reboot: %w (the new slot is installed; reboot when the resources have moved)", err)
		}
	}
	return &UpgradeResult{Slot: target, Entry: name, Version: m.Version, Kernel: m.Kernel, RootSize: rootLen}, nil
}

// squashfsLen returns a squashfs image's length (bytes_used, rounded up
// to 4 KiB), from its superblock.
func squashfsLen(r io.ReaderAt) (int64, error) {
	sb := make([]byte, 96)
	if _, err := r.ReadAt(sb, 0); err != nil {
		return 0, fmt.Errorf("reading squashfs superblock: %w", err)
	}
	if string(sb[:4]) != "hsqs" {
		return 0, fmt.Errorf("no squashfs (magic %q)", sb[:4])
	}
	n := int64(binary.LittleEndian.Uint64(sb[40:]))
	if n <= 0 {
		return 0, fmt.Errorf("squashfs bytes_used %d", n)
	}
	return (n + 4095) &^ 4095, nil
}

func fileSize(p string) (int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, fmt.Errorf("sizing %s: %w", p, err)
	}
	return n, nil
}

// copyRange writes n bytes of src from off to the start of the file or
// device dst, syncs it, and returns the SHA-256 of the bytes written.
func copyRange(ctx context.Context, src io.ReaderAt, off, n int64, dst string, progress func(d, t int64)) (string, error) {
	out, err := os.OpenFile(dst, os.O_WRONLY, 0)
	if err != nil {
		return "", fmt.Errorf("opening %s: %w", dst, err)
	}
	h := sha256.New()
	buf := make([]byte, flashBlock)
	var done int64
	for done < n {
		if err := ctx.Err(); err != nil {
			out.Close()
			return "", err
		}
		k := int(min(int64(len(buf)), n-done))
		if _, err := src.ReadAt(buf[:k], off+done); err != nil && err != io.EOF {
			out.Close()
			return "", fmt.Errorf("reading image: %w", err)
		}
		h.Write(buf[:k])
		if _, err := out.WriteAt(buf[:k], done); err != nil {
			out.Close()
			return "", fmt.Errorf("writing %s: %w", dst, err)
		}
		done += int64(k)
		if progress != nil {
			progress(done, n)
		}
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return "", fmt.Errorf("syncing %s: %w", dst, err)
	}
	if err := out.Close(); err != nil {
		return "", fmt.Errorf("closing %s: %w", dst, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func newSection(f *os.File, p Partition) *io.SectionReader {
	return io.NewSectionReader(f, p.Offset, p.Size)
}
