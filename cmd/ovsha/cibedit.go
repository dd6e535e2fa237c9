package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ovsha/ovsha/appliance"
	"github.com/ovsha/ovsha/cluster/cib"
	"github.com/spf13/cobra"
)

// writeFlags are the flags every CIB-changing verb shares.
type writeFlags struct {
	socket  string
	timeout time.Duration
}

func (f *writeFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.socket, "socket", defaultSocket(), "ovshad control socket (env "+socketEnv+")")
	cmd.Flags().DurationVar(&f.timeout, "timeout", 30*time.Second, "give up when the cluster has not committed the change by then")
}

func (f *writeFlags) client() *appliance.Client { return appliance.NewClient(f.socket) }

// maxCIBRetries is how often a write is redone after another writer
// changed the CIB between our read and our write (409).
const maxCIBRetries = 5

// noChange, returned by an edit, ends the write without a PUT; its
// message says why (e.g. "vip is already disabled").
type noChange struct{ msg string }

func (n noChange) Error() string { return n.msg }

func noChangef(format string, a ...any) error { return noChange{fmt.Sprintf(format, a...)} }

// cibEdit is one read-modify-write of the CIB.
type cibEdit struct {
	client *appliance.Client
	// reason is recorded in the transition history.
	reason string
	// timeout bounds the whole edit, retries included.
	timeout time.Duration
}

// apply reads the CIB, runs edit on it, refuses the result when it has
// validation errors the CIB did not have before, and writes it back with
// the version it read as base. On 409 it starts over (up to
// maxCIBRetries times); edit must therefore compute its change from the
// CIB it is given. It returns the version committed, or, when edit
// returned a noChange, the version read.
func (e cibEdit) apply(ctx context.Context, edit func(*cib.CIB) error) (appliance.CIBVersion, error) {
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	for attempt := 0; ; attempt++ {
		cur, ver, err := readCIB(ctx, e.client)
		if err != nil {
			return ver, e.explain(ctx, err)
		}
		before := validationSet(cur)
		orig, err := cur.MarshalXMLBytes()
		if err != nil {
			return ver, err
		}
		if err := edit(cur); err != nil {
			return ver, err
		}
		if err := newValidationErrors(before, cur); err != nil {
			return ver, err
		}
		data, err := cur.MarshalXMLBytes()
		if err != nil {
			return ver, err
		}
		if bytes.Equal(orig, data) {
			return ver, noChangef("the CIB already says so")
		}
		base := ver
		resp, err := e.client.ReplaceCIB(ctx, appliance.CIBReplaceRequest{BaseVersion: &base, XML: string(data), Reason: e.reason})
		switch {
		case err == nil:
			return resp.Version, nil
		case errors.Is(err, appliance.ErrConflict) && attempt < maxCIBRetries:
			continue
		case errors.Is(err, appliance.ErrConflict):
			return ver, fmt.Errorf("the CIB kept changing while %s was being written (%d attempts): try again", e.reason, attempt+1)
		case errors.Is(err, appliance.ErrInvalid):
			var ae *appliance.APIError
			errors.As(err, &ae)
			return ver, fmt.Errorf("ovshad refused %s: %s (nothing was changed)", e.reason, ae.Message)
		}
		return ver, e.explain(ctx, err)
	}
}

// explain turns transport failures and timeouts into operator advice.
func (e cibEdit) explain(ctx context.Context, err error) error {
	if errors.Is(err, appliance.ErrUnreachable) {
		return fmt.Errorf("%v — is ovshad running? (select another daemon with --socket or %s)", err, socketEnv)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("timed out after %s waiting for the cluster to commit %s; it may still be applied: check with `ovsha cib export` (raise --timeout to wait longer)", e.timeout, e.reason)
	}
	if errors.Is(err, appliance.ErrNotFound) {
		return fmt.Errorf("%v (does this ovshad run the resource manager?)", err)
	}
	return err
}

// readCIB fetches and parses the current CIB.
func readCIB(ctx context.Context, c *appliance.Client) (*cib.CIB, appliance.CIBVersion, error) {
	resp, err := c.CIB(ctx)
	if err != nil {
		return nil, appliance.CIBVersion{}, err
	}
	if resp.XML == "" {
		return nil, resp.Version, fmt.Errorf("ovshad at %s returned no CIB XML for %s?format=xml", c.Socket(), appliance.PathCIB)
	}
	cur, err := cib.Parse([]byte(resp.XML))
	if err != nil {
		return nil, resp.Version, fmt.Errorf("reading the CIB from ovshad at %s: %w", c.Socket(), err)
	}
	return cur, resp.Version, nil
}

// checkCIB is every problem a configuration may not have: cib.Validate's
// findings and order loops.
func checkCIB(c *cib.CIB) []string {
	var out []string
	for _, e := range c.Validate() {
		out = append(out, e.Error())
	}
	return append(out, orderLoops(c)...)
}

func validationSet(c *cib.CIB) map[string]bool {
	m := map[string]bool{}
	for _, e := range checkCIB(c) {
		m[e] = true
	}
	return m
}

// newValidationErrors reports the problems c has that it did not have
// before the edit (a CIB that was already imperfect stays editable).
func newValidationErrors(before map[string]bool, c *cib.CIB) error {
	var msgs []string
	for _, e := range checkCIB(c) {
		if !before[e] {
			msgs = append(msgs, e)
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return fmt.Errorf("the change would make the CIB invalid, nothing was changed: %s", strings.Join(msgs, "; "))
}

// runEdit is the common tail of a write verb: apply, then say what
// happened on w.
func runEdit(cmd *cobra.Command, f *writeFlags, reason string, edit func(*cib.CIB) error) error {
	e := cibEdit{client: f.client(), reason: reason, timeout: f.timeout}
	v, err := e.apply(cmd.Context(), edit)
	var nc noChange
	if errors.As(err, &nc) {
		report(cmd.ErrOrStderr(), "%s: %v; nothing to change\n", reason, nc.msg)
		return nil
	}
	if err != nil {
		return err
	}
	report(cmd.ErrOrStderr(), "%s: committed, CIB version %d.%d.%d\n", reason, v.AdminEpoch, v.Epoch, v.NumUpdates)
	return nil
}

func report(w io.Writer, format string, a ...any) { fmt.Fprintf(w, format, a...) }

func defaultSocket() string {
	if s := os.Getenv(socketEnv); s != "" {
		return s
	}
	return appliance.DefaultSocket
}
