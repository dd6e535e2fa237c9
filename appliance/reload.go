package appliance

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"time"

	sd "github.com/coreos/go-systemd/v22/daemon"

	"github.com/ovsha/ovsha/cluster/config"
	"github.com/ovsha/ovsha/cluster/quorum"
	"github.com/ovsha/ovsha/cluster/transport"
)

// What a reload (SIGHUP, `ovsha reload`, POST /v1/reload) changes at
// runtime, like corosync-cfgtool -R. Everything else that differs is
// reported as needing a restart; cmap shows the file's values either way.
//
//   - logging.debug: the log level (off → info, on → debug, trace →
//     debug-4), at once.
//   - quorum.expected_votes: sent to every member of the view as by
//     `ovsha quorum expected` (removing the key means the nodelist's
//     votes). Refused as SetExpected refuses; then nothing changes.
//   - ovsha.api_group: the control socket's group and mode, at once.
//
// Totem timers need a restart: the engine takes its timers at creation
// and has no safe way to change them under a running ring.
var reloadable = map[string]bool{
	"logging.debug":         true,
	"quorum.expected_votes": true,
	"ovsha.api_group":       true,
}

// Reload re-reads the configuration file and applies what can change at
// runtime. A file that does not load, names no usable authkey or has an
// invalid quorum section is rejected with the file:line error, and nothing
// changes. Safe for concurrent use; reloads are serialised.
func (a *Appliance) Reload(ctx context.Context) (ReloadResponse, error) {
	c := a.ctl
	c.reloadMu.Lock()
	defer c.reloadMu.Unlock()
	sdNotify(a.log, "RELOADING=1\nMONOTONIC_USEC="+sd.SdNotifyMonotonicUsec())
	defer sdNotify(a.log, "READY=1")
	reject := func(err error) (ReloadResponse, error) {
		a.log.Warn("reload rejected; the running configuration is unchanged", "config", a.opts.ConfigPath, "reason", err)
		return ReloadResponse{}, &httpError{code: http.StatusBadRequest, err: fmt.Errorf("reload rejected, nothing changed: %w", err)}
	}
	next, err := config.Load(a.opts.ConfigPath)
	if err != nil {
		return reject(err)
	}
	if _, err := transport.ReadKey(next.EffectiveTotem().Keyfile); err != nil {
		return reject(fmt.Errorf("%s: totem.keyfile: %w", a.opts.ConfigPath, err))
	}
	qc, err := quorumConfig(next)
	if err == nil {
		_, err = quorum.New(qc)
	}
	if err != nil {
		return reject(fmt.Errorf("%s: quorum: %w", a.opts.ConfigPath, err))
	}
	resp := ReloadResponse{Config: a.opts.ConfigPath, Applied: []ConfigChange{}, NeedsRestart: []ConfigChange{}}
	for _, ch := range configDiff(c.current, next) {
		if reloadable[ch.Key] {
			resp.Applied = append(resp.Applied, ch)
		} else {
			resp.NeedsRestart = append(resp.NeedsRestart, ch)
		}
	}
	// Expected votes first: it is the one change the cluster can refuse.
	if next.ExpectedVotes() != c.current.ExpectedVotes() {
		if err := c.quorum.setExpected(ctx, next.ExpectedVotes()); err != nil {
			return reject(fmt.Errorf("%s: quorum.expected_votes %d: %w", a.opts.ConfigPath, next.ExpectedVotes(), err))
		}
	}
	if a.opts.LogLevel != nil {
		a.opts.LogLevel.Set(logLevel(next.Logging.Debug))
	}
	if next.Ovsha.APIGroup != c.current.Ovsha.APIGroup {
		applySocketGroup(a.log, a.socket, next.Ovsha.APIGroup)
	}
	if err := loadConfigKeys(c.cmap, next); err != nil {
		a.log.Warn("reload: cmap not fully refreshed", "reason", err)
	}
	c.current = next
	a.log.Info("configuration reloaded", "config", a.opts.ConfigPath, "applied", len(resp.Applied), "needs_restart", len(resp.NeedsRestart))
	for _, ch := range resp.NeedsRestart {
		a.log.Warn("configuration change needs an ovshad restart", "key", ch.Key, "old", ch.Old, "new", ch.New)
	}
	return resp, nil
}

// logLevel maps logging.debug to a slog level.
func logLevel(debug string) slog.Level {
	switch debug {
	case "on":
		return slog.LevelDebug
	case "trace":
		return slog.LevelDebug - 4
	}
	return slog.LevelInfo
}

// configDiff lists the file keys whose values differ, in key order.
func configDiff(old, next *config.Cluster) []ConfigChange {
	ok, nk := configKeys(old), configKeys(next)
	var out []ConfigChange
	for k, v := range nk {
		if strings.HasPrefix(k, "runtime.") {
			continue
		}
		if ov, had := ok[k]; !had || !ov.Equal(v) {
			out = append(out, ConfigChange{Key: k, Old: ok[k].String(), New: v.String()})
		}
	}
	for k, v := range ok {
		if _, has := nk[k]; !has && !strings.HasPrefix(k, "runtime.") {
			out = append(out, ConfigChange{Key: k, Old: v.String()})
		}
	}
	for i := range out {
		if out[i].Old == "<invalid>" {
			out[i].Old = ""
		}
	}
	slices.SortFunc(out, func(a, b ConfigChange) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// applySocketGroup gives the control socket to group with mode 0660. When
// the group does not exist on this host (or none is configured) the socket
// stays root-only, mode 0600, and a warning says so.
func applySocketGroup(log *slog.Logger, socket, group string) {
	rootOnly := func(reason string, args ...any) {
		log.Warn("control socket is root-only (mode 0600): "+reason, args...)
		if err := os.Chmod(socket, 0o600); err != nil {
			log.Warn("cannot restrict the control socket", "socket", socket, "reason", err)
		}
	}
	if group == "" {
		rootOnly("no ovsha.api_group configured")
		return
	}
	g, err := user.LookupGroup(group)
	if err != nil {
		rootOnly("api group not found; create it (the packaged sysusers.d/ovsha.conf does) or set ovsha.api_group", "group", group)
		return
	}
	gid, err := strconv.Atoi(g.Gid)
	if err == nil {
		err = os.Chown(socket, -1, gid)
	}
	if err == nil {
		err = os.Chmod(socket, 0o660)
	}
	if err != nil {
		rootOnly("cannot give the control socket to the api group", "group", group, "reason", err)
		return
	}
	log.Debug("control socket group set", "socket", socket, "group", group, "mode", "0660")
}

// reloadTimeout bounds a reload triggered by SIGHUP.
const reloadTimeout = 10 * time.Second
