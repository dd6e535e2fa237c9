package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const simulateCIB = `<cib admin_epoch="0" epoch="1" num_updates="1" have-quorum="1">
  <configuration>
    <crm_config><cluster_property_set id="o"><nvpair id="o1" name="fencing-enabled" value="false"/></cluster_property_set></crm_config>
    <nodes><node id="1" uname="node1"/><node id="2" uname="node2"/></nodes>
    <resources>
      <group id="gw">
        <primitive id="br" class="ocf" provider="ovsha" type="ovs-bridge"/>
        <primitive id="vip" class="ocf" provider="heartbeat" type="IPaddr2"/>
      </group>
      <clone id="ping-clone"><primitive id="ping" class="ocf" provider="pacemaker" type="ping"/></clone>
    </resources>
    <constraints><rsc_location id="prefer" rsc="gw" node="node2" score="100"/></constraints>
  </configuration>
  <status>
    <node_state id="1" uname="node1" in_ccm="true" crmd="online" join="member" expected="member">
      <lrm id="1"><lrm_resources>
        <lrm_resource id="br" class="ocf" provider="ovsha" type="ovs-bridge"><lrm_rsc_op id="br_last_0" operation="start" interval="0" op-status="0" rc-code="0" call-id="2" transition-key="1:1:0:x"/></lrm_resource>
        <lrm_resource id="vip" class="ocf" provider="heartbeat" type="IPaddr2"><lrm_rsc_op id="vip_last_0" operation="start" interval="0" op-status="0" rc-code="0" call-id="3" transition-key="2:1:0:x"/></lrm_resource>
      </lrm_resources></lrm>
    </node_state>
    <node_state id="2" uname="node2" in_ccm="true" crmd="online" join="member" expected="member"/>
  </status>
</cib>`

func runSimulate(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newSimulateCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func TestSimulate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cib.xml")
	if err := os.WriteFile(path, []byte(simulateCIB), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runSimulate(t, "--xml", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Current cluster status:",
		"Transition Summary:",
		"* Move       br              ( node1 -> node2 )",
		"* Start      ping:0",
		"Executing Cluster Transition:",
		"Pseudo action:   gw_start_0",
		"Revised Cluster Status:",
		"vip\t(ocf:heartbeat:IPaddr2):\t Started node2",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	out, err = runSimulate(t, "--xml", path, "--json", "--show-scores")
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Resources  map[string][]string         `json:"resources"`
		Actions    []json.RawMessage           `json:"actions"`
		Transition []json.RawMessage           `json:"transition"`
		Scores     map[string]map[string]int64 `json:"scores"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, out)
	}
	want := map[string]string{"br": "[node2]", "vip": "[node2]", "ping": "[node1 node2]"}
	for id, nodes := range want {
		if got := strings.Join(res.Resources[id], " "); "["+got+"]" != nodes {
			t.Errorf("resources[%s] = %v, want %s", id, res.Resources[id], nodes)
		}
	}
	if len(res.Actions) == 0 || len(res.Transition) == 0 || res.Scores["br"]["node2"] == 0 {
		t.Errorf("JSON lacks actions, transition or scores: %s", out)
	}
}

func TestSimulateUsage(t *testing.T) {
	if code := run([]string{"simulate"}); code != 2 {
		t.Errorf("simulate without --xml: exit %d, want 2", code)
	}
	if code := run([]string{"simulate", "--xml", filepath.Join(t.TempDir(), "missing.xml")}); code != 1 {
		t.Errorf("simulate with a missing file: exit %d, want 1", code)
	}
}
