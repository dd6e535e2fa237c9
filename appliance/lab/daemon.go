package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// startDaemon starts ovshad for node n inside its namespace as a detached
// process (own session, no controlling terminal, output to n.Log) that
// outlives the CLI.
func startDaemon(n *NodeState, binary, config string) error {
	logf, err := os.OpenFile(n.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("opening %s: %w", n.Log, err)
	}
	defer logf.Close()
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return fmt.Errorf("opening %s: %w", os.DevNull, err)
	}
	defer devnull.Close()
	cmd := exec.Command(binary, "-c", config, "--state-dir", n.Dir, "--socket", n.Socket, "-f")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devnull, logf, logf
	cmd.Dir = n.Dir
	cmd.Env = append(os.Environ(), n.Env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := startIn(n.Namespace, cmd); err != nil {
		return fmt.Errorf("starting ovshad for %s: %w", n.Name, err)
	}
	n.PID = cmd.Process.Pid
	n.Binary = binary
	// The child is not waited for: it belongs to init once the CLI exits.
	return cmd.Process.Release()
}

// ours reports whether pid is still the ovshad this lab started: it runs
// the recorded binary with the recorded socket. A recycled pid fails this.
func ours(n NodeState) bool {
	if n.PID <= 0 {
		return false
	}
	exe, err := os.Readlink("/proc/" + strconv.Itoa(n.PID) + "/exe")
	if err != nil {
		return false
	}
	exe = strings.TrimSuffix(exe, " (deleted)")
	if exe != n.Binary {
		return false
	}
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(n.PID) + "/cmdline")
	if err != nil {
		return false
	}
	return strings.Contains(string(cmdline), "\x00"+n.Socket+"\x00") || strings.HasSuffix(string(cmdline), "\x00"+n.Socket)
}

// alive reports whether pid exists and is not a zombie whose threads have
// all exited.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// Format: pid (comm) state ...; comm may contain spaces and parens.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return false
	}
	if s[i+2] != 'Z' {
		return true
	}
	// A zombie leader of a multi-threaded process (ovshad, OVS) may still
	// have threads exiting, and with them its sockets: a restart would
	// find its UDP ports taken. It is gone once only the leader is left.
	tasks, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	return err == nil && len(tasks) > 1
}

// Running reports whether node n's ovshad is alive.
func Running(n NodeState) bool { return ours(n) && alive(n.PID) }

// stopDaemon sends SIGTERM (ovshad leaves the ring gracefully), waits up to
// grace, then SIGKILLs.
func stopDaemon(ctx context.Context, n NodeState, grace time.Duration) error {
	if !ours(n) || !alive(n.PID) {
		return nil
	}
	if err := syscall.Kill(n.PID, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stopping ovshad of %s (pid %d): %w", n.Name, n.PID, err)
	}
	// A stopped (SIGSTOP) daemon cannot act on SIGTERM until continued.
	_ = syscall.Kill(n.PID, syscall.SIGCONT)
	deadline := time.Now().Add(grace)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for alive(n.PID) {
		if time.Now().After(deadline) {
			if err := syscall.Kill(n.PID, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
				return fmt.Errorf("killing ovshad of %s (pid %d): %w", n.Name, n.PID, err)
			}
			deadline = time.Now().Add(grace)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}
