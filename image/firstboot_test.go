package image

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seedBootFixture is an appliance's directories for SeedBoot: an ESP
// holding a seed for n1 (edit as writeSeedDir), /data, /run and a
// /sys/class/net with eth0; commands are not run.
type seedBootFixture struct {
	sys  *System
	opts SeedBootOptions
	out  *bytes.Buffer
}

func newSeedBootFixture(t *testing.T, edit map[string]string) *seedBootFixture {
	t.Helper()
	root := t.TempDir()
	esp := filepath.Join(root, "boot")
	if err := os.MkdirAll(esp, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(writeSeedDir(t, edit), filepath.Join(esp, strings.TrimPrefix(SeedESPDir, "/"))); err != nil {
		t.Fatal(err)
	}
	sysNet := filepath.Join(root, "sys-class-net")
	if err := os.MkdirAll(filepath.Join(sysNet, "eth0"), 0o755); err != nil {
		t.Fatal(err)
	}
	out := &bytes.Buffer{}
	return &seedBootFixture{
		sys: &System{
			ESPDir: esp,
			Run:    func(context.Context, string, ...string) ([]byte, error) { return nil, nil },
		},
		opts: SeedBootOptions{
			DataDir:     filepath.Join(root, "data", "ovsha"),
			RunDir:      filepath.Join(root, "run", "ovsha"),
			CIBPath:     filepath.Join(root, "data", "ovsha", "state", "cib.xml"),
			SysClassNet: sysNet,
			SetHostname: func(string) error { return nil },
			Out:         out,
		},
		out: out,
	}
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

func TestSeedBootImportsSeedCIB(t *testing.T) {
	ctx := context.Background()
	f := newSeedBootFixture(t, map[string]string{SeedCIB: seedCIBXML})
	if err := f.sys.SeedBoot(ctx, f.opts); err != nil {
		t.Fatal(err)
	}
	wantSeedCIB(t, f.opts.CIBPath)
	for _, name := range []string{SeedClusterConf, SeedNodeConf, SeedAuthkey, SeedCIBCopy} {
		if !exists(filepath.Join(f.opts.DataDir, name)) {
			t.Errorf("%s not imported into the data directory", name)
		}
	}
	if !strings.Contains(f.out.String(), MarkerSeedImported+" node=n1 ") {
		t.Errorf("console lacks %s:\n%s", MarkerSeedImported, f.out)
	}
	// later boots never import it again: a CIB the operator removed stays
	// removed (the cluster's peers give it back)
	if err := os.Remove(f.opts.CIBPath); err != nil {
		t.Fatal(err)
	}
	if err := f.sys.SeedBoot(ctx, f.opts); err != nil {
		t.Fatal(err)
	}
	if exists(f.opts.CIBPath) {
		t.Error("the seed CIB was imported again on a later boot")
	}
}

func TestSeedBootKeepsExistingCIB(t *testing.T) {
	f := newSeedBootFixture(t, map[string]string{SeedCIB: seedCIBXML})
	if err := os.MkdirAll(filepath.Dir(f.opts.CIBPath), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.opts.CIBPath, []byte("the cluster's own"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := f.sys.SeedBoot(context.Background(), f.opts); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(f.opts.CIBPath); string(b) != "the cluster's own" {
		t.Errorf("the existing CIB was replaced: %q", b)
	}
}

func TestSeedBootRejectsInvalidSeedCIB(t *testing.T) {
	f := newSeedBootFixture(t, map[string]string{SeedCIB: "<cib><configuration>"})
	seedCIB := filepath.Join(f.sys.ESPDir, strings.TrimPrefix(SeedESPDir, "/"), SeedCIB)
	err := f.sys.SeedBoot(context.Background(), f.opts)
	if err == nil || !strings.Contains(err.Error(), seedCIB) {
		t.Fatalf("err = %v, want one naming %s", err, seedCIB)
	}
	if !strings.Contains(f.out.String(), MarkerSeedInvalid+": "+seedCIB) {
		t.Errorf("console lacks %s naming %s:\n%s", MarkerSeedInvalid, seedCIB, f.out)
	}
	// validation rejected it before anything was copied
	for _, p := range []string{f.opts.CIBPath, f.opts.DataDir} {
		if exists(p) {
			t.Errorf("%s written from an invalid seed", p)
		}
	}
	if !exists(filepath.Join(filepath.Dir(seedCIB), SeedAuthkey)) {
		t.Error("the authkey was removed from an invalid seed")
	}
}
