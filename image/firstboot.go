package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// SeedBootOptions configure System.SeedBoot.
type SeedBootOptions struct {
	// DataDir is the persistent configuration directory (/data/ovsha).
	DataDir string
	// RunDir receives ovshad.env (/run/ovsha).
	RunDir string
	// CIBPath is the resource manager's CIB file (ovshad's
	// --state-dir/cib.xml: /data/ovsha/state/cib.xml). On first boot a
	// seed's cib.xml becomes that CIB unless one exists already. Empty:
	// the seed CIB is only kept as DataDir/cib-seed.xml.
	CIBPath string
	// SysClassNet lists the network interfaces (/sys/class/net).
	SysClassNet string
	// SetHostname sets the host name (nil: sethostname(2)).
	SetHostname func(string) error
	// Out receives the marker lines (the console).
	Out io.Writer
}

// SeedBoot runs at every boot before ovshad. On first boot (no
// cluster.conf in DataDir) it validates the ESP's seed directory, makes
// its cib.xml (if any) the first CIB at CIBPath (see ImportSeedCIB),
// copies the seed to DataDir, then removes the authkey from the FAT ESP. An
// invalid seed prints OVSHA-SEED-INVALID lines and returns an error, so
// ovshad (which requires this step) does not start. Every boot it applies
// node.conf: host name, link and uplink addresses, and writes ovshad's
// arguments (--name) to RunDir/ovshad.env.
func (s *System) SeedBoot(ctx context.Context, o SeedBootOptions) error {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.SysClassNet == "" {
		o.SysClassNet = "/sys/class/net"
	}
	if o.SetHostname == nil {
		o.SetHostname = func(h string) error { return unix.Sethostname([]byte(h)) }
	}
	invalid := func(where string, err error) error {
		for _, l := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(o.Out, "%s: %s\n", MarkerSeedInvalid, l)
		}
		fmt.Fprintf(o.Out, "%s: the cluster will not start until %s is fixed\n", MarkerSeedInvalid, where)
		return fmt.Errorf("invalid seed in %s: %w", where, err)
	}
	seedDir := filepath.Join(s.ESPDir, strings.TrimPrefix(SeedESPDir, "/"))
	_, err := os.Stat(filepath.Join(o.DataDir, SeedClusterConf))
	firstBoot := errors.Is(err, fs.ErrNotExist)
	var seed *Seed
	if firstBoot {
		if seed, err = ValidateSeed(seedDir); err != nil {
			return invalid("the seed directory ovsha/ on the EFI system partition", err)
		}
		// the CIB before ImportSeed, whose cluster.conf marks the import
		// complete: an import cut short is redone at the next boot
		if o.CIBPath != "" {
			if err := ImportSeedCIB(ctx, filepath.Join(seedDir, SeedCIB), o.CIBPath); err != nil {
				return err
			}
		}
		if err := ImportSeed(seed, o.DataDir); err != nil {
			return err
		}
		// the FAT ESP is readable by anyone holding the disk: the secret
		// now lives on the data partition only
		if err := os.Remove(filepath.Join(seedDir, SeedAuthkey)); err != nil {
			s.log().Warn("could not remove the authkey from the ESP seed", "err", err)
		}
		fmt.Fprintf(o.Out, "%s node=%s from=%s to=%s\n", MarkerSeedImported, seed.Node.Name, seedDir, o.DataDir)
	} else if seed, err = ValidateSeed(o.DataDir); err != nil {
		return invalid(o.DataDir, err)
	}
	if err := o.SetHostname(seed.Node.Name); err != nil {
		return fmt.Errorf("setting host name %q: %w", seed.Node.Name, err)
	}
	if err := s.ApplyNetwork(ctx, seed.Node, o.SysClassNet); err != nil {
		return err
	}
	if err := os.MkdirAll(o.RunDir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", o.RunDir, err)
	}
	env := fmt.Sprintf("OVSHAD_ARGS=--name %s\n", seed.Node.Name)
	return writeFileAtomic(filepath.Join(o.RunDir, "ovshad.env"), []byte(env), 0o644)
}

// ApplyNetwork brings node.conf's interfaces up with their addresses and
// the uplinks' default routes (idempotent: ip addr/route replace).
func (s *System) ApplyNetwork(ctx context.Context, nc *NodeConf, sysClassNet string) error {
	all := append(append([]Link{}, nc.Links...), nc.Uplinks...)
	for _, l := range all {
		ifname, err := resolveInterface(sysClassNet, l.Interface)
		if err != nil {
			return err
		}
		if _, err := s.run(ctx, "ip", "link", "set", "dev", ifname, "up"); err != nil {
			return fmt.Errorf("bringing up %s: %w", ifname, err)
		}
		if _, err := s.run(ctx, "ip", "addr", "replace", l.Prefix.String(), "dev", ifname); err != nil {
			return fmt.Errorf("addressing %s: %w", ifname, err)
		}
		if l.Via.IsValid() {
			fam := "-4"
			if l.Via.Is6() {
				fam = "-6"
			}
			if _, err := s.run(ctx, "ip", fam, "route", "replace", "default", "via", l.Via.String(), "dev", ifname); err != nil {
				return fmt.Errorf("default route via %s: %w", l.Via, err)
			}
		}
		s.log().Info("link configured", "interface", ifname, "address", l.Prefix, "link", l.Link)
	}
	return nil
}

// resolveInterface maps a MAC address to its interface name.
func resolveInterface(sysClassNet, name string) (string, error) {
	mac, err := net.ParseMAC(name)
	if err != nil {
		if _, err := os.Stat(filepath.Join(sysClassNet, name)); err != nil {
			return "", fmt.Errorf("node.conf: interface %s does not exist", name)
		}
		return name, nil
	}
	ents, err := os.ReadDir(sysClassNet)
	if err != nil {
		return "", fmt.Errorf("listing interfaces: %w", err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(sysClassNet, e.Name(), "address"))
		if err == nil && strings.EqualFold(strings.TrimSpace(string(b)), mac.String()) {
			return e.Name(), nil
		}
	}
	return "", fmt.Errorf("node.conf: no interface has MAC address %s", mac)
}
