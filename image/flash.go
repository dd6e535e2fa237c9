package image

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"

	"golang.org/x/sys/unix"
)

// Progress reports a long step: phase names it ("verify", "write",
// "read back"), done and total are bytes.
type Progress func(phase string, done, total int64)

// FlashOptions say what Flash writes where.
type FlashOptions struct {
	// Image is the raw image file; Target a block device or a plain file
	// (created if missing).
	Image, Target string
	// Seed, when set, is a seed directory written to the ESP's ovsha/.
	Seed string
	// Verify selects the checksum and signature checks done first.
	Verify VerifyOptions
	// Progress, when set, sees every phase's progress.
	Progress Progress
	// Host is the machine view for the target checks (zero: the real one).
	Host Host
	Log  *slog.Logger
}

// FlashResult says what Flash did.
type FlashResult struct {
	Verify   *VerifyResult
	Written  int64
	SeedFile []string
}

const flashBlock = 4 << 20

// Flash verifies an image, checks the target is safe to overwrite, writes
// the image, syncs, reads it back and compares, and writes the seed.
func Flash(ctx context.Context, o FlashOptions) (*FlashResult, error) {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	prog := func(phase string) func(done, total int64) {
		if o.Progress == nil {
			return nil
		}
		return func(done, total int64) { o.Progress(phase, done, total) }
	}
	var seedFiles []SeedFile
	if o.Seed != "" {
		s, err := ValidateSeed(o.Seed)
		if err != nil {
			return nil, fmt.Errorf("seed %s is invalid: %w", o.Seed, err)
		}
		seedFiles = s.Files
	}
	isDev, devSize, err := inspectTarget(o.Host, o.Target)
	if err != nil {
		return nil, err
	}
	vo := o.Verify
	vo.Progress = prog("verify")
	vr, err := Verify(ctx, o.Image, vo)
	if err != nil {
		return nil, err
	}
	if vr.Note != "" {
		log.Warn(vr.Note)
	}
	size := vr.Size
	if isDev && devSize < size {
		return nil, fmt.Errorf("%s is %d bytes, smaller than the %d-byte image", o.Target, devSize, size)
	}
	src, err := os.Open(o.Image)
	if err != nil {
		return nil, fmt.Errorf("opening image: %w", err)
	}
	defer src.Close()
	parts, err := ReadGPT(src, size)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.Image, err)
	}
	esp, err := FindPartition(parts, "esp")
	if err != nil && len(seedFiles) > 0 {
		return nil, fmt.Errorf("%s: %w: cannot write the seed", o.Image, err)
	}

	if err := writeImage(ctx, src, size, o.Target, isDev, prog("write")); err != nil {
		return nil, err
	}
	log.Info("written and synced", "target", o.Target, "bytes", size)
	got, err := readBack(ctx, o.Target, size, prog("read back"))
	if err != nil {
		return nil, err
	}
	if got != vr.SHA256 {
		return nil, fmt.Errorf("read-back of %s has SHA-256 %s, the image %s: the target is faulty", o.Target, got, vr.SHA256)
	}
	res := &FlashResult{Verify: vr, Written: size}
	if len(seedFiles) > 0 {
		e := ESP{Disk: o.Target, Offset: esp.Offset}
		names, err := WriteSeed(ctx, e, seedFiles)
		if err != nil {
			return nil, fmt.Errorf("writing the seed to %s: %w", o.Target, err)
		}
		res.SeedFile = names
		if err := syncPath(o.Target); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// inspectTarget refuses unsafe targets and says whether it is a device.
func inspectTarget(h Host, target string) (isDev bool, size int64, err error) {
	fi, err := os.Stat(target)
	if errors.Is(err, fs.ErrNotExist) {
		return false, 0, nil
	}
	if err != nil {
		return false, 0, fmt.Errorf("target: %w", err)
	}
	switch {
	case fi.Mode().IsRegular():
		return false, 0, nil
	case fi.Mode()&fs.ModeDevice != 0 && fi.Mode()&fs.ModeCharDevice == 0:
	default:
		return false, 0, fmt.Errorf("target %s is neither a block device nor a plain file", target)
	}
	var st unix.Stat_t
	if err := unix.Stat(target, &st); err != nil {
		return false, 0, fmt.Errorf("target: %w", err)
	}
	if err := h.CheckBlockTarget(target, devNum(st.Rdev)); err != nil {
		return false, 0, err
	}
	f, err := os.Open(target)
	if err != nil {
		return false, 0, fmt.Errorf("target: %w", err)
	}
	defer f.Close()
	size, err = f.Seek(0, io.SeekEnd)
	if err != nil {
		return false, 0, fmt.Errorf("sizing %s: %w", target, err)
	}
	return true, size, nil
}

// writeImage copies size bytes of src to the target. A plain-file target
// is truncated and gets holes where the image has zero blocks; a device
// gets every byte.
func writeImage(ctx context.Context, src io.ReaderAt, size int64, target string, isDev bool, progress func(done, total int64)) error {
	flags := os.O_WRONLY
	if isDev {
		flags |= unix.O_EXCL // the kernel refuses it while the device is mounted
	} else {
		flags |= os.O_CREATE | os.O_TRUNC
	}
	dst, err := os.OpenFile(target, flags, 0o644)
	if err != nil {
		return fmt.Errorf("opening %s for writing: %w", target, err)
	}
	buf := make([]byte, flashBlock)
	zero := make([]byte, flashBlock)
	var off int64
	for off < size {
		if err := ctx.Err(); err != nil {
			dst.Close()
			return err
		}
		n := int(min(int64(len(buf)), size-off))
		if _, err := src.ReadAt(buf[:n], off); err != nil && !errors.Is(err, io.EOF) {
			dst.Close()
			return fmt.Errorf("reading image at %d: %w", off, err)
		}
		if isDev || !bytes.Equal(buf[:n], zero[:n]) {
			if _, err := dst.WriteAt(buf[:n], off); err != nil {
				dst.Close()
				return fmt.Errorf("writing %s at %d: %w", target, off, err)
			}
		}
		off += int64(n)
		if progress != nil {
			progress(off, size)
		}
	}
	if !isDev {
		if err := dst.Truncate(size); err != nil {
			dst.Close()
			return fmt.Errorf("sizing %s: %w", target, err)
		}
	}
	if err := dst.Sync(); err != nil {
		dst.Close()
		return fmt.Errorf("syncing %s: %w", target, err)
	}
	if isDev {
		// let the kernel see the new partition table (best effort)
		_ = unix.IoctlSetInt(int(dst.Fd()), unix.BLKRRPART, 0)
	}
	if err := dst.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", target, err)
	}
	return nil
}

// readBack hashes the first size bytes of the target, bypassing the page
// cache where the kernel allows it.
func readBack(ctx context.Context, target string, size int64, progress func(done, total int64)) (string, error) {
	f, err := os.Open(target)
	if err != nil {
		return "", fmt.Errorf("reading back %s: %w", target, err)
	}
	defer f.Close()
	_ = unix.Fadvise(int(f.Fd()), 0, size, unix.FADV_DONTNEED)
	sum, err := hashReader(ctx, io.NewSectionReader(f, 0, size), size, progress)
	if err != nil {
		return "", fmt.Errorf("reading back %s: %w", target, err)
	}
	return sum, nil
}

func syncPath(p string) error {
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("syncing %s: %w", p, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", p, err)
	}
	return nil
}
