package config

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

func (d *decoder) quorum(secs []*Entry, nodes []Node) Quorum {
	q := DefaultQuorum()
	s := d.section("quorum", secs)
	q.Provider = s.enum("provider", "", "corosync_votequorum")
	if !s.has("provider") {
		d.warnf(s.line, "quorum.provider", "not set; corosync would run without quorum, ovsha always computes votequorum")
	}
	q.ExpectedVotes = uint32(s.num("expected_votes", 0, 1, 1<<24))
	q.TwoNode = s.boolean("two_node", false)
	q.WaitForAll = s.boolean("wait_for_all", q.TwoNode)
	q.LastManStanding = s.boolean("last_man_standing", false)
	q.LastManStandingWindow = s.msec("last_man_standing_window", DefaultLastManStandingWindow, 1, maxMs)
	q.AutoTieBreaker = s.boolean("auto_tie_breaker", false)
	if n, ok := s.get("auto_tie_breaker_node"); ok {
		q.AutoTieBreakerNode, q.AutoTieBreakerNodes = d.tieBreaker(n, nodes)
	}
	q.AllowDownscale = s.boolean("allow_downscale", false)
	s.finish("votes", "expected_votes_tracking", "device", "quorumdev_poll", "leaving_timeout")

	if q.TwoNode && len(nodes) > 0 {
		line := s.lineOf("two_node")
		var votes uint32
		for _, n := range nodes {
			votes += n.QuorumVotes
		}
		switch {
		case len(nodes) != 2:
			d.errorf(line, "quorum.two_node", "needs exactly 2 nodes, the nodelist has %d; remove two_node or fix the nodelist", len(nodes))
		case votes != 2:
			d.errorf(line, "quorum.two_node", "needs 1 vote per node, the nodes have %d votes in all; remove quorum_votes or two_node", votes)
		case q.ExpectedVotes != 0 && q.ExpectedVotes != 2:
			d.errorf(s.lineOf("expected_votes"), "quorum.expected_votes", "%d contradicts two_node, which needs 2; remove expected_votes", q.ExpectedVotes)
		}
	}
	return q
}

// tieBreaker reads auto_tie_breaker_node: lowest, highest or node ids.
func (d *decoder) tieBreaker(n *Entry, nodes []Node) (string, []uint32) {
	switch n.Value {
	case "lowest", "highest":
		return n.Value, nil
	}
	var ids []uint32
	for _, f := range strings.Fields(n.Value) {
		id, err := strconv.ParseUint(f, 10, 32)
		if err != nil || id == 0 || id > maxNodeID {
			d.errorf(n.Line, "quorum.auto_tie_breaker_node", "%q is not valid (expected lowest, highest or a space-separated list of nodeids)", n.Value)
			return DefaultAutoTieBreakerNode, nil
		}
		if !hasNode(nodes, uint32(id)) && len(nodes) > 0 {
			d.warnf(n.Line, "quorum.auto_tie_breaker_node", "nodeid %d is not in the nodelist", id)
		}
		ids = append(ids, uint32(id))
	}
	if len(ids) == 0 {
		d.errorf(n.Line, "quorum.auto_tie_breaker_node", "empty (expected lowest, highest or a space-separated list of nodeids)")
		return DefaultAutoTieBreakerNode, nil
	}
	return "list", ids
}

func hasNode(nodes []Node, id uint32) bool {
	for _, n := range nodes {
		if n.ID == id {
			return true
		}
	}
	return false
}

// corosyncLoggingKeys are logging keys corosync knows and ovsha ignores.
var corosyncLoggingKeys = []string{
	"fileline", "function_name", "blackbox", "logfile_priority",
	"syslog_facility", "syslog_priority", "tags", "mode",
}

func (d *decoder) logging(secs []*Entry) Logging {
	l := DefaultLogging()
	s := d.section("logging", secs)
	l.ToStderr = s.boolean("to_stderr", l.ToStderr)
	l.ToLogfile = s.boolean("to_logfile", l.ToLogfile)
	l.Logfile = s.absPath("logfile", "")
	l.ToSyslog = s.boolean("to_syslog", l.ToSyslog)
	l.Debug = debugLevel(s, l.Debug)
	l.Timestamp = s.enum("timestamp", l.Timestamp, "off", "on", "hires")
	if l.ToLogfile && l.Logfile == "" && !s.has("logfile") {
		d.errorf(s.lineOf("to_logfile"), "logging.to_logfile", "yes needs a logfile; set logging.logfile to an absolute path")
	}
	for i, sec := range s.sub("logger_subsys") {
		path := fmt.Sprintf("logging.logger_subsys.%d", i)
		ls := d.section(path, []*Entry{sec})
		sub := LoggerSubsys{
			Subsys:    ls.str("subsys", ""),
			Debug:     debugLevel(ls, l.Debug),
			ToStderr:  ls.boolean("to_stderr", l.ToStderr),
			ToLogfile: ls.boolean("to_logfile", l.ToLogfile),
			ToSyslog:  ls.boolean("to_syslog", l.ToSyslog),
		}
		if sub.Subsys == "" {
			d.errorf(sec.Line, path+".subsys", "missing; a logger_subsys section must name its subsystem, e.g. subsys: QUORUM")
		}
		if sub.ToLogfile && l.Logfile == "" && ls.has("to_logfile") {
			d.errorf(ls.lineOf("to_logfile"), path+".to_logfile", "yes needs a logfile; set logging.logfile to an absolute path")
		}
		ls.finish(corosyncLoggingKeys...)
		l.Subsystems = append(l.Subsystems, sub)
	}
	s.finish(corosyncLoggingKeys...)
	return l
}

// debugLevel reads debug: off, on or trace (booleans mean off or on).
func debugLevel(s *section, def string) string {
	n, ok := s.get("debug")
	if !ok {
		return def
	}
	if n.Value == "trace" {
		return "trace"
	}
	if v, ok := parseBool(n.Value); ok {
		if v {
			return "on"
		}
		return "off"
	}
	s.d.errorf(n.Line, s.key("debug"), "%q is not valid (expected off, on or trace)", n.Value)
	return def
}

func (d *decoder) ovsha(secs []*Entry) Ovsha {
	o := DefaultOvsha()
	s := d.section("ovsha", secs)
	if n, ok := s.get("metrics_addr"); ok && n.Value != "" {
		ap, err := netip.ParseAddrPort(n.Value)
		if err != nil || ap.Port() == 0 {
			d.errorf(n.Line, "ovsha.metrics_addr", "%q is not an address:port (expected e.g. 127.0.0.1:9405 or [::1]:9405; leave it out for no metrics)", n.Value)
		} else {
			o.MetricsAddr = ap
		}
	}
	if n, ok := s.get("api_group"); ok {
		if n.Value == "" || strings.ContainsAny(n.Value, " \t:") {
			d.errorf(n.Line, "ovsha.api_group", "%q is not a group name", n.Value)
		} else {
			o.APIGroup = n.Value
		}
	}
	o.APISocket = s.absPath("api_socket", o.APISocket)
	s.finish()
	return o
}
