package image

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
)

// Slots are the two root slots, named by their GPT partition "root-X".
var Slots = []string{"a", "b"}

// OtherSlot returns the slot that is not s.
func OtherSlot(s string) string {
	if s == "a" {
		return "b"
	}
	return "a"
}

// BootEntry is a systemd-boot Type #1 entry of the ESP's loader/entries,
// named ovsha-GEN-SLOT[+LEFT[-DONE]].conf. GEN, the install generation,
// orders entries (newest first); +LEFT-DONE is systemd-boot's boot
// counter: tries left and done. An entry without a counter is good
// (blessed); one with LEFT=0 has failed and sorts last.
type BootEntry struct {
	File       string
	Generation int
	Slot       string
	Counting   bool
	TriesLeft  int
	TriesDone  int
}

var entryRE = regexp.MustCompile(`^ovsha-([0-9]{1,9})-([ab])(?:\+([0-9]{1,4})(?:-([0-9]{1,4}))?)?\.conf$`)

// ParseBootEntryName parses an entry file name; ok is false for files
// that are not ovsha entries.
func ParseBootEntryName(name string) (BootEntry, bool) {
	m := entryRE.FindStringSubmatch(name)
	if m == nil {
		return BootEntry{}, false
	}
	e := BootEntry{File: name, Slot: m[2]}
	e.Generation, _ = strconv.Atoi(m[1])
	if m[3] != "" {
		e.Counting = true
		e.TriesLeft, _ = strconv.Atoi(m[3])
		if m[4] != "" {
			e.TriesDone, _ = strconv.Atoi(m[4])
		}
	}
	return e, true
}

// State is "good" (blessed), "trial" (tries left) or "bad" (no tries left).
func (e BootEntry) State() string {
	switch {
	case !e.Counting:
		return "good"
	case e.TriesLeft > 0:
		return "trial"
	default:
		return "bad"
	}
}

// EntryFileName names an entry; tries < 0 means no boot counter.
func EntryFileName(gen int, slot string, tries int) string {
	if tries < 0 {
		return fmt.Sprintf("ovsha-%d-%s.conf", gen, slot)
	}
	return fmt.Sprintf("ovsha-%d-%s+%d.conf", gen, slot, tries)
}

// EntryContent is the text of a slot's boot entry; it must match
// boot_entry in image/build/lib.sh.
func EntryContent(version string, gen int, slot, cmdline string) string {
	return fmt.Sprintf("title      ovsha %s (slot %s)\nsort-key   ovsha\nversion    %d\nefi        /EFI/ovsha/slot-%s.efi\noptions    root=PARTLABEL=root-%s %s\n",
		version, slot, gen, slot, slot, cmdline)
}

// SortEntries orders entries as systemd-boot does for ours: entries with
// no tries left last, then by generation, newest first. The first entry
// is the one that boots next.
func SortEntries(es []BootEntry) {
	slices.SortStableFunc(es, func(a, b BootEntry) int {
		ab, bb := a.State() == "bad", b.State() == "bad"
		if ab != bb {
			return boolInt(ab) - boolInt(bb)
		}
		if a.Generation != b.Generation {
			return b.Generation - a.Generation
		}
		return b.TriesLeft - a.TriesLeft
	})
}
