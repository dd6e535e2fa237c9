package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"time"
)

// HandOver puts this node in standby before a reboot (upgrade, rollback)
// and takes it out again once the next boot has passed its check. It
// reaches the resource manager through functions, so that the CIB edit is
// the CLI's own (`ovsha node standby`) and tests can fake the daemon.
type HandOver struct {
	// Node returns this node's name (ovshad's /v1/quorum).
	Node func(ctx context.Context) (string, error)
	// ActiveOn lists the resources the resource manager shows active on
	// node and whether the DC is running a transition (/v1/crm/status).
	// The hand-over is done when nothing is active here and no transition
	// runs: the resources then run elsewhere (or can run nowhere). Between
	// a resource's stop here and its start on another node the status shows
	// it on no node, with a transition in progress.
	ActiveOn func(ctx context.Context, node string) (active []string, moving bool, err error)
	// SetStandby sets (on) or removes the node's standby attribute in the
	// CIB; a CIB that already says so is not an error.
	SetStandby func(ctx context.Context, node string, on bool) error
	// MarkFile, on the persistent data partition, records that a reboot
	// put the node in standby: the next boot's check clears it. Empty
	// means none (the standby stays until an operator clears it).
	MarkFile string
	// Timeout bounds the wait for the resources to leave (default 2
	// minutes); past it the reboot goes ahead with a warning.
	Timeout time.Duration
	// Interval between status polls (default 1 s).
	Interval time.Duration
	// Out receives the OVSHA-STANDBY marker lines.
	Out io.Writer
	Log *slog.Logger
}

func (h HandOver) defaults() HandOver {
	if h.Timeout == 0 {
		h.Timeout = 2 * time.Minute
	}
	if h.Interval == 0 {
		h.Interval = time.Second
	}
	if h.Out == nil {
		h.Out = io.Discard
	}
	if h.Log == nil {
		h.Log = slog.New(slog.DiscardHandler)
	}
	return h
}

// ErrNoResourceManager is what the HandOver functions return (wrapped)
// when there is no resource manager to ask: ovshad is not running (single
// node, not yet configured) or runs without one.
var ErrNoResourceManager = errors.New("no resource manager reachable")

func absent(err error) bool { return errors.Is(err, ErrNoResourceManager) }

// Standby puts the node in standby and waits until no resource is active
// on it. Without a reachable resource manager it says so and returns nil;
// past Timeout it warns and returns nil (the reboot then costs a failover
// instead of a switchover). It fails only when the standby could not be
// written: the caller should then not reboot.
func (h HandOver) Standby(ctx context.Context) error {
	h = h.defaults()
	skip := func(why string, err error) error {
		fmt.Fprintf(h.Out, "%s skipped: %s\n", MarkerStandby, why)
		h.Log.Warn("standby before reboot skipped", "reason", why, "err", err)
		return nil
	}
	node, err := h.Node(ctx)
	if absent(err) {
		return skip("ovshad is not reachable, no resources to move", err)
	}
	if err != nil {
		return fmt.Errorf("asking ovshad for this node's name: %w", err)
	}
	active, _, err := h.ActiveOn(ctx, node)
	if absent(err) {
		return skip("ovshad runs no resource manager, no resources to move", err)
	}
	if err != nil {
		return fmt.Errorf("reading the resource manager's status: %w", err)
	}
	if h.MarkFile != "" {
		// first the mark, so that a standby written just before a crash
		// is still cleared by the next boot
		if err := writeFileAtomic(h.MarkFile, []byte(node+"\n"), 0o644); err != nil {
			return err
		}
	}
	start := time.Now()
	if err := h.SetStandby(ctx, node, true); err != nil {
		if h.MarkFile != "" {
			os.Remove(h.MarkFile)
		}
		return fmt.Errorf("putting node %s in standby: %w", node, err)
	}
	h.Log.Info("node in standby; waiting for its resources to move", "node", node, "active", active)
	wctx, cancel := context.WithTimeout(ctx, h.Timeout)
	defer cancel()
	t := time.NewTicker(h.Interval)
	defer t.Stop()
	var left []string
	for {
		now, moving, err := h.ActiveOn(wctx, node)
		if err == nil {
			if left = now; len(left) == 0 && !moving {
				fmt.Fprintf(h.Out, "%s node=%s resources moved, seconds=%.1f\n", MarkerStandby, node, time.Since(start).Seconds())
				return nil
			}
		} else if left == nil || wctx.Err() == nil {
			// keep the last answer when the wait's own deadline cut a poll short
			left = []string{"unknown (" + oneLine(err) + ")"}
		}
		select {
		case <-wctx.Done():
			if ctx.Err() != nil {
				return ctx.Err()
			}
			still := "still active here: " + strings.Join(left, ",")
			if len(left) == 0 {
				still = "still moving"
			}
			fmt.Fprintf(h.Out, "%s node=%s timeout after %s, %s: rebooting anyway\n", MarkerStandby, node, h.Timeout, still)
			h.Log.Warn("resources did not leave this node in time; rebooting anyway", "node", node, "timeout", h.Timeout, "active", left)
			return nil
		case <-t.C:
		}
	}
}

// Unstandby clears the standby a reboot's Standby set (the MarkFile says
// so and names the node), then removes the mark. Nothing to do without
// the mark. A failing write is retried until Timeout; after that the mark
// stays, so the next boot tries again.
func (h HandOver) Unstandby(ctx context.Context) error {
	h = h.defaults()
	if h.MarkFile == "" {
		return nil
	}
	b, err := os.ReadFile(h.MarkFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", h.MarkFile, err)
	}
	node := strings.TrimSpace(string(b))
	if node == "" {
		return fmt.Errorf("%s: empty, expected the node name the upgrade put in standby", h.MarkFile)
	}
	// the peer may be rebooting (its own upgrade): retry until Timeout
	wctx, cancel := context.WithTimeout(ctx, h.Timeout)
	defer cancel()
	t := time.NewTicker(h.Interval)
	defer t.Stop()
	for {
		err := h.SetStandby(wctx, node, false)
		if err == nil {
			break
		}
		h.Log.Warn("taking the node out of standby; retrying", "node", node, "err", err)
		select {
		case <-wctx.Done():
			return fmt.Errorf("taking node %s out of standby: %w", node, err)
		case <-t.C:
		}
	}
	if err := os.Remove(h.MarkFile); err != nil {
		return fmt.Errorf("removing %s: %w", h.MarkFile, err)
	}
	fmt.Fprintf(h.Out, "%s node=%s cleared: the node takes resources again\n", MarkerStandby, node)
	return nil
}
