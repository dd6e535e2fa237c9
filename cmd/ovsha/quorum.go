package main

import "github.com/spf13/cobra"

func newQuorumCmd() *cobra.Command {
	return &cobra.Command{Use: "quorum", Short: "(not yet implemented)", Hidden: true}
}
