package appliance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ovsha/ovsha/cluster/membership"
	"github.com/ovsha/ovsha/cluster/quorum"
	"github.com/ovsha/ovsha/cluster/transport"
)

// Prometheus metrics (ovsha.metrics_addr or ovshad --metrics-addr; off by
// default). A private registry holds one collector that reads snapshots of
// the runtime, the transport and quorum at each scrape: there is no global
// state and nothing to update on the hot path.
const metricsNS = "ovsha"

// snapshotter is what the collector reads at each scrape.
type snapshotter struct {
	status func(ctx context.Context) (membership.Status, error)
	quorum func() quorum.Status
	tr     transport.Transport
}

type collector struct {
	snap snapshotter
	log  *slog.Logger

	up, state, members, membershipChanges                      *prometheus.Desc
	quorate, expected, total, quorumVotes                      *prometheus.Desc
	rotation, latency, linkUp                                  *prometheus.Desc
	engine, linkCounter, transportCounter                      *prometheus.Desc
	retransmits, deliveries, rtPackets, rtDecodeErrors, sendEr *prometheus.Desc
}

func newCollector(s snapshotter, log *slog.Logger) *collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(metricsNS, "", name), help, labels, nil)
	}
	return &collector{
		snap: s, log: log,
		up:                d("engine_running", "1 while the Totem engine loop runs and answers.", nil...),
		state:             d("totem_state", "Totem membership state (1 for the current state).", "state"),
		members:           d("totem_members", "Members of the current ring.", nil...),
		membershipChanges: d("totem_membership_changes_total", "Regular configurations installed.", nil...),
		quorate:           d("quorum_quorate", "1 when this node's partition is quorate.", nil...),
		expected:          d("quorum_expected_votes", "Expected votes.", nil...),
		total:             d("quorum_total_votes", "Votes of the current members.", nil...),
		quorumVotes:       d("quorum_votes_needed", "Votes needed for quorum.", nil...),
		rotation:          d("totem_token_rotation_seconds", "Duration of the last full token rotation.", nil...),
		retransmits:       d("totem_token_retransmits_total", "Token retransmissions.", nil...),
		deliveries:        d("totem_messages_delivered_total", "Messages delivered in order.", nil...),
		engine:            d("totem_events_total", "Totem engine counters by name.", "counter"),
		latency:           d("link_latency_seconds", "Smoothed heartbeat round-trip time per link.", "peer", "link"),
		linkUp:            d("link_up", "1 when the link to the peer is up.", "peer", "link"),
		linkCounter:       d("link_events_total", "Per-link packet, byte and error counters.", "peer", "link", "counter"),
		transportCounter:  d("transport_drops_total", "Transport-wide drops and errors (auth failures, unknown senders, ...).", "reason"),
		rtPackets:         d("runtime_packets_received_total", "Datagrams handed to the engine.", nil...),
		rtDecodeErrors:    d("runtime_decode_errors_total", "Datagrams that did not decode as Totem messages.", nil...),
		sendEr:            d("runtime_send_errors_total", "Engine messages the transport refused.", nil...),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.up, c.state, c.members, c.membershipChanges, c.quorate, c.expected, c.total,
		c.quorumVotes, c.rotation, c.retransmits, c.deliveries, c.engine, c.latency, c.linkUp, c.linkCounter,
		c.transportCounter, c.rtPackets, c.rtDecodeErrors, c.sendEr} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	g := func(d *prometheus.Desc, v float64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, l...)
	}
	n := func(d *prometheus.Desc, v uint64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), l...)
	}
	qs := c.snap.quorum()
	g(c.quorate, float64(b2u8(qs.Quorate)))
	g(c.expected, float64(qs.ExpectedVotes))
	g(c.total, float64(qs.TotalVotes))
	g(c.quorumVotes, float64(qs.Quorum))
	if tc, ok := c.snap.tr.(counterer); ok {
		for _, s := range transportCounters(tc.Counters()) {
			n(c.transportCounter, s.value, s.name)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := c.snap.status(ctx)
	if err != nil {
		c.log.Warn("metrics: membership status unavailable", "reason", err)
		g(c.up, 0)
		return
	}
	g(c.up, float64(b2u8(st.Running)))
	e := st.Engine
	for _, s := range []string{"gather", "commit", "recovery", "operational"} {
		g(c.state, float64(b2u8(st.Running && e.State.String() == s)), s)
	}
	g(c.members, float64(len(e.Members)))
	n(c.membershipChanges, e.Stats.MembershipChanges)
	g(c.rotation, e.Stats.LastRotation.Seconds())
	n(c.retransmits, e.Stats.TokensRetransmitted)
	n(c.deliveries, e.Stats.MessagesDelivered)
	for _, s := range engineCounters(e.Stats) {
		n(c.engine, s.value, s.name)
	}
	n(c.rtPackets, st.Counters.PacketsReceived)
	n(c.rtDecodeErrors, st.Counters.DecodeErrors)
	n(c.sendEr, st.Counters.SendErrors)
	for _, l := range st.Links {
		peer, link := strconv.FormatUint(uint64(l.Peer), 10), strconv.Itoa(l.Link)
		g(c.linkUp, float64(b2u8(l.Up)), peer, link)
		g(c.latency, l.Latency.Seconds(), peer, link)
		for _, s := range linkCounters(l) {
			n(c.linkCounter, s.value, peer, link, s.name)
		}
	}
}

// newMetricsHandler returns the /metrics handler over a private registry.
func newMetricsHandler(s snapshotter, log *slog.Logger) (http.Handler, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(newCollector(s, log)); err != nil {
		return nil, fmt.Errorf("registering metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "ovshad serves Prometheus metrics at /metrics", http.StatusNotFound)
	})
	return mux, nil
}

// serveMetrics listens on addr and serves /metrics until ctx ends. The
// listener is bound before it returns, so a bad address fails at start.
func serveMetrics(ctx context.Context, addr string, h http.Handler, log *slog.Logger) (<-chan error, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics listener %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	done := make(chan error, 1)
	go func() {
		err := srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		done <- err
	}()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx) // best effort: the daemon is stopping
	}()
	log.Info("serving metrics", "addr", ln.Addr().String(), "path", "/metrics")
	return done, nil
}

func splitHostPort(addr string) (string, string, error) { return net.SplitHostPort(addr) }
