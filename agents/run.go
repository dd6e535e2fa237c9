package agents

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Output captured from an agent program is bounded: a chatty or runaway
// script cannot exhaust memory. Stdout carries meta-data XML (IPaddr2's is
// ~10 KiB), so it gets more room than stderr, of which only the end is kept
// for error messages.
const (
	maxStdout = 1 << 20
	maxStderr = 64 << 10
	// maxReason bounds the program output quoted in an error message.
	maxReason = 512
	// killGrace is how long Wait may take after the process group was
	// killed on timeout before giving up on it.
	killGrace = 2 * time.Second
)

// program is one invocation of an external agent program.
type program struct {
	path  string
	args  []string
	env   []string // full environment of the child
	stdin []byte   // nil: /dev/null
	// what names the invocation in errors and logs, e.g.
	// `start of ocf:heartbeat:Dummy (web)`.
	what string
}

// runResult is how an agent program ended.
type runResult struct {
	exit   int // exit status; -1 when killed by a signal
	stdout []byte
	stderr []byte // the last maxStderr bytes
	// truncated reports stdout longer than maxStdout.
	truncated bool
}

// run executes p and waits for it. The child gets its own process group;
// when ctx ends first the whole group is killed with SIGKILL and run returns
// an *Error with ErrGeneric saying the action timed out (or was canceled).
// Output goes to unlinked temporary files rather than pipes, so a daemon
// that a start action leaves behind holding stdout open cannot block run.
// A program that cannot be executed gives ErrInstalled (missing) or ErrPerm
// (not executable).
func run(ctx context.Context, log *slog.Logger, p program) (runResult, error) {
	timeout, hasDeadline := timeoutOf(ctx)
	if err := ctx.Err(); err != nil {
		return runResult{}, Errorf(ErrGeneric, "%s not run: %v", p.what, err)
	}
	stdout, err := unlinkedTemp()
	if err != nil {
		return runResult{}, fmt.Errorf("%s: %w", p.what, err)
	}
	defer stdout.Close()
	stderr, err := unlinkedTemp()
	if err != nil {
		return runResult{}, fmt.Errorf("%s: %w", p.what, err)
	}
	defer stderr.Close()

	cmd := exec.CommandContext(ctx, p.path, p.args...)
	cmd.Env = p.env
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	if p.stdin != nil {
		in, err := unlinkedTemp()
		if err != nil {
			return runResult{}, fmt.Errorf("%s: %w", p.what, err)
		}
		defer in.Close()
		if _, err := in.Write(p.stdin); err != nil {
			return runResult{}, fmt.Errorf("%s: writing stdin: %w", p.what, err)
		}
		if _, err := in.Seek(0, io.SeekStart); err != nil {
			return runResult{}, fmt.Errorf("%s: writing stdin: %w", p.what, err)
		}
		cmd.Stdin = in
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// Negative pid: the whole process group the child leads.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = killGrace

	start := time.Now()
	err = cmd.Start()
	if err != nil {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return runResult{}, Errorf(ErrInstalled, "%s: %s is not installed", p.what, p.path)
		case errors.Is(err, fs.ErrPermission):
			return runResult{}, Errorf(ErrPerm, "%s: %s is not executable", p.what, p.path)
		}
		return runResult{}, Errorf(ErrGeneric, "%s: starting %s: %v", p.what, p.path, err)
	}
	waitErr := cmd.Wait()
	elapsed := time.Since(start)

	res := runResult{exit: -1}
	res.stdout, res.truncated = readHead(stdout, maxStdout)
	res.stderr = readTail(stderr, maxStderr)
	if cmd.ProcessState != nil {
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Exited() {
			res.exit = ws.ExitStatus()
		}
	}
	log.Debug("agent program finished", "op", p.what, "path", p.path,
		"exit", res.exit, "elapsed", elapsed, "stderr", string(lastLines(res.stderr, maxReason)))

	if ctxErr := ctx.Err(); ctxErr != nil {
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			if !hasDeadline {
				timeout = elapsed
			}
			return res, Errorf(ErrGeneric, "%s timed out after %s (process group killed)%s",
				p.what, timeout.Round(time.Millisecond), reasonSuffix(res))
		}
		return res, Errorf(ErrGeneric, "%s canceled after %s (process group killed)%s",
			p.what, elapsed.Round(time.Millisecond), reasonSuffix(res))
	}
	var exitErr *exec.ExitError
	if waitErr != nil && !errors.As(waitErr, &exitErr) && !errors.Is(waitErr, exec.ErrWaitDelay) {
		return res, Errorf(ErrGeneric, "%s: waiting for %s: %v", p.what, p.path, waitErr)
	}
	if res.exit < 0 {
		return res, Errorf(ErrGeneric, "%s: %s was killed (%s)%s", p.what, p.path, cmd.ProcessState, reasonSuffix(res))
	}
	return res, nil
}

// timeoutOf returns the time left until ctx's deadline.
func timeoutOf(ctx context.Context) (time.Duration, bool) {
	d, ok := ctx.Deadline()
	if !ok {
		return 0, false
	}
	return time.Until(d), true
}

func unlinkedTemp() (*os.File, error) {
	f, err := os.CreateTemp("", "ovsha-agent-*")
	if err != nil {
		return nil, fmt.Errorf("creating output file: %w", err)
	}
	// Unlinked at once: nothing is left behind whatever happens next.
	_ = os.Remove(f.Name())
	return f, nil
}

// readHead returns the first max bytes of f and whether there were more.
func readHead(f *os.File, max int64) ([]byte, bool) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, false
	}
	b, _ := io.ReadAll(io.LimitReader(f, max+1))
	if int64(len(b)) > max {
		return b[:max], true
	}
	return b, false
}

// readTail returns the last max bytes of f.
func readTail(f *os.File, max int64) []byte {
	st, err := f.Stat()
	if err != nil {
		return nil
	}
	off := st.Size() - max
	if off < 0 {
		off = 0
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(f, max))
	return b
}

// exitReason is what an agent said about its failure, on one line: the
// last `ocf-exit-reason:` line of stderr (ocf_exit_reason in
// ocf-shellfuncs) followed by the other last lines of stderr (resource
// agents log the detail there: "ERROR: IP address [x] not valid."), or the
// last lines of stdout when stderr is empty.
func exitReason(res runResult) string {
	const cookie = "ocf-exit-reason:"
	var reason string
	var rest []byte
	for _, line := range strings.Split(string(res.stderr), "\n") {
		if i := strings.Index(line, cookie); i >= 0 {
			reason = strings.TrimSpace(line[i+len(cookie):])
			continue
		}
		rest = append(rest, line...)
		rest = append(rest, '\n')
	}
	detail := string(lastLines(rest, maxReason))
	switch {
	case reason != "" && detail != "":
		return truncate(reason, maxReason) + " (" + detail + ")"
	case reason != "":
		return truncate(reason, maxReason)
	case detail != "":
		return detail
	}
	return string(lastLines(res.stdout, maxReason))
}

func reasonSuffix(res runResult) string {
	if r := exitReason(res); r != "" {
		return ": " + r
	}
	return ""
}

// lastLines returns the end of b, at most max bytes, with its lines joined
// by " | " so that an error message stays on one line.
func lastLines(b []byte, max int) []byte {
	b = bytes.TrimSpace(b)
	if len(b) > max {
		b = b[len(b)-max:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 && i < len(b)-1 {
			b = b[i+1:]
		}
	}
	var out []byte
	for _, line := range bytes.Split(b, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if len(out) > 0 {
			out = append(out, " | "...)
		}
		out = append(out, line...)
	}
	return out
}

func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}

// baseEnv is the parent's environment without variables that the runners
// set themselves, so a stray OCF_RESKEY_x in ovshad's environment cannot
// leak into an agent.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "OCF_") || strings.HasPrefix(kv, "HA_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}
