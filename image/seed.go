package image

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/ovsha/ovsha/cluster/cib"
	"github.com/ovsha/ovsha/cluster/config"
	"github.com/ovsha/ovsha/cluster/transport"
)

// Seed file names, in the seed directory (on the ESP: ovsha/).
const (
	SeedClusterConf = "cluster.conf"
	SeedAuthkey     = "authkey"
	SeedNodeConf    = "node.conf"
	SeedCIB         = "cib.xml"
	// SeedCIBCopy is the seed CIB's name in the data directory.
	SeedCIBCopy = "cib-seed.xml"
	// SeedESPDir is the seed directory on the ESP.
	SeedESPDir = "/ovsha"
)

// SeedFile is one file of a validated seed.
type SeedFile struct {
	Name string // base name
	Path string // where it was read
	Mode os.FileMode
}

// Seed is a validated seed directory.
type Seed struct {
	Dir     string
	Cluster *config.Cluster
	Node    *NodeConf
	Files   []SeedFile
}

// ValidateSeed checks a seed directory: cluster.conf loads, the authkey
// has a valid size, node.conf parses and names a node of the nodelist
// whose ringN_addr match its linkN addresses, and cib.xml (optional)
// parses. All problems are returned, one line each.
func ValidateSeed(dir string) (*Seed, error) {
	s := &Seed{Dir: dir}
	var errs []error
	file := func(name string) string { return filepath.Join(dir, name) }
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("seed directory %s: not a readable directory", dir)
	}
	c, err := config.Load(file(SeedClusterConf))
	if err != nil {
		errs = append(errs, err)
	} else {
		s.Cluster = c
	}
	if _, err := transport.ReadKey(file(SeedAuthkey)); err != nil {
		errs = append(errs, err)
	}
	data, err := os.ReadFile(file(SeedNodeConf))
	if err != nil {
		errs = append(errs, fmt.Errorf("reading %s: %w", file(SeedNodeConf), err))
	} else if nc, err := ParseNodeConf(file(SeedNodeConf), data); err != nil {
		errs = append(errs, err)
	} else {
		s.Node = nc
	}
	if s.Cluster != nil && s.Node != nil {
		errs = append(errs, matchNode(file(SeedNodeConf), s.Cluster, s.Node)...)
	}
	hasCIB := false
	if data, err := os.ReadFile(file(SeedCIB)); err == nil {
		if _, err := cib.Parse(data); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", file(SeedCIB), err))
		}
		hasCIB = true
	} else if !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, fmt.Errorf("reading %s: %w", file(SeedCIB), err))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	s.Files = []SeedFile{
		{SeedClusterConf, file(SeedClusterConf), 0o644},
		{SeedAuthkey, file(SeedAuthkey), 0o400},
		{SeedNodeConf, file(SeedNodeConf), 0o644},
	}
	if hasCIB {
		s.Files = append(s.Files, SeedFile{SeedCIB, file(SeedCIB), 0o600})
	}
	return s, nil
}

// matchNode checks node.conf against the nodelist.
func matchNode(name string, c *config.Cluster, nc *NodeConf) []error {
	n, ok := c.NodeByName(nc.Name)
	if !ok {
		var names []string
		for _, x := range c.Nodes {
			names = append(names, x.Name)
		}
		return []error{fmt.Errorf("%s: name: node %q is not in cluster.conf's nodelist (nodes: %v)", name, nc.Name, names)}
	}
	var errs []error
	for _, l := range nc.Links {
		if l.Link >= len(n.Addrs) {
			errs = append(errs, fmt.Errorf("%s: link%d: node %q has no ring%d_addr in cluster.conf", name, l.Link, nc.Name, l.Link))
			continue
		}
		if want := n.Addrs[l.Link]; want.Unmap() != l.Prefix.Addr().Unmap() {
			errs = append(errs, fmt.Errorf("%s: link%d: address %s, but cluster.conf gives node %q ring%d_addr %s", name, l.Link, l.Prefix.Addr(), nc.Name, l.Link, want))
		}
	}
	return errs
}

// WriteSeed copies a validated seed into an ESP's ovsha/ directory and
// returns the names written.
func WriteSeed(ctx context.Context, e ESP, files []SeedFile) ([]string, error) {
	if err := e.Mkdir(ctx, SeedESPDir); err != nil {
		return nil, err
	}
	var names []string
	for _, f := range files {
		if err := e.CopyIn(ctx, f.Path, SeedESPDir+"/"+f.Name); err != nil {
			return names, err
		}
		names = append(names, SeedESPDir+"/"+f.Name)
	}
	return names, nil
}

// ImportSeed copies a validated seed into dataDir (the appliance's
// /data/ovsha) atomically file by file, with the files' modes. cib.xml is
// kept as cib-seed.xml for the resource manager to import.
func ImportSeed(s *Seed, dataDir string) error {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", dataDir, err)
	}
	// cluster.conf last: its presence marks a completed import
	files := slices.Clone(s.Files)
	slices.SortStableFunc(files, func(a, b SeedFile) int {
		return boolInt(a.Name == SeedClusterConf) - boolInt(b.Name == SeedClusterConf)
	})
	for _, f := range files {
		data, err := os.ReadFile(f.Path)
		if err != nil {
			return fmt.Errorf("reading %s: %w", f.Path, err)
		}
		name := f.Name
		if name == SeedCIB {
			name = SeedCIBCopy
		}
		if err := writeFileAtomic(filepath.Join(dataDir, name), data, f.Mode); err != nil {
			return err
		}
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// writeFileAtomic writes data to a temporary file beside path, syncs it
// and renames it into place.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	name := tmp.Name()
	fail := func(err error) error {
		tmp.Close()
		os.Remove(name)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		return fail(err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(name, path); err != nil {
		os.Remove(name)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
