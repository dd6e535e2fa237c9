package image

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// NodeConf is a seed's node.conf: this node's name and the addresses of
// its heartbeat links and uplinks. Format, one "key: value" per line, #
// comments:
//
//	name: n1
//	link0: enp1s0 10.99.0.1/24                # linkN carries ringN_addr
//	uplink: 52:54:00:12:34:56 192.0.2.11/24 via 192.0.2.1
//
// An interface is a name or a MAC address.
type NodeConf struct {
	Name    string
	Links   []Link
	Uplinks []Link
}

// Link is one interface address. Link is the ring number for heartbeat
// links, -1 for uplinks; Via is the uplink's default gateway (optional).
type Link struct {
	Link      int
	Interface string
	Prefix    netip.Prefix
	Via       netip.Addr
}

var (
	linkKeyRE  = regexp.MustCompile(`^link([0-7])$`)
	nodeNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$`)
	ifNameRE   = regexp.MustCompile(`^[A-Za-z0-9_.:@-]{1,15}$`)
)

// ParseNodeConf parses node.conf; name is the file name used in errors,
// which are "name:line: key: what is expected", all of them joined.
func ParseNodeConf(name string, data []byte) (*NodeConf, error) {
	nc := &NodeConf{}
	var errs []error
	bad := func(line int, key, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s:%d: %s: %s", name, line, key, fmt.Sprintf(format, a...)))
	}
	seen := map[string]int{}
	for i, raw := range strings.Split(string(data), "\n") {
		line := i + 1
		l := strings.TrimSpace(strings.TrimSuffix(raw, "\r"))
		if c := strings.Index(l, "#"); c >= 0 {
			l = strings.TrimSpace(l[:c])
		}
		if l == "" {
			continue
		}
		key, val, ok := strings.Cut(l, ":")
		// a MAC address has colons: the key is what precedes the first one
		if !ok {
			bad(line, l, "expected \"key: value\"")
			continue
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		if prev, dup := seen[key]; dup && key != "uplink" {
			bad(line, key, "set twice (first on line %d)", prev)
			continue
		}
		seen[key] = line
		switch {
		case key == "name":
			if !nodeNameRE.MatchString(val) {
				bad(line, key, "%q: expected a node name (letters, digits, _ . -)", val)
			}
			nc.Name = val
		case key == "uplink":
			l, err := parseLinkValue(val, true)
			if err != nil {
				bad(line, key, "%v", err)
				continue
			}
			l.Link = -1
			nc.Uplinks = append(nc.Uplinks, l)
		case linkKeyRE.MatchString(key):
			l, err := parseLinkValue(val, false)
			if err != nil {
				bad(line, key, "%v", err)
				continue
			}
			l.Link, _ = strconv.Atoi(key[4:])
			nc.Links = append(nc.Links, l)
		default:
			bad(line, key, "unknown key (expected name, link0 to link7 or uplink)")
		}
	}
	if nc.Name == "" && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("%s: name: missing (this node's name in cluster.conf's nodelist)", name))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return nc, nil
}

func parseLinkValue(val string, uplink bool) (Link, error) {
	f := strings.Fields(val)
	want := "INTERFACE ADDRESS/PREFIX"
	if uplink {
		want += " [via GATEWAY]"
	}
	if len(f) != 2 && !(uplink && len(f) == 4) {
		return Link{}, fmt.Errorf("%q: expected %s", val, want)
	}
	var l Link
	if _, err := net.ParseMAC(f[0]); err == nil {
		l.Interface = strings.ToLower(f[0])
	} else if ifNameRE.MatchString(f[0]) {
		l.Interface = f[0]
	} else {
		return Link{}, fmt.Errorf("%q: not an interface name or MAC address", f[0])
	}
	p, err := netip.ParsePrefix(f[1])
	if err != nil {
		return Link{}, fmt.Errorf("%q: expected ADDRESS/PREFIX, e.g. 10.0.0.1/24", f[1])
	}
	l.Prefix = p
	if len(f) == 4 {
		if f[2] != "via" {
			return Link{}, fmt.Errorf("%q: expected \"via GATEWAY\" after the address", strings.Join(f[2:], " "))
		}
		gw, err := netip.ParseAddr(f[3])
		if err != nil || gw.Is4() != p.Addr().Is4() {
			return Link{}, fmt.Errorf("gateway %q: expected an address of the same family as %s", f[3], p)
		}
		l.Via = gw
	}
	return l, nil
}

// IsMAC says whether the link names its interface by MAC address.
func (l Link) IsMAC() bool {
	_, err := net.ParseMAC(l.Interface)
	return err == nil
}
