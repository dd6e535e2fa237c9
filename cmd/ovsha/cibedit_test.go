package main

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ovsha/ovsha/cluster/cib"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/cli")

func baseCIB(t *testing.T) *cib.CIB {
	t.Helper()
	data, err := os.ReadFile("testdata/cli/base.xml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := cib.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// applyChecked runs an edit as cibEdit.apply does, minus the I/O: the
// edit, then the refusal of new validation problems.
func applyChecked(c *cib.CIB, edit func(*cib.CIB) error) error {
	before := validationSet(c)
	if err := edit(c); err != nil {
		return err
	}
	return newValidationErrors(before, c)
}

func mustArgs(t *testing.T, args ...string) rscArgs {
	t.Helper()
	a, err := parseRscArgs(args)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func ignore[T any](_ T, err error) error { return err }

var defaultMonitor = []opArg{{Name: "monitor", Attrs: []kv{{"interval", "10s"}, {"timeout", "20s"}}}}

// TestCIBTransformations pins each verb's change to the CIB as golden XML
// (testdata/cli/NAME.xml; -update rewrites them).
func TestCIBTransformations(t *testing.T) {
	vip := agentRef{"ocf", "heartbeat", "IPaddr2"}
	cases := []struct {
		name string
		edit func(t *testing.T, c *cib.CIB) error
	}{
		{"create-primitive", func(t *testing.T, c *cib.CIB) error {
			return createResource(c, createSpec{ID: "vip2", Agent: vip, DefaultOps: defaultMonitor,
				Args: mustArgs(t, "ip=192.0.2.2", "cidr_netmask=24", "op", "start", "timeout=30s", "meta", "resource-stickiness=100")})
		}},
		{"create-in-group", func(t *testing.T, c *cib.CIB) error {
			return createResource(c, createSpec{ID: "vip2", Agent: vip, Group: "gateway", DefaultOps: defaultMonitor,
				Args: mustArgs(t, "ip=192.0.2.2", "op", "monitor", "interval=5s", "timeout=10s", "on-fail=restart")})
		}},
		{"create-new-group", func(t *testing.T, c *cib.CIB) error {
			return createResource(c, createSpec{ID: "db", Agent: agentRef{Class: "systemd", Type: "postgresql"}, Group: "svc", DefaultOps: defaultMonitor})
		}},
		{"create-clone", func(t *testing.T, c *cib.CIB) error {
			return createResource(c, createSpec{ID: "ping", Agent: agentRef{"ocf", "pacemaker", "ping"}, Clone: true,
				Args: mustArgs(t, "host_list=192.0.2.254")})
		}},
		{"create-stonith", func(t *testing.T, c *cib.CIB) error {
			return createResource(c, createSpec{ID: "fence-n1", Agent: agentRef{Class: "stonith", Type: "fence_ipmilan"},
				DefaultOps: []opArg{{Name: "monitor", Attrs: []kv{{"interval", "60s"}}}},
				Args:       mustArgs(t, "ip=10.0.0.11", "pcmk_host_list=n1")})
		}},
		{"update", func(t *testing.T, c *cib.CIB) error {
			return updateResource(c, "gw-vip", mustArgs(t, "cidr_netmask=24", "ip=192.0.2.9", "op", "monitor", "interval=3s", "meta", "resource-stickiness=50"))
		}},
		{"update-remove", func(t *testing.T, c *cib.CIB) error {
			return updateResource(c, "br-ex", mustArgs(t, "bridge=", "meta", "priority="))
		}},
		{"delete-member", func(t *testing.T, c *cib.CIB) error { return ignore(deleteResource(c, "gw-vip")) }},
		{"delete-group", func(t *testing.T, c *cib.CIB) error { return ignore(deleteResource(c, "gateway")) }},
		{"delete-with-constraints", func(t *testing.T, c *cib.CIB) error { return ignore(deleteResource(c, "web")) }},
		{"disable", func(t *testing.T, c *cib.CIB) error { return setTargetRole(c, "web", "Stopped") }},
		{"disable-enable", func(t *testing.T, c *cib.CIB) error {
			if err := setTargetRole(c, "gateway", "Stopped"); err != nil {
				return err
			}
			return setTargetRole(c, "gateway", "")
		}},
		{"move", func(t *testing.T, c *cib.CIB) error { return moveResource(c, "gateway", "n2", false) }},
		{"move-twice", func(t *testing.T, c *cib.CIB) error {
			if err := moveResource(c, "gateway", "n2", false); err != nil {
				return err
			}
			return moveResource(c, "gateway", "n1", false)
		}},
		{"ban", func(t *testing.T, c *cib.CIB) error { return moveResource(c, "gateway", "n1", true) }},
		{"move-clear", func(t *testing.T, c *cib.CIB) error {
			if err := moveResource(c, "gateway", "n2", false); err != nil {
				return err
			}
			if err := moveResource(c, "web", "n1", true); err != nil {
				return err
			}
			return ignore(clearResource(c, "gateway"))
		}},
		{"order", func(t *testing.T, c *cib.CIB) error {
			s, err := parseOrderArgs(strings.Fields("stop gw-vip then start web kind=Optional symmetrical=false"))
			if err != nil {
				return err
			}
			return ignore(addOrder(c, s))
		}},
		{"colocation", func(t *testing.T, c *cib.CIB) error { return ignore(addColocation(c, "web", "gateway", "INFINITY")) }},
		{"location", func(t *testing.T, c *cib.CIB) error {
			_, prefs, err := parseLocationArgs(strings.Fields("gateway prefers n1=200 n2"))
			if err != nil {
				return err
			}
			if err := ignore(addLocation(c, "gateway", prefs)); err != nil {
				return err
			}
			_, prefs, err = parseLocationArgs(strings.Fields("web avoids n1=50"))
			if err != nil {
				return err
			}
			return ignore(addLocation(c, "web", prefs))
		}},
		{"constraint-delete", func(t *testing.T, c *cib.CIB) error { return deleteConstraint(c, "order-gateway-web-mandatory") }},
		{"node-standby-maintenance", func(t *testing.T, c *cib.CIB) error {
			if err := setNodeAttr(c, "n2", "standby", "on"); err != nil {
				return err
			}
			return setNodeAttr(c, "n1", "maintenance", "on")
		}},
		{"node-unstandby", func(t *testing.T, c *cib.CIB) error {
			if err := setNodeAttr(c, "n2", "standby", "on"); err != nil {
				return err
			}
			return setNodeAttr(c, "n2", "standby", "")
		}},
		{"property-set", func(t *testing.T, c *cib.CIB) error {
			if err := setProperty(c, "no-quorum-policy", "ignore"); err != nil {
				return err
			}
			return setProperty(c, "fencing-enabled", "true") // renames stonith-enabled in place
		}},
		{"property-unset", func(t *testing.T, c *cib.CIB) error { return setProperty(c, "fencing-enabled", "") }},
		{"rsc-defaults", func(t *testing.T, c *cib.CIB) error {
			for _, p := range []kv{{"resource-stickiness", "100"}, {"migration-threshold", "3"}, {"resource-stickiness", "200"}} {
				if err := setRscDefault(c, p.Key, p.Value); err != nil {
					return err
				}
			}
			return nil
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := baseCIB(t)
			if err := applyChecked(c, func(c *cib.CIB) error { return tc.edit(t, c) }); err != nil {
				t.Fatal(err)
			}
			got, err := c.MarshalXMLBytes()
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "cli", tc.name+".xml")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestCIBTransformations -update)", err)
			}
			if string(got) != string(want) {
				t.Errorf("%s differs from the golden file (-update rewrites it):\n%s", tc.name, got)
			}
		})
	}
}

// TestCIBTransformationErrors: requests that do not fit the CIB are
// refused with a message naming the object, and leave the CIB as it was.
func TestCIBTransformationErrors(t *testing.T) {
	vip := agentRef{"ocf", "heartbeat", "IPaddr2"}
	order := func(args string) func(c *cib.CIB) error {
		return func(c *cib.CIB) error {
			s, err := parseOrderArgs(strings.Fields(args))
			if err != nil {
				return err
			}
			return ignore(addOrder(c, s))
		}
	}
	cases := []struct {
		name     string
		edit     func(c *cib.CIB) error
		want     string
		noChange bool
	}{
		{"create existing", func(c *cib.CIB) error { return createResource(c, createSpec{ID: "gw-vip", Agent: vip}) }, `resource "gw-vip" already exists (a primitive)`, false},
		{"create id of nvpair", func(c *cib.CIB) error {
			return createResource(c, createSpec{ID: "gw-vip-instance_attributes", Agent: vip})
		}, `id "gw-vip-instance_attributes" is already used`, false},
		{"group is a primitive", func(c *cib.CIB) error { return createResource(c, createSpec{ID: "x", Agent: vip, Group: "web"}) }, `"web" is a primitive, not a group`, false},
		{"update unknown", func(c *cib.CIB) error { return updateResource(c, "nope", rscArgs{}) }, `resource "nope" does not exist (resources: br-ex, gateway, gw-vip, web)`, false},
		{"update group params", func(c *cib.CIB) error {
			return updateResource(c, "gateway", rscArgs{Params: []kv{{"a", "b"}}})
		}, `"gateway" is a group: only its meta attributes can be updated`, false},
		{"delete unknown", func(c *cib.CIB) error { return ignore(deleteResource(c, "nope")) }, `resource "nope" does not exist`, false},
		{"move group member", func(c *cib.CIB) error { return moveResource(c, "gw-vip", "n2", false) }, `"gw-vip" is a member of group "gateway": move the group instead`, false},
		{"move to unknown node", func(c *cib.CIB) error { return moveResource(c, "gateway", "n9", false) }, `node "n9" is not in the cluster (nodes: n1, n2)`, false},
		{"ban twice", func(c *cib.CIB) error {
			if err := moveResource(c, "web", "n1", true); err != nil {
				return err
			}
			return moveResource(c, "web", "n1", true)
		}, "web is already banned from n1", true},
		{"clear nothing", func(c *cib.CIB) error { return ignore(clearResource(c, "gateway")) }, "gateway has no move or ban constraints", true},
		{"enable enabled", func(c *cib.CIB) error { return setTargetRole(c, "web", "") }, "web is not disabled", true},
		{"order unknown", order("gateway then ghost"), `resource "ghost" does not exist`, false},
		{"order duplicate", order("gateway then web"), `gateway then web is already ordered by constraint "order-gateway-web-mandatory"`, false},
		{"order loop", order("web then gateway"), `order constraints order-gateway-web-mandatory, order-web-gateway-mandatory form a loop: start gateway → start web → start gateway`, false},
		{"order loop through stop", order("stop gateway then stop web symmetrical=false"), `form a loop: stop gateway → stop web → stop gateway`, false},
		{"colocation unknown", func(c *cib.CIB) error { return ignore(addColocation(c, "web", "ghost", "INFINITY")) }, `resource "ghost" does not exist`, false},
		{"colocation twice", func(c *cib.CIB) error {
			if _, err := addColocation(c, "web", "gateway", "INFINITY"); err != nil {
				return err
			}
			return ignore(addColocation(c, "web", "gateway", "100"))
		}, `web is already colocated with gateway by constraint "colocation-web-gateway-INFINITY"`, false},
		{"location unknown node", func(c *cib.CIB) error {
			return ignore(addLocation(c, "web", []locationPref{{"n7", "INFINITY"}}))
		}, `node "n7" is not in the cluster`, false},
		{"constraint delete unknown", func(c *cib.CIB) error { return deleteConstraint(c, "nope") },
			`constraint "nope" does not exist (constraints: location-gateway-n1-100, order-gateway-web-mandatory)`, false},
		{"standby unknown node", func(c *cib.CIB) error { return setNodeAttr(c, "n5", "standby", "on") }, `node "n5" is not in the cluster (nodes: n1, n2)`, false},
		{"unstandby not standby", func(c *cib.CIB) error { return setNodeAttr(c, "n1", "standby", "") }, "node n1 has no standby attribute", true},
		{"unset unset property", func(c *cib.CIB) error { return setProperty(c, "maintenance-mode", "") }, "property maintenance-mode is not set", true},
		{"invalid after edit", func(c *cib.CIB) error {
			c.Config.Constraints.Items = append(c.Config.Constraints.Items, cib.Constraint{Kind: cib.KindColocation, ID: "bad", Rsc: "web", WithRsc: "gateway", Score: "lots"})
			return nil
		}, `the change would make the CIB invalid, nothing was changed: rsc_colocation "bad": score "lots" is not a number`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := baseCIB(t)
			err := applyChecked(c, tc.edit)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			var nc noChange
			if errors.As(err, &nc) != tc.noChange {
				t.Errorf("noChange = %v, want %v", !tc.noChange, tc.noChange)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

// TestOrderLoopsExistingCIB: loops already in a CIB are reported once per
// loop, deterministically.
func TestOrderLoops(t *testing.T) {
	c := baseCIB(t)
	if got := orderLoops(c); len(got) != 0 {
		t.Fatalf("base CIB has loops: %v", got)
	}
	c.Config.Constraints.Items = append(c.Config.Constraints.Items,
		cib.Constraint{Kind: cib.KindOrder, ID: "o2", First: "web", Then: "gateway", OrderKind: "Serialize"})
	if got := orderLoops(c); len(got) != 0 {
		t.Fatalf("Serialize orders nothing, got loops %v", got)
	}
	c.Config.Constraints.Items = append(c.Config.Constraints.Items,
		cib.Constraint{Kind: cib.KindOrder, ID: "o3", First: "web", Then: "gateway", Symmetrical: "false"})
	a, b := orderLoops(c), orderLoops(c)
	if len(a) != 1 || strings.Join(a, "|") != strings.Join(b, "|") {
		t.Fatalf("loops %v then %v, want the same single loop", a, b)
	}
}
