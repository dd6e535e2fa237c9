package store

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ovsha/ovsha/cluster/cib"
)

const small = `<cib admin_epoch="0" epoch="5" num_updates="2"><configuration><nodes><node id="1" uname="node1"/></nodes>
<resources><primitive id="vip" class="ocf" provider="heartbeat" type="IPaddr2"/></resources><constraints/></configuration><status/></cib>`

func mustParse(t *testing.T, s string) *cib.CIB {
	t.Helper()
	c, err := cib.Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSaveLoad(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "cib.xml")
	var logbuf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logbuf, nil))

	v1 := mustParse(t, small)
	if err := Save(ctx, path, v1); err != nil {
		t.Fatal(err)
	}
	v2 := v1.Clone()
	v2.BumpConfig()
	if err := Save(ctx, path, v2); err != nil {
		t.Fatal(err)
	}
	res, err := Load(ctx, path, log)
	if err != nil || res.FromBackup || res.CIB.Version() != v2.Version() {
		t.Fatalf("load: %v %+v", err, res)
	}

	// Corrupt the current file: one flipped byte in the body.
	data, _ := os.ReadFile(path)
	data[len(data)-10] ^= 0x20
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	res, err = Load(ctx, path, log)
	if err != nil {
		t.Fatal(err)
	}
	if !res.FromBackup || !errors.Is(res.Problem, ErrCorrupt) || res.CIB.Version() != v1.Version() {
		t.Fatalf("corrupt file: got backup=%v problem=%v version=%s; want the last good copy (%s)",
			res.FromBackup, res.Problem, res.CIB.Version(), v1.Version())
	}
	if !strings.Contains(logbuf.String(), "level=ERROR") {
		t.Errorf("corruption was not logged loudly: %q", logbuf.String())
	}

	// Both copies bad: an error naming the problem.
	os.WriteFile(path+".last", []byte("garbage"), 0o600)
	if _, err := Load(ctx, path, log); !errors.Is(err, ErrCorrupt) {
		t.Errorf("both corrupt: %v, want ErrCorrupt", err)
	}
}
