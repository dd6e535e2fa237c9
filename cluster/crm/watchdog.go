package crm

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"time"
)

// DefaultWatchdog is the watchdog device used for self-fencing.
const DefaultWatchdog = "/dev/watchdog"

// watchdog implements self-fencing for no-quorum-policy=suicide. While
// that policy is configured the device is held open and fed every second
// (so a hung daemon also resets the node); losing quorum stops the
// feeding, and the hardware resets the node. A clean shutdown writes the
// magic close character 'V' so the device disarms. Without the device,
// self-fencing is skipped (logged).
type watchdog struct {
	path string
	log  *slog.Logger

	mu      sync.Mutex
	want    bool // no-quorum-policy=suicide is configured
	suicide bool // quorum lost under that policy: stop feeding
	f       *os.File
}

func newWatchdog(path string, log *slog.Logger) *watchdog {
	if path == "" {
		path = DefaultWatchdog
	}
	return &watchdog{path: path, log: log}
}

// quorum records the quorum state and the policy.
func (w *watchdog) quorum(quorate, suicidePolicy bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.want = suicidePolicy
	if suicidePolicy && !quorate && !w.suicide {
		w.suicide = true
		if w.f == nil {
			w.log.Error("quorum lost with no-quorum-policy=suicide, but there is no watchdog to self-fence with", "device", w.path)
			return
		}
		w.log.Error("quorum lost with no-quorum-policy=suicide: self-fencing (no longer feeding the watchdog)", "device", w.path)
	}
	if quorate {
		w.suicide = false
	}
}

// run opens and feeds the device while wanted, until ctx ends.
func (w *watchdog) run(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		w.mu.Lock()
		if w.want && w.f == nil {
			f, err := os.OpenFile(w.path, os.O_WRONLY, 0)
			switch {
			case err == nil:
				w.f = f
				w.log.Info("watchdog armed for self-fencing", "device", w.path)
			case errors.Is(err, fs.ErrNotExist):
			default:
				w.log.Warn("cannot open the watchdog", "device", w.path, "reason", err)
			}
		}
		if w.f != nil && !w.suicide {
			_, _ = w.f.Write([]byte{0}) // a failed feed ends in a reset: nothing better to do
		}
		w.mu.Unlock()
		select {
		case <-ctx.Done():
			w.mu.Lock()
			if w.f != nil && !w.suicide {
				_, _ = w.f.Write([]byte("V"))
				w.f.Close()
				w.f = nil
			}
			w.mu.Unlock()
			return
		case <-t.C:
		}
	}
}
