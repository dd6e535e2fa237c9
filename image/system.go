package image

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"unicode/utf16"

	"golang.org/x/sys/unix"
)

// System is a running appliance: its mounted ESP, kernel command line,
// partitions and release. Zero-valued paths mean the real ones
// (DefaultSystem); tests point them at a temporary tree.
type System struct {
	// ESPDir is where the ESP is mounted (/boot).
	ESPDir string
	// Cmdline is the kernel command line file (/proc/cmdline).
	Cmdline string
	// PartDir holds the partitions by GPT name (/dev/disk/by-partlabel).
	PartDir string
	// Release is the booted root's manifest (/usr/share/ovsha/release.json).
	Release string
	// EFIVars is the efivarfs mount (/sys/firmware/efi/efivars).
	EFIVars string
	// Run runs a command (nil: os/exec); tests record the calls.
	Run func(ctx context.Context, name string, args ...string) ([]byte, error)
	Log *slog.Logger
}

// DefaultSystem returns the System of the machine it runs on.
func DefaultSystem(log *slog.Logger) *System {
	return &System{
		ESPDir:  "/boot",
		Cmdline: "/proc/cmdline",
		PartDir: "/dev/disk/by-partlabel",
		Release: "/usr/share/ovsha/release.json",
		EFIVars: "/sys/firmware/efi/efivars",
		Log:     log,
	}
}

func (s *System) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

func (s *System) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	if s.Run != nil {
		return s.Run(ctx, name, args...)
	}
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return out, nil
}

func (s *System) entriesDir() string { return filepath.Join(s.ESPDir, "loader", "entries") }
func (s *System) slotFile(slot, ext string) string {
	return filepath.Join(s.ESPDir, "EFI", "ovsha", "slot-"+slot+ext)
}

// BootedSlot returns the slot of the running root, from root=PARTLABEL=root-X.
func (s *System) BootedSlot() (string, error) {
	b, err := os.ReadFile(s.Cmdline)
	if err != nil {
		return "", fmt.Errorf("reading kernel command line: %w", err)
	}
	for _, f := range strings.Fields(string(b)) {
		if v, ok := strings.CutPrefix(f, "root=PARTLABEL=root-"); ok && (v == "a" || v == "b") {
			return v, nil
		}
	}
	return "", fmt.Errorf("%s has no root=PARTLABEL=root-a or root-b: not booted from an ovsha slot", s.Cmdline)
}

// Entries returns the ovsha boot entries, in boot order.
func (s *System) Entries() ([]BootEntry, error) {
	ents, err := os.ReadDir(s.entriesDir())
	if err != nil {
		return nil, fmt.Errorf("reading boot entries (is the ESP mounted on %s?): %w", s.ESPDir, err)
	}
	var out []BootEntry
	for _, e := range ents {
		if be, ok := ParseBootEntryName(e.Name()); ok {
			out = append(out, be)
		}
	}
	SortEntries(out)
	return out, nil
}

// TrialBoot says whether this boot is on trial: systemd-boot started a
// counted entry (it sets the LoaderBootCountPath EFI variable to the
// entry's path) and the entry has not been blessed (renamed) since.
func (s *System) TrialBoot() bool {
	m, _ := filepath.Glob(filepath.Join(s.EFIVars, "LoaderBootCountPath-*"))
	if len(m) == 0 {
		return false
	}
	b, err := os.ReadFile(m[0])
	if err != nil || len(b) < 6 {
		return true // counted, path unknown: assume still on trial
	}
	b = b[4:] // efivarfs: 4 bytes of attributes, then UTF-16LE
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		c := uint16(b[i]) | uint16(b[i+1])<<8
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	p := strings.ReplaceAll(string(utf16.Decode(u)), `\`, "/")
	_, err = os.Stat(filepath.Join(s.ESPDir, filepath.FromSlash(p)))
	return err == nil
}

// SlotStatus is one slot as Status sees it.
type SlotStatus struct {
	Slot     string     `json:"slot"`
	Booted   bool       `json:"booted"`
	Version  string     `json:"version,omitempty"`
	Kernel   string     `json:"kernel,omitempty"`
	Entry    *BootEntry `json:"entry,omitempty"`
	Manifest *Manifest  `json:"-"`
	Problem  string     `json:"problem,omitempty"`
}

// Status is `ovsha system status`.
type Status struct {
	BootedSlot string       `json:"booted_slot"`
	Version    string       `json:"version"`
	Trial      bool         `json:"trial_boot"`
	NextBoot   string       `json:"next_boot"`
	Slots      []SlotStatus `json:"slots"`
}

// Status reports the booted slot, both slots' versions and entries.
func (s *System) Status(ctx context.Context) (*Status, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	slot, err := s.BootedSlot()
	if err != nil {
		return nil, err
	}
	st := &Status{BootedSlot: slot, Trial: s.TrialBoot()}
	if b, err := os.ReadFile(s.Release); err == nil {
		if m, err := ParseManifest(s.Release, b); err == nil {
			st.Version = m.Version
		}
	}
	entries, err := s.Entries()
	if err != nil {
		return nil, err
	}
	if len(entries) > 0 {
		st.NextBoot = entries[0].File
	}
	for _, sl := range Slots {
		ss := SlotStatus{Slot: sl, Booted: sl == slot}
		for i := range entries {
			if entries[i].Slot == sl && (ss.Entry == nil || entries[i].Generation > ss.Entry.Generation) {
				e := entries[i]
				ss.Entry = &e
			}
		}
		if b, err := os.ReadFile(s.slotFile(sl, ".json")); err == nil {
			if m, err := ParseManifest(s.slotFile(sl, ".json"), b); err == nil {
				ss.Manifest, ss.Version, ss.Kernel = m, m.Version, m.Kernel
			} else {
				ss.Problem = err.Error()
			}
		} else if !errors.Is(err, fs.ErrNotExist) {
			ss.Problem = err.Error()
		}
		st.Slots = append(st.Slots, ss)
	}
	return st, nil
}

// Rollback makes the other slot boot next: its newest entry gets a new
// generation (newest of all) and no boot counter. A slot whose entry
// failed its trial (no tries left) is refused unless force is set.
func (s *System) Rollback(ctx context.Context, force bool) (BootEntry, error) {
	if err := ctx.Err(); err != nil {
		return BootEntry{}, err
	}
	slot, err := s.BootedSlot()
	if err != nil {
		return BootEntry{}, err
	}
	other := OtherSlot(slot)
	entries, err := s.Entries()
	if err != nil {
		return BootEntry{}, err
	}
	var prev *BootEntry
	maxGen := 0
	for i := range entries {
		maxGen = max(maxGen, entries[i].Generation)
		if entries[i].Slot == other && (prev == nil || entries[i].Generation > prev.Generation) {
			prev = &entries[i]
		}
	}
	if prev == nil {
		return BootEntry{}, fmt.Errorf("slot %s has no boot entry: there is nothing to roll back to", other)
	}
	if _, err := os.Stat(s.slotFile(other, ".efi")); err != nil {
		return BootEntry{}, fmt.Errorf("slot %s has no kernel image (%w): cannot roll back", other, err)
	}
	if prev.State() == "bad" && !force {
		return BootEntry{}, fmt.Errorf("slot %s failed its trial boot (entry %s): refusing to roll back to it without --force", other, prev.File)
	}
	name := EntryFileName(maxGen+1, other, -1)
	if err := os.Rename(filepath.Join(s.entriesDir(), prev.File), filepath.Join(s.entriesDir(), name)); err != nil {
		return BootEntry{}, fmt.Errorf("promoting slot %s: %w", other, err)
	}
	if err := syncFS(s.entriesDir()); err != nil {
		return BootEntry{}, err
	}
	ne, _ := ParseBootEntryName(name)
	s.log().Info("rollback: previous slot boots next", "slot", other, "entry", name, "was", prev.File)
	return ne, nil
}

// Reboot asks systemd to reboot.
func (s *System) Reboot(ctx context.Context) error {
	_, err := s.run(ctx, "systemctl", "reboot")
	return err
}

// syncFS flushes the file system holding path.
func syncFS(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("syncing %s: %w", path, err)
	}
	defer f.Close()
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		return fmt.Errorf("syncing %s: %w", path, err)
	}
	return nil
}
