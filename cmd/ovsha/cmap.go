package main

import (
	"context"
	"fmt"
	"io"
	"os/signal"
	"syscall"

	"github.com/ovsha/ovsha/appliance"
	"github.com/ovsha/ovsha/cluster/cmap"
	"github.com/spf13/cobra"
)

func newCmapCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "cmap",
		Short: "Read, change and watch the daemon's key-value store (like corosync-cmapctl)",
		Args:  cobra.NoArgs,
	}
	c.AddCommand(newCmapGetCmd(), newCmapSetCmd(), newCmapDeleteCmd(), newCmapListCmd(), newCmapTrackCmd())
	return c
}

func printEntry(w io.Writer, e appliance.CmapEntry) {
	fmt.Fprintf(w, "%s (%s) = %s\n", e.Key, e.Type, e.Value)
}

func newCmapGetCmd() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "get KEY",
		Short: "Print one key (corosync-cmapctl -g)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cmap.ValidateKey(args[0]); err != nil {
				return usageErrorf("key %q: %v", args[0], err)
			}
			e, err := fetch(cmd, &f, func(c *appliance.Client, ctx context.Context) (appliance.CmapEntry, error) {
				return c.CmapGet(ctx, args[0])
			})
			if err != nil {
				return err
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), e)
			}
			printEntry(cmd.OutOrStdout(), e)
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

func newCmapListCmd() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "list [PREFIX]",
		Short: "Print every key, or those starting with PREFIX (corosync-cmapctl [-p])",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			prefix := ""
			if len(args) == 1 {
				prefix = args[0]
			}
			l, err := fetch(cmd, &f, func(c *appliance.Client, ctx context.Context) (appliance.CmapListResponse, error) {
				return c.CmapList(ctx, prefix)
			})
			if err != nil {
				return err
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), l)
			}
			for _, e := range l.Entries {
				printEntry(cmd.OutOrStdout(), e)
			}
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

func newCmapSetCmd() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "set KEY TYPE VALUE",
		Short: "Set a user key; TYPE is i8 u8 i16 u16 i32 u32 i64 u64 flt dbl str bin (corosync-cmapctl -s)",
		Args:  cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			key, typ, val := args[0], args[1], args[2]
			if err := cmap.ValidateKey(key); err != nil {
				return usageErrorf("key %q: %v", key, err)
			}
			t, err := cmap.ParseType(typ)
			if err != nil {
				return usageError{err}
			}
			if _, err := cmap.ParseValue(t, val); err != nil {
				return usageError{err}
			}
			e, err := fetch(cmd, &f, func(c *appliance.Client, ctx context.Context) (appliance.CmapEntry, error) {
				return c.CmapSet(ctx, key, appliance.CmapValue{Type: typ, Value: val})
			})
			if err != nil {
				return err
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), e)
			}
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

func newCmapDeleteCmd() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "delete KEY",
		Short: "Delete a user key (corosync-cmapctl -d)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cmap.ValidateKey(args[0]); err != nil {
				return usageErrorf("key %q: %v", args[0], err)
			}
			_, err := fetch(cmd, &f, func(c *appliance.Client, ctx context.Context) (struct{}, error) {
				return struct{}{}, c.CmapDelete(ctx, args[0])
			})
			return err
		},
	}
	f.register(cmd)
	return cmd
}

func newCmapTrackCmd() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "track PREFIX",
		Short: "Print changes under PREFIX as they happen, until interrupted (corosync-cmapctl -t)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			w := cmd.OutOrStdout()
			err := appliance.NewClient(f.socket).CmapTrack(ctx, args[0], func(ev appliance.CmapEvent) error {
				if f.json {
					return printCompactJSON(w, ev)
				}
				switch ev.Event {
				case "deleted":
					fmt.Fprintf(w, "deleted  %s (%s) = %s\n", ev.Key, ev.OldType, ev.OldValue)
				case "modified":
					fmt.Fprintf(w, "modified %s (%s) = %s (was %s)\n", ev.Key, ev.Type, ev.Value, ev.OldValue)
				default:
					fmt.Fprintf(w, "added    %s (%s) = %s\n", ev.Key, ev.Type, ev.Value)
				}
				if ev.Missed > 0 {
					fmt.Fprintf(w, "# %d change(s) missed before this one; re-read with `ovsha cmap list %s`\n", ev.Missed, args[0])
				}
				return nil
			})
			if ctx.Err() != nil {
				return nil // interrupted: the normal end of tracking
			}
			return advise(err)
		},
	}
	f.register(cmd)
	return cmd
}
