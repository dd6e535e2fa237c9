// Package crmtest holds the resource manager's end-to-end tests: real
// ovshad processes in network namespaces (appliance/lab), an OCF agent
// that runs a real process, and a fence agent that really kills a node's
// processes. It has no non-test code.
package crmtest
