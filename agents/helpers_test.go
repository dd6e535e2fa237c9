package agents_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Debian's resource-agents package provides the real OCF scripts the
// runner is tested against (ocf:heartbeat:Dummy, ocf:heartbeat:IPaddr2).
const (
	debOCFRoot    = "/usr/lib/ocf"
	debDummy      = debOCFRoot + "/resource.d/heartbeat/Dummy"
	debIPaddr2    = debOCFRoot + "/resource.d/heartbeat/IPaddr2"
	resourceAgent = "resource-agents"
)

var installOnce sync.Once

// needResourceAgents installs Debian's resource-agents when it is missing
// and the test runs as root, and skips the test otherwise.
func needResourceAgents(t *testing.T) {
	t.Helper()
	installOnce.Do(func() {
		if _, err := os.Stat(debDummy); err == nil || os.Geteuid() != 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "apt-get", "-o", "DPkg::Lock::Timeout=600", "install", "-y", "-qq", resourceAgent)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Logf("apt-get install %s: %v\n%s", resourceAgent, err, out)
		}
	})
	if _, err := os.Stat(debDummy); err != nil {
		if os.Geteuid() != 0 {
			t.Skipf("needs Debian's %s package (%s missing) or root to install it", resourceAgent, debDummy)
		}
		t.Skipf("Debian's %s package is not installed and apt-get install failed (see log)", resourceAgent)
	}
}

// writeScript writes an executable script at dir/rel.
func writeScript(t *testing.T, dir, rel, body string) string {
	t.Helper()
	path := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
