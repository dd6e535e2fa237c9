package image

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseManifest(t *testing.T) {
	m, err := ParseManifest("release.json", []byte(fmt.Sprintf(testManifest, "1.2.3")))
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != "1.2.3" || m.Kernel != "6.1.0-99-cloud-amd64" || len(m.Packages) != 2 {
		t.Fatalf("parsed %+v", m)
	}
	if v := m.PackageVersion("openvswitch-switch"); v != "3.1.0-2" {
		t.Fatalf("PackageVersion(openvswitch-switch) = %q", v)
	}
	if v := m.PackageVersion("apt"); v != "" {
		t.Fatalf("PackageVersion(apt) = %q, want none", v)
	}
}

func TestParseManifestRejects(t *testing.T) {
	good := fmt.Sprintf(testManifest, "1.2.3")
	tests := []struct {
		name, from, to, want string
	}{
		{"not JSON", "{", "[", "release.json: not a release manifest"},
		{"format", `"format": 1`, `"format": 2`, "release.json: format: 2 is not supported, expected 1"},
		{"version", `"version": "1.2.3"`, `"version": "1 2"`, `release.json: version: "1 2", expected letters`},
		{"variant", `"variant": "test"`, `"variant": "debug"`, `release.json: variant: "debug", expected release or test`},
		{"kernel", `"kernel": "6.1.0-99-cloud-amd64"`, `"kernel": ""`, "release.json: kernel: missing"},
		{"package", `{"name": "systemd", "version": "252.39-1~deb12u2"}`, `{"name": "systemd"}`, "release.json: packages[1]: name and version are required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := strings.Replace(good, tt.from, tt.to, 1)
			if data == good {
				t.Fatalf("test bug: %q not in the manifest", tt.from)
			}
			_, err := ParseManifest("release.json", []byte(data))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}
