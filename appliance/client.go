package appliance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// Client talks to ovshad's control API on a unix socket.
type Client struct {
	socket string
	hc     *http.Client
}

// NewClient returns a client for the daemon listening on socket.
func NewClient(socket string) *Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
		DisableKeepAlives: true,
	}
	return &Client{socket: socket, hc: &http.Client{Transport: tr, Timeout: 10 * time.Second}}
}

// Socket is the socket path the client uses.
func (c *Client) Socket() string { return c.socket }

// ErrUnreachable wraps failures to connect to the daemon at all.
var ErrUnreachable = errors.New("cannot reach ovshad")

// Status fetches GET /v1/status.
func (c *Client) Status(ctx context.Context) (StatusResponse, error) {
	var v StatusResponse
	return v, c.get(ctx, PathStatus, &v)
}

// Ring fetches GET /v1/ring.
func (c *Client) Ring(ctx context.Context) (RingResponse, error) {
	var v RingResponse
	return v, c.get(ctx, PathRing, &v)
}

// Quorum fetches GET /v1/quorum.
func (c *Client) Quorum(ctx context.Context) (QuorumResponse, error) {
	var v QuorumResponse
	return v, c.get(ctx, PathQuorum, &v)
}

func (c *Client) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://ovshad"+path, nil)
	if err != nil {
		return fmt.Errorf("building request for %s: %w", path, err)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		var ne *net.OpError
		if errors.As(err, &ne) && ne.Op == "dial" {
			return fmt.Errorf("%w at %s: %v", ErrUnreachable, c.socket, ne.Err)
		}
		return fmt.Errorf("requesting %s from ovshad at %s: %w", path, c.socket, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("reading %s from ovshad at %s: %w", path, c.socket, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e ErrorResponse
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			return fmt.Errorf("ovshad at %s: %s %s: %s", c.socket, path, resp.Status, e.Error)
		}
		return fmt.Errorf("ovshad at %s: %s: %s", c.socket, path, resp.Status)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("decoding %s from ovshad at %s: %w", path, c.socket, err)
	}
	return nil
}
