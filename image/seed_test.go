package image

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ovsha/ovsha/cluster/transport"
)

const seedClusterConf = `totem {
	version: 2
	cluster_name: test
	keyfile: /etc/ovsha/authkey
}
nodelist {
	node {
		nodeid: 1
		name: n1
		ring0_addr: 10.99.0.1
	}
	node {
		nodeid: 2
		name: n2
		ring0_addr: 10.99.0.2
	}
}
quorum {
	provider: corosync_votequorum
	two_node: 1
}
`

// writeSeedDir writes a valid seed for node n1; edit changes files after.
func writeSeedDir(t *testing.T, edit map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, SeedClusterConf), []byte(seedClusterConf), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := transport.WriteKey(filepath.Join(dir, SeedAuthkey), false); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, SeedNodeConf), []byte("name: n1\nlink0: eth0 10.99.0.1/24\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, content := range edit {
		p := filepath.Join(dir, name)
		os.Remove(p)
		if content != "" {
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

func TestValidateSeed(t *testing.T) {
	s, err := ValidateSeed(writeSeedDir(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	if s.Node.Name != "n1" || len(s.Files) != 3 || s.Cluster.Totem.ClusterName != "test" {
		t.Fatalf("seed %+v", s)
	}
}

func TestValidateSeedErrors(t *testing.T) {
	tests := []struct {
		name string
		edit map[string]string
		want []string
	}{
		{"unknown node", map[string]string{SeedNodeConf: "name: n3\n"}, []string{`name: node "n3" is not in cluster.conf's nodelist (nodes: [n1 n2])`}},
		{"address mismatch", map[string]string{SeedNodeConf: "name: n1\nlink0: eth0 10.99.0.7/24\n"}, []string{"link0: address 10.99.0.7, but cluster.conf gives node \"n1\" ring0_addr 10.99.0.1"}},
		{"no such ring", map[string]string{SeedNodeConf: "name: n1\nlink1: eth1 10.98.0.1/24\n"}, []string{`link1: node "n1" has no ring1_addr`}},
		{"short authkey", map[string]string{SeedAuthkey: "short"}, []string{"too short"}},
		{"missing files", map[string]string{SeedAuthkey: "", SeedNodeConf: ""}, []string{"authkey", "file does not exist", "node.conf"}},
		{"bad cluster.conf", map[string]string{SeedClusterConf: "totem {\n"}, []string{"cluster.conf"}},
		{"bad cib", map[string]string{SeedCIB: "<cib"}, []string{"cib.xml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ValidateSeed(writeSeedDir(t, tt.edit))
			if err == nil {
				t.Fatal("invalid seed accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestImportSeed(t *testing.T) {
	s, err := ValidateSeed(writeSeedDir(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(t.TempDir(), "ovsha")
	if err := ImportSeed(s, data); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(data, SeedAuthkey))
	if err != nil || fi.Mode().Perm() != 0o400 {
		t.Fatalf("authkey: %v, mode %v", err, fi.Mode())
	}
	// the imported directory is itself a valid seed
	if _, err := ValidateSeed(data); err != nil {
		t.Fatalf("imported data does not validate: %v", err)
	}
}
