package appliance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
)

// Sentinels an APIError matches (errors.Is) by its HTTP status, so callers
// test conditions, not numbers.
var (
	// ErrConflict: 409, the CIB changed since BaseVersion (re-read, retry).
	ErrConflict = errors.New("cib changed since it was read")
	// ErrInvalid: 400, the request or the new configuration is invalid.
	ErrInvalid = errors.New("rejected as invalid")
	// ErrNotFound: 404, no such object, or the daemon lacks the endpoint
	// (e.g. it runs without the resource manager).
	ErrNotFound = errors.New("not found")
)

// APIError is a non-2xx answer of the control API.
type APIError struct {
	Socket     string
	Method     string
	Path       string
	StatusCode int
	// Message is the daemon's one-line {"error": ...}, or the HTTP status
	// text when the body had none.
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("ovshad at %s: %s %s: %s", e.Socket, e.Method, e.Path, e.Message)
}

// Is maps the status code onto ErrConflict, ErrInvalid and ErrNotFound.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrConflict:
		return e.StatusCode == http.StatusConflict
	case ErrInvalid:
		return e.StatusCode == http.StatusBadRequest
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	}
	return false
}

// CIB fetches GET /v1/cib?format=xml: the whole CIB as Pacemaker XML with
// its version.
func (c *Client) CIB(ctx context.Context) (CIBResponse, error) {
	var v CIBResponse
	return v, c.do(ctx, http.MethodGet, PathCIB+"?format=xml", nil, &v)
}

// ReplaceCIB sends PUT /v1/cib and returns once the daemon has committed
// the change cluster-wide. A stale BaseVersion fails with ErrConflict, an
// invalid configuration with ErrInvalid; ctx bounds the wait.
func (c *Client) ReplaceCIB(ctx context.Context, req CIBReplaceRequest) (CIBReplaceResponse, error) {
	var v CIBReplaceResponse
	return v, c.do(ctx, http.MethodPut, PathCIB, req, &v)
}

// CRMStatus fetches GET /v1/crm/status (ErrNotFound: no resource manager).
func (c *Client) CRMStatus(ctx context.Context) (CRMStatusResponse, error) {
	var v CRMStatusResponse
	return v, c.do(ctx, http.MethodGet, PathCRMStatus, nil, &v)
}

// CRMHistory fetches GET /v1/crm/history; limit <= 0 lets the daemon choose.
func (c *Client) CRMHistory(ctx context.Context, limit int) (HistoryResponse, error) {
	path := PathCRMHistory
	if limit > 0 {
		path += "?limit=" + strconv.Itoa(limit)
	}
	var v HistoryResponse
	return v, c.do(ctx, http.MethodGet, path, nil, &v)
}

// Cleanup sends POST /v1/crm/cleanup.
func (c *Client) Cleanup(ctx context.Context, req CleanupRequest) error {
	return c.do(ctx, http.MethodPost, PathCleanup, req, nil)
}

// Fence sends POST /v1/crm/fence and returns when the node is fenced or
// fencing failed.
func (c *Client) Fence(ctx context.Context, req FenceRequest) error {
	return c.do(ctx, http.MethodPost, PathFence, req, nil)
}

// FenceHistory fetches GET /v1/crm/fence: the cluster's fencing
// attempts, newest first.
func (c *Client) FenceHistory(ctx context.Context) (FenceHistoryResponse, error) {
	var v FenceHistoryResponse
	return v, c.do(ctx, http.MethodGet, PathFence, nil, &v)
}

// Agents fetches GET /v1/agents.
func (c *Client) Agents(ctx context.Context) (AgentsResponse, error) {
	var v AgentsResponse
	return v, c.do(ctx, http.MethodGet, PathAgents, nil, &v)
}

// Agent fetches GET /v1/agents/SPEC (ErrNotFound: unknown agent).
func (c *Client) Agent(ctx context.Context, spec string) (AgentResponse, error) {
	var v AgentResponse
	return v, c.do(ctx, http.MethodGet, PathAgents+"/"+url.PathEscape(spec), nil, &v)
}

// Debug sends POST /v1/crm/debug: one agent action on the daemon's node.
func (c *Client) Debug(ctx context.Context, req DebugRequest) (DebugResponse, error) {
	var v DebugResponse
	return v, c.do(ctx, http.MethodPost, PathDebug, req, &v)
}

// do performs one request with a JSON body (in, when not nil) and decodes
// a JSON answer into out (when not nil). Unlike get it has no fixed
// timeout: writes wait for a cluster-wide commit, so ctx bounds the call.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encoding %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://ovshad"+path, body)
	if err != nil {
		return fmt.Errorf("building request for %s %s: %w", method, path, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := &http.Client{Transport: c.hc.Transport}
	resp, err := hc.Do(req)
	if err != nil {
		var ne *net.OpError
		if errors.As(err, &ne) && ne.Op == "dial" {
			return fmt.Errorf("%w at %s: %v", ErrUnreachable, c.socket, ne.Err)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s %s at ovshad %s: %w", method, path, c.socket, ctx.Err())
		}
		return fmt.Errorf("%s %s at ovshad %s: %w", method, path, c.socket, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("reading %s %s from ovshad at %s: %w", method, path, c.socket, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := &APIError{Socket: c.socket, Method: method, Path: path, StatusCode: resp.StatusCode, Message: resp.Status}
		var er ErrorResponse
		if json.Unmarshal(data, &er) == nil && er.Error != "" {
			e.Message = er.Error
		}
		return e
	}
	if out == nil || len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decoding %s %s from ovshad at %s: %w", method, path, c.socket, err)
	}
	return nil
}
