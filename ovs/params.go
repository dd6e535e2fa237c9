package ovs

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/ovsha/ovsha/agents"
)

// OwnerKey is the external_ids key that marks a row as created by an ovsha
// resource; its value is the resource id.
const OwnerKey = "ovsha-resource"

// badParam returns the OCF_ERR_CONFIGURED error for parameter name.
func badParam(name, value, want string) error {
	return agents.Errorf(agents.ErrConfigured, "parameter %s=%q is invalid: want %s", name, value, want)
}

// checkKnown rejects parameters that are not in specs.
func checkKnown(p agents.Params, specs []agents.ParamSpec) error {
	known := make(map[string]bool, len(specs))
	for _, s := range specs {
		known[s.Name] = true
	}
	var unknown []string
	for k := range p {
		// The CRM adds CRM_meta_* (OCF_RESKEY_CRM_meta_*) to every call.
		if !known[k] && !strings.HasPrefix(k, "CRM_meta_") {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return agents.Errorf(agents.ErrConfigured, "unknown parameter %s (known: %s)", strings.Join(unknown, ", "), names(specs))
	}
	for _, s := range specs {
		if s.Required && strings.TrimSpace(p[s.Name]) == "" {
			return agents.Errorf(agents.ErrConfigured, "parameter %s is required: %s", s.Name, s.ShortDesc)
		}
	}
	return nil
}

func names(specs []agents.ParamSpec) string {
	n := make([]string, len(specs))
	for i, s := range specs {
		n[i] = s.Name
	}
	return strings.Join(n, ", ")
}

// ifName checks a Linux interface name (dev_valid_name): 1 to 15 bytes, not
// "." or "..", no '/', ':' or white space.
func ifName(param, v string) (string, error) {
	const want = "an interface name of 1 to 15 characters without '/', ':' or spaces"
	if v == "" || len(v) > 15 || v == "." || v == ".." || strings.ContainsAny(v, "/: \t\n\r") {
		return "", badParam(param, v, want)
	}
	return v, nil
}

// list splits a comma- or space-separated list, dropping empty items.
func list(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
}

// keyValues parses "k=v,k2=v2" (commas or spaces between pairs).
func keyValues(param, v string) (map[string]string, error) {
	m := map[string]string{}
	for _, kv := range list(v) {
		k, val, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, badParam(param, v, "a list of key=value pairs separated by commas")
		}
		m[k] = val
	}
	return m, nil
}

func boolParam(param, v string, def bool) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "":
		return def, nil
	case "1", "true", "yes", "on", "y":
		return true, nil
	case "0", "false", "no", "off", "n":
		return false, nil
	}
	return false, badParam(param, v, "a boolean (true or false)")
}

func intParam(param, v string, def, min, max int) (int, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		return 0, badParam(param, v, fmt.Sprintf("an integer from %d to %d", min, max))
	}
	return n, nil
}

func oneOf(param, v, def string, allowed ...string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return def, nil
	}
	for _, a := range allowed {
		if v == a {
			return v, nil
		}
	}
	return "", badParam(param, v, "one of "+strings.Join(allowed, ", "))
}

func owned(ext map[string]string, id string) bool { return ext[OwnerKey] == id }

// withOwner returns a copy of ext with the ownership mark for id.
func withOwner(ext map[string]string, id string) map[string]string {
	m := make(map[string]string, len(ext)+1)
	for k, v := range ext {
		m[k] = v
	}
	m[OwnerKey] = id
	return m
}
