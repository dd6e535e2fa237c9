package image

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestFlashToFile(t *testing.T) {
	ctx := context.Background()
	img := testImage(t, t.TempDir(), "1.0.0", 1)
	target := filepath.Join(t.TempDir(), "disk.raw")
	var phases []string
	res, err := Flash(ctx, FlashOptions{
		Image: img, Target: target,
		Progress: func(phase string, done, total int64) {
			if len(phases) == 0 || phases[len(phases)-1] != phase {
				phases = append(phases, phase)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"verify", "write", "read back"}; !slices.Equal(phases, want) {
		t.Fatalf("phases %v, want %v", phases, want)
	}
	a, _ := os.ReadFile(img)
	b, _ := os.ReadFile(target)
	if !bytes.Equal(a, b) || res.Written != int64(len(a)) {
		t.Fatalf("target differs from the image (%d of %d bytes written)", res.Written, len(a))
	}
	if len(res.SeedFile) != 0 {
		t.Fatalf("seed files %v without --seed", res.SeedFile)
	}
}

func TestFlashWithSeed(t *testing.T) {
	ctx := context.Background()
	img := testImage(t, t.TempDir(), "1.0.0", 1)
	seed := writeSeedDir(t, nil)
	target := filepath.Join(t.TempDir(), "disk.raw")
	// an existing, larger file is replaced, not merged into
	if err := os.WriteFile(target, bytes.Repeat([]byte{0xee}, 16<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Flash(ctx, FlashOptions{Image: img, Target: target, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/ovsha/cluster.conf", "/ovsha/authkey", "/ovsha/node.conf"}
	if !slices.Equal(res.SeedFile, want) {
		t.Fatalf("seed files %v, want %v", res.SeedFile, want)
	}
	f, err := os.Open(target)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	if fi.Size() != res.Written {
		t.Fatalf("target is %d bytes, image %d", fi.Size(), res.Written)
	}
	parts, err := ReadGPT(f, fi.Size())
	if err != nil {
		t.Fatal(err)
	}
	esp, _ := FindPartition(parts, "esp")
	got, err := ESP{Disk: target, Offset: esp.Offset}.ReadFile(ctx, "/ovsha/node.conf")
	if err != nil {
		t.Fatal(err)
	}
	if wantNC, _ := os.ReadFile(filepath.Join(seed, SeedNodeConf)); !bytes.Equal(got, wantNC) {
		t.Fatalf("node.conf on the ESP is %q, want %q", got, wantNC)
	}
	// the rest of the image is untouched
	root, _ := FindPartition(parts, "root-a")
	a, b := make([]byte, root.Size), make([]byte, root.Size)
	src, _ := os.Open(img)
	defer src.Close()
	src.ReadAt(a, root.Offset)
	f.ReadAt(b, root.Offset)
	if !bytes.Equal(a, b) {
		t.Fatal("root-a differs from the image after writing the seed")
	}
}

func TestFlashRefuses(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	img := testImage(t, dir, "1.0.0", 1)

	t.Run("invalid seed: nothing written", func(t *testing.T) {
		target := filepath.Join(t.TempDir(), "disk.raw")
		_, err := Flash(ctx, FlashOptions{Image: img, Target: target, Seed: writeSeedDir(t, map[string]string{SeedNodeConf: "name: n9\n"})})
		if err == nil || !strings.Contains(err.Error(), `node "n9" is not in cluster.conf's nodelist`) {
			t.Fatalf("error %v", err)
		}
		if _, err := os.Stat(target); err == nil {
			t.Fatal("target written despite the invalid seed")
		}
	})
	t.Run("directory target", func(t *testing.T) {
		_, err := Flash(ctx, FlashOptions{Image: img, Target: t.TempDir()})
		if err == nil || !strings.Contains(err.Error(), "neither a block device nor a plain file") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("corrupt image: nothing written", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), filepath.Base(img))
		data, _ := os.ReadFile(img)
		data[len(data)/2] ^= 1
		os.WriteFile(bad, data, 0o644)
		sum, _ := os.ReadFile(ChecksumPath(img))
		os.WriteFile(ChecksumPath(bad), sum, 0o644)
		target := filepath.Join(t.TempDir(), "disk.raw")
		_, err := Flash(ctx, FlashOptions{Image: bad, Target: target})
		if err == nil || !strings.Contains(err.Error(), "corrupt or incomplete") {
			t.Fatalf("error %v", err)
		}
		if _, err := os.Stat(target); err == nil {
			t.Fatal("target written from a corrupt image")
		}
	})
}
