package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"time"

	"github.com/ovsha/ovsha/appliance"
	"github.com/ovsha/ovsha/cluster/cib"
	"github.com/ovsha/ovsha/image"
	"github.com/spf13/cobra"
)

// The appliance's persistent configuration and runtime directories (see
// image/build/rootfs: /etc/ovsha is a symlink to /data/ovsha).
const (
	applianceDataDir = "/data/ovsha"
	applianceRunDir  = "/run/ovsha"
	// applianceStateDir is ovshad's --state-dir (ovshad.service).
	applianceStateDir = applianceDataDir + "/state"
)

func newSystemCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "system",
		Short: "The running appliance: A/B slots, upgrade, rollback, boot checks",
		Args:  cobra.NoArgs,
	}
	c.AddCommand(newSystemStatusCmd(), newSystemUpgradeCmd(), newSystemRollbackCmd(),
		newSystemCheckCmd(), newSystemSeedCmd())
	return c
}

func newSystemStatusCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Booted slot, both slots' versions, boot entries and counters",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := image.DefaultSystem(nil).Status(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), st)
			}
			renderSystemStatus(cmd.OutOrStdout(), st)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func renderSystemStatus(w io.Writer, st *image.Status) {
	trial := "no"
	if st.Trial {
		trial = "yes (boot-complete.target blesses it)"
	}
	fmt.Fprintf(w, "Booted:    slot %s, ovsha %s\nTrial boot: %s\nNext boot: %s\n\n", st.BootedSlot, st.Version, trial, st.NextBoot)
	for _, s := range st.Slots {
		mark := " "
		if s.Booted {
			mark = "*"
		}
		entry, state := "-", "no boot entry"
		if s.Entry != nil {
			entry, state = s.Entry.File, s.Entry.State()
			if s.Entry.Counting {
				state += fmt.Sprintf(" (boot counter: %d left, %d done)", s.Entry.TriesLeft, s.Entry.TriesDone)
			}
		}
		version := s.Version
		if version == "" {
			version = "empty"
		}
		fmt.Fprintf(w, "%s slot %s  %-24s kernel %-22s entry %-22s %s\n", mark, s.Slot, version, s.Kernel, entry, state)
		if s.Problem != "" {
			fmt.Fprintf(w, "    problem: %s\n", s.Problem)
		}
	}
}

// standbyMarkFile records that a reboot put this node in standby; the
// next boot's check (ovsha system check) clears the standby and the file.
const standbyMarkFile = applianceDataDir + "/standby-for-reboot"

// handOver is the reboot's hand-over through ovshad's control API at
// socket: the standby attribute is written exactly as `ovsha node standby`
// and `ovsha node unstandby` write it (setNodeAttr, one CIB
// read-modify-write with 409 retries).
func handOver(socket string, wait time.Duration, log *slog.Logger, out io.Writer) image.HandOver {
	client := appliance.NewClient(socket)
	return image.HandOver{
		Node: func(ctx context.Context) (string, error) {
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			q, err := client.Quorum(ctx)
			if err != nil {
				return "", noResourceManager(err)
			}
			return q.Node.Name, nil
		},
		ActiveOn: func(ctx context.Context, node string) ([]string, bool, error) {
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			st, err := client.CRMStatus(ctx)
			if err != nil {
				return nil, false, noResourceManager(err)
			}
			var out []string
			for _, r := range st.Resources {
				if slices.Contains(r.Nodes, node) {
					out = append(out, r.ID)
				}
			}
			return out, st.TransitionInProgress, nil
		},
		SetStandby: func(ctx context.Context, node string, on bool) error {
			verb, value := "standby", "on"
			if !on {
				verb, value = "unstandby", ""
			}
			e := cibEdit{client: client, reason: "node " + verb + " " + node + " (system reboot)", timeout: 30 * time.Second}
			_, err := e.apply(ctx, func(c *cib.CIB) error { return setNodeAttr(c, node, "standby", value) })
			var nc noChange
			if errors.As(err, &nc) {
				return nil
			}
			return err
		},
		MarkFile: standbyMarkFile,
		Timeout:  wait,
		Out:      out,
		Log:      log,
	}
}

func newSystemUpgradeCmd() *cobra.Command {
	var vf verifyFlags
	var socket string
	var tries int
	var noReboot bool
	var standbyWait time.Duration
	cmd := &cobra.Command{
		Use:   "upgrade IMAGE",
		Short: "Install an image into the inactive slot and reboot into it (rolled back automatically if it fails)",
		Long: `Verify IMAGE (a file, or a block device with --sha256), write its root into
the inactive slot and its kernel image to the ESP with a boot entry that boots
next on trial (systemd-boot boot counting, --tries attempts), put this node in
standby, wait until its resources run elsewhere (at most --standby-wait, then
reboot anyway with a warning) and reboot. Without a reachable ovshad or
resource manager the standby is skipped. The new slot is kept once
boot-complete.target is reached (ovsha-boot-check: OVS up, ovshad ready,
cluster quorate; it then clears the standby); otherwise the node comes back
on the previous slot by itself, whose boot check clears the standby too.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			vo, _, err := vf.options()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			log := newLogger(cmd.ErrOrStderr())
			p := newProgress(cmd.ErrOrStderr())
			start := time.Now()
			sys := image.DefaultSystem(log)
			res, err := sys.Upgrade(cmd.Context(), args[0], image.UpgradeOptions{
				Verify: vo, Tries: tries, Progress: p.update, Standby: standbyStep(noReboot, handOver(socket, standbyWait, log, out)),
			})
			p.finish()
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "%s slot=%s version=%s kernel=%s entry=%s seconds=%.1f\n",
				image.MarkerUpgraded, res.Slot, res.Version, res.Kernel, res.Entry, time.Since(start).Seconds())
			if noReboot {
				fmt.Fprintln(out, "not rebooting (--no-reboot): the new slot boots at the next reboot")
				return nil
			}
			fmt.Fprintln(out, "rebooting into slot", res.Slot)
			return sys.Reboot(cmd.Context())
		},
	}
	vf.register(cmd)
	cmd.Flags().IntVar(&tries, "tries", 3, "boot attempts of the new slot before falling back (1 to 9)")
	cmd.Flags().BoolVar(&noReboot, "no-reboot", false, "install only; boot the new slot at the next reboot")
	cmd.Flags().DurationVar(&standbyWait, "standby-wait", 2*time.Minute, "how long to wait for this node's resources to move before rebooting anyway")
	cmd.Flags().StringVar(&socket, "socket", defaultSocket(), "ovshad control socket for the standby (env "+socketEnv+")")
	return cmd
}

// standbyStep is the upgrade's hand-over: none when it does not reboot.
func standbyStep(noReboot bool, h image.HandOver) func(context.Context) error {
	if noReboot {
		return nil
	}
	return h.Standby
}

func newSystemRollbackCmd() *cobra.Command {
	var force, noReboot bool
	var socket string
	var standbyWait time.Duration
	cmd := &cobra.Command{
		Use:   "rollback",
		Short: "Boot the previous slot again (and reboot)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := newLogger(cmd.ErrOrStderr())
			sys := image.DefaultSystem(log)
			e, err := sys.Rollback(cmd.Context(), force)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "slot %s boots next (entry %s)\n", e.Slot, e.File)
			if noReboot {
				return nil
			}
			if err := handOver(socket, standbyWait, log, out).Standby(cmd.Context()); err != nil {
				return err
			}
			return sys.Reboot(cmd.Context())
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "roll back even to a slot that failed its trial boot")
	cmd.Flags().BoolVar(&noReboot, "no-reboot", false, "switch slots only; reboot later")
	cmd.Flags().DurationVar(&standbyWait, "standby-wait", 2*time.Minute, "how long to wait for this node's resources to move before rebooting anyway")
	cmd.Flags().StringVar(&socket, "socket", defaultSocket(), "ovshad control socket for the standby (env "+socketEnv+")")
	return cmd
}

func newSystemCheckCmd() *cobra.Command {
	var f clientFlags
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Boot health check (ovsha-boot-check.service): OVS, ovshad ready, quorum",
		Long: `Wait for Open vSwitch, ovshad and a quorate cluster, printing OVSHA-READY and
OVSHA-QUORATE marker lines. On a trial boot of a freshly upgraded slot it fails
when a step does not succeed within --timeout (the unit then reboots and the boot
counter falls back to the previous slot); on other boots it only reports. Once the
boot is good it takes the node out of the standby an upgrade or rollback put it in
(` + standbyMarkFile + `).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			client := appliance.NewClient(f.socket)
			log := newLogger(cmd.ErrOrStderr())
			sys := image.DefaultSystem(log)
			return sys.Check(cmd.Context(), image.CheckOptions{
				Timeout:     timeout,
				Out:         cmd.OutOrStdout(),
				AfterBootOK: handOver(f.socket, 0, log, cmd.OutOrStdout()).Unstandby,
				Quorum: func(ctx context.Context) (image.QuorumView, error) {
					ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
					defer cancel()
					q, err := client.Quorum(ctx)
					if err != nil {
						return image.QuorumView{}, err
					}
					return image.QuorumView{Node: q.Node.Name, NodeID: q.Node.NodeID, Quorate: q.Quorate, Members: len(q.Members)}, nil
				},
			})
		},
	}
	f.register(cmd)
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Minute, "how long OVS, ovshad and quorum may take")
	return cmd
}

func newSystemSeedCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "seed",
		Short: "Import the ESP seed on first boot and apply node.conf (ovsha-seed.service)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sys := image.DefaultSystem(newLogger(cmd.ErrOrStderr()))
			return sys.SeedBoot(cmd.Context(), image.SeedBootOptions{
				DataDir: applianceDataDir, RunDir: applianceRunDir,
				CIBPath: filepath.Join(applianceStateDir, appliance.CIBFile),
				Out:     cmd.OutOrStdout(),
			})
		},
	}
	return cmd
}

// noResourceManager marks the errors that mean there is no resource
// manager to hand over to (ovshad down, or running without one).
func noResourceManager(err error) error {
	if errors.Is(err, appliance.ErrUnreachable) || errors.Is(err, appliance.ErrNotFound) {
		return fmt.Errorf("%w: %w", image.ErrNoResourceManager, err)
	}
	return err
}
