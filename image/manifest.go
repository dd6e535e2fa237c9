package image

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
)

// ManifestFormat is the release manifest format this package reads.
const ManifestFormat = 1

// Manifest is a release's release.json: written by image/build/manifest.sh
// into the root (/usr/share/ovsha/release.json), onto the ESP next to the
// slot's kernel image (EFI/ovsha/slot-X.json) and beside the image file.
type Manifest struct {
	Format        int       `json:"format"`
	Name          string    `json:"name"`
	Version       string    `json:"version"`
	Variant       string    `json:"variant"`
	Arch          string    `json:"arch"`
	Built         string    `json:"built"`
	Kernel        string    `json:"kernel"`
	KernelPackage string    `json:"kernel_package"`
	Cmdline       string    `json:"cmdline"`
	Packages      []Package `json:"packages"`
}

// Package is one installed Debian package.
type Package struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

var versionRE = regexp.MustCompile(`^[A-Za-z0-9.+~_-]+$`)

// ParseManifest decodes and checks a release.json; name is used in errors.
func ParseManifest(name string, data []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: not a release manifest: %w", name, err)
	}
	var errs []error
	bad := func(field, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s: %s", name, field, fmt.Sprintf(format, a...)))
	}
	if m.Format != ManifestFormat {
		bad("format", "%d is not supported, expected %d", m.Format, ManifestFormat)
	}
	if m.Name != "ovsha" {
		bad("name", "%q, expected \"ovsha\"", m.Name)
	}
	if !versionRE.MatchString(m.Version) {
		bad("version", "%q, expected letters, digits and . + ~ _ -", m.Version)
	}
	if m.Variant != "release" && m.Variant != "test" {
		bad("variant", "%q, expected release or test", m.Variant)
	}
	if m.Kernel == "" {
		bad("kernel", "missing")
	}
	if m.Cmdline == "" {
		bad("cmdline", "missing")
	}
	if len(m.Packages) == 0 {
		bad("packages", "empty list")
	}
	for i, p := range m.Packages {
		if p.Name == "" || p.Version == "" {
			bad(fmt.Sprintf("packages[%d]", i), "name and version are required")
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &m, nil
}

// PackageVersion returns the version of an installed package, "" if absent.
func (m *Manifest) PackageVersion(name string) string {
	for _, p := range m.Packages {
		if p.Name == name {
			return p.Version
		}
	}
	return ""
}
