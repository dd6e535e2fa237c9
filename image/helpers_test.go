package image

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"
)

// testPart is a partition of a synthetic test image; sizes in MiB.
type testPart struct {
	name, typ string
	mib       int64
}

var testLayout = []testPart{
	{"esp", TypeESP, 4},
	{"root-a", TypeRootX86_64, 2},
	{"root-b", TypeRootX86_64, 2},
	{"data", TypeLinuxData, 1},
}

// parseGUID turns "C12A7328-F81F-..." into GPT's mixed-endian bytes.
func parseGUID(t *testing.T, s string) []byte {
	t.Helper()
	h, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(h) != 16 {
		t.Fatalf("bad GUID %q", s)
	}
	b := make([]byte, 16)
	binary.LittleEndian.PutUint32(b[0:], binary.BigEndian.Uint32(h[0:]))
	binary.LittleEndian.PutUint16(b[4:], binary.BigEndian.Uint16(h[4:]))
	binary.LittleEndian.PutUint16(b[6:], binary.BigEndian.Uint16(h[6:]))
	copy(b[8:], h[8:])
	return b
}

// writeGPT writes a primary GPT for parts (1 MiB aligned, from 1 MiB) into
// f and returns the partitions and the disk size.
func writeGPT(t *testing.T, f *os.File, parts []testPart) ([]Partition, int64) {
	t.Helper()
	const entries, esz = 128, 128
	ents := make([]byte, entries*esz)
	lba := int64(2048)
	var out []Partition
	for i, p := range parts {
		e := ents[i*esz:]
		copy(e[0:], parseGUID(t, p.typ))
		uuid := fmt.Sprintf("0515A000-0000-4000-8000-%012X", i+1)
		copy(e[16:], parseGUID(t, uuid))
		last := lba + p.mib*2048 - 1
		binary.LittleEndian.PutUint64(e[32:], uint64(lba))
		binary.LittleEndian.PutUint64(e[40:], uint64(last))
		for j, c := range utf16.Encode([]rune(p.name)) {
			binary.LittleEndian.PutUint16(e[56+2*j:], c)
		}
		out = append(out, Partition{Number: i + 1, Name: p.name, Type: p.typ, UUID: uuid, Offset: lba * 512, Size: p.mib << 20})
		lba = last + 1
	}
	size := (lba + 2048) * 512
	hdr := make([]byte, 92)
	copy(hdr, "EFI PART")
	binary.LittleEndian.PutUint32(hdr[8:], 0x00010000)
	binary.LittleEndian.PutUint32(hdr[12:], 92)
	binary.LittleEndian.PutUint64(hdr[24:], 1)
	binary.LittleEndian.PutUint64(hdr[32:], uint64(size/512-1))
	binary.LittleEndian.PutUint64(hdr[40:], 34)
	binary.LittleEndian.PutUint64(hdr[48:], uint64(size/512-34))
	binary.LittleEndian.PutUint64(hdr[72:], 2)
	binary.LittleEndian.PutUint32(hdr[80:], entries)
	binary.LittleEndian.PutUint32(hdr[84:], esz)
	binary.LittleEndian.PutUint32(hdr[88:], crc32.ChecksumIEEE(ents))
	binary.LittleEndian.PutUint32(hdr[16:], crc32.ChecksumIEEE(hdr))
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	mustWriteAt(t, f, hdr, 512)
	mustWriteAt(t, f, ents, 1024)
	return out, size
}

func mustWriteAt(t *testing.T, f *os.File, b []byte, off int64) {
	t.Helper()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// requireTools skips a test when a host tool is missing.
func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (Debian packages mtools and dosfstools)", tool)
		}
	}
}

// fakeSquashfs returns n bytes starting with a squashfs superblock whose
// bytes_used is n, filled with seeded random bytes.
func fakeSquashfs(seed int64, n int) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	copy(b, "hsqs")
	binary.LittleEndian.PutUint64(b[40:], uint64(n))
	return b
}

const testManifest = `{
  "format": 1, "name": "ovsha", "version": "%s", "variant": "test", "arch": "amd64",
  "built": "2026-01-02T03:04:05Z", "kernel": "6.1.0-99-cloud-amd64", "kernel_package": "linux-image-cloud-amd64",
  "cmdline": "rootfstype=squashfs ro systemd.volatile=state",
  "packages": [{"name": "openvswitch-switch", "version": "3.1.0-2"}, {"name": "systemd", "version": "252.39-1~deb12u2"}]
}
`

// testImage builds a small ovsha-like image in dir: GPT, a FAT ESP with
// slot a's manifest, kernel image (fake) and boot entry, a fake squashfs
// in root-a, and IMG.sha256. It returns the image path.
func testImage(t *testing.T, dir, version string, rootSeed int64) string {
	t.Helper()
	requireTools(t, "mkfs.vfat", "mcopy", "mmd", "mtype", "mdir")
	img := filepath.Join(dir, "ovsha-"+version+"-amd64.img")
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	parts, _ := writeGPT(t, f, testLayout)
	esp := filepath.Join(dir, "esp-"+version+".img")
	run(t, "mkfs.vfat", "-C", esp, fmt.Sprint(parts[0].Size/1024))
	t.Setenv("MTOOLS_SKIP_CHECK", "1")
	run(t, "mmd", "-i", esp, "::/EFI", "::/EFI/ovsha", "::/loader", "::/loader/entries", "::/ovsha")
	files := map[string]string{
		"/EFI/ovsha/slot-a.json":         fmt.Sprintf(testManifest, version),
		"/EFI/ovsha/slot-a.efi":          "UKI of " + version,
		"/loader/entries/ovsha-1-a.conf": EntryContent(version, 1, "a", "ro"),
	}
	for name, content := range files {
		src := filepath.Join(dir, "src")
		if err := os.WriteFile(src, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		run(t, "mcopy", "-o", "-i", esp, src, "::"+name)
	}
	espData, err := os.ReadFile(esp)
	if err != nil {
		t.Fatal(err)
	}
	mustWriteAt(t, f, espData, parts[0].Offset)
	mustWriteAt(t, f, fakeSquashfs(rootSeed, 300<<10), parts[1].Offset)
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	writeChecksum(t, img)
	return img
}

func writeChecksum(t *testing.T, img string) {
	t.Helper()
	data, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	line := fmt.Sprintf("%s  %s\n", hex.EncodeToString(sum[:]), filepath.Base(img))
	if err := os.WriteFile(ChecksumPath(img), []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	var errb bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, errb.String())
	}
}
