package appliance

import (
	"io"
	"log/slog"
)

// Defaults of ovshad's command-line flags.
const (
	DefaultConfigPath = "/etc/ovsha/cluster.conf"
	DefaultStateDir   = "/var/lib/ovsha"
)

// Options are what ovshad's flags select.
type Options struct {
	// ConfigPath is the corosync.conf-syntax cluster configuration.
	ConfigPath string
	// StateDir holds the node's persistent state.
	StateDir string
	// Socket is the control API socket; "" means the configuration's
	// ovsha.api_socket if set there, else DefaultSocket.
	Socket string
	// NodeID or NodeName, when set, choose the local node instead of
	// matching the host's interface addresses against the nodelist.
	NodeID   uint32
	NodeName string
	// Logger receives everything; LogLevel, when set, is raised to debug
	// if the configuration's logging.debug says so.
	Logger   *slog.Logger
	LogLevel *slog.LevelVar
	// MetricsAddr, when set, serves Prometheus metrics on this host:port
	// instead of the configuration's ovsha.metrics_addr.
	MetricsAddr string
	// OCFRoot and FenceDir, when set, are where the resource manager finds
	// OCF resource agents and fence_* programs (else $OVSHA_OCF_ROOT and
	// $OVSHA_FENCE_DIR, else the agents package defaults).
	OCFRoot  string
	FenceDir string
}

// NewLogger returns the daemon's logger: text records on w (stderr under
// systemd goes to the journal) at the level held by level.
func NewLogger(w io.Writer, level *slog.LevelVar) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}
