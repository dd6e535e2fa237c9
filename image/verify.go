package image

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Files beside an image: IMAGE.sha256 ("HEX  NAME", sha256sum format) and
// IMAGE.sig, the raw 64-byte ed25519 signature of the .sha256 file's
// bytes. The signature can be checked without ovsha:
//
//	openssl pkeyutl -verify -pubin -inkey key.pub -rawin -in IMAGE.sha256 -sigfile IMAGE.sig

// ChecksumPath and SignaturePath name the files beside an image.
func ChecksumPath(img string) string  { return img + ".sha256" }
func SignaturePath(img string) string { return img + ".sig" }

// ParseChecksum reads a sha256sum line; name is used in errors.
func ParseChecksum(name string, data []byte) (sum, file string, err error) {
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) != 2 {
		return "", "", fmt.Errorf("%s: expected one line \"SHA256  FILE\" (sha256sum format)", name)
	}
	sum = strings.ToLower(f[0])
	if b, err := hex.DecodeString(sum); err != nil || len(b) != sha256.Size {
		return "", "", fmt.Errorf("%s: %q is not a SHA-256 hex digest", name, f[0])
	}
	return sum, strings.TrimPrefix(f[1], "*"), nil
}

// VerifyOptions select what Verify checks.
type VerifyOptions struct {
	// Checksum is the expected SHA-256 (hex); "" reads IMAGE.sha256.
	Checksum string
	// PublicKey, when set, requires IMAGE.sig to be a valid signature of
	// IMAGE.sha256 by this key.
	PublicKey ed25519.PublicKey
	// Progress, when set, sees the bytes hashed so far.
	Progress func(done, total int64)
}

// VerifyResult says what Verify found.
type VerifyResult struct {
	SHA256 string
	Size   int64
	// Signed is true when a signature was checked and valid.
	Signed bool
	// Note is a remark for the operator (e.g. an unchecked signature).
	Note string
}

// Verify checks an image file (or device, with opts.Checksum) against its
// checksum and, when a public key is given, its signature.
func Verify(ctx context.Context, img string, opts VerifyOptions) (*VerifyResult, error) {
	res := &VerifyResult{}
	want := opts.Checksum
	var sumFile []byte
	if want == "" {
		var err error
		sumFile, err = os.ReadFile(ChecksumPath(img))
		if err != nil {
			return nil, fmt.Errorf("reading checksum of %s: %w (images come with IMAGE.sha256; or give the checksum explicitly)", img, err)
		}
		var file string
		want, file, err = ParseChecksum(ChecksumPath(img), sumFile)
		if err != nil {
			return nil, err
		}
		if file != filepath.Base(img) {
			res.Note = fmt.Sprintf("checksum file names %q, not %q", file, filepath.Base(img))
		}
	} else {
		want = strings.ToLower(want)
		if b, err := hex.DecodeString(want); err != nil || len(b) != sha256.Size {
			return nil, fmt.Errorf("checksum %q: expected 64 hex digits", want)
		}
	}
	if opts.PublicKey != nil {
		if sumFile == nil {
			return nil, errors.New("a signature can only be checked against IMAGE.sha256, not an explicit checksum")
		}
		sig, err := os.ReadFile(SignaturePath(img))
		if err != nil {
			return nil, fmt.Errorf("reading signature: %w (a public key is configured, so the image must be signed)", err)
		}
		if len(sig) != ed25519.SignatureSize || !ed25519.Verify(opts.PublicKey, sumFile, sig) {
			return nil, fmt.Errorf("signature %s does not verify with the configured public key: refusing the image", SignaturePath(img))
		}
		res.Signed = true
	} else if _, err := os.Stat(SignaturePath(img)); err == nil {
		res.Note = "signature present but no public key configured: not checked"
	}
	f, err := os.Open(img)
	if err != nil {
		return nil, fmt.Errorf("opening image: %w", err)
	}
	defer f.Close()
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, fmt.Errorf("sizing %s: %w", img, err)
	}
	got, err := hashReader(ctx, io.NewSectionReader(f, 0, size), size, opts.Progress)
	if err != nil {
		return nil, fmt.Errorf("hashing %s: %w", img, err)
	}
	if got != want {
		return nil, fmt.Errorf("%s: SHA-256 is %s, expected %s: the image is corrupt or incomplete", img, got, want)
	}
	res.SHA256, res.Size = got, size
	return res, nil
}

// hashReader hashes size bytes of r, honouring ctx and reporting progress.
func hashReader(ctx context.Context, r io.Reader, size int64, progress func(done, total int64)) (string, error) {
	h := sha256.New()
	buf := make([]byte, 4<<20)
	var done int64
	for done < size {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		n, err := io.ReadFull(r, buf[:min(int64(len(buf)), size-done)])
		h.Write(buf[:n])
		done += int64(n)
		if progress != nil {
			progress(done, size)
		}
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Sign writes IMAGE.sig: the ed25519 signature of IMAGE.sha256.
func Sign(img string, key ed25519.PrivateKey) error {
	sum, err := os.ReadFile(ChecksumPath(img))
	if err != nil {
		return fmt.Errorf("reading checksum to sign: %w", err)
	}
	if _, _, err := ParseChecksum(ChecksumPath(img), sum); err != nil {
		return err
	}
	if err := os.WriteFile(SignaturePath(img), ed25519.Sign(key, sum), 0o644); err != nil {
		return fmt.Errorf("writing signature: %w", err)
	}
	return nil
}

// GenerateKey writes a new ed25519 key pair: priv (PKCS#8 PEM, mode 0600,
// as `openssl genpkey -algorithm ed25519` writes) and pub (PKIX PEM).
// Existing files are not replaced.
func GenerateKey(priv, pub string) error {
	for _, p := range []string{priv, pub} {
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("%s already exists: not overwriting a key", p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("checking %s: %w", p, err)
		}
	}
	pk, sk, err := ed25519.GenerateKey(nil)
	if err != nil {
		return fmt.Errorf("generating key: %w", err)
	}
	skDER, err := x509.MarshalPKCS8PrivateKey(sk)
	if err != nil {
		return fmt.Errorf("encoding private key: %w", err)
	}
	if err := os.WriteFile(priv, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: skDER}), 0o600); err != nil {
		return fmt.Errorf("writing private key: %w", err)
	}
	return os.WriteFile(pub, PublicKeyPEM(pk), 0o644)
}

// PublicKeyPEM encodes a public key as PKIX PEM.
func PublicKeyPEM(pk ed25519.PublicKey) []byte {
	der, _ := x509.MarshalPKIXPublicKey(pk) // cannot fail for ed25519
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// LoadPrivateKey reads an ed25519 private key (PKCS#8 PEM).
func LoadPrivateKey(path string) (ed25519.PrivateKey, error) {
	der, err := readPEM(path, "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	sk, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: a %T key, expected ed25519", path, k)
	}
	return sk, nil
}

// LoadPublicKey reads an ed25519 public key (PKIX PEM).
func LoadPublicKey(path string) (ed25519.PublicKey, error) {
	der, err := readPEM(path, "PUBLIC KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	pk, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%s: a %T key, expected ed25519", path, k)
	}
	return pk, nil
}

func readPEM(path, typ string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading key: %w", err)
	}
	b, _ := pem.Decode(bytes.TrimSpace(data))
	if b == nil || b.Type != typ {
		return nil, fmt.Errorf("%s: expected a PEM %q block (ed25519)", path, typ)
	}
	return b.Bytes, nil
}
