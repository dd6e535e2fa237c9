package image

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ovsha/ovsha/appliance"
)

// fakeCRM is ovshad's control API as the hand-over sees it: /v1/quorum
// and /v1/crm/status over a unix socket. Once node n1 is in standby, its
// resources move to n2 after moveAfter status polls (never when < 0):
// first, for gap polls, they are on no node with a transition in progress
// (stopped here, not yet started there), then on n2.
type fakeCRM struct {
	sock string

	mu        sync.Mutex
	noCRM     bool // /v1/crm/status answers 404
	standby   map[string]bool
	sets      []string // "n1=true", ...
	setErr    error
	resources []appliance.CRMResource
	moveAfter int
	gap       int
	polls     int
	moving    bool
}

func newFakeCRM(t *testing.T, resources ...appliance.CRMResource) *fakeCRM {
	t.Helper()
	f := &fakeCRM{standby: map[string]bool{}, resources: resources}
	f.sock = filepath.Join(t.TempDir(), "ovshad.sock")
	ln, err := net.Listen("unix", f.sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return f
}

func (f *fakeCRM) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case appliance.PathQuorum:
		json.NewEncoder(w).Encode(appliance.QuorumResponse{Node: appliance.Member{Name: "n1", NodeID: 1}, Quorate: true})
	case appliance.PathCRMStatus:
		if f.noCRM {
			w.WriteHeader(http.StatusNotFound)
			json.NewEncoder(w).Encode(appliance.ErrorResponse{Error: "no resource manager"})
			return
		}
		if f.standby["n1"] {
			f.polls++
			switch {
			case f.moveAfter < 0 || f.polls <= f.moveAfter:
			case f.polls <= f.moveAfter+f.gap:
				f.moving = true
				for i := range f.resources {
					f.resources[i].Nodes = slices.DeleteFunc(f.resources[i].Nodes, func(n string) bool { return n == "n1" })
				}
			default:
				f.moving = false
				for i := range f.resources {
					if len(f.resources[i].Nodes) == 0 || slices.Contains(f.resources[i].Nodes, "n1") {
						f.resources[i].Nodes = []string{"n2"}
					}
				}
			}
		}
		json.NewEncoder(w).Encode(appliance.CRMStatusResponse{
			Nodes:                []appliance.CRMNode{{Name: "n1", Standby: f.standby["n1"]}, {Name: "n2"}},
			Resources:            f.resources,
			TransitionInProgress: f.moving,
		})
	default:
		w.WriteHeader(http.StatusNotFound)
		json.NewEncoder(w).Encode(appliance.ErrorResponse{Error: "no such endpoint"})
	}
}

// handOver wires a HandOver to the fake through the real client.
func (f *fakeCRM) handOver(sock, mark string, out *bytes.Buffer) HandOver {
	c := appliance.NewClient(sock)
	return HandOver{
		Node: func(ctx context.Context) (string, error) {
			q, err := c.Quorum(ctx)
			return q.Node.Name, noRM(err)
		},
		ActiveOn: func(ctx context.Context, node string) ([]string, bool, error) {
			return activeOn(ctx, c, node)
		},
		SetStandby: func(_ context.Context, node string, on bool) error {
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.setErr != nil {
				return f.setErr
			}
			f.standby[node] = on
			f.sets = append(f.sets, node+"="+map[bool]string{true: "on", false: "off"}[on])
			return nil
		},
		MarkFile: mark,
		Timeout:  2 * time.Second,
		Interval: 5 * time.Millisecond,
		Out:      out,
	}
}

func vip(nodes ...string) appliance.CRMResource {
	return appliance.CRMResource{ID: "vip", Agent: "ocf:heartbeat:IPaddr2", Role: "Started", Nodes: nodes}
}

func TestHandOverStandby(t *testing.T) {
	tests := []struct {
		name      string
		resources []appliance.CRMResource
		noCRM     bool
		down      bool // no daemon on the socket
		moveAfter int
		gap       int
		setErr    bool
		wantErr   string
		wantOut   string
		wantSets  string
		wantMark  bool
	}{
		{name: "resources move", resources: []appliance.CRMResource{vip("n1")}, moveAfter: 3,
			wantOut: "OVSHA-STANDBY node=n1 resources moved", wantSets: "n1=on", wantMark: true},
		{name: "waits until they run elsewhere", resources: []appliance.CRMResource{vip("n1")}, moveAfter: 2, gap: 4,
			wantOut: "OVSHA-STANDBY node=n1 resources moved", wantSets: "n1=on", wantMark: true},
		{name: "none here", resources: []appliance.CRMResource{vip("n2")},
			wantOut: "OVSHA-STANDBY node=n1 resources moved", wantSets: "n1=on", wantMark: true},
		{name: "none configured",
			wantOut: "OVSHA-STANDBY node=n1 resources moved", wantSets: "n1=on", wantMark: true},
		{name: "timeout proceeds", resources: []appliance.CRMResource{vip("n1")}, moveAfter: -1,
			wantOut: "timeout after 2s, still active here: vip: rebooting anyway", wantSets: "n1=on", wantMark: true},
		{name: "no resource manager", noCRM: true,
			wantOut: "OVSHA-STANDBY skipped: ovshad runs no resource manager"},
		{name: "ovshad down", down: true,
			wantOut: "OVSHA-STANDBY skipped: ovshad is not reachable"},
		{name: "standby refused", resources: []appliance.CRMResource{vip("n1")}, setErr: true,
			wantErr: "putting node n1 in standby: refused"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCRM(t, tc.resources...)
			f.noCRM, f.moveAfter, f.gap = tc.noCRM, tc.moveAfter, tc.gap
			if tc.setErr {
				f.setErr = errString("refused")
			}
			sock := f.sock
			if tc.down {
				sock = filepath.Join(t.TempDir(), "none.sock")
			}
			mark := filepath.Join(t.TempDir(), "standby-for-reboot")
			var out bytes.Buffer
			err := f.handOver(sock, mark, &out).Standby(context.Background())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), tc.wantOut) {
				t.Errorf("output %q, want %q", out.String(), tc.wantOut)
			}
			if got := strings.Join(f.sets, ","); got != tc.wantSets {
				t.Errorf("standby writes %q, want %q", got, tc.wantSets)
			}
			b, err := os.ReadFile(mark)
			if tc.wantMark != (err == nil) {
				t.Fatalf("mark file present = %v, want %v", err == nil, tc.wantMark)
			}
			if tc.wantMark && string(b) != "n1\n" {
				t.Errorf("mark file %q, want the node name", b)
			}
			// "resources moved" means they run elsewhere, not merely
			// that they left this node.
			if strings.Contains(out.String(), "resources moved") {
				f.mu.Lock()
				defer f.mu.Unlock()
				for _, r := range f.resources {
					if f.moving || !slices.Equal(r.Nodes, []string{"n2"}) {
						t.Errorf("hand-over done while %s is on %v (transition in progress: %v), want it running on n2", r.ID, r.Nodes, f.moving)
					}
				}
			}
		})
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func TestHandOverUnstandby(t *testing.T) {
	t.Run("after a standby reboot", func(t *testing.T) {
		f := newFakeCRM(t, vip("n1"))
		mark := filepath.Join(t.TempDir(), "standby-for-reboot")
		var out bytes.Buffer
		h := f.handOver(f.sock, mark, &out)
		if err := h.Standby(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := h.Unstandby(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(f.sets, ","); got != "n1=on,n1=off" {
			t.Errorf("standby writes %q, want n1=on,n1=off", got)
		}
		if _, err := os.Stat(mark); !os.IsNotExist(err) {
			t.Errorf("mark file left behind: %v", err)
		}
		if !strings.Contains(out.String(), "OVSHA-STANDBY node=n1 cleared") {
			t.Errorf("output %q lacks the cleared marker", out.String())
		}
	})
	t.Run("retried until the cluster commits", func(t *testing.T) {
		f := newFakeCRM(t)
		mark := filepath.Join(t.TempDir(), "standby-for-reboot")
		if err := os.WriteFile(mark, []byte("n1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		h := f.handOver(f.sock, mark, &out)
		set, fails := h.SetStandby, 3
		h.SetStandby = func(ctx context.Context, node string, on bool) error {
			if fails > 0 {
				fails--
				return errString("peer left during the commit")
			}
			return set(ctx, node, on)
		}
		if err := h.Unstandby(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(f.sets, ","); got != "n1=off" || fails != 0 {
			t.Errorf("standby writes %q after %d failures left, want n1=off after 3 failures", got, fails)
		}
		if _, err := os.Stat(mark); !os.IsNotExist(err) {
			t.Errorf("mark file left behind: %v", err)
		}
	})
	t.Run("no mark: the operator's standby stays", func(t *testing.T) {
		f := newFakeCRM(t)
		var out bytes.Buffer
		if err := f.handOver(f.sock, filepath.Join(t.TempDir(), "none"), &out).Unstandby(context.Background()); err != nil {
			t.Fatal(err)
		}
		if len(f.sets) != 0 {
			t.Errorf("standby written without a mark: %v", f.sets)
		}
	})
	t.Run("failure keeps the mark for the next boot", func(t *testing.T) {
		f := newFakeCRM(t)
		mark := filepath.Join(t.TempDir(), "standby-for-reboot")
		if err := os.WriteFile(mark, []byte("n1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		f.setErr = errString("cib busy")
		var out bytes.Buffer
		h := f.handOver(f.sock, mark, &out)
		h.Timeout = 50 * time.Millisecond
		err := h.Unstandby(context.Background())
		if err == nil || !strings.Contains(err.Error(), "taking node n1 out of standby: cib busy") {
			t.Fatalf("err = %v", err)
		}
		if _, err := os.Stat(mark); err != nil {
			t.Errorf("mark file gone after a failure: %v", err)
		}
	})
}

func TestCheckRunsAfterBootOK(t *testing.T) {
	for _, quorate := range []bool{true, false} {
		s := fakeSystem(t, "a") // no boot counter: a normal boot only reports
		s.Run = fakeRun("active")
		ran := false
		var out bytes.Buffer
		err := s.Check(context.Background(), CheckOptions{
			Timeout: 200 * time.Millisecond, Interval: 5 * time.Millisecond, Out: &out,
			Quorum: func(context.Context) (QuorumView, error) {
				return QuorumView{Node: "n1", Quorate: quorate, Members: 2}, nil
			},
			AfterBootOK: func(context.Context) error { ran = true; return errString("ignored") },
		})
		if err != nil {
			t.Fatalf("quorate=%v: %v", quorate, err)
		}
		if ran != quorate {
			t.Errorf("quorate=%v: AfterBootOK ran = %v", quorate, ran)
		}
	}
}

// noRM and activeOn map the real client onto HandOver the way
// cmd/ovsha's system verbs do.
func noRM(err error) error {
	if errors.Is(err, appliance.ErrUnreachable) || errors.Is(err, appliance.ErrNotFound) {
		return fmt.Errorf("%w: %w", ErrNoResourceManager, err)
	}
	return err
}

func activeOn(ctx context.Context, c *appliance.Client, node string) ([]string, bool, error) {
	st, err := c.CRMStatus(ctx)
	if err != nil {
		return nil, false, noRM(err)
	}
	var out []string
	for _, r := range st.Resources {
		if slices.Contains(r.Nodes, node) {
			out = append(out, r.ID)
		}
	}
	return out, st.TransitionInProgress, nil
}
