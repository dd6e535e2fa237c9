package image

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ovsha/ovsha/cluster/cib/store"
)

const seedCIBXML = `<cib admin_epoch="0" epoch="1" num_updates="0"><configuration>
<crm_config><cluster_property_set id="opts"><nvpair id="opts-fencing" name="fencing-enabled" value="false"/></cluster_property_set></crm_config>
<nodes/><resources><primitive id="vip" class="ocf" provider="heartbeat" type="IPaddr2">
<instance_attributes id="vip-ia"><nvpair id="vip-ip" name="ip" value="10.99.0.100"/></instance_attributes></primitive></resources>
<constraints/></configuration><status/></cib>`

// wantSeedCIB fails unless cibPath holds, in the store's format, the CIB
// of seedCIBXML.
func wantSeedCIB(t *testing.T, cibPath string) {
	t.Helper()
	res, err := store.Load(context.Background(), cibPath, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("loading the imported CIB: %v", err)
	}
	data, err := res.CIB.MarshalXMLBytes()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `id="vip"`) || !strings.Contains(string(data), "10.99.0.100") {
		t.Errorf("the imported CIB lacks the seed's vip:\n%s", data)
	}
}

func TestImportSeedCIB(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		seed     string            // "" = no seed CIB
		existing map[string]string // files already beside the CIB, by suffix of cib.xml
		wantErr  string
		wantCIB  bool
	}{
		{name: "imported", seed: seedCIBXML, wantCIB: true},
		{name: "no seed CIB"},
		{name: "the cluster's CIB is kept", seed: seedCIBXML, existing: map[string]string{"": "cluster's own"}},
		{name: "the cluster's backup CIB is kept", seed: seedCIBXML, existing: map[string]string{".last": "cluster's backup"}},
		{name: "invalid seed CIB", seed: "<cib><configuration>", wantErr: "seed CIB "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			seed := filepath.Join(dir, SeedCIB)
			cibPath := filepath.Join(dir, "state", "cib.xml")
			if tc.seed != "" {
				if err := os.WriteFile(seed, []byte(tc.seed), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			for suffix, content := range tc.existing {
				if err := os.MkdirAll(filepath.Dir(cibPath), 0o750); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(cibPath+suffix, []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			err := ImportSeedCIB(ctx, seed, cibPath)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr+seed) {
					t.Fatalf("err = %v, want one naming %s", err, seed)
				}
				if _, err := os.Stat(filepath.Dir(cibPath)); err == nil {
					t.Fatal("an invalid seed CIB created the state directory")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for suffix, content := range tc.existing {
				if b, _ := os.ReadFile(cibPath + suffix); string(b) != content {
					t.Fatalf("the cluster's %s was replaced: %q", filepath.Base(cibPath+suffix), b)
				}
			}
			if tc.existing != nil {
				if _, err := os.Stat(cibPath); tc.existing[""] == "" && err == nil {
					t.Fatal("a CIB was imported beside the cluster's backup")
				}
				return
			}
			if !tc.wantCIB {
				if _, err := os.Stat(cibPath); err == nil {
					t.Fatal("a CIB appeared without a seed CIB")
				}
				return
			}
			wantSeedCIB(t, cibPath)
		})
	}
}
