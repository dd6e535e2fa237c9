package main

import "github.com/spf13/cobra"

func newRingCmd() *cobra.Command {
	return &cobra.Command{Use: "ring", Short: "(not yet implemented)", Hidden: true}
}
