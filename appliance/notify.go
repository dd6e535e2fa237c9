package appliance

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	sd "github.com/coreos/go-systemd/v22/daemon"

	"github.com/ovsha/ovsha/cluster/membership"
)

// systemd integration (sd_notify(3)); every call is a no-op when
// NOTIFY_SOCKET is unset.
//
//   - READY=1 once the control socket listens and the membership runtime
//     answers (Type=notify units start their dependents then);
//   - STATUS= "ring 1.42 members 3 quorate", refreshed when it changes;
//   - WATCHDOG=1 every half WATCHDOG_USEC, but only after the runtime loop
//     has answered a status request within that half period: a wedged
//     engine loop stops the pings and systemd restarts the daemon;
//   - RELOADING=1 … READY=1 around a reload, STOPPING=1 at shutdown.
type notifier struct {
	log    *slog.Logger
	status func(ctx context.Context) (membership.Status, error)
	quorum *quorumState
}

func sdNotify(log *slog.Logger, state string) {
	if _, err := sd.SdNotify(false, state); err != nil {
		log.Warn("cannot notify systemd", "state", state, "reason", err)
	}
}

// notifyPeriod is how often STATUS= is refreshed without a watchdog.
const notifyPeriod = time.Second

// run sends READY=1 once the runtime answers, then STATUS= and WATCHDOG=1
// until ctx ends, then STOPPING=1.
func (n *notifier) run(ctx context.Context) {
	wd, err := sd.SdWatchdogEnabled(false)
	if err != nil {
		n.log.Warn("ignoring the systemd watchdog setting", "reason", err)
		wd = 0
	}
	period := notifyPeriod
	if wd > 0 {
		period = min(wd/2, notifyPeriod)
	}
	ready := false
	last := ""
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		sctx, cancel := context.WithTimeout(ctx, period)
		st, err := n.status(sctx)
		cancel()
		alive := err == nil && st.Running
		switch {
		case alive:
			msg := n.statusLine(st)
			var state string
			if !ready {
				state, ready = "READY=1\n", true
			}
			if msg != last {
				state += "STATUS=" + msg + "\n"
				last = msg
			}
			if wd > 0 {
				state += "WATCHDOG=1\n"
			}
			if state != "" {
				sdNotify(n.log, state)
			}
		case ctx.Err() == nil:
			n.log.Warn("membership runtime did not answer; withholding the systemd watchdog ping", "reason", err)
		}
		select {
		case <-ctx.Done():
			sdNotify(n.log, "STOPPING=1\nSTATUS=stopping")
			return
		case <-t.C:
		}
	}
}

func (n *notifier) statusLine(st membership.Status) string {
	qs, _ := n.quorum.status()
	q := "not quorate"
	if qs.Quorate {
		q = "quorate"
	}
	e := st.Engine
	return fmt.Sprintf("ring %d.%d members %d %s", e.Ring.Rep, e.Ring.Seq, len(e.Members), q)
}
