package image

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
)

// ImageInfo is what `ovsha image info` shows.
type ImageInfo struct {
	Path       string      `json:"path"`
	Size       int64       `json:"size"`
	Partitions []Partition `json:"partitions"`
	// Manifest is slot a's release (the release the image installs).
	Manifest *Manifest `json:"release"`
	// Slots says what each root slot holds.
	Slots []ImageSlot `json:"slots"`
	// Entries are the boot entries on the ESP.
	Entries []string `json:"boot_entries"`
	// Checksum and Signature are the files beside the image, if present.
	Checksum  string `json:"sha256,omitempty"`
	Signature bool   `json:"signature"`
}

// ImageSlot is one root slot of an image.
type ImageSlot struct {
	Slot      string `json:"slot"`
	Partition int    `json:"partition"`
	Size      int64  `json:"size"`
	// RootBytes is the squashfs length; 0 for an empty slot.
	RootBytes int64  `json:"root_bytes"`
	Version   string `json:"version,omitempty"`
}

// Info reads an image's partition table, release manifest and boot
// entries (the ESP through mtools).
func Info(ctx context.Context, img string) (*ImageInfo, error) {
	f, err := os.Open(img)
	if err != nil {
		return nil, fmt.Errorf("opening image: %w", err)
	}
	defer f.Close()
	size, err := fileSize(img)
	if err != nil {
		return nil, err
	}
	parts, err := ReadGPT(f, size)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", img, err)
	}
	info := &ImageInfo{Path: img, Size: size, Partitions: parts}
	espPart, err := FindPartition(parts, "esp")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", img, err)
	}
	e := ESP{Disk: img, Offset: espPart.Offset}
	data, err := e.ReadFile(ctx, "/EFI/ovsha/slot-a.json")
	if err != nil {
		return nil, fmt.Errorf("%s: reading the release manifest: %w", img, err)
	}
	if info.Manifest, err = ParseManifest(img+":/EFI/ovsha/slot-a.json", data); err != nil {
		return nil, err
	}
	for _, sl := range Slots {
		p, err := FindPartition(parts, "root-"+sl)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", img, err)
		}
		is := ImageSlot{Slot: sl, Partition: p.Number, Size: p.Size}
		if n, err := squashfsLen(newSection(f, p)); err == nil {
			is.RootBytes = n
			if sl == "a" {
				is.Version = info.Manifest.Version
			} else if b, err := e.ReadFile(ctx, "/EFI/ovsha/slot-b.json"); err == nil {
				if m, err := ParseManifest("slot-b.json", b); err == nil {
					is.Version = m.Version
				}
			}
		}
		info.Slots = append(info.Slots, is)
	}
	if names, err := e.List(ctx, "/loader/entries"); err == nil {
		sort.Strings(names)
		info.Entries = names
	}
	if b, err := os.ReadFile(ChecksumPath(img)); err == nil {
		if sum, _, err := ParseChecksum(ChecksumPath(img), b); err == nil {
			info.Checksum = sum
		}
	}
	if _, err := os.Stat(SignaturePath(img)); err == nil {
		info.Signature = true
	}
	return info, nil
}

// Render prints the info for people.
func (i *ImageInfo) Render() string {
	var b strings.Builder
	m := i.Manifest
	fmt.Fprintf(&b, "Image:    %s (%d MiB)\n", i.Path, i.Size>>20)
	fmt.Fprintf(&b, "Release:  ovsha %s (%s variant, %s, built %s)\n", m.Version, m.Variant, m.Arch, m.Built)
	fmt.Fprintf(&b, "Kernel:   %s (%s)\n", m.Kernel, m.KernelPackage)
	fmt.Fprintf(&b, "Cmdline:  %s\n", m.Cmdline)
	sig := "none"
	if i.Signature {
		sig = "present (check with ovsha image verify --pubkey)"
	}
	if i.Checksum != "" {
		fmt.Fprintf(&b, "SHA-256:  %s (signature: %s)\n", i.Checksum, sig)
	}
	fmt.Fprintf(&b, "\nPartitions:\n")
	for _, p := range i.Partitions {
		fmt.Fprintf(&b, "  %d %-7s %6d MiB at %d MiB\n", p.Number, p.Name, p.Size>>20, p.Offset>>20)
	}
	fmt.Fprintf(&b, "\nSlots:\n")
	for _, s := range i.Slots {
		if s.RootBytes == 0 {
			fmt.Fprintf(&b, "  %s  empty (%d MiB)\n", s.Slot, s.Size>>20)
			continue
		}
		fmt.Fprintf(&b, "  %s  ovsha %s, squashfs %d MiB of %d MiB\n", s.Slot, s.Version, s.RootBytes>>20, s.Size>>20)
	}
	fmt.Fprintf(&b, "Boot entries: %s\n", strings.Join(i.Entries, ", "))
	fmt.Fprintf(&b, "\nPackages (%d):\n", len(m.Packages))
	for _, p := range m.Packages {
		fmt.Fprintf(&b, "  %-40s %s\n", p.Name, p.Version)
	}
	return b.String()
}
