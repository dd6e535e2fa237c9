package appliance

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
)

// Reload asks the daemon to re-read its configuration (POST /v1/reload).
func (c *Client) Reload(ctx context.Context) (ReloadResponse, error) {
	var v ReloadResponse
	return v, c.do(ctx, http.MethodPost, PathReload, struct{}{}, &v)
}

// SetExpected changes expected votes cluster-wide (POST /v1/quorum/expected).
func (c *Client) SetExpected(ctx context.Context, n uint32) (QuorumResponse, error) {
	var v QuorumResponse
	return v, c.do(ctx, http.MethodPost, PathQuorumExpected, ExpectedRequest{ExpectedVotes: n}, &v)
}

// CmapList lists the keys under prefix (GET /v1/cmap?prefix=).
func (c *Client) CmapList(ctx context.Context, prefix string) (CmapListResponse, error) {
	var v CmapListResponse
	return v, c.do(ctx, http.MethodGet, PathCmap+"?prefix="+url.QueryEscape(prefix), nil, &v)
}

// CmapGet reads one key.
func (c *Client) CmapGet(ctx context.Context, key string) (CmapEntry, error) {
	var v CmapEntry
	return v, c.do(ctx, http.MethodGet, cmapKeyPath(key), nil, &v)
}

// CmapSet stores one key.
func (c *Client) CmapSet(ctx context.Context, key string, val CmapValue) (CmapEntry, error) {
	var v CmapEntry
	return v, c.do(ctx, http.MethodPut, cmapKeyPath(key), val, &v)
}

// CmapDelete removes one key.
func (c *Client) CmapDelete(ctx context.Context, key string) error {
	return c.do(ctx, http.MethodDelete, cmapKeyPath(key), nil, nil)
}

// CmapTrack streams changes under prefix to fn until ctx ends, the daemon
// closes the stream, or fn returns an error.
func (c *Client) CmapTrack(ctx context.Context, prefix string, fn func(CmapEvent) error) error {
	path := PathCmapTrack + "?prefix=" + url.QueryEscape(prefix)
	body, err := c.stream(ctx, path)
	if err != nil {
		return err
	}
	defer body.Close()
	sc := bufio.NewScanner(body)
	for sc.Scan() {
		var ev CmapEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return fmt.Errorf("decoding a cmap event from ovshad at %s: %w", c.socket, err)
		}
		if err := fn(ev); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("reading cmap events from ovshad at %s: %w", c.socket, err)
	}
	return ctx.Err()
}

func cmapKeyPath(key string) string { return PathCmap + "/" + url.PathEscape(key) }

// stream opens a long-lived GET (no client timeout) and returns its body;
// a non-2xx answer becomes an *APIError (crm_client.go).
func (c *Client) stream(ctx context.Context, path string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://ovshad"+path, nil)
	if err != nil {
		return nil, fmt.Errorf("building request for GET %s: %w", path, err)
	}
	hc := &http.Client{Transport: c.hc.Transport}
	resp, err := hc.Do(req)
	if err != nil {
		var ne *net.OpError
		if errors.As(err, &ne) && ne.Op == "dial" {
			return nil, fmt.Errorf("%w at %s: %v", ErrUnreachable, c.socket, ne.Err)
		}
		return nil, fmt.Errorf("GET %s at ovshad %s: %w", path, c.socket, err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		e := &APIError{Socket: c.socket, Method: http.MethodGet, Path: path, StatusCode: resp.StatusCode, Message: resp.Status}
		var er ErrorResponse
		if json.Unmarshal(data, &er) == nil && er.Error != "" {
			e.Message = er.Error
		}
		return nil, e
	}
	return resp.Body, nil
}
