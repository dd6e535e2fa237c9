package image

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
	"unicode/utf16"
)

// SectorSize is the logical sector size of the image (raw images are
// always built with 512-byte sectors).
const SectorSize = 512

// GPT partition type GUIDs used by the image.
const (
	TypeESP        = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
	TypeRootX86_64 = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"
	TypeLinuxData  = "0FC63DAF-8483-4772-8E79-3D69D8477DE4"
)

// Partition is one GPT entry. Offset and Size are in bytes.
type Partition struct {
	Number int    `json:"number"`
	Name   string `json:"name"`
	Type   string `json:"type"`
	UUID   string `json:"uuid"`
	Offset int64  `json:"offset"`
	Size   int64  `json:"size"`
}

// ReadGPT reads the primary GPT of a disk or image of size bytes.
func ReadGPT(r io.ReaderAt, size int64) ([]Partition, error) {
	hdr := make([]byte, SectorSize)
	if _, err := r.ReadAt(hdr, SectorSize); err != nil {
		return nil, fmt.Errorf("reading GPT header: %w", err)
	}
	if string(hdr[:8]) != "EFI PART" {
		return nil, errors.New("no GPT: LBA 1 lacks the \"EFI PART\" signature (not an ovsha image?)")
	}
	hsize := binary.LittleEndian.Uint32(hdr[12:])
	if hsize < 92 || hsize > SectorSize {
		return nil, fmt.Errorf("GPT header size %d: expected 92 to %d", hsize, SectorSize)
	}
	want := binary.LittleEndian.Uint32(hdr[16:])
	h := bytes.Clone(hdr[:hsize])
	binary.LittleEndian.PutUint32(h[16:], 0)
	if got := crc32.ChecksumIEEE(h); got != want {
		return nil, fmt.Errorf("GPT header checksum %08x, expected %08x: corrupt partition table", got, want)
	}
	entLBA := int64(binary.LittleEndian.Uint64(hdr[72:]))
	n := binary.LittleEndian.Uint32(hdr[80:])
	esz := binary.LittleEndian.Uint32(hdr[84:])
	if esz < 128 || esz > 1024 || n > 1024 {
		return nil, fmt.Errorf("GPT has %d entries of %d bytes: unsupported", n, esz)
	}
	ents := make([]byte, int(n)*int(esz))
	if _, err := r.ReadAt(ents, entLBA*SectorSize); err != nil {
		return nil, fmt.Errorf("reading GPT entries: %w", err)
	}
	if got, want := crc32.ChecksumIEEE(ents), binary.LittleEndian.Uint32(hdr[88:]); got != want {
		return nil, fmt.Errorf("GPT entry array checksum %08x, expected %08x: corrupt partition table", got, want)
	}
	var parts []Partition
	for i := 0; i < int(n); i++ {
		e := ents[i*int(esz) : (i+1)*int(esz)]
		if allZero(e[:16]) {
			continue
		}
		first := int64(binary.LittleEndian.Uint64(e[32:]))
		last := int64(binary.LittleEndian.Uint64(e[40:]))
		p := Partition{
			Number: i + 1,
			Type:   guidString(e[0:16]),
			UUID:   guidString(e[16:32]),
			Name:   utf16Name(e[56:128]),
			Offset: first * SectorSize,
			Size:   (last - first + 1) * SectorSize,
		}
		if last < first || p.Offset+p.Size > size {
			return nil, fmt.Errorf("GPT partition %d (%q) lies outside the %d-byte disk", p.Number, p.Name, size)
		}
		parts = append(parts, p)
	}
	return parts, nil
}

// FindPartition returns the partition with the given GPT name.
func FindPartition(parts []Partition, name string) (Partition, error) {
	for _, p := range parts {
		if p.Name == name {
			return p, nil
		}
	}
	var names []string
	for _, p := range parts {
		names = append(names, p.Name)
	}
	return Partition{}, fmt.Errorf("no partition named %q (partitions: %s)", name, strings.Join(names, ", "))
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// guidString formats a GPT GUID (mixed-endian) in its usual upper-case text form.
func guidString(b []byte) string {
	return fmt.Sprintf("%08X-%04X-%04X-%X-%X",
		binary.LittleEndian.Uint32(b[0:]), binary.LittleEndian.Uint16(b[4:]),
		binary.LittleEndian.Uint16(b[6:]), b[8:10], b[10:16])
}

func utf16Name(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		c := binary.LittleEndian.Uint16(b[i:])
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u))
}
