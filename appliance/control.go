package appliance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ovsha/ovsha/cluster/cmap"
	"github.com/ovsha/ovsha/cluster/config"
	"github.com/ovsha/ovsha/cluster/quorum"
)

// control holds the daemon's operational state beyond the components
// themselves: the cmap, the votequorum message service, the configuration
// in force (changed by reload) and the control API's write endpoints.
type control struct {
	log     *slog.Logger
	cmap    *cmap.Map
	runtime *cmapRuntime
	quorum  *quorumService

	reloadMu sync.Mutex // serialises reloads; guards current
	current  *config.Cluster

	stopOnce sync.Once
	stopping chan struct{} // closed when the daemon shuts down: ends streams
}

func newControl(a *Appliance) (*control, error) {
	m, err := newCmap(a.cluster)
	if err != nil {
		return nil, err
	}
	cv, _ := a.cluster.File.Get("totem.config_version")
	var version uint64
	if cv != "" {
		if _, err := fmt.Sscan(cv, &version); err != nil {
			return nil, fmt.Errorf("%s: totem.config_version %q: want a non-negative integer", a.opts.ConfigPath, cv)
		}
	}
	c := &control{
		log: a.log, cmap: m, current: a.cluster, stopping: make(chan struct{}),
		runtime: newCmapRuntime(m, a.cluster.Nodes, a.log),
		quorum:  newQuorumService(a.log, a.local.ID, version, a.quorum),
	}
	c.quorum.onPeerInfo = c.runtime.peerInfo
	return c, nil
}

func (c *control) stop() { c.stopOnce.Do(func() { close(c.stopping) }) }

// Cmap is the daemon's cmap.
func (a *Appliance) Cmap() *cmap.Map { return a.ctl.cmap }

// controlSource is the appliance's Source plus the write and cmap
// endpoints (NewHandler registers routes for sources that have them).
type controlSource struct {
	*source
	a *Appliance
}

// routeRegistrar is implemented by sources that serve more than the read
// endpoints of Source.
type routeRegistrar interface {
	routes(mux *http.ServeMux, log *slog.Logger)
}

func (s controlSource) routes(mux *http.ServeMux, log *slog.Logger) {
	a := s.a
	mux.HandleFunc(PathReload, func(w http.ResponseWriter, r *http.Request) {
		if !allow(w, r, http.MethodPost) {
			return
		}
		if r.ContentLength != 0 { // an empty body is allowed; otherwise it must be {}
			var none struct{}
			if err := decodeBody(r, &none); err != nil {
				writeError(w, http.StatusBadRequest, err.Error())
				return
			}
		}
		resp, err := a.Reload(r.Context())
		if err != nil {
			writeError(w, statusOf(err), err.Error())
			return
		}
		writeJSON(w, http.StatusOK, resp)
	})
	mux.HandleFunc(PathQuorumExpected, func(w http.ResponseWriter, r *http.Request) {
		if !allow(w, r, http.MethodPost) {
			return
		}
		var req ExpectedRequest
		if err := decodeBody(r, &req); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		if err := a.ctl.quorum.setExpected(ctx, req.ExpectedVotes); err != nil {
			writeError(w, statusOf(err), err.Error())
			return
		}
		q, _ := s.Quorum(r.Context())
		writeJSON(w, http.StatusOK, q)
	})
	cmapRoutes(mux, a.ctl, log)
}

// allow answers 405 unless r uses one of methods.
func allow(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s %s: method not allowed, use %s", r.Method, r.URL.Path, strings.Join(methods, " or ")))
	return false
}

// httpError carries the HTTP status an error should be answered with.
type httpError struct {
	code int
	err  error
}

func (e *httpError) Error() string { return e.err.Error() }
func (e *httpError) Unwrap() error { return e.err }

func statusOf(err error) int {
	var he *httpError
	switch {
	case errors.As(err, &he):
		return he.code
	case errors.Is(err, quorum.ErrInvalidExpected):
		return http.StatusConflict
	case errors.Is(err, cmap.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, cmap.ErrReadOnly):
		return http.StatusForbidden
	case errors.Is(err, errNotRunning), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

func cmapRoutes(mux *http.ServeMux, c *control, log *slog.Logger) {
	mux.HandleFunc(PathCmap, func(w http.ResponseWriter, r *http.Request) {
		if !allow(w, r, http.MethodGet, http.MethodHead) {
			return
		}
		es, err := c.cmap.List(r.URL.Query().Get("prefix"))
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		resp := CmapListResponse{Entries: make([]CmapEntry, len(es))}
		for i, e := range es {
			resp.Entries[i] = cmapEntry(e.Key, e.Value)
		}
		writeJSON(w, http.StatusOK, resp)
	})
	mux.HandleFunc(PathCmapTrack, func(w http.ResponseWriter, r *http.Request) {
		if !allow(w, r, http.MethodGet) {
			return
		}
		c.track(w, r, log)
	})
	mux.HandleFunc(PathCmap+"/{key...}", func(w http.ResponseWriter, r *http.Request) {
		key := r.PathValue("key")
		if err := cmap.ValidateKey(key); err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("cmap key %q: %v", key, err))
			return
		}
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			v, err := c.cmap.Get(key)
			if err != nil {
				writeError(w, statusOf(err), err.Error())
				return
			}
			writeJSON(w, http.StatusOK, cmapEntry(key, v))
		case http.MethodPut:
			var body CmapValue
			if err := decodeBody(r, &body); err != nil {
				writeError(w, http.StatusBadRequest, err.Error())
				return
			}
			v, _ := body.parse() // validated by decodeBody
			if err := c.cmap.Set(key, v); err != nil {
				writeError(w, statusOf(err), err.Error())
				return
			}
			writeJSON(w, http.StatusOK, cmapEntry(key, v))
		case http.MethodDelete:
			if err := c.cmap.Delete(key); err != nil {
				writeError(w, statusOf(err), err.Error())
				return
			}
			w.WriteHeader(http.StatusNoContent)
		default:
			allow(w, r, http.MethodGet, http.MethodPut, http.MethodDelete)
		}
	})
}

// track streams cmap changes under a prefix as newline-delimited JSON
// until the client goes away or the daemon stops.
func (c *control) track(w http.ResponseWriter, r *http.Request, log *slog.Logger) {
	wt, err := c.cmap.Watch(r.URL.Query().Get("prefix"), cmap.TrackAll|cmap.TrackPrefix, 256)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	defer wt.Close()
	fl, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	if fl != nil {
		fl.Flush()
	}
	enc := json.NewEncoder(w)
	for {
		select {
		case <-r.Context().Done():
			return
		case <-c.stopping:
			return
		case ev, ok := <-wt.C():
			if !ok {
				return
			}
			out := CmapEvent{Event: ev.Kind.String(), Key: ev.Key, Missed: ev.Missed}
			if ev.New.IsValid() {
				out.Type, out.Value = ev.New.Type().String(), ev.New.String()
			}
			if ev.Old.IsValid() {
				out.OldType, out.OldValue = ev.Old.Type().String(), ev.Old.String()
			}
			if err := enc.Encode(out); err != nil {
				log.Debug("cmap track client went away", "reason", err)
				return
			}
			if fl != nil {
				fl.Flush()
			}
		}
	}
}
