package image

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// fakeSystem is an appliance on plain files: an ESP directory with slot
// a installed (generation 1), slot devices as files, booted from slot.
func fakeSystem(t *testing.T, slot string) *System {
	t.Helper()
	dir := t.TempDir()
	s := &System{
		ESPDir:  filepath.Join(dir, "boot"),
		Cmdline: filepath.Join(dir, "cmdline"),
		PartDir: filepath.Join(dir, "by-partlabel"),
		Release: filepath.Join(dir, "release.json"),
		EFIVars: filepath.Join(dir, "efivars"),
	}
	files := map[string]string{
		s.Cmdline: "root=PARTLABEL=root-" + slot + " rootfstype=squashfs ro\n",
		s.Release: fmt.Sprintf(testManifest, "1.0.0"),
		filepath.Join(s.ESPDir, "loader/entries/ovsha-1-a.conf"): EntryContent("1.0.0", 1, "a", "ro"),
		filepath.Join(s.ESPDir, "EFI/ovsha/slot-a.efi"):          "UKI of 1.0.0",
		filepath.Join(s.ESPDir, "EFI/ovsha/slot-a.json"):         fmt.Sprintf(testManifest, "1.0.0"),
		filepath.Join(s.PartDir, "root-a"):                       strings.Repeat("\x00", 2<<20),
		filepath.Join(s.PartDir, "root-b"):                       strings.Repeat("\x00", 2<<20),
	}
	for p, c := range files {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(s.EFIVars, 0o755)
	return s
}

func entryNames(t *testing.T, s *System) []string {
	t.Helper()
	es, err := s.Entries()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.File)
	}
	return out
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestUpgradeWritesInactiveSlot(t *testing.T) {
	ctx := context.Background()
	s := fakeSystem(t, "a")
	// a failed earlier trial of slot b is replaced
	bad := filepath.Join(s.ESPDir, "loader/entries/ovsha-2-b+0-3.conf")
	os.WriteFile(bad, []byte("old"), 0o644)
	img := testImage(t, t.TempDir(), "2.0.0", 7)
	var atStandby []string
	res, err := s.Upgrade(ctx, img, UpgradeOptions{Tries: 2, Standby: func(context.Context) error {
		atStandby = entryNames(t, s)
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Slot != "b" || res.Entry != "ovsha-3-b+2.conf" || res.Version != "2.0.0" || res.RootSize != 300<<10 {
		t.Fatalf("result %+v", res)
	}
	// the new entry boots first; the old slot stays as the fallback
	want := []string{"ovsha-3-b+2.conf", "ovsha-1-a.conf"}
	if got := entryNames(t, s); !slices.Equal(got, want) {
		t.Fatalf("entries %v, want %v", got, want)
	}
	if !slices.Equal(atStandby, want) {
		t.Fatalf("standby ran with entries %v, want it after the slot was installed", atStandby)
	}
	if got := readFile(t, filepath.Join(s.ESPDir, "loader/entries", res.Entry)); got != EntryContent("2.0.0", 3, "b", "rootfstype=squashfs ro systemd.volatile=state") {
		t.Fatalf("entry content:\n%s", got)
	}
	if got := readFile(t, filepath.Join(s.ESPDir, "EFI/ovsha/slot-b.efi")); got != "UKI of 2.0.0" {
		t.Fatalf("slot-b.efi = %q", got)
	}
	root := readFile(t, filepath.Join(s.PartDir, "root-b"))
	if !bytes.Equal([]byte(root[:300<<10]), fakeSquashfs(7, 300<<10)) {
		t.Fatal("root-b does not hold the new squashfs")
	}
	if a := readFile(t, filepath.Join(s.PartDir, "root-a")); strings.Trim(a, "\x00") != "" {
		t.Fatal("the booted slot was written")
	}
	st, err := s.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.BootedSlot != "a" || st.NextBoot != "ovsha-3-b+2.conf" || st.Slots[1].Version != "2.0.0" || st.Slots[1].Entry.State() != "trial" {
		t.Fatalf("status %+v", st)
	}
}

func TestUpgradeRefuses(t *testing.T) {
	ctx := context.Background()
	img := testImage(t, t.TempDir(), "2.0.0", 7)
	t.Run("corrupt image: slot untouched", func(t *testing.T) {
		s := fakeSystem(t, "a")
		data, _ := os.ReadFile(img)
		bad := filepath.Join(t.TempDir(), filepath.Base(img))
		data[len(data)-1] ^= 1
		os.WriteFile(bad, data, 0o644)
		os.WriteFile(ChecksumPath(bad), []byte(readFile(t, ChecksumPath(img))), 0o644)
		if _, err := s.Upgrade(ctx, bad, UpgradeOptions{}); err == nil || !strings.Contains(err.Error(), "corrupt") {
			t.Fatalf("error %v", err)
		}
		if got := entryNames(t, s); !slices.Equal(got, []string{"ovsha-1-a.conf"}) {
			t.Fatalf("entries changed: %v", got)
		}
	})
	t.Run("not booted from a slot", func(t *testing.T) {
		s := fakeSystem(t, "a")
		os.WriteFile(s.Cmdline, []byte("root=/dev/sda1\n"), 0o644)
		if _, err := s.Upgrade(ctx, img, UpgradeOptions{}); err == nil || !strings.Contains(err.Error(), "not booted from an ovsha slot") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("slot too small", func(t *testing.T) {
		s := fakeSystem(t, "a")
		os.WriteFile(filepath.Join(s.PartDir, "root-b"), make([]byte, 4096), 0o644)
		if _, err := s.Upgrade(ctx, img, UpgradeOptions{}); err == nil || !strings.Contains(err.Error(), "slot b") {
			t.Fatalf("error %v", err)
		}
	})
}

func TestRollback(t *testing.T) {
	s := fakeSystem(t, "b")
	dir := filepath.Join(s.ESPDir, "loader/entries")
	os.WriteFile(filepath.Join(dir, "ovsha-2-b.conf"), []byte("x"), 0o644)
	e, err := s.Rollback(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	if e.File != "ovsha-3-a.conf" {
		t.Fatalf("promoted %s", e.File)
	}
	if got := entryNames(t, s); !slices.Equal(got, []string{"ovsha-3-a.conf", "ovsha-2-b.conf"}) {
		t.Fatalf("entries %v", got)
	}

	// a slot that failed its trial is refused unless forced
	s = fakeSystem(t, "b")
	os.Rename(filepath.Join(s.ESPDir, "loader/entries/ovsha-1-a.conf"), filepath.Join(s.ESPDir, "loader/entries/ovsha-1-a+0-3.conf"))
	if _, err := s.Rollback(context.Background(), false); err == nil || !strings.Contains(err.Error(), "failed its trial boot") {
		t.Fatalf("error %v", err)
	}
	if _, err := s.Rollback(context.Background(), true); err != nil {
		t.Fatalf("forced: %v", err)
	}
	// nothing to roll back to
	s = fakeSystem(t, "a")
	if _, err := s.Rollback(context.Background(), false); err == nil || !strings.Contains(err.Error(), "slot b has no boot entry") {
		t.Fatalf("error %v", err)
	}
}

// fakeRun answers ovs-vsctl and systemctl is-failed.
func fakeRun(ovshadState string) func(context.Context, string, ...string) ([]byte, error) {
	return func(_ context.Context, name string, args ...string) ([]byte, error) {
		if name == "systemctl" {
			return []byte(ovshadState + "\n"), nil
		}
		return nil, nil
	}
}

func TestCheck(t *testing.T) {
	ctx := context.Background()
	calls := 0
	quorum := func(context.Context) (QuorumView, error) {
		calls++
		switch {
		case calls < 3:
			return QuorumView{}, errors.New("connection refused")
		case calls < 5:
			return QuorumView{Node: "n1", NodeID: 1, Members: 1}, nil
		}
		return QuorumView{Node: "n1", NodeID: 1, Members: 2, Quorate: true}, nil
	}
	s := fakeSystem(t, "b")
	s.Run = fakeRun("active")
	os.WriteFile(filepath.Join(s.EFIVars, "LoaderBootCountPath-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f"), nil, 0o644)
	var out bytes.Buffer
	if err := s.Check(ctx, CheckOptions{Quorum: quorum, Interval: time.Millisecond, Out: &out}); err != nil {
		t.Fatal(err)
	}
	want := "OVSHA-READY node=n1 nodeid=1 slot=b version=1.0.0 trial=true\n" +
		"OVSHA-QUORATE node=n1 members=2 slot=b\n" +
		"OVSHA-BOOT-OK slot=b version=1.0.0 trial=true\n"
	if out.String() != want {
		t.Fatalf("output:\n%s\nwant:\n%s", out.String(), want)
	}
}

// countPath is the LoaderBootCountPath EFI variable for an entry file.
func countPath(entry string) []byte {
	b := []byte{6, 0, 0, 0}
	for _, r := range `\loader\entries\` + entry {
		b = append(b, byte(r), 0)
	}
	return append(b, 0, 0)
}

func TestTrialBoot(t *testing.T) {
	s := fakeSystem(t, "a")
	if s.TrialBoot() {
		t.Fatal("trial boot without LoaderBootCountPath")
	}
	v := filepath.Join(s.EFIVars, "LoaderBootCountPath-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f")
	os.WriteFile(v, countPath("ovsha-1-a+2.conf"), 0o644)
	if s.TrialBoot() {
		t.Fatal("trial boot although the counted entry was blessed (renamed)")
	}
	os.Rename(filepath.Join(s.ESPDir, "loader/entries/ovsha-1-a.conf"), filepath.Join(s.ESPDir, "loader/entries/ovsha-1-a+2.conf"))
	if !s.TrialBoot() {
		t.Fatal("no trial boot with the counted entry present")
	}
}

func TestCheckFailures(t *testing.T) {
	ctx := context.Background()
	never := func(context.Context) (QuorumView, error) { return QuorumView{}, errors.New("connection refused") }
	tests := []struct {
		name    string
		trial   bool
		ovshad  string
		wantErr bool
		want    string
	}{
		{"trial boot, ovshad failed", true, "failed", true, `OVSHA-BOOT-FAILED slot=b version=1.0.0 reason="ovshad is not ready: ovshad.service failed"`},
		{"trial boot, ovshad never ready", true, "activating", true, `OVSHA-BOOT-FAILED slot=b version=1.0.0 reason="ovshad is not ready: context deadline exceeded`},
		{"normal boot only reports", false, "failed", false, `OVSHA-NOT-READY slot=b version=1.0.0 reason="ovshad is not ready: ovshad.service failed"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fakeSystem(t, "b")
			s.Run = fakeRun(tt.ovshad)
			if tt.trial {
				os.WriteFile(filepath.Join(s.EFIVars, "LoaderBootCountPath-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f"), nil, 0o644)
			}
			var out bytes.Buffer
			err := s.Check(ctx, CheckOptions{Quorum: never, Interval: time.Millisecond, Timeout: 50 * time.Millisecond, Out: &out})
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want error: %v", err, tt.wantErr)
			}
			if !strings.HasPrefix(out.String(), tt.want) {
				t.Fatalf("output %q, want %q", out.String(), tt.want)
			}
		})
	}
}
