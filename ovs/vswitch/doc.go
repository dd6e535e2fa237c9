// Package vswitch holds the Go models of the Open_vSwitch database, generated
// by libovsdb's modelgen from the vswitch.ovsschema file next to this one
// (copied from openvswitch-common 3.1.0, schema version 8.3.1).
// Regenerate with `go generate ./ovs/vswitch`; do not edit the other files.
package vswitch

//go:generate go tool modelgen -p vswitch -o . vswitch.ovsschema
