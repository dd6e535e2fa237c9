package main

import "github.com/spf13/cobra"

func newLabCmd() *cobra.Command {
	return &cobra.Command{Use: "lab", Short: "(not yet implemented)", Hidden: true}
}
