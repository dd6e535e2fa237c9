// Command ovshad is the ovsha cluster daemon. It parses flags, handles
// signals and runs the appliance; all logic lives in package appliance.
//
//	ovshad [-c /etc/ovsha/cluster.conf] [--state-dir /var/lib/ovsha]
//	       [--socket /run/ovsha/ovshad.sock] [--node-id N | --name NAME]
//	       [--metrics-addr 127.0.0.1:9405] [-f]
//
// ovshad always runs in the foreground (systemd supervises it, Type=notify
// with a watchdog); -f is accepted for corosync compatibility. SIGTERM or
// SIGINT make it leave the ring gracefully and exit 0. SIGHUP re-reads the
// configuration like `ovsha reload` (what reloads: appliance/reload.go).
// Logs go to stderr and, when present, the systemd journal.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ovsha/ovsha/appliance"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("ovshad", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var opts appliance.Options
	var nodeID uint
	fs.StringVar(&opts.ConfigPath, "c", appliance.DefaultConfigPath, "cluster configuration file (corosync.conf syntax)")
	fs.StringVar(&opts.StateDir, "state-dir", appliance.DefaultStateDir, "directory for the node's persistent state")
	fs.StringVar(&opts.Socket, "socket", "", "control API unix socket (default: ovsha.api_socket from the configuration, else "+appliance.DefaultSocket+")")
	fs.UintVar(&nodeID, "node-id", 0, "run as this nodeid (default: the node whose ringN_addr is a local address)")
	fs.StringVar(&opts.NodeName, "name", "", "run as the node with this name")
	fs.StringVar(&opts.MetricsAddr, "metrics-addr", "", "serve Prometheus metrics on host:port (default: ovsha.metrics_addr from the configuration, else off)")
	fs.Bool("f", true, "run in the foreground (always; accepted for corosync compatibility)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ovshad: unexpected argument %q (see ovshad -h)\n", fs.Arg(0))
		return 2
	}
	if nodeID > 1<<32-1 {
		fmt.Fprintf(stderr, "ovshad: --node-id %d: out of range\n", nodeID)
		return 2
	}
	opts.NodeID = uint32(nodeID)
	opts.LogLevel = new(slog.LevelVar)
	opts.Logger = appliance.NewDaemonLogger(stderr, opts.LogLevel)

	a, err := appliance.New(opts)
	if err != nil {
		fmt.Fprintf(stderr, "ovshad: %v\n", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP) // before Run: an early SIGHUP must not kill the daemon
	defer signal.Stop(hup)
	go reloadOnHUP(ctx, a, hup, opts.Logger)
	if err := a.Run(ctx); err != nil {
		fmt.Fprintf(stderr, "ovshad: %v\n", err)
		return 1
	}
	return 0
}

// reloadOnHUP re-reads the configuration on every SIGHUP until ctx ends.
// The outcome is logged (a rejected file with its file:line error).
func reloadOnHUP(ctx context.Context, a *appliance.Appliance, hup <-chan os.Signal, log *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			_, err := a.Reload(rctx)
			cancel()
			if err != nil {
				log.Error("SIGHUP reload failed", "reason", err)
			}
		}
	}
}
