package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ovsha/ovsha/appliance"
	"github.com/ovsha/ovsha/cluster/cib"
)

// fakeDaemon is an in-memory stand-in for ovshad's resource-manager API:
// GET/PUT /v1/cib with version checks and validation, the agents
// endpoints, CRM status and history, cleanup, fence and debug. The real
// daemon is tested by the CRM's own integration tests.
type fakeDaemon struct {
	t    *testing.T
	sock string

	mu  sync.Mutex
	cib *cib.CIB
	// conflicts: the next N PUTs find the CIB changed by "another writer"
	// (the epoch moves) and answer 409.
	conflicts int
	// invalid: the next PUT answers 400 with this message.
	invalid string
	// block: PUTs hang until the client gives up.
	block   bool
	release chan struct{}
	// puts counts PUT requests; reasons records the committed ones.
	puts    int
	reasons []string
	bases   []*appliance.CIBVersion
	// crm is the CRM status; nil answers 404 (no resource manager).
	crm *appliance.CRMStatusResponse
	// onCommit runs after each committed PUT (e.g. to move roles).
	onCommit func(f *fakeDaemon)
	cleanups []appliance.CleanupRequest
	fences   []appliance.FenceRequest
	debugs   []appliance.DebugRequest
	history  appliance.HistoryResponse
}

var fakeAgents = map[string]appliance.AgentResponse{
	"ocf:heartbeat:IPaddr2": {Name: "vip", Desc: "virtual IP address", Actions: []string{"start", "stop", "monitor"},
		Params: []appliance.AgentParam{{Name: "ip", Type: "string", Required: true}, {Name: "cidr_netmask", Type: "string"}, {Name: "nic", Type: "string"}}},
	"ocf:ovsha:ovs-bridge": {Name: "ovs-bridge", Params: []appliance.AgentParam{{Name: "bridge", Type: "string", Required: true}}},
	"systemd:nginx":        {Name: "systemd:nginx"},
	"stonith:fence_xvm":    {Name: "fence_xvm", Params: []appliance.AgentParam{{Name: "port", Type: "string"}, {Name: "pcmk_host_list", Type: "string"}}},
}

func newFakeDaemon(t *testing.T) *fakeDaemon {
	t.Helper()
	f := &fakeDaemon{t: t, cib: baseCIB(t), release: make(chan struct{})}
	f.sock = filepath.Join(t.TempDir(), "ovshad.sock")
	ln, err := net.Listen("unix", f.sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(f.release) }) // runs before srv.Close
	return f
}

func (f *fakeDaemon) version() appliance.CIBVersion {
	v := f.cib.Version()
	return appliance.CIBVersion{AdminEpoch: int64(v.AdminEpoch), Epoch: int64(v.Epoch), NumUpdates: int64(v.NumUpdates)}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, appliance.ErrorResponse{Error: msg})
}

func (f *fakeDaemon) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPut && r.URL.Path == appliance.PathCIB {
		f.put(w, r)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	path := r.URL.Path
	switch {
	case path == appliance.PathStatus:
		st, _ := verbsFakeSource{}.Status(r.Context())
		writeJSON(w, 200, st)
	case path == appliance.PathCIB && r.Method == http.MethodGet:
		if r.URL.Query().Get("format") != "xml" {
			fail(w, 400, "the fake serves format=xml only")
			return
		}
		data, err := f.cib.MarshalXMLBytes()
		if err != nil {
			fail(w, 500, err.Error())
			return
		}
		writeJSON(w, 200, appliance.CIBResponse{Version: f.version(), XML: string(data)})
	case path == appliance.PathCRMStatus:
		if f.crm == nil {
			fail(w, 404, "no resource manager")
			return
		}
		writeJSON(w, 200, f.crm)
	case path == appliance.PathCRMHistory:
		if f.crm == nil {
			fail(w, 404, "no resource manager")
			return
		}
		writeJSON(w, 200, f.history)
	case path == appliance.PathAgents:
		var names []string
		for n := range fakeAgents {
			names = append(names, n)
		}
		writeJSON(w, 200, appliance.AgentsResponse{Agents: names})
	case strings.HasPrefix(path, appliance.PathAgents+"/"):
		a, ok := fakeAgents[strings.TrimPrefix(path, appliance.PathAgents+"/")]
		if !ok {
			fail(w, 404, "unknown agent")
			return
		}
		writeJSON(w, 200, a)
	case path == appliance.PathCleanup && r.Method == http.MethodPost:
		var req appliance.CleanupRequest
		json.NewDecoder(r.Body).Decode(&req)
		f.cleanups = append(f.cleanups, req)
		writeJSON(w, 200, struct{}{})
	case path == appliance.PathFence && r.Method == http.MethodGet:
		h := appliance.FenceHistoryResponse{Events: []appliance.FenceEvent{}}
		for i := len(f.fences) - 1; i >= 0; i-- {
			h.Events = append(h.Events, appliance.FenceEvent{Target: f.fences[i].Node, Action: f.fences[i].Action, Device: "fence-" + f.fences[i].Node,
				By: "n1", OK: true, At: time.Date(2026, 11, 23, 12, 0, i, 0, time.UTC), Duration: 1500 * time.Millisecond})
		}
		writeJSON(w, 200, h)
	case path == appliance.PathFence && r.Method == http.MethodPost:
		var req appliance.FenceRequest
		json.NewDecoder(r.Body).Decode(&req)
		f.fences = append(f.fences, req)
		writeJSON(w, 200, struct{}{})
	case path == appliance.PathDebug && r.Method == http.MethodPost:
		var req appliance.DebugRequest
		json.NewDecoder(r.Body).Decode(&req)
		f.debugs = append(f.debugs, req)
		if req.Resource == "web" {
			writeJSON(w, 200, appliance.DebugResponse{RC: 7, RCText: "OCF_NOT_RUNNING", Output: "nginx.service inactive"})
			return
		}
		writeJSON(w, 200, appliance.DebugResponse{RC: 0, RCText: "OCF_SUCCESS"})
	default:
		fail(w, 404, "no such path "+path)
	}
}

func (f *fakeDaemon) put(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.puts++
	block := f.block
	f.mu.Unlock()
	var req appliance.CIBReplaceRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		fail(w, 400, "bad json: "+err.Error())
		return
	}
	if block {
		// The body is read, so the server notices the client hanging up;
		// release frees the handler in any case before the server closes.
		select {
		case <-r.Context().Done():
		case <-f.release:
		}
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bases = append(f.bases, req.BaseVersion)
	if f.conflicts > 0 {
		f.conflicts--
		f.cib.BumpConfig() // another writer got there first
		fail(w, 409, "cib changed")
		return
	}
	if req.BaseVersion != nil && *req.BaseVersion != f.version() {
		fail(w, 409, "cib changed")
		return
	}
	if f.invalid != "" {
		msg := f.invalid
		f.invalid = ""
		fail(w, 400, msg)
		return
	}
	next, err := cib.Parse([]byte(req.XML))
	if err != nil {
		fail(w, 400, err.Error())
		return
	}
	if errs := next.Validate(); len(errs) > 0 {
		fail(w, 400, errs[0].Error())
		return
	}
	next.Status = f.cib.Status
	next.AdminEpoch, next.Epoch, next.NumUpdates = f.cib.AdminEpoch, f.cib.Epoch, f.cib.NumUpdates
	next.BumpConfig()
	f.cib = next
	f.reasons = append(f.reasons, req.Reason)
	if f.onCommit != nil {
		f.onCommit(f)
	}
	writeJSON(w, 200, appliance.CIBReplaceResponse{Version: f.version()})
}

// snapshot returns a copy of the fake's CIB.
func (f *fakeDaemon) snapshot() *cib.CIB {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cib.Clone()
}

func (f *fakeDaemon) putCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.puts
}

// cli runs ovsha with args against the fake and returns stdout, stderr
// and the error Execute returned.
func (f *fakeDaemon) cli(args ...string) (string, string, error) {
	return runCLI(context.Background(), append(args, "--socket", f.sock)...)
}

func runCLI(ctx context.Context, args ...string) (string, string, error) {
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetIn(strings.NewReader(""))
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
