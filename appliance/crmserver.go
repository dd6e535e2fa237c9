package appliance

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ovsha/ovsha/agents"
	"github.com/ovsha/ovsha/cluster/cib"
	"github.com/ovsha/ovsha/cluster/crm"
)

// crmWriteTimeout bounds a write request (commit through the ring).
const crmWriteTimeout = 30 * time.Second

// crmRouteRegistrar is implemented by sources that serve the resource
// manager's endpoints (crmapi.go).
type crmRouteRegistrar interface {
	crmRoutes(mux *http.ServeMux, log *slog.Logger)
}

func (s controlSource) crmRoutes(mux *http.ServeMux, log *slog.Logger) {
	a := s.a
	handle := func(path string, methods []string, fn func(w http.ResponseWriter, r *http.Request, c *crmService)) {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			if a.crm == nil {
				writeError(w, http.StatusNotFound, "this ovshad runs without the resource manager")
				return
			}
			if !allow(w, r, methods...) {
				return
			}
			fn(w, r, a.crm)
		})
	}
	handle(PathCIB, []string{http.MethodGet, http.MethodPut}, func(w http.ResponseWriter, r *http.Request, c *crmService) {
		if r.Method == http.MethodPut {
			putCIB(w, r, c, log)
			return
		}
		getCIB(w, r, c)
	})
	handle(PathCRMStatus, []string{http.MethodGet}, func(w http.ResponseWriter, r *http.Request, c *crmService) {
		writeJSON(w, http.StatusOK, crmStatus(s.clusterName, s.nodes, c.crm.Snapshot()))
	})
	handle(PathCRMHistory, []string{http.MethodGet}, func(w http.ResponseWriter, r *http.Request, c *crmService) {
		limit := 0
		if v := r.URL.Query().Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				writeError(w, http.StatusBadRequest, "limit="+v+": expected a non-negative integer")
				return
			}
			limit = n
		}
		resp := HistoryResponse{Transitions: []Transition{}}
		for _, t := range c.crm.History(limit) {
			x := Transition{ID: t.ID, DC: t.DC, Trigger: t.Trigger, Started: t.Started, Finished: t.Finished,
				Result: t.Result, Actions: t.Actions, Phases: []Phase{}}
			if x.Actions == nil {
				x.Actions = []string{}
			}
			for _, p := range t.Phases {
				x.Phases = append(x.Phases, Phase{Name: p.Name, Duration: p.Duration})
			}
			resp.Transitions = append(resp.Transitions, x)
		}
		writeJSON(w, http.StatusOK, resp)
	})
	handle(PathCleanup, []string{http.MethodPost}, func(w http.ResponseWriter, r *http.Request, c *crmService) {
		var req CleanupRequest
		if err := decodeBody(r, &req); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), crmWriteTimeout)
		defer cancel()
		if err := c.crm.Cleanup(ctx, req.Resource, req.Node); err != nil {
			writeError(w, crmStatusOf(err), err.Error())
			return
		}
		writeJSON(w, http.StatusOK, struct{}{})
	})
	handle(PathFence, []string{http.MethodGet, http.MethodPost}, func(w http.ResponseWriter, r *http.Request, c *crmService) {
		if r.Method == http.MethodGet {
			resp := FenceHistoryResponse{Events: []FenceEvent{}}
			for _, e := range c.crm.FenceHistory() {
				resp.Events = append(resp.Events, FenceEvent{Target: e.Target, Action: e.Action, Device: e.Device, By: e.By,
					OK: e.OK, Reason: e.Reason, At: e.At, Duration: e.Duration})
			}
			writeJSON(w, http.StatusOK, resp)
			return
		}
		var req FenceRequest
		if err := decodeBody(r, &req); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Minute)
		defer cancel()
		ev, err := c.crm.Fence(ctx, req.Node, req.Action)
		if err != nil {
			code := http.StatusInternalServerError
			if ev.Target == "" {
				code = http.StatusBadRequest
			}
			writeError(w, code, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, ev)
	})
	mux.HandleFunc(PathAgents, func(w http.ResponseWriter, r *http.Request) {
		if a.crm == nil {
			writeError(w, http.StatusNotFound, "this ovshad runs without the resource manager")
			return
		}
		if !allow(w, r, http.MethodGet) {
			return
		}
		writeJSON(w, http.StatusOK, AgentsResponse{Agents: a.crm.registry.List()})
	})
	mux.HandleFunc(PathAgents+"/", func(w http.ResponseWriter, r *http.Request) {
		if a.crm == nil {
			writeError(w, http.StatusNotFound, "this ovshad runs without the resource manager")
			return
		}
		if !allow(w, r, http.MethodGet) {
			return
		}
		spec := strings.TrimPrefix(r.URL.Path, PathAgents+"/")
		ag, err := a.crm.registry.Lookup(spec)
		if err != nil {
			writeError(w, http.StatusNotFound, err.Error())
			return
		}
		if l, ok := ag.(interface {
			LoadMetadata(context.Context) (agents.Metadata, error)
		}); ok {
			ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
			_, _ = l.LoadMetadata(ctx) // Metadata falls back to what is known
			cancel()
		}
		md := ag.Metadata()
		resp := AgentResponse{Name: spec, Desc: md.ShortDesc, Params: []AgentParam{}, Text: agents.Describe(md)}
		for _, p := range md.Params {
			resp.Params = append(resp.Params, AgentParam{Name: p.Name, Type: p.Type, Default: p.Default, Required: p.Required, Unique: p.Unique, Desc: p.ShortDesc})
		}
		for _, ac := range md.Actions {
			resp.Actions = append(resp.Actions, ac.Name)
		}
		writeJSON(w, http.StatusOK, resp)
	})
	handle(PathDebug, []string{http.MethodPost}, func(w http.ResponseWriter, r *http.Request, c *crmService) {
		var req DebugRequest
		if err := decodeBody(r, &req); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		rc, out, err := c.crm.Debug(r.Context(), req.Resource, req.Action)
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, DebugResponse{RC: rc, RCText: agents.Result(rc).String(), Output: out})
	})
}

func crmStatusOf(err error) int {
	switch {
	case errors.Is(err, crm.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return http.StatusServiceUnavailable
	}
	return http.StatusBadRequest
}

func toAPIVersion(v cib.Version) CIBVersion {
	return CIBVersion{AdminEpoch: int64(v.AdminEpoch), Epoch: int64(v.Epoch), NumUpdates: int64(v.NumUpdates)}
}

func getCIB(w http.ResponseWriter, r *http.Request, c *crmService) {
	cur := c.crm.CIB()
	resp := CIBResponse{Version: toAPIVersion(cur.Version())}
	if r.URL.Query().Get("format") == "xml" {
		b, err := cur.MarshalXMLBytes()
		if err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		resp.XML = string(b)
	} else {
		resp.CIB = cur
	}
	writeJSON(w, http.StatusOK, resp)
}

func putCIB(w http.ResponseWriter, r *http.Request, c *crmService, log *slog.Logger) {
	var req CIBReplaceRequest
	if err := decodeBody(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	var base *cib.Version
	if req.BaseVersion != nil {
		base = &cib.Version{AdminEpoch: int(req.BaseVersion.AdminEpoch), Epoch: int(req.BaseVersion.Epoch), NumUpdates: int(req.BaseVersion.NumUpdates)}
	}
	ctx, cancel := context.WithTimeout(r.Context(), crmWriteTimeout)
	defer cancel()
	v, err := c.crm.Replace(ctx, base, req.XML, req.Reason)
	if err != nil {
		log.Info("cib replace refused", "reason", err)
		writeError(w, crmStatusOf(err), err.Error())
		return
	}
	writeJSON(w, http.StatusOK, CIBReplaceResponse{Version: toAPIVersion(v)})
}

// crmStatus builds GET /v1/crm/status from a CRM snapshot.
func crmStatus(cluster string, nodes []nodeInfo, s crm.Snapshot) CRMStatusResponse {
	resp := CRMStatusResponse{ClusterName: cluster, DC: s.DC, Quorate: s.Quorate, Nodes: []CRMNode{},
		Resources: []CRMResource{}, FailedActions: []FailedAction{}, CIBVersion: toAPIVersion(s.CIB.Version()),
		LastChange: s.LastChange, LastChangeNode: s.LastChangeNode, TransitionInProgress: s.TransitionInProgress}
	states := map[string]string{}
	for _, n := range s.Current.Nodes {
		states[n.Name] = n.State
	}
	for _, n := range nodes {
		st := states[n.Name]
		cn := CRMNode{ID: n.ID, Name: n.Name, Online: slices.Contains(s.Members, n.Name) && st != "offline" && st != "UNCLEAN",
			Standby: st == "standby", Maintenance: st == "maintenance", Unclean: st == "UNCLEAN"}
		if ns := s.CIB.FindNodeState(n.Name); ns != nil && ns.Transient != nil {
			cn.Attributes = map[string]string{}
			for _, set := range ns.Transient.Attrs {
				for _, p := range set.Pairs {
					cn.Attributes[p.Name] = p.Value
				}
			}
		}
		resp.Nodes = append(resp.Nodes, cn)
	}
	parents := map[string][2]string{} // primitive → group, clone
	s.CIB.Walk(func(r, parent *cib.Resource) {
		if r.Kind != cib.KindPrimitive {
			return
		}
		var g, cl string
		if parent != nil {
			switch parent.Kind {
			case cib.KindGroup:
				g = parent.ID
				if top := findParent(s.CIB, parent.ID); top != nil && top.Kind == cib.KindClone {
					cl = top.ID
				}
			case cib.KindClone:
				cl = parent.ID
			}
		}
		parents[r.ID] = [2]string{g, cl}
	})
	failcounts := failcountsByResource(s.CIB)
	seen := map[string]int{}
	for _, r := range s.Current.Resources {
		id := r.ID
		if i := strings.LastIndexByte(id, ':'); i >= 0 {
			id = id[:i]
		}
		if j, ok := seen[id]; ok { // clone instances fold into one entry
			resp.Resources[j].Nodes = append(resp.Resources[j].Nodes, r.Nodes...)
			sort.Strings(resp.Resources[j].Nodes)
			continue
		}
		cr := CRMResource{ID: id, Agent: r.Agent, Nodes: append([]string{}, r.Nodes...), Group: parents[id][0], Clone: parents[id][1],
			Managed: r.Managed, FailCount: failcounts[id]}
		if rr := s.CIB.FindResource(id); rr != nil {
			if v, ok := cib.Lookup(rr.Meta, "target-role"); ok && strings.EqualFold(v, "stopped") {
				cr.Disabled = true
			}
		}
		switch {
		case r.Failed:
			cr.Role = "FAILED"
		case len(r.Nodes) > 0:
			cr.Role = "Started"
		default:
			cr.Role = "Stopped"
		}
		seen[id] = len(resp.Resources)
		resp.Resources = append(resp.Resources, cr)
	}
	for _, ns := range s.CIB.Status.Nodes {
		if ns.LRM == nil {
			continue
		}
		for _, lr := range ns.LRM.Resources {
			for _, op := range lr.Ops {
				if !strings.HasSuffix(op.ID, "_last_failure_0") {
					continue
				}
				rc, _ := strconv.Atoi(op.RCCode)
				at, _ := strconv.ParseInt(op.LastRCChange, 10, 64)
				fa := FailedAction{Resource: lr.ID, Op: op.Operation, Interval: op.Interval, Node: ns.Uname, RC: rc,
					RCText: agents.Result(rc).String(), At: time.Unix(at, 0).UTC()}
				for _, x := range op.Other {
					if x.Name.Local == "exit-reason" {
						fa.Reason = x.Value
					}
				}
				resp.FailedActions = append(resp.FailedActions, fa)
			}
		}
	}
	return resp
}

func findParent(c *cib.CIB, id string) *cib.Resource {
	var out *cib.Resource
	c.Walk(func(r, parent *cib.Resource) {
		if r.ID == id {
			out = parent
		}
	})
	return out
}

// failcountsByResource sums fail-count-RSC#... per resource and node.
func failcountsByResource(c *cib.CIB) map[string]map[string]int {
	out := map[string]map[string]int{}
	for _, ns := range c.Status.Nodes {
		if ns.Transient == nil {
			continue
		}
		for _, set := range ns.Transient.Attrs {
			for _, p := range set.Pairs {
				rest, ok := strings.CutPrefix(p.Name, "fail-count-")
				if !ok {
					continue
				}
				rsc, _, _ := strings.Cut(rest, "#")
				if i := strings.LastIndexByte(rsc, ':'); i >= 0 {
					rsc = rsc[:i]
				}
				n, err := cib.ParseScore(p.Value)
				if err != nil {
					continue
				}
				if out[rsc] == nil {
					out[rsc] = map[string]int{}
				}
				out[rsc][ns.Uname] = min(out[rsc][ns.Uname]+n, cib.Infinity)
			}
		}
	}
	return out
}
