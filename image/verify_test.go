package image

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// plainImage writes a small file with a checksum beside it.
func plainImage(t *testing.T) string {
	t.Helper()
	img := filepath.Join(t.TempDir(), "ovsha-9-amd64.img")
	if err := os.WriteFile(img, fakeSquashfs(1, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	writeChecksum(t, img)
	return img
}

func TestVerifyChecksum(t *testing.T) {
	ctx := context.Background()
	img := plainImage(t)
	var last int64
	res, err := Verify(ctx, img, VerifyOptions{Progress: func(d, total int64) { last = d }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Size != 1<<20 || res.Signed || last != 1<<20 {
		t.Fatalf("result %+v, progress ended at %d", res, last)
	}
	if _, err := Verify(ctx, img, VerifyOptions{Checksum: res.SHA256}); err != nil {
		t.Fatalf("explicit checksum: %v", err)
	}
	if _, err := Verify(ctx, img, VerifyOptions{Checksum: "abc"}); err == nil || !strings.Contains(err.Error(), "expected 64 hex digits") {
		t.Fatalf("bad explicit checksum: %v", err)
	}
	// one flipped byte
	f, _ := os.OpenFile(img, os.O_WRONLY, 0)
	mustWriteAt(t, f, []byte{0xff ^ 0x55}, 4096)
	f.Close()
	if _, err := Verify(ctx, img, VerifyOptions{}); err == nil || !strings.Contains(err.Error(), "the image is corrupt or incomplete") {
		t.Fatalf("corrupt image: %v", err)
	}
	os.Remove(ChecksumPath(img))
	if _, err := Verify(ctx, img, VerifyOptions{}); err == nil || !strings.Contains(err.Error(), "images come with IMAGE.sha256") {
		t.Fatalf("missing checksum file: %v", err)
	}
}

func TestParseChecksum(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	if s, f, err := ParseChecksum("x.sha256", []byte(sum+" *x.img\n")); err != nil || s != sum || f != "x.img" {
		t.Fatalf("ParseChecksum = %q %q %v", s, f, err)
	}
	for _, bad := range []string{"", sum, "zz  x.img", sum[:10] + "  x.img"} {
		if _, _, err := ParseChecksum("x.sha256", []byte(bad)); err == nil || !strings.HasPrefix(err.Error(), "x.sha256: ") {
			t.Errorf("ParseChecksum(%q) error %v, want one naming the file", bad, err)
		}
	}
}

func TestSignAndVerifySignature(t *testing.T) {
	ctx := context.Background()
	img := plainImage(t)
	dir := t.TempDir()
	if err := GenerateKey(filepath.Join(dir, "k.key"), filepath.Join(dir, "k.pub")); err != nil {
		t.Fatal(err)
	}
	if err := GenerateKey(filepath.Join(dir, "k.key"), filepath.Join(dir, "k2.pub")); err == nil {
		t.Fatal("GenerateKey overwrote an existing key")
	}
	if err := GenerateKey(filepath.Join(dir, "other.key"), filepath.Join(dir, "other.pub")); err != nil {
		t.Fatal(err)
	}
	sk, err := LoadPrivateKey(filepath.Join(dir, "k.key"))
	if err != nil {
		t.Fatal(err)
	}
	pk, err := LoadPublicKey(filepath.Join(dir, "k.pub"))
	if err != nil {
		t.Fatal(err)
	}
	other, err := LoadPublicKey(filepath.Join(dir, "other.pub"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(ctx, img, VerifyOptions{PublicKey: pk}); err == nil || !strings.Contains(err.Error(), "the image must be signed") {
		t.Fatalf("unsigned image with a key configured: %v", err)
	}
	if err := Sign(img, sk); err != nil {
		t.Fatal(err)
	}
	res, err := Verify(ctx, img, VerifyOptions{PublicKey: pk})
	if err != nil || !res.Signed {
		t.Fatalf("signed image: %+v, %v", res, err)
	}
	if _, err := Verify(ctx, img, VerifyOptions{PublicKey: other}); err == nil || !strings.Contains(err.Error(), "does not verify") {
		t.Fatalf("wrong key: %v", err)
	}
	if res, err := Verify(ctx, img, VerifyOptions{}); err != nil || res.Signed || !strings.Contains(res.Note, "not checked") {
		t.Fatalf("no key configured: %+v, %v", res, err)
	}
	// a checksum file changed after signing
	sum, _ := os.ReadFile(ChecksumPath(img))
	os.WriteFile(ChecksumPath(img), []byte(strings.Replace(string(sum), "ovsha-9", "ovsha-8", 1)), 0o644)
	if _, err := Verify(ctx, img, VerifyOptions{PublicKey: pk}); err == nil || !strings.Contains(err.Error(), "does not verify") {
		t.Fatalf("tampered checksum file: %v", err)
	}
	if _, err := LoadPublicKey(filepath.Join(dir, "k.key")); err == nil || !strings.Contains(err.Error(), `expected a PEM "PUBLIC KEY" block`) {
		t.Fatalf("private key as public: %v", err)
	}
}
