package enginetest

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
)

// Environment variables understood by the test binary.
const (
	// envNode, when set, makes the test binary run as one node process
	// (see node_main_test.go); its value is the JSON nodeConfig.
	envNode = "OVSHA_ENGINETEST_NODE"
	// envIsolated marks a test binary already re-executed inside a private
	// net+mount namespace (see isolate).
	envIsolated = "OVSHA_ENGINETEST_ISOLATED"
	// envNoIsolate disables the private outer namespace (debugging: the
	// node namespaces are then visible with `ip netns` on the host).
	envNoIsolate = "OVSHA_ENGINETEST_NOISOLATE"
	// envSoak enables the long runs (10-minute idle, loss run) in the
	// benchmark table.
	envSoak = "OVSHA_SOAK"
)

var (
	benchTable = flag.Bool("bench-table", false, "run the engine benchmark suite in TestBenchTable and print the table")
	keepLogs   = flag.Bool("keep-logs", false, "print node log paths even when a test passes and keep them under $TMPDIR")
)

func TestMain(m *testing.M) {
	if cfg := os.Getenv(envNode); cfg != "" {
		os.Exit(nodeMain(cfg))
	}
	flag.Parse()
	if err := isolate(); err != nil {
		fmt.Fprintf(os.Stderr, "enginetest: running without a private outer namespace: %v\n", err)
	}
	os.Exit(m.Run())
}

// isolate re-executes the test binary (as root) inside a private net and
// mount namespace with a tmpfs on /run/netns, so the node namespaces never
// collide with anything on the host and vanish with the process. It returns
// only when it did not re-execute.
func isolate() error {
	if os.Geteuid() != 0 || os.Getenv(envIsolated) != "" || os.Getenv(envNoIsolate) != "" {
		return nil
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		return fmt.Errorf("finding unshare: %w", err)
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding the test binary: %w", err)
	}
	if err := os.MkdirAll("/run/netns", 0o755); err != nil {
		return fmt.Errorf("creating /run/netns: %w", err)
	}
	// sh mounts the tmpfs inside the new mount namespace, brings lo up and
	// execs the test binary with the original arguments.
	const setup = `mount -t tmpfs oetnetns /run/netns && ip link set lo up`
	prefix := []string{unshare, "--mount", "--net", "--propagation", "private", "sh", "-c"}
	// Try it first: where namespaces are not permitted (an unprivileged
	// container) the tests run in the current namespace instead of failing.
	if out, err := exec.Command(prefix[0], append(prefix[1:], setup)...).CombinedOutput(); err != nil {
		return fmt.Errorf("unshare --mount --net: %w: %s", err, out)
	}
	argv := append(append(prefix, setup+` && exec "$0" "$@"`, self), os.Args[1:]...)
	env := append(os.Environ(), envIsolated+"=1")
	return syscall.Exec(unshare, argv, env)
}
