// Package e2e holds the gateway lab's end-to-end tests (root only): a
// 3-node gateway lab per test, faults from appliance/lab, and checks made
// from the client's side of the network.
package e2e
