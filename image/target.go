package image

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Host is the view of the machine used to refuse dangerous flash targets.
// Zero values mean the real files.
type Host struct {
	// Mountinfo is /proc/self/mountinfo.
	Mountinfo string
	// Swaps is /proc/swaps.
	Swaps string
	// SysDevBlock is /sys/dev/block.
	SysDevBlock string
}

func (h Host) paths() Host {
	if h.Mountinfo == "" {
		h.Mountinfo = "/proc/self/mountinfo"
	}
	if h.Swaps == "" {
		h.Swaps = "/proc/swaps"
	}
	if h.SysDevBlock == "" {
		h.SysDevBlock = "/sys/dev/block"
	}
	return h
}

// DevNum is a block device number "MAJOR:MINOR".
type DevNum string

func devNum(rdev uint64) DevNum {
	return DevNum(fmt.Sprintf("%d:%d", unix.Major(rdev), unix.Minor(rdev)))
}

// mounts maps mounted device numbers to a mount point.
func (h Host) mounts() (map[DevNum]string, error) {
	f, err := os.Open(h.Mountinfo)
	if err != nil {
		return nil, fmt.Errorf("reading mounts: %w", err)
	}
	defer f.Close()
	m := map[DevNum]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw
		fl := strings.Fields(sc.Text())
		if len(fl) < 5 {
			continue
		}
		d := DevNum(fl[2])
		if _, ok := m[d]; !ok || fl[4] == "/" {
			m[d] = fl[4]
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", h.Mountinfo, err)
	}
	return m, nil
}

// partitions returns a disk's partition device numbers from sysfs.
func (h Host) partitions(disk DevNum) []DevNum {
	dir, err := filepath.EvalSymlinks(filepath.Join(h.SysDevBlock, string(disk)))
	if err != nil {
		return nil
	}
	ents, _ := os.ReadDir(dir)
	var out []DevNum
	for _, e := range ents {
		if _, err := os.Stat(filepath.Join(dir, e.Name(), "partition")); err != nil {
			continue
		}
		if b, err := os.ReadFile(filepath.Join(dir, e.Name(), "dev")); err == nil {
			out = append(out, DevNum(strings.TrimSpace(string(b))))
		}
	}
	return out
}

// diskOf returns the whole disk holding a partition (itself if a disk).
func (h Host) diskOf(d DevNum) DevNum {
	dir, err := filepath.EvalSymlinks(filepath.Join(h.SysDevBlock, string(d)))
	if err != nil {
		return d
	}
	if _, err := os.Stat(filepath.Join(dir, "partition")); err != nil {
		return d
	}
	if b, err := os.ReadFile(filepath.Join(filepath.Dir(dir), "dev")); err == nil {
		return DevNum(strings.TrimSpace(string(b)))
	}
	return d
}

// CheckBlockTarget refuses a block device that is, or has a partition
// that is, mounted or used as swap, or that holds the running system's
// root file system. name is used in the error.
func (h Host) CheckBlockTarget(name string, disk DevNum) error {
	h = h.paths()
	mounts, err := h.mounts()
	if err != nil {
		return err
	}
	for dev, mp := range mounts {
		if mp == "/" && h.diskOf(dev) == disk {
			return fmt.Errorf("%s holds the running system's root file system: refusing to overwrite it", name)
		}
	}
	devs := append([]DevNum{disk}, h.partitions(disk)...)
	for _, d := range devs {
		if mp, ok := mounts[d]; ok {
			return fmt.Errorf("%s is in use: device %s is mounted on %s (unmount it first)", name, d, mp)
		}
	}
	if b, err := os.ReadFile(h.Swaps); err == nil {
		for _, l := range strings.Split(string(b), "\n")[1:] {
			fl := strings.Fields(l)
			if len(fl) == 0 {
				continue
			}
			var st unix.Stat_t
			if unix.Stat(fl[0], &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFBLK {
				for _, d := range devs {
					if devNum(st.Rdev) == d {
						return fmt.Errorf("%s is in use as swap (%s)", name, fl[0])
					}
				}
			}
		}
	}
	return nil
}
