package appliance

import (
	"context"
	"fmt"
	"sync"

	"github.com/ovsha/ovsha/cluster/membership"
	"github.com/ovsha/ovsha/cluster/quorum"
	"github.com/ovsha/ovsha/cluster/transport"
)

// startControl starts what runs beside the membership runtime until ctx
// ends: the votequorum message sender, the cmap runtime keys, the metrics
// listener (if configured) and the systemd notifier. The returned stop
// waits for them and ends the control API's streams.
func (a *Appliance) startControl(ctx context.Context, rt *membership.Runtime, tr transport.Transport) (stop func(), err error) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	stop = func() {
		cancel()
		wg.Wait()
		a.ctl.stop()
	}
	qstatus := func() quorum.Status { st, _ := a.quorum.status(); return st }
	if addr := a.metricsAddr(); addr != "" {
		h, err := newMetricsHandler(snapshotter{status: rt.Status, quorum: qstatus, tr: tr}, a.log)
		if err != nil {
			stop()
			return nil, err
		}
		done, err := serveMetrics(ctx, addr, h, a.log)
		if err != nil {
			stop()
			return nil, err
		}
		wg.Go(func() {
			if err := <-done; err != nil {
				a.log.Error("metrics listener stopped", "reason", err)
			}
		})
	}
	wg.Go(func() { a.ctl.quorum.run(ctx, rt) })
	wg.Go(func() { a.ctl.runtime.run(ctx, rt, tr, a.quorum) })
	n := &notifier{log: a.log, status: rt.Status, quorum: a.quorum}
	wg.Go(func() { n.run(ctx) })
	return stop, nil
}

// metricsAddr is --metrics-addr, else ovsha.metrics_addr, else "" (off).
func (a *Appliance) metricsAddr() string {
	if a.opts.MetricsAddr != "" {
		return a.opts.MetricsAddr
	}
	if ap := a.cluster.Ovsha.MetricsAddr; ap.IsValid() {
		return ap.String()
	}
	return ""
}

// checkMetricsAddr validates --metrics-addr for New.
func checkMetricsAddr(addr string) error {
	if addr == "" {
		return nil
	}
	if _, _, err := splitHostPort(addr); err != nil {
		return fmt.Errorf("--metrics-addr %q: %w (want host:port, e.g. 127.0.0.1:9405)", addr, err)
	}
	return nil
}
