// Command ovsha is the operator's command-line tool: a thin client of the
// ovshad control API plus the offline tools (sim, simulate, keygen, lab).
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// usageError marks errors that are the caller's fault (exit status 2).
type usageError struct{ error }

func usageErrorf(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// exitError carries a specific exit status without a message of its own
// (e.g. `ovsha sim` exits 1 when invariants are violated).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "ovsha",
		Short:         "Operate an ovsha high-availability gateway cluster",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		newKeygenCmd(),
		newSimCmd(),
		newSimulateCmd(),
		newRingCmd(),
		newQuorumCmd(),
		newStatusCmd(),
		newResourceCmd(), newConstraintCmd(), newNodeCmd(), newPropertyCmd(), newRscDefaultsCmd(), newStonithCmd(), newCIBCmd(),
		newLabCmd(),
		newCmapCmd(),
		newReloadCmd(),
		newImageCmd(),
		newSystemCmd(),
	)
	return root
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	root := newRootCmd()
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return 0
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	fmt.Fprintf(os.Stderr, "ovsha: %v\n", err)
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		return 2
	}
	return 1
}
