package agents_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ovsha/ovsha/agents"
	"github.com/ovsha/ovsha/agents/agenttest"
)

// lsbDaemon is a small LSB-compliant init script: start runs a sleeping
// "daemon" and records its pid; status follows LSB codes.
const lsbDaemon = `#!/bin/sh
### BEGIN INIT INFO
# Provides:          ovsha-test
# Short-Description: ovsha test daemon
# Description:       A sleeping process that stands in
#                    for a daemon in the LSB runner tests.
### END INIT INFO
PIDFILE="$(dirname "$0")/../run/testd.pid"
running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }
case "$1" in
start)
	running && exit 0
	mkdir -p "$(dirname "$PIDFILE")"
	sleep 600 >/dev/null 2>&1 &
	echo $! > "$PIDFILE"
	;;
stop)
	if running; then kill "$(cat "$PIDFILE")"; fi
	rm -f "$PIDFILE"
	;;
status)
	running && exit 0
	[ -f "$PIDFILE" ] && exit 1
	exit 3
	;;
*)
	echo "usage: $0 {start|stop|status}" >&2
	exit 3
	;;
esac
`

func TestLSBConformance(t *testing.T) {
	dir := t.TempDir()
	initDir := filepath.Join(dir, "init.d")
	writeScript(t, initDir, "testd", lsbDaemon)
	pidfile := filepath.Join(dir, "run", "testd.pid")
	reg := agents.NewRegistry(agents.RegistryOptions{InitDir: initDir})
	a, err := reg.Lookup("lsb:testd")
	if err != nil {
		t.Fatal(err)
	}
	agenttest.Run(t, a, nil,
		[]agenttest.BadCase{{Name: "any parameter", Params: agents.Params{"port": "80"}, Param: "port"}},
		agenttest.WithObserve(func(t testing.TB) string {
			b, err := os.ReadFile(pidfile)
			if err != nil {
				return "no pid file"
			}
			pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
			return "pid file, process alive: " + strconv.FormatBool(syscall.Kill(pid, 0) == nil)
		}),
	)
}

func TestLSBMetadataFromHeader(t *testing.T) {
	dir := t.TempDir()
	writeScript(t, dir, "testd", lsbDaemon)
	a, err := agents.NewLSBAgent(dir, "testd", nil)
	if err != nil {
		t.Fatal(err)
	}
	m := a.Metadata()
	if m.Name != "testd" || m.ShortDesc != "ovsha test daemon" ||
		m.LongDesc != "A sleeping process that stands in for a daemon in the LSB runner tests." {
		t.Errorf("metadata = %q / %q / %q", m.Name, m.ShortDesc, m.LongDesc)
	}
}

// TestLSBStatusCodes: monitor maps LSB status codes as Pacemaker does.
func TestLSBStatusCodes(t *testing.T) {
	dir := t.TempDir()
	writeScript(t, dir, "fixed", "#!/bin/sh\n[ \"$1\" = status ] && exit \"$(cat \"$(dirname \"$0\")/code\")\"\nexit 0\n")
	a, err := agents.NewLSBAgent(dir, "fixed", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		status int
		want   agents.Result
	}{
		{0, agents.Success},
		{1, agents.NotRunning}, // dead, pid file left
		{2, agents.NotRunning}, // dead, lock file left
		{3, agents.NotRunning},
		{4, agents.ErrGeneric}, // unknown
		{5, agents.ErrGeneric},
		{150, agents.ErrInstalled},
		{151, agents.ErrPerm},
	} {
		t.Run(strconv.Itoa(tc.status), func(t *testing.T) {
			if err := os.WriteFile(filepath.Join(dir, "code"), []byte(strconv.Itoa(tc.status)), 0o644); err != nil {
				t.Fatal(err)
			}
			err := a.Monitor(ctxT(t, 5*time.Second), agents.Resource{ID: "r"})
			if got := agents.Code(err); got != tc.want {
				t.Errorf("status %d: Monitor = %v (%s), want %s", tc.status, err, got, tc.want)
			}
		})
	}
}

// TestLSBNonCompliantStartStop: a script whose start fails when already
// running, and whose stop fails when already stopped, is still idempotent
// through the runner, which consults status.
func TestLSBNonCompliantStartStop(t *testing.T) {
	dir := t.TempDir()
	writeScript(t, dir, "grumpy", `#!/bin/sh
F="$(dirname "$0")/on"
case "$1" in
start) [ -f "$F" ] && { echo "already running" >&2; exit 1; }; touch "$F";;
stop)  [ -f "$F" ] || { echo "not running" >&2; exit 1; }; rm "$F";;
status) [ -f "$F" ] && exit 0; exit 3;;
esac
`)
	a, err := agents.NewLSBAgent(dir, "grumpy", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t, 10*time.Second)
	r := agents.Resource{ID: "g"}
	for i, step := range []struct {
		name string
		do   func() error
	}{
		{"stop stopped", func() error { return a.Stop(ctx, r) }},
		{"start", func() error { return a.Start(ctx, r) }},
		{"start started", func() error { return a.Start(ctx, r) }},
		{"stop", func() error { return a.Stop(ctx, r) }},
		{"stop again", func() error { return a.Stop(ctx, r) }},
	} {
		if err := step.do(); err != nil {
			t.Fatalf("step %d %s: %v", i, step.name, err)
		}
	}
}

func TestLSBStartFailureCarriesOutput(t *testing.T) {
	dir := t.TempDir()
	writeScript(t, dir, "broken", "#!/bin/sh\n[ \"$1\" = status ] && exit 3\necho \"cannot bind port 80\" >&2\nexit 1\n")
	a, err := agents.NewLSBAgent(dir, "broken", nil)
	if err != nil {
		t.Fatal(err)
	}
	err = a.Start(ctxT(t, 5*time.Second), agents.Resource{ID: "b"})
	if agents.Code(err) != agents.ErrGeneric || !strings.Contains(err.Error(), "cannot bind port 80") {
		t.Errorf("Start = %v, want ErrGeneric quoting the script's stderr", err)
	}
}
