package cib

import (
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const small = `<cib admin_epoch="0" epoch="5" num_updates="2" validate-with="pacemaker-3.9" have-quorum="1">
  <configuration>
    <crm_config><cluster_property_set id="opts">
      <nvpair id="o1" name="stonith-enabled" value="false"/>
    </cluster_property_set></crm_config>
    <nodes><node id="1" uname="node1"/><node id="2" uname="node2"/></nodes>
    <resources>
      <group id="gw">
        <primitive id="br" class="ocf" provider="ovsha" type="ovs-bridge"/>
        <primitive id="vip" class="ocf" provider="heartbeat" type="IPaddr2">
          <instance_attributes id="vip-ia"><nvpair id="vip-ip" name="ip" value="192.0.2.1"/></instance_attributes>
          <operations><op id="vip-mon" name="monitor" interval="10s" timeout="20s" on-fail="restart"/></operations>
        </primitive>
      </group>
      <clone id="ping-clone"><meta_attributes id="pc-m"><nvpair id="pc-i" name="interleave" value="true"/></meta_attributes>
        <primitive id="ping" class="ocf" provider="pacemaker" type="ping"/></clone>
    </resources>
    <constraints>
      <rsc_location id="loc1" rsc="gw" node="node1" score="100"/>
      <rsc_colocation id="col1" rsc="gw" with-rsc="ping-clone" score="INFINITY"/>
      <rsc_order id="ord1" first="ping-clone" then="gw" kind="Mandatory"/>
    </constraints>
    <rsc_defaults><meta_attributes id="rd"><nvpair id="rd1" name="resource-stickiness" value="100"/></meta_attributes></rsc_defaults>
  </configuration>
  <status>
    <node_state id="1" uname="node1" in_ccm="true" crmd="online" join="member" expected="member">
      <transient_attributes id="1"><instance_attributes id="st-1"><nvpair id="st-1-fc" name="fail-count-vip#monitor_10000" value="1"/></instance_attributes></transient_attributes>
      <lrm id="1"><lrm_resources><lrm_resource id="vip" class="ocf" provider="heartbeat" type="IPaddr2">
        <lrm_rsc_op id="vip_last_0" operation="start" interval="0" op-status="0" rc-code="0" call-id="3"/>
      </lrm_resource></lrm_resources></lrm>
    </node_state>
  </status>
</cib>`

func mustParse(t *testing.T, s string) *CIB {
	t.Helper()
	c, err := Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestParseModel(t *testing.T) {
	c := mustParse(t, small)
	if got := c.Version().String(); got != "0.5.2" {
		t.Errorf("version %s, want 0.5.2", got)
	}
	gw := c.FindResource("gw")
	if gw == nil || gw.Kind != KindGroup || len(gw.Children) != 2 {
		t.Fatalf("group gw not parsed: %+v", gw)
	}
	vip := c.FindResource("vip")
	if vip.Ops == nil || vip.Ops.Ops[0].OnFail != "restart" || vip.Ops.Ops[0].Interval != "10s" {
		t.Errorf("vip operations not parsed: %+v", vip.Ops)
	}
	if c.FindResource("ping").Kind != KindPrimitive || c.FindResource("ping-clone").Kind != KindClone {
		t.Error("clone not parsed")
	}
	kinds := []string{}
	for _, k := range c.Config.Constraints.Items {
		kinds = append(kinds, k.Kind)
	}
	if strings.Join(kinds, ",") != "rsc_location,rsc_colocation,rsc_order" {
		t.Errorf("constraint kinds in order: %v", kinds)
	}
	ns := c.FindNodeState("node1")
	if ns == nil || ns.LRM.Resources[0].Ops[0].RCCode != "0" {
		t.Error("status not parsed")
	}
	if v, _ := Lookup(ns.Transient.Attrs, "fail-count-vip#monitor_10000"); v != "1" {
		t.Error("transient attribute not parsed")
	}
}

func TestPropertyAliases(t *testing.T) {
	c := mustParse(t, small)
	for _, name := range []string{"stonith-enabled", "fencing-enabled"} {
		if v, ok := c.Property(name); !ok || v != "false" {
			t.Errorf("Property(%q) = %q, %v; want false (stonith-* and fencing-* are aliases)", name, v, ok)
		}
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name, from, to string
		want           string // substring of the single expected error
	}{
		{"ok", "", "", ""},
		{"missing colocation resource", `with-rsc="ping-clone"`, `with-rsc="nope"`, `rsc_colocation "col1": with-rsc "nope" does not exist`},
		{"location on missing resource", `rsc="gw" node="node1"`, `rsc="ghost" node="node1"`, `rsc_location "loc1": resource "ghost" does not exist`},
		{"score not a number", `score="100"`, `score="lots"`, `rsc_location "loc1": score "lots" is not a number`},
		{"order kind", `kind="Mandatory"`, `kind="Sometimes"`, `rsc_order "ord1": kind "Sometimes"`},
		{"duplicate id", `id="br" class`, `id="vip" class`, `duplicate id`},
		{"missing type", `type="ovs-bridge"`, ``, `primitive "br": missing type`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := mustParse(t, strings.Replace(small, tc.from, tc.to, 1))
			errs := c.Validate()
			if tc.want == "" {
				if len(errs) != 0 {
					t.Fatalf("unexpected errors: %v", errs)
				}
				return
			}
			if len(errs) != 1 || !strings.Contains(errs[0].Error(), tc.want) {
				t.Fatalf("errors %v, want one containing %q", errs, tc.want)
			}
		})
	}
}

func TestParseScore(t *testing.T) {
	for in, want := range map[string]int{"INFINITY": Infinity, "+INFINITY": Infinity, "-INFINITY": -Infinity, "inf": Infinity, "42": 42, "-7": -7, "5000000": Infinity} {
		if got, err := ParseScore(in); err != nil || got != want {
			t.Errorf("ParseScore(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "ten", "1.5"} {
		if _, err := ParseScore(bad); err == nil {
			t.Errorf("ParseScore(%q) accepted", bad)
		}
	}
}

func TestVersionCompare(t *testing.T) {
	a := Version{0, 5, 9}
	for _, tc := range []struct {
		b    Version
		want int
	}{{Version{0, 5, 9}, 0}, {Version{0, 6, 0}, -1}, {Version{1, 0, 0}, -1}, {Version{0, 5, 8}, 1}} {
		if got := a.Compare(tc.b); got != tc.want {
			t.Errorf("%s vs %s = %d, want %d", a, tc.b, got, tc.want)
		}
	}
	c := mustParse(t, small)
	c.BumpStatus()
	c.BumpConfig()
	if c.Version() != (Version{0, 6, 0}) {
		t.Errorf("after bumps: %s, want 0.6.0", c.Version())
	}
}

func xmlOf(t *testing.T, c *CIB) string {
	t.Helper()
	b, err := c.MarshalXMLBytes()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDiffPatchEdits(t *testing.T) {
	base := mustParse(t, small)
	edits := map[string]func(c *CIB){
		"change score": func(c *CIB) { c.Config.Constraints.Items[0].Score = "200" },
		"add resource": func(c *CIB) {
			c.Config.Resources.Items = append(c.Config.Resources.Items, Resource{Kind: KindPrimitive, ID: "new", Class: "ocf", Provider: "x", Type: "y"})
		},
		"delete constraint": func(c *CIB) { c.Config.Constraints.Items = c.Config.Constraints.Items[1:] },
		"reorder group": func(c *CIB) {
			g := &c.Config.Resources.Items[0]
			g.Children[0], g.Children[1] = g.Children[1], g.Children[0]
		},
		"status update":    func(c *CIB) { c.Status.Nodes[0].LRM.Resources[0].Ops[0].RCCode = "1" },
		"remove attribute": func(c *CIB) { c.Config.Constraints.Items[2].OrderKind = "" },
	}
	for name, edit := range edits {
		t.Run(name, func(t *testing.T) {
			b := base.Clone()
			edit(b)
			b.BumpConfig()
			p, err := Diff(base, b)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Changes) == 0 {
				t.Fatal("diff found no change")
			}
			got, err := p.Apply(base)
			if err != nil {
				t.Fatal(err)
			}
			if xmlOf(t, got) != xmlOf(t, b) {
				t.Errorf("patched CIB differs:\n%s\nwant\n%s", xmlOf(t, got), xmlOf(t, b))
			}
			if _, err := p.Apply(b); !errors.Is(err, ErrPatchVersion) {
				t.Errorf("applying to the wrong version: %v, want ErrPatchVersion", err)
			}
		})
	}
}

// TestDiffPatchCorpus diffs random pairs of Pacemaker CIBs (seeded).
func TestDiffPatchCorpus(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(conformanceDir, "*.xml"))
	if len(files) == 0 {
		t.Skip("conformance corpus not present")
	}
	rng := rand.New(rand.NewSource(4))
	for i := 0; i < 40; i++ {
		fa, fb := files[rng.Intn(len(files))], files[rng.Intn(len(files))]
		da, _ := os.ReadFile(fa)
		db, _ := os.ReadFile(fb)
		a, b := mustParse(t, string(da)), mustParse(t, string(db))
		p, err := Diff(a, b)
		if err != nil {
			t.Fatal(err)
		}
		got, err := p.Apply(a)
		if err != nil {
			t.Fatalf("%s → %s: %v", fa, fb, err)
		}
		if xmlOf(t, got) != xmlOf(t, b) {
			t.Errorf("%s → %s: patched CIB differs from target", filepath.Base(fa), filepath.Base(fb))
		}
	}
}
