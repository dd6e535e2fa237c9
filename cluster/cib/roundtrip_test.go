package cib

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

const conformanceDir = "../../../shared/conformance/pacemaker-scheduler/xml"

// TestRoundTripPacemakerCases loads every Pacemaker regression CIB, writes
// it back out and reads it again: the two models must be equal.
func TestRoundTripPacemakerCases(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(conformanceDir, "*.xml"))
	if len(files) == 0 {
		t.Skip("conformance corpus not present")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c, err := Parse(data)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		out, err := c.MarshalXMLBytes()
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		c2, err := Parse(out)
		if err != nil {
			t.Errorf("%s: reparse: %v", f, err)
			continue
		}
		if !reflect.DeepEqual(c, c2) {
			t.Errorf("%s: model changed after write+read", filepath.Base(f))
		}
		j, err := c.MarshalJSONBytes()
		if err != nil {
			t.Fatal(err)
		}
		c3, err := ParseJSON(j)
		if err != nil {
			t.Fatal(err)
		}
		x1, _ := c.MarshalXMLBytes()
		x3, _ := c3.MarshalXMLBytes()
		if string(x1) != string(x3) {
			t.Errorf("%s: JSON round trip changed the XML", filepath.Base(f))
		}
		for _, e := range c.Validate() {
			t.Logf("%s: %v", filepath.Base(f), e)
		}
	}
}
