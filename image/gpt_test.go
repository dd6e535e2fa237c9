package image

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestReadGPT(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "disk"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want, size := writeGPT(t, f, testLayout)
	got, err := ReadGPT(f, size)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ReadGPT:\n got %+v\nwant %+v", got, want)
	}
	p, err := FindPartition(got, "root-b")
	if err != nil || p.Number != 3 || p.Offset != (1+4+2)<<20 {
		t.Fatalf("FindPartition(root-b) = %+v, %v", p, err)
	}
	if _, err := FindPartition(got, "root-c"); err == nil || !strings.Contains(err.Error(), "esp, root-a, root-b, data") {
		t.Fatalf("FindPartition(root-c) error %v, want one listing the partitions", err)
	}
}

func TestReadGPTRejects(t *testing.T) {
	tests := []struct {
		name    string
		corrupt func(t *testing.T, f *os.File)
		want    string
	}{
		{"no GPT", func(t *testing.T, f *os.File) { mustWriteAt(t, f, []byte("NOT PART"), 512) }, "no GPT"},
		{"header checksum", func(t *testing.T, f *os.File) { mustWriteAt(t, f, []byte{7}, 512+24) }, "GPT header checksum"},
		{"entry checksum", func(t *testing.T, f *os.File) { mustWriteAt(t, f, []byte("x"), 1024+56) }, "GPT entry array checksum"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := os.Create(filepath.Join(t.TempDir(), "disk"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			_, size := writeGPT(t, f, testLayout)
			tt.corrupt(t, f)
			if _, err := ReadGPT(f, size); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
	t.Run("partition beyond the disk", func(t *testing.T) {
		f, err := os.Create(filepath.Join(t.TempDir(), "disk"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		_, size := writeGPT(t, f, testLayout)
		if _, err := ReadGPT(f, size-(2<<20)); err == nil || !strings.Contains(err.Error(), `("data") lies outside`) {
			t.Fatalf("error %v, want the data partition outside the disk", err)
		}
	})
}
