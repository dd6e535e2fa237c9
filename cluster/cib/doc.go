// Package cib owns the cluster information base: the configuration (Spec)
// and status (Status) records of the Pacemaker half of ovsha.
//
// A CIB is read from and written to Pacemaker's CIB XML schema (the subset
// covering cluster properties, nodes, primitives, groups, clones, location,
// colocation and order constraints, rsc_defaults, op_defaults and the status
// section), so a backup taken with `pcs cluster cib > backup.xml` loads and
// what ovsha writes loads back into Pacemaker. Attributes and elements that
// ovsha does not model are kept verbatim and written back out.
//
// The same records have a JSON form (the control API uses it), versions with
// Pacemaker's meaning (admin_epoch, epoch, num_updates), validation whose
// errors name the element id and the problem, and a diff/patch between two
// versions. Atomic persistence with a checksum lives in the store
// subpackage, so that readers of the model (the pure scheduler) import no
// file I/O.
//
// Typical use:
//
//	c, err := cib.Parse(data)          // XML bytes → *CIB
//	if errs := c.Validate(); len(errs) > 0 { ... }
//	out, err := c.MarshalXMLBytes()     // *CIB → XML bytes
//	p, err := cib.Diff(old, c)          // patch old → c; p.Apply(old)
package cib
