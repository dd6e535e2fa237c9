package appliance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func freeTCPAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// fakeNotify is a NOTIFY_SOCKET that records what the daemons send.
func fakeNotify(t *testing.T) <-chan string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	t.Setenv("WATCHDOG_USEC", "200000")
	out := make(chan string, 1024)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				close(out)
				return
			}
			for _, l := range strings.Split(strings.TrimSpace(string(buf[:n])), "\n") {
				select {
				case out <- l:
				default:
				}
			}
		}
	}()
	return out
}

// waitNotify waits until every wanted line prefix has been received.
func waitNotify(t *testing.T, ch <-chan string, want ...string) {
	t.Helper()
	seen := map[string]bool{}
	timeout := time.After(15 * time.Second)
	for len(seen) < len(want) {
		select {
		case l, ok := <-ch:
			if !ok {
				t.Fatal("notify socket closed")
			}
			for _, w := range want {
				if strings.HasPrefix(l, w) {
					seen[w] = true
				}
			}
		case <-timeout:
			t.Fatalf("systemd notifications: saw %v, want all of %q", seen, want)
		}
	}
}

func eventually(t *testing.T, what string, ok func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		good, last := ok()
		if good {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: never happened (last: %s)", what, last)
		}
		time.Sleep(20 * time.Millisecond) // polling the API; no event to await
	}
}

func apiStatus(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.StatusCode
	}
	return 0
}

// TestControlOnLiveDaemons drives the write endpoints, cmap, reload,
// metrics and sd_notify of three daemons running over loopback.
func TestControlOnLiveDaemons(t *testing.T) {
	notes := fakeNotify(t)
	cfg := writeCluster(t, 3, "")
	metrics := freeTCPAddr(t)
	level := new(slog.LevelVar)
	var ds []*daemon
	for id := uint32(1); id <= 3; id++ {
		dir := t.TempDir()
		opts := Options{ConfigPath: cfg, StateDir: filepath.Join(dir, "state"), Socket: filepath.Join(dir, "s.sock"), NodeID: id, Logger: discardLogger()}
		if id == 1 {
			opts.MetricsAddr, opts.LogLevel = metrics, level
		}
		a, err := New(opts)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		d := &daemon{client: NewClient(a.Socket()), stop: cancel, done: make(chan error, 1)}
		go func() { d.done <- a.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-d.done })
		ds = append(ds, d)
	}
	for _, d := range ds {
		waitQuorum(t, d, 3)
	}
	ctx := context.Background()
	c := ds[0].client

	t.Run("sd_notify", func(t *testing.T) {
		waitNotify(t, notes, "READY=1", "STATUS=ring ", "WATCHDOG=1")
	})

	t.Run("socket mode", func(t *testing.T) {
		fi, err := os.Stat(c.Socket())
		if err != nil {
			t.Fatal(err)
		}
		// The test config's api_group is the default haclient; without it
		// on this host the socket must be root-only.
		want := os.FileMode(0o600)
		if groupExists("haclient") {
			want = 0o660
		}
		if fi.Mode().Perm() != want {
			t.Fatalf("socket mode %v, want %v", fi.Mode().Perm(), want)
		}
	})

	t.Run("cmap", func(t *testing.T) {
		e, err := c.CmapGet(ctx, "totem.cluster_name")
		if err != nil || e.Value != "test" || e.Type != "str" {
			t.Fatalf("totem.cluster_name: %+v, %v", e, err)
		}
		if e, err := c.CmapGet(ctx, "nodelist.node.2.ring0_addr"); err != nil || e.Value != "127.0.0.3" {
			t.Fatalf("nodelist.node.2.ring0_addr: %+v, %v", e, err)
		}
		eventually(t, "runtime keys", func() (bool, string) {
			l, err := c.CmapList(ctx, "runtime.")
			got := map[string]string{}
			for _, e := range l.Entries {
				got[e.Key] = e.Value
			}
			return err == nil && got["runtime.votequorum.quorate"] == "1" && got["runtime.totem.members"] == "1 2 3" &&
				got["runtime.members.3.status"] == "joined" && got["runtime.links.2.0.connected"] == "1" &&
				got["runtime.members.2.config_version"] == "0", fmt.Sprint(got, err)
		})
		if _, err := c.CmapSet(ctx, "totem.token", CmapValue{Type: "u32", Value: "1"}); apiStatus(err) != http.StatusForbidden || !strings.Contains(err.Error(), "read-only") {
			t.Fatalf("setting a config key: %v, want 403 read-only", err)
		}
		tctx, cancel := context.WithCancel(ctx)
		defer cancel()
		events := make(chan CmapEvent, 8)
		tracking := make(chan error, 1)
		go func() {
			tracking <- c.CmapTrack(tctx, "user.", func(ev CmapEvent) error { events <- ev; return nil })
		}()
		// The watch starts when the daemon answers; set until the event shows.
		var ev CmapEvent
		for i := 0; ev.Key == ""; i++ {
			if _, err := c.CmapSet(ctx, "user.x", CmapValue{Type: "u32", Value: fmt.Sprint(i)}); err != nil {
				t.Fatal(err)
			}
			select {
			case ev = <-events:
			case <-time.After(100 * time.Millisecond):
			}
		}
		if ev.Key != "user.x" || ev.Type != "u32" {
			t.Fatalf("track event %+v", ev)
		}
		if err := c.CmapDelete(ctx, "user.x"); err != nil {
			t.Fatal(err)
		}
		for ev = <-events; ev.Event != "deleted"; ev = <-events {
		}
		if _, err := c.CmapGet(ctx, "user.x"); apiStatus(err) != http.StatusNotFound {
			t.Fatalf("get after delete: %v, want 404", err)
		}
		cancel()
		if err := <-tracking; !errors.Is(err, context.Canceled) {
			t.Fatalf("track ended with %v", err)
		}
	})

	t.Run("bad requests", func(t *testing.T) {
		tests := []struct {
			method, path string
			body         any
			code         int
			want         string
		}{
			{"POST", PathQuorumExpected, map[string]any{"expected": 3}, 400, `unknown field "expected"`},
			{"POST", PathQuorumExpected, map[string]any{"expected_votes": "x"}, 400, `field "expected_votes"`},
			{"PUT", PathCmap + "/user.y", map[string]any{"type": "u8", "value": "256"}, 400, `field "value"`},
			{"PUT", PathCmap + "/user.bad!key", map[string]any{"type": "u8", "value": "1"}, 400, `user.bad!key`},
			{"GET", PathQuorumExpected, nil, 405, "use POST"},
			{"POST", PathReload, map[string]any{"now": true}, 400, `unknown field "now"`},
		}
		for _, tt := range tests {
			err := c.do(ctx, tt.method, tt.path, tt.body, nil)
			if apiStatus(err) != tt.code || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s %s %v: %v, want %d mentioning %q", tt.method, tt.path, tt.body, err, tt.code, tt.want)
			}
		}
	})

	t.Run("quorum expected", func(t *testing.T) {
		_, err := c.SetExpected(ctx, 7)
		if apiStatus(err) != http.StatusConflict || !strings.Contains(err.Error(), "would need quorum 4 but only 3 votes are present") {
			t.Fatalf("expected 7 with 3 votes: %v, want 409 with the quorum package's reason", err)
		}
		q, err := c.SetExpected(ctx, 4)
		if err != nil || q.ExpectedVotes != 4 || q.Quorum != 3 || !q.Quorate {
			t.Fatalf("expected 4: %+v, %v", q, err)
		}
		// Applied on every member, in ring order: the others apply it when
		// the message is delivered to them, which may be just after the
		// local commit returned.
		for _, d := range ds[1:] {
			deadline := time.Now().Add(5 * time.Second)
			for {
				q, err := d.client.Quorum(ctx)
				if err == nil && q.ExpectedVotes == 4 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s after expected 4: %+v, %v", d.client.Socket(), q, err)
				}
				time.Sleep(10 * time.Millisecond) // polling the API; there is no event to await
			}
		}
	})

	t.Run("metrics", func(t *testing.T) {
		resp, err := http.Get("http://" + metrics + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, w := range []string{
			"ovsha_quorum_quorate 1", "ovsha_quorum_expected_votes 4", "ovsha_quorum_total_votes 3",
			"ovsha_totem_members 3", `ovsha_link_up{link="0",peer="2"} 1`, `ovsha_totem_state{state="operational"} 1`,
			`ovsha_transport_drops_total{reason="unknown_sender"} 0`, "ovsha_totem_token_rotation_seconds ",
			"ovsha_totem_token_retransmits_total ", `ovsha_link_events_total{counter="rx_packets",link="0",peer="3"} `,
			"ovsha_engine_running 1",
		} {
			if !strings.Contains(string(body), w) {
				t.Errorf("metrics lack %q", w)
			}
		}
	})

	t.Run("reload", func(t *testing.T) {
		orig, _ := os.ReadFile(cfg)
		t.Cleanup(func() { os.WriteFile(cfg, orig, 0o644) })
		changed := strings.Replace(string(orig), "cluster_name: test\n", "cluster_name: test\n\ttoken: 500\n", 1) + "logging {\n\tdebug: on\n}\n"
		if err := os.WriteFile(cfg, []byte(changed), 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := c.Reload(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Applied) != 1 || r.Applied[0].Key != "logging.debug" || r.Applied[0].New != "on" {
			t.Errorf("applied %+v, want logging.debug", r.Applied)
		}
		if len(r.NeedsRestart) != 1 || r.NeedsRestart[0] != (ConfigChange{Key: "totem.token", New: "500"}) {
			t.Errorf("needs restart %+v, want totem.token", r.NeedsRestart)
		}
		if level.Level() != slog.LevelDebug {
			t.Errorf("log level %v after reload, want debug", level.Level())
		}
		if e, err := c.CmapGet(ctx, "totem.token"); err != nil || e.Value != "500" {
			t.Errorf("cmap totem.token after reload: %+v, %v", e, err)
		}
		// A broken file is rejected with its file:line and nothing changes.
		if err := os.WriteFile(cfg, []byte(changed+"quorum {\n\ttwo_node: maybe\n}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err = c.Reload(ctx)
		if apiStatus(err) != http.StatusBadRequest || !strings.Contains(err.Error(), cfg+":") || !strings.Contains(err.Error(), "nothing changed") {
			t.Fatalf("reload of a broken file: %v", err)
		}
		if e, _ := c.CmapGet(ctx, "logging.debug"); e.Value != "on" || level.Level() != slog.LevelDebug {
			t.Errorf("a rejected reload changed something: logging.debug %q, level %v", e.Value, level.Level())
		}
	})
}
