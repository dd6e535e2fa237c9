package appliance

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type fakeSource struct{}

func (fakeSource) Status(ctx context.Context) (StatusResponse, error) {
	q, _ := fakeSource{}.Quorum(ctx)
	return StatusResponse{ClusterName: "c1", Node: Member{NodeID: 1, Name: "n1"}, Quorum: q}, nil
}
func (fakeSource) Ring(context.Context) (RingResponse, error) {
	return RingResponse{State: "operational", RingID: RingID{Rep: 1, Seq: 7}, Members: []Member{{1, "n1"}, {2, "n2"}}}, nil
}
func (fakeSource) Quorum(context.Context) (QuorumResponse, error) {
	return QuorumResponse{Quorate: true, ExpectedVotes: 3, TotalVotes: 2, Quorum: 2, Flags: []string{"Quorate"},
		Members: []QuorumMember{{NodeID: 1, Name: "n1", Votes: 1}, {NodeID: 2, Name: "n2", Votes: 1}}}, nil
}

type failingSource struct{ fakeSource }

func (failingSource) Ring(context.Context) (RingResponse, error) {
	return RingResponse{}, errors.New("membership runtime stopped")
}

func serve(t *testing.T, src Source) (string, *Client) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "ovshad.sock")
	ln, err := ListenControl(context.Background(), sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveControl(ctx, ln, NewHandler(src, discardLogger()), discardLogger()) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return sock, NewClient(sock)
}

func TestClientDecodesEveryEndpoint(t *testing.T) {
	_, c := serve(t, fakeSource{})
	ctx := context.Background()
	st, err := c.Status(ctx)
	if err != nil || st.ClusterName != "c1" || !st.Quorum.Quorate {
		t.Fatalf("status: %+v, %v", st, err)
	}
	r, err := c.Ring(ctx)
	if err != nil || r.RingID.String() != "1.7" || len(r.Members) != 2 {
		t.Fatalf("ring: %+v, %v", r, err)
	}
	q, err := c.Quorum(ctx)
	if err != nil || q.ExpectedVotes != 3 || q.Members[1].Name != "n2" {
		t.Fatalf("quorum: %+v, %v", q, err)
	}
}

// TestQuorumJSONKeys pins the keys scripts rely on (`ovsha quorum status --json`).
func TestQuorumJSONKeys(t *testing.T) {
	b, err := json.Marshal(must(fakeSource{}.Quorum(context.Background())))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"quorate", "members", "expected_votes", "total_votes", "quorum", "flags"} {
		if _, ok := m[k]; !ok {
			t.Errorf("quorum JSON lacks %q: %s", k, b)
		}
	}
	mem := m["members"].([]any)[0].(map[string]any)
	for _, k := range []string{"nodeid", "name", "votes"} {
		if _, ok := mem[k]; !ok {
			t.Errorf("quorum member JSON lacks %q: %s", k, b)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestErrorsAreJSON(t *testing.T) {
	sock, _ := serve(t, failingSource{})
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	tests := []struct {
		method, path string
		code         int
		contains     string
	}{
		{"GET", "/v1/nope", http.StatusNotFound, "no such endpoint /v1/nope"},
		{"GET", "/", http.StatusNotFound, "no such endpoint"},
		{"POST", PathQuorum, http.StatusMethodNotAllowed, "use GET"},
		{"GET", PathRing, http.StatusServiceUnavailable, "membership runtime stopped"},
	}
	for _, tt := range tests {
		t.Run(tt.method+tt.path, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, "http://ovshad"+tt.path, nil)
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e ErrorResponse
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
				t.Fatalf("body is not JSON: %v", err)
			}
			if resp.StatusCode != tt.code || !strings.Contains(e.Error, tt.contains) {
				t.Fatalf("got %d %q, want %d containing %q", resp.StatusCode, e.Error, tt.code, tt.contains)
			}
		})
	}
}

func TestClientUnreachable(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "absent.sock")
	_, err := NewClient(sock).Quorum(context.Background())
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), sock) {
		t.Fatalf("got %v, want ErrUnreachable naming %s", err, sock)
	}
}

func TestListenControl(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "sub", "ovshad.sock")

	// A stale socket (no listener) is replaced.
	if err := os.MkdirAll(filepath.Dir(sock), 0o755); err != nil {
		t.Fatal(err)
	}
	stale, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close()
	ln, err := ListenControl(context.Background(), sock)
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	defer ln.Close()
	fi, err := os.Stat(sock)
	if err != nil || fi.Mode().Perm() != 0o660 {
		t.Fatalf("socket mode %v (%v), want 0660", fi.Mode().Perm(), err)
	}
	// A live socket is refused.
	if _, err := ListenControl(context.Background(), sock); err == nil || !strings.Contains(err.Error(), "another ovshad") {
		t.Fatalf("live socket: %v, want 'another ovshad is running'", err)
	}
	// A regular file is not removed.
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o600)
	if _, err := ListenControl(context.Background(), file); err == nil {
		t.Fatal("a regular file was taken over")
	}
	if _, err := os.Stat(file); err != nil {
		t.Fatalf("regular file removed: %v", err)
	}
}
