package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/ovsha/ovsha/appliance"
)

// agentMeta asks the daemon about an agent before anything is written.
// It returns nil metadata (and no error) when the daemon has no agents
// endpoint to ask; an agent the daemon does not know is an error naming it.
func agentMeta(ctx context.Context, c *appliance.Client, spec string) (*appliance.AgentResponse, error) {
	if _, err := c.Agents(ctx); err != nil {
		if errors.Is(err, appliance.ErrNotFound) {
			return nil, nil
		}
		return nil, err
	}
	m, err := c.Agent(ctx, spec)
	if errors.Is(err, appliance.ErrNotFound) {
		return nil, fmt.Errorf("unknown agent %q: ovshad at %s cannot resolve it (see `ovsha resource list-agents`)", spec, c.Socket())
	}
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// checkParams holds a resource's parameters against its agent's
// metadata: every required parameter is set and every parameter is one
// the agent declares (unless force).
func checkParams(rsc, spec string, m *appliance.AgentResponse, params map[string]string, force bool) error {
	if m == nil {
		return nil
	}
	declared := map[string]bool{}
	var missing []string
	for _, p := range m.Params {
		declared[p.Name] = true
		if p.Required && params[p.Name] == "" {
			missing = append(missing, p.Name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("resource %q: agent %s requires %s (see `ovsha resource describe %s`)", rsc, spec, plural("parameter", missing), spec)
	}
	if force {
		return nil
	}
	var unknown []string
	stonith := strings.HasPrefix(spec, "stonith:")
	for k := range params {
		// Fence devices take the fencer's own pcmk_* settings
		// (pcmk_host_list, pcmk_delay_base, ...), which no fence agent
		// declares in its metadata.
		if !declared[k] && !(stonith && strings.HasPrefix(k, "pcmk_")) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("resource %q: agent %s has no %s (see `ovsha resource describe %s`; add --force to set it anyway)", rsc, spec, plural("parameter", unknown), spec)
	}
	return nil
}

func plural(noun string, names []string) string {
	if len(names) == 1 {
		return noun + " " + names[0]
	}
	return noun + "s " + strings.Join(names, ", ")
}

// unreachable turns a failed connection into the usual advice.
func unreachable(err error) error {
	if errors.Is(err, appliance.ErrUnreachable) {
		return fmt.Errorf("%v — is ovshad running? (select another daemon with --socket or %s)", err, socketEnv)
	}
	return err
}
