package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Console marker lines: one line each, "OVSHA-WORD key=value ...", so
// that a boot test (or an operator) can parse the serial console.
const (
	MarkerReady        = "OVSHA-READY"
	MarkerQuorate      = "OVSHA-QUORATE"
	MarkerBootOK       = "OVSHA-BOOT-OK"
	MarkerBootFailed   = "OVSHA-BOOT-FAILED"
	MarkerNotReady     = "OVSHA-NOT-READY"
	MarkerSeedInvalid  = "OVSHA-SEED-INVALID"
	MarkerSeedImported = "OVSHA-SEED-IMPORTED"
	MarkerUpgraded     = "OVSHA-UPGRADE-INSTALLED"
	MarkerStandby      = "OVSHA-STANDBY"
)

// QuorumView is what the boot check needs from ovshad's control API.
type QuorumView struct {
	Node    string
	NodeID  uint32
	Quorate bool
	Members int
}

// CheckOptions configure System.Check.
type CheckOptions struct {
	// Quorum asks ovshad (its control API) for the quorum state; an error
	// means ovshad is not ready.
	Quorum func(ctx context.Context) (QuorumView, error)
	// Timeout bounds the whole check (default 5 minutes).
	Timeout time.Duration
	// Interval between polls (default 1 s).
	Interval time.Duration
	// Out receives the marker lines (the console, through the journal).
	Out io.Writer
	// AfterBootOK, when set, runs once the boot is good (e.g. clear the
	// standby an upgrade set: HandOver.Unstandby). Its error is logged,
	// never fails the boot.
	AfterBootOK func(ctx context.Context) error
}

// Check decides whether this boot is good: OVS answers, ovshad is ready
// and the cluster is quorate. It prints OVSHA-READY and OVSHA-QUORATE as
// they happen. On a trial boot (a freshly upgraded slot) every step must
// succeed within the timeout, else Check returns an error: the unit fails,
// the node reboots and systemd-boot counts the try down. On a normal boot
// it only reports (returns nil) so a lone node never reboots in a loop.
func (s *System) Check(ctx context.Context, o CheckOptions) error {
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Minute
	}
	if o.Interval == 0 {
		o.Interval = time.Second
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	slot, err := s.BootedSlot()
	if err != nil {
		slot = "?"
	}
	version := "?"
	if b, err := os.ReadFile(s.Release); err == nil {
		if m, err := ParseManifest(s.Release, b); err == nil {
			version = m.Version
		}
	}
	trial := s.TrialBoot()
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	fail := func(reason string) error {
		if trial {
			fmt.Fprintf(o.Out, "%s slot=%s version=%s reason=%q: rebooting; the boot counter falls back to the previous slot\n", MarkerBootFailed, slot, version, reason)
			return fmt.Errorf("trial boot of slot %s failed: %s", slot, reason)
		}
		fmt.Fprintf(o.Out, "%s slot=%s version=%s reason=%q\n", MarkerNotReady, slot, version, reason)
		return nil
	}

	if err := s.poll(ctx, o.Interval, func() error {
		_, err := s.run(ctx, "ovs-vsctl", "--timeout=5", "show")
		return err
	}); err != nil {
		return fail("Open vSwitch is not answering: " + oneLine(err))
	}
	var q QuorumView
	if err := s.poll(ctx, o.Interval, func() error {
		if s.unitFailed(ctx, "ovshad.service") {
			return errFatal{errors.New("ovshad.service failed")}
		}
		var err error
		q, err = o.Quorum(ctx)
		return err
	}); err != nil {
		return fail("ovshad is not ready: " + oneLine(err))
	}
	fmt.Fprintf(o.Out, "%s node=%s nodeid=%d slot=%s version=%s trial=%t\n", MarkerReady, q.Node, q.NodeID, slot, version, trial)
	if err := s.poll(ctx, o.Interval, func() error {
		var err error
		if q, err = o.Quorum(ctx); err != nil {
			return err
		}
		if !q.Quorate {
			return fmt.Errorf("not quorate (%d members)", q.Members)
		}
		return nil
	}); err != nil {
		return fail("the cluster is not quorate: " + oneLine(err))
	}
	fmt.Fprintf(o.Out, "%s node=%s members=%d slot=%s\n", MarkerQuorate, q.Node, q.Members, slot)
	fmt.Fprintf(o.Out, "%s slot=%s version=%s trial=%t\n", MarkerBootOK, slot, version, trial)
	if o.AfterBootOK != nil {
		if err := o.AfterBootOK(ctx); err != nil {
			s.log().Warn("after the boot check", "err", err)
		}
	}
	return nil
}

// errFatal stops a poll at once.
type errFatal struct{ error }

// poll calls f every interval until it succeeds, fails fatally or ctx ends.
func (s *System) poll(ctx context.Context, interval time.Duration, f func() error) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		err := f()
		if err == nil {
			return nil
		}
		var fe errFatal
		if errors.As(err, &fe) {
			return fe.error
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), err)
		case <-t.C:
		}
	}
}

// unitFailed says whether systemd gave up on a unit.
func (s *System) unitFailed(ctx context.Context, unit string) bool {
	out, _ := s.run(ctx, "systemctl", "is-failed", unit)
	return strings.TrimSpace(string(out)) == "failed"
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
