package image

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ovsha/ovsha/cluster/cib"
	"github.com/ovsha/ovsha/cluster/cib/store"
)

// ImportSeedCIB makes the seed CIB (seedPath, Pacemaker XML) the resource
// manager's CIB at cibPath (in the store's checksummed format), unless
// cibPath or its backup cibPath.last exists: a CIB the cluster wrote is
// never replaced. No seed CIB is not an error; a seed CIB that does not
// parse is, naming seedPath, and nothing is written.
func ImportSeedCIB(ctx context.Context, seedPath, cibPath string) error {
	data, err := os.ReadFile(seedPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the seed CIB: %w", err)
	}
	for _, p := range []string{cibPath, cibPath + ".last"} {
		if _, err := os.Lstat(p); err == nil {
			return nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("checking for an existing CIB: %w", err)
		}
	}
	c, err := cib.Parse(data)
	if err != nil {
		return fmt.Errorf("seed CIB %s: %w", seedPath, err)
	}
	dir := filepath.Dir(cibPath)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	if err := store.Save(ctx, cibPath, c); err != nil {
		return fmt.Errorf("importing the seed CIB %s into %s: %w", seedPath, cibPath, err)
	}
	return nil
}
