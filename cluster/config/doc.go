// Package config owns ovsha's cluster configuration file,
// /etc/ovsha/cluster.conf, written in corosync.conf(5) syntax. It is the only
// package that parses the file.
//
// It has two layers:
//
//   - The syntax tree (Parse, File, Node): every section, key, comment and
//     blank line of the file, with line numbers. Sections and keys ovsha does
//     not know are kept, so tools can edit a file with Get, Set and Delete
//     and write it back with Format without losing anything.
//   - The typed configuration (Decode, Cluster): totem (with interface
//     sections), nodelist, quorum (votequorum(5)), logging and the ovsha
//     section, with ovsha's defaults (defaults.go says each one and why),
//     validated field by field and across fields. Timers are milliseconds in
//     the file and time.Duration in Go; Totem.Effective computes the timers
//     the protocol runs with (token_coefficient, derived token_retransmit,
//     hold and consensus), as corosync does.
//
// Typical use:
//
//	c, err := config.Load("/etc/ovsha/cluster.conf")
//	if err != nil { ... }          // one line per problem: "file:line: key: what is expected"
//	for _, w := range c.Warnings { log.Warn(w) }
//	me, err := c.LocalNode(localAddrs)
//	timers := c.EffectiveTotem()
//
// A tool that writes configurations edits the tree instead:
//
//	f, err := config.Parse("cluster.conf", data)
//	err = f.Set("nodelist.node.3.nodeid", "4") // adds a fourth node section
//	_, err = config.Decode(f)                  // validate before writing
//	os.WriteFile(path, f.Format(), 0o644)
//
// Errors from Parse and Decode are *Error values (Decode joins several with
// errors.Join). Keys and sections ovsha ignores are not errors; Decode lists
// them in Cluster.Warnings.
package config
