package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/ovsha/ovsha/appliance"
	"github.com/ovsha/ovsha/cluster/cib"
	"github.com/spf13/cobra"
)

func newCIBCmd() *cobra.Command {
	cc := &cobra.Command{
		Use:   "cib",
		Short: "Export or replace the whole cluster information base (like pcs cluster cib / cib-push)",
		Args:  cobra.NoArgs,
	}
	cc.AddCommand(newCIBExportCmd(), newCIBPushCmd())
	return cc
}

func newCIBExportCmd() *cobra.Command {
	var f clientFlags
	var asXML bool
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Print the CIB as Pacemaker XML (the default, as pcs cluster cib), or JSON with --json",
		Long: `Print the whole CIB. The default is Pacemaker's CIB XML, exactly what
'pcs cluster cib' prints, so the file loads into Pacemaker and back ('ovsha cib push').
--json prints {"version": …, "xml": …} instead.`,
		Example: "  ovsha cib export > backup.xml",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if asXML && f.json {
				return usageErrorf("cib export: --xml and --json exclude each other")
			}
			resp, err := fetch(cmd, &f, (*appliance.Client).CIB)
			if err != nil {
				return err
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), resp)
			}
			fmt.Fprint(cmd.OutOrStdout(), strings.TrimRight(resp.XML, "\n")+"\n")
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&asXML, "xml", false, "print Pacemaker XML (the default)")
	return cmd
}

type pushFlags struct {
	writeFlags
	diff  bool
	force bool
}

func newCIBPushCmd() *cobra.Command {
	var f pushFlags
	cmd := &cobra.Command{
		Use:   "push FILE",
		Short: "Replace the configuration with FILE (a <cib> or <configuration>), validated first",
		Long: `Replace the cluster's configuration with FILE ('-' reads stdin). FILE is validated
first; an invalid configuration is refused and nothing changes. The push only applies if
the cluster's CIB is still at the version FILE was exported at (its admin_epoch, epoch
and num_updates); otherwise it is refused — re-export and redo the edit, or use --force
to replace whatever is there. --diff prints what would change and changes nothing.`,
		Example: "  ovsha cib export > cib.xml; vi cib.xml; ovsha cib push cib.xml --diff; ovsha cib push cib.xml",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return pushCIB(cmd, &f, args[0])
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&f.diff, "diff", false, "print what would change; change nothing")
	cmd.Flags().BoolVar(&f.force, "force", false, "replace the configuration even if the CIB changed since FILE was exported")
	return cmd
}

// readPushFile reads a <cib> or a bare <configuration> from path ("-":
// stdin). hasVersion is false for a bare configuration.
func readPushFile(in io.Reader, path string) (c *cib.CIB, hasVersion bool, err error) {
	var data []byte
	if path == "-" {
		data, err = io.ReadAll(in)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading %s: %w", path, err)
	}
	root, err := rootElement(data)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", path, err)
	}
	switch root {
	case "cib":
		hasVersion = true
	case "configuration":
		data = append(append([]byte("<cib>"), data...), "</cib>"...)
	default:
		return nil, false, fmt.Errorf("%s: root element <%s>: want <cib> or <configuration>", path, root)
	}
	c, err = cib.Parse(data)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", path, err)
	}
	return c, hasVersion, nil
}

func rootElement(data []byte) (string, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", fmt.Errorf("no XML root element: %w", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se.Name.Local, nil
		}
	}
}

func pushCIB(cmd *cobra.Command, f *pushFlags, path string) error {
	next, hasVersion, err := readPushFile(cmd.InOrStdin(), path)
	if err != nil {
		return err
	}
	if problems := checkCIB(next); len(problems) > 0 {
		return fmt.Errorf("%s is not a valid configuration, nothing was changed: %s", path, strings.Join(problems, "; "))
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
	defer cancel()
	client := f.client()
	cur, curVer, err := readCIB(ctx, client)
	if err != nil {
		return unreachable(err)
	}
	if f.diff {
		// Compare configurations only: the status and the version
		// attributes are the cluster's, not the file's.
		cmp := next.Clone()
		cmp.AdminEpoch, cmp.Epoch, cmp.NumUpdates = cur.AdminEpoch, cur.Epoch, cur.NumUpdates
		cmp.HaveQuorum, cmp.DCUUID, cmp.Other, cmp.ValidateWith = cur.HaveQuorum, cur.DCUUID, cur.Other, cur.ValidateWith
		cmp.Status = cur.Status
		p, err := cib.Diff(cur, cmp)
		if err != nil {
			return fmt.Errorf("comparing %s with the cluster's CIB: %w", path, err)
		}
		renderPatch(cmd.OutOrStdout(), p)
		return nil
	}
	if !f.force && !hasVersion {
		return fmt.Errorf("%s is a bare <configuration> without a version: push it with --force (it replaces whatever the cluster has)", path)
	}
	data, err := next.MarshalXMLBytes()
	if err != nil {
		return err
	}
	req := appliance.CIBReplaceRequest{Reason: "cib push " + path, XML: string(data)}
	var resp appliance.CIBReplaceResponse
	for attempt := 0; ; attempt++ {
		if !f.force {
			// The configuration version (admin_epoch, epoch) must be the
			// one FILE was exported at; num_updates moves with status
			// changes alone. The base sent is the version just read, so
			// the daemon refuses the push if anything changes meanwhile.
			if int64(next.AdminEpoch) != curVer.AdminEpoch || int64(next.Epoch) != curVer.Epoch {
				return fmt.Errorf("%s was exported at CIB %s but the cluster's configuration is at %d.%d.%d now: re-export and redo your edit, or push with --force to overwrite", path,
					next.Version(), curVer.AdminEpoch, curVer.Epoch, curVer.NumUpdates)
			}
			base := curVer
			req.BaseVersion = &base
		}
		resp, err = client.ReplaceCIB(ctx, req)
		if errors.Is(err, appliance.ErrConflict) && !f.force && attempt < maxCIBRetries {
			if _, curVer, err = readCIB(ctx, client); err != nil {
				return unreachable(err)
			}
			continue
		}
		break
	}
	switch {
	case errors.Is(err, appliance.ErrConflict):
		return fmt.Errorf("the CIB kept changing while %s was being pushed: try again, or push with --force", path)
	case errors.Is(err, appliance.ErrInvalid):
		var ae *appliance.APIError
		errors.As(err, &ae)
		return fmt.Errorf("ovshad refused %s: %s (nothing was changed)", path, ae.Message)
	case err != nil:
		return cibEdit{reason: "cib push " + path, timeout: f.timeout}.explain(ctx, err)
	}
	v := resp.Version
	report(cmd.ErrOrStderr(), "cib push %s: committed, CIB version %d.%d.%d\n", path, v.AdminEpoch, v.Epoch, v.NumUpdates)
	return nil
}

// renderPatch prints a CIB diff one change per line.
func renderPatch(w io.Writer, p *cib.Patch) {
	if len(p.Changes) == 0 {
		fmt.Fprintln(w, "no changes")
		return
	}
	for _, ch := range p.Changes {
		switch ch.Op {
		case "create":
			fmt.Fprintf(w, "+ %s: %s\n", ch.Path, ch.XML)
		case "delete":
			fmt.Fprintf(w, "- %s\n", ch.Path)
		case "move":
			fmt.Fprintf(w, "~ %s: move to position %d\n", ch.Path, ch.Position)
		case "modify":
			var parts []string
			keys := make([]string, 0, len(ch.Set))
			for k := range ch.Set {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				parts = append(parts, fmt.Sprintf("%s=%q", k, ch.Set[k]))
			}
			for _, k := range ch.Unset {
				parts = append(parts, "-"+k)
			}
			if len(parts) == 0 {
				parts = []string{"attribute order"}
			}
			fmt.Fprintf(w, "~ %s: %s\n", ch.Path, strings.Join(parts, " "))
		}
	}
}
