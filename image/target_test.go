package image

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeHost builds a /sys/dev/block with disk 8:0 (sda, partitions 8:1,
// 8:2) and disk 8:16 (sdb, partition 8:17), and a mountinfo.
func fakeHost(t *testing.T, mountinfo string) Host {
	t.Helper()
	dir := t.TempDir()
	write := func(p, s string) {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	devices := filepath.Join(dir, "devices")
	disks := map[string][]string{"sda:8:0": {"sda1:8:1", "sda2:8:2"}, "sdb:8:16": {"sdb1:8:17"}}
	block := filepath.Join(dir, "dev", "block")
	os.MkdirAll(block, 0o755)
	for d, ps := range disks {
		name, num, _ := strings.Cut(d, ":")
		write(filepath.Join(devices, name, "dev"), num)
		os.Symlink(filepath.Join(devices, name), filepath.Join(block, num))
		for _, p := range ps {
			pn, pnum, _ := strings.Cut(p, ":")
			write(filepath.Join(devices, name, pn, "dev"), pnum)
			write(filepath.Join(devices, name, pn, "partition"), "1")
			os.Symlink(filepath.Join(devices, name, pn), filepath.Join(block, pnum))
		}
	}
	write(filepath.Join(dir, "mountinfo"), mountinfo)
	write(filepath.Join(dir, "swaps"), "Filename Type Size Used Priority\n")
	return Host{Mountinfo: filepath.Join(dir, "mountinfo"), Swaps: filepath.Join(dir, "swaps"), SysDevBlock: block}
}

func TestCheckBlockTarget(t *testing.T) {
	const mi = "22 1 8:2 / / rw,relatime shared:1 - ext4 /dev/sda2 rw\n" +
		"23 22 0:21 / /proc rw shared:2 - proc proc rw\n"
	tests := []struct {
		name, mountinfo string
		disk            DevNum
		want            string
	}{
		{"running system's disk", mi, "8:0", "holds the running system's root file system"},
		{"other disk, unmounted", mi, "8:16", ""},
		{"other disk, partition mounted", mi + "40 22 8:17 / /media/usb rw - vfat /dev/sdb1 rw\n", "8:16", "device 8:17 is mounted on /media/usb"},
		{"other disk, whole disk mounted", mi + "40 22 8:16 / /mnt rw - ext4 /dev/sdb rw\n", "8:16", "device 8:16 is mounted on /mnt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := fakeHost(t, tt.mountinfo)
			err := h.CheckBlockTarget("/dev/x", tt.disk)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "/dev/x ") {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}
