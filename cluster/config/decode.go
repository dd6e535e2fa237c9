package config

import (
	"errors"
	"fmt"
	"os"
	"slices"
)

// maxMs bounds every time value (one day), far above any sane setting, so
// that sums and products of timers cannot overflow.
const maxMs = 24 * 3600 * 1000

// Load reads, parses and decodes the file at path. Errors name the path.
func Load(path string) (*Cluster, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading cluster config: %w", err)
	}
	f, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	return Decode(f)
}

// Decode turns the syntax tree into a Cluster, applying defaults and
// checking every value and the relations between them. All problems found
// are returned together (errors.Join), one line each, in the form
// "file:line: key: what is wrong and what is expected". Keys and sections
// ovsha does not use are not errors: they stay in f and are listed in
// Cluster.Warnings.
func Decode(f *File) (*Cluster, error) {
	if f == nil {
		return nil, errors.New("decoding cluster config: no file")
	}
	d := &decoder{file: f.Name}
	root := d.section("", []*Entry{{Kind: KindSection, Children: f.Entries}})
	c := &Cluster{File: f}
	totem := d.section("totem", root.sub("totem"))
	c.Totem = d.totem(totem)
	c.Nodes = d.nodelist(root.sub("nodelist"))
	c.Totem.Interfaces = d.interfaces(totem, c.Nodes)
	totem.finish(corosyncTotemKeys...)
	c.Quorum = d.quorum(root.sub("quorum"), c.Nodes)
	c.Logging = d.logging(root.sub("logging"))
	c.Ovsha = d.ovsha(root.sub("ovsha"))
	root.finish("system", "resources", "nozzle", "uidgid")
	if len(d.errs) == 0 {
		d.relations(totem, c.Totem, len(c.Nodes))
	}
	for _, w := range byLine(d.warns) {
		c.Warnings = append(c.Warnings, w.Error())
	}
	if len(d.errs) > 0 {
		errs := make([]error, len(d.errs))
		for i, e := range byLine(d.errs) {
			errs[i] = e
		}
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// corosyncTotemKeys are totem keys corosync knows and ovsha ignores.
var corosyncTotemKeys = []string{
	"token_warning", "clear_node_high_bit", "crypto_model", "secauth", "key",
	"link_mode", "config_version", "ip_version", "knet_compression_model",
	"knet_compression_threshold", "knet_compression_level",
	"heartbeat_failures_allowed", "max_network_delay", "miss_count_const",
	"knet_pmtud_interval", "knet_mtu", "block_unlisted_ips",
	"cancel_token_hold_on_retransmit", "nodeid", "threads", "rrp_mode",
}

// corosyncInterfaceKeys are totem.interface keys corosync knows and ovsha ignores.
var corosyncInterfaceKeys = []string{
	"knet_ping_interval", "knet_ping_timeout", "knet_ping_precision",
	"knet_pong_count", "knet_transport", "ttl",
}

func (d *decoder) totem(s *section) Totem {
	t := DefaultTotem()
	t.ClusterName = s.str("cluster_name", "")
	if t.ClusterName == "" {
		d.errorf(s.lineOf("cluster_name"), "totem.cluster_name", "missing; every cluster needs a name (it keeps clusters on one network apart)")
	}
	if v := s.enum("version", "2", "2"); v == "2" {
		t.Version = 2
	}
	t.Transport = s.enum("transport", DefaultTransport, "knet", "udpu", "udp")
	if t.Transport == "udp" {
		d.warnf(s.lineOf("transport"), "totem.transport", "udp (multicast) is accepted but not used: ovsha always sends unicast UDP to every node")
	}
	t.CryptoCipher = s.enum("crypto_cipher", DefaultCryptoCipher, "none", "aes256", "aes192", "aes128")
	t.CryptoHash = s.enum("crypto_hash", DefaultCryptoHash, "none", "md5", "sha1", "sha256", "sha384", "sha512")
	t.Keyfile = s.absPath("keyfile", DefaultKeyfile)
	for _, k := range []string{"crypto_cipher", "crypto_hash"} {
		if n, ok := s.keys[k]; ok && n.Value == "none" {
			d.warnf(n.Line, "totem."+k, "none is ignored: ovsha always encrypts and authenticates with AES-256-GCM using %s", t.Keyfile)
		}
	}

	t.Token = s.msec("token", DefaultToken, 10, maxMs)
	t.TokenCoefficient = s.msec("token_coefficient", DefaultTokenCoefficient, 0, maxMs)
	t.TokenRetransmitsBeforeLossConst = int(s.num("token_retransmits_before_loss_const", DefaultTokenRetransmitsBeforeLossConst, 1, 100))
	t.TokenRetransmit = s.msec("token_retransmit", 0, 1, maxMs)
	t.Hold = s.msec("hold", 0, 1, maxMs)
	t.Join = s.msec("join", DefaultJoin, 1, maxMs)
	t.Consensus = s.msec("consensus", 0, 1, maxMs)
	t.Merge = s.msec("merge", DefaultMerge, 1, maxMs)
	t.Downcheck = s.msec("downcheck", DefaultDowncheck, 1, maxMs)
	t.FailRecvConst = int(s.num("fail_recv_const", DefaultFailRecvConst, 1, 1<<31-1))
	t.SeqnoUnchangedConst = int(s.num("seqno_unchanged_const", DefaultSeqnoUnchangedConst, 1, 1<<31-1))
	t.MaxMessages = int(s.num("max_messages", DefaultMaxMessages, 1, 1<<20))
	t.WindowSize = int(s.num("window_size", DefaultWindowSize, 1, 1<<20))
	t.SendJoin = s.msec("send_join", DefaultSendJoin, 0, maxMs)
	t.NetMTU = int(s.num("netmtu", DefaultNetMTU, 576, 65535))
	t.StallThreshold = s.msec("stall_threshold", DefaultStallThreshold, 1, maxMs)
	t.HeartbeatInterval = s.msec("heartbeat_interval", DefaultHeartbeatInterval, 1, maxMs)
	t.LinkTimeout = s.msec("link_timeout", DefaultLinkTimeoutFactor*t.HeartbeatInterval, 1, maxMs)
	return t
}

// interfaces decodes the totem.interface sections and completes them with
// defaults for every link the nodes use.
func (d *decoder) interfaces(s *section, nodes []Node) []Interface {
	byLink := map[int]Interface{}
	firstLine := map[int]int{}
	for i, sec := range s.sub("interface") {
		path := fmt.Sprintf("totem.interface.%d", i)
		is := d.section(path, []*Entry{sec})
		var link int64
		if is.has("linknumber") || !is.has("ringnumber") {
			link = is.num("linknumber", 0, 0, 7)
		} else {
			link = is.num("ringnumber", 0, 0, 7)
		}
		ifc := Interface{
			LinkNumber:  int(link),
			Port:        uint16(is.num("mcastport", DefaultPort, 1, 65535)),
			Priority:    int(is.num("knet_link_priority", 0, 0, 255)),
			BindNetAddr: is.addr("bindnetaddr"),
		}
		for _, k := range []string{"mcastaddr", "broadcast"} {
			if n, ok := is.get(k); ok {
				d.warnf(n.Line, path+"."+k, "ignored: ovsha always sends unicast UDP to every node, never multicast or broadcast")
			}
		}
		is.finish(corosyncInterfaceKeys...)
		if prev, dup := firstLine[ifc.LinkNumber]; dup {
			d.errorf(sec.Line, path+".linknumber", "%d is used twice (first at line %d)", ifc.LinkNumber, prev)
			continue
		}
		firstLine[ifc.LinkNumber] = sec.Line
		byLink[ifc.LinkNumber] = ifc
	}
	used := map[int]bool{}
	for _, n := range nodes {
		for link, a := range n.Addrs {
			if a.IsValid() {
				used[link] = true
			}
		}
	}
	for _, link := range sortedKeys(firstLine) {
		if line := firstLine[link]; len(nodes) > 0 && !used[link] {
			d.warnf(line, "totem.interface", "linknumber %d: no node has a ring%d_addr; the settings are unused", link, link)
		}
	}
	for link := range used {
		if _, ok := byLink[link]; !ok {
			byLink[link] = Interface{LinkNumber: link, Port: DefaultPort}
		}
	}
	var out []Interface
	for link := range 8 {
		if ifc, ok := byLink[link]; ok {
			out = append(out, ifc)
		}
	}
	return out
}

// relations checks the timer rules between keys, on the effective values.
func (d *decoder) relations(s *section, t Totem, nodes int) {
	e := t.Effective(nodes)
	tok := fmt.Sprintf("the token timeout (%d ms", ms(e.Token))
	if e.Token != t.Token {
		tok += fmt.Sprintf(" = %d + %d × token_coefficient %d", ms(t.Token), nodes-2, ms(t.TokenCoefficient))
	}
	tok += ")"
	switch {
	case e.TokenRetransmit == 0:
		d.errorf(s.lineOf("token_retransmits_before_loss_const"), "totem.token_retransmits_before_loss_const",
			"%d leaves less than 1 ms between retransmissions within %s; lower it or raise token", e.TokenRetransmitsBeforeLossConst, tok)
	case e.TokenRetransmit >= e.Token:
		d.errorf(s.lineOf("token_retransmit"), "totem.token_retransmit", "%d ms must be less than %s", ms(e.TokenRetransmit), tok)
	}
	if e.Hold >= e.Token/2 {
		d.errorf(s.lineOf("hold"), "totem.hold", "%d ms must be less than half of %s", ms(e.Hold), tok)
	}
	if e.Consensus <= e.Join {
		if t.Consensus != 0 {
			d.errorf(s.lineOf("consensus"), "totem.consensus", "%d ms must be greater than join (%d ms)", ms(e.Consensus), ms(e.Join))
		} else {
			d.errorf(s.lineOf("join"), "totem.join", "%d ms must be less than consensus (%d ms, derived as 0.3 × %s); lower join or set consensus",
				ms(e.Join), ms(e.Consensus), tok)
		}
	}
	if e.MaxMessages > e.WindowSize {
		key := "max_messages"
		if !s.has(key) {
			key = "window_size"
		}
		d.errorf(s.lineOf(key), "totem."+key, "max_messages (%d) must not exceed window_size (%d)", e.MaxMessages, e.WindowSize)
	}
	if e.LinkTimeout <= e.HeartbeatInterval {
		key := "link_timeout"
		if !s.has(key) {
			key = "heartbeat_interval"
		}
		d.errorf(s.lineOf(key), "totem."+key, "link_timeout (%d ms) must be greater than heartbeat_interval (%d ms)", ms(e.LinkTimeout), ms(e.HeartbeatInterval))
	}
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[int]V) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
