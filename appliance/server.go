package appliance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// Source answers the control API's read requests. The appliance implements
// it from the live components; tests use fakes.
type Source interface {
	Status(ctx context.Context) (StatusResponse, error)
	Ring(ctx context.Context) (RingResponse, error)
	Quorum(ctx context.Context) (QuorumResponse, error)
}

// NewHandler returns the control API's HTTP handler.
func NewHandler(src Source, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	get := func(path string, fn func(ctx context.Context) (any, error)) {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s %s: method not allowed, use GET", r.Method, r.URL.Path))
				return
			}
			v, err := fn(r.Context())
			if err != nil {
				log.Warn("control api request failed", "path", r.URL.Path, "reason", err)
				writeError(w, http.StatusServiceUnavailable, err.Error())
				return
			}
			writeJSON(w, http.StatusOK, v)
		})
	}
	get(PathStatus, func(ctx context.Context) (any, error) { return src.Status(ctx) })
	get(PathRing, func(ctx context.Context) (any, error) { return src.Ring(ctx) })
	get(PathQuorum, func(ctx context.Context) (any, error) { return src.Quorum(ctx) })
	if rr, ok := src.(routeRegistrar); ok { // write and cmap endpoints (control.go)
		rr.routes(mux, log)
	}
	if cr, ok := src.(crmRouteRegistrar); ok { // resource manager endpoints (crmserver.go)
		cr.crmRoutes(mux, log)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no such endpoint %s (this ovshad serves %s, %s, %s)", r.URL.Path, PathStatus, PathRing, PathQuorum))
	})
	return mux
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // the client went away; nothing to do
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, ErrorResponse{Error: msg})
}

// ListenControl creates the control socket at path with mode 0660,
// creating its directory. A stale socket left by a dead daemon is replaced;
// a live one is an error (another ovshad is running).
func ListenControl(ctx context.Context, path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("creating control socket directory: %w", err)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("control socket %s exists and is not a socket; remove it or choose another --socket", path)
		}
		d := net.Dialer{Timeout: 500 * time.Millisecond}
		if c, err := d.DialContext(ctx, "unix", path); err == nil {
			c.Close()
			return nil, fmt.Errorf("control socket %s is in use: another ovshad is running", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("removing stale control socket: %w", err)
		}
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("listening on control socket: %w", err)
	}
	if err := os.Chmod(path, 0o660); err != nil {
		ln.Close()
		return nil, fmt.Errorf("setting control socket mode: %w", err)
	}
	return ln, nil
}

// serveControl serves h on ln until ctx ends, then shuts down gracefully.
func serveControl(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving control api: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutting down control api: %w", err)
	}
	return nil
}
