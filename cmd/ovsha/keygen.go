package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ovsha/ovsha/cluster/transport"
	"github.com/spf13/cobra"
)

// defaultAuthkey is where ovshad reads the cluster authkey, like
// corosync's /etc/corosync/authkey.
const defaultAuthkey = "/etc/ovsha/authkey"

func newKeygenCmd() *cobra.Command {
	var out string
	var force bool
	cmd := &cobra.Command{
		Use:   "keygen [-o FILE] [--force]",
		Short: "Generate the cluster authkey (like corosync-keygen)",
		Long: `Generate a new random authkey (256 bytes, mode 0400) that authenticates and
encrypts all cluster traffic. Copy the same file to every node of the cluster.
An existing file is kept unless --force is given.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErrorf("keygen takes no arguments (got %q); use -o FILE to choose the file", args)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usageErrorf("-o: empty file name")
			}
			dir := filepath.Dir(out)
			if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					return fmt.Errorf("creating directory for authkey: %w", err)
				}
				if err := os.Chmod(dir, 0o755); err != nil { // whatever the umask
					return fmt.Errorf("creating directory for authkey: %w", err)
				}
			}
			if err := transport.WriteKey(out, force); err != nil {
				if errors.Is(err, transport.ErrKeyExists) {
					return fmt.Errorf("%w; use --force to overwrite it", err)
				}
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %d-byte authkey to %s; copy it to every node of the cluster\n", transport.KeyLen, out)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", defaultAuthkey, "file to write the authkey to")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite an existing authkey")
	return cmd
}
