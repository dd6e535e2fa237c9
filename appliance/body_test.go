package appliance

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDecodeBodyNamesTheField(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"ok", `{"expected_votes": 3}`, ""},
		{"unknown field", `{"expected_votes": 3, "force": true}`, `unknown field "force"`},
		{"wrong type", `{"expected_votes": "three"}`, `field "expected_votes": got string, want an integer`},
		{"negative", `{"expected_votes": -1}`, `field "expected_votes"`},
		{"invalid value", `{"expected_votes": 0}`, `field "expected_votes": want at least 1`},
		{"empty", ``, "empty; want a JSON object"},
		{"not an object", `[1]`, "want a JSON object"},
		{"trailing data", `{"expected_votes": 3} {}`, "exactly one object"},
		{"syntax", `{"expected_votes": 3`, "truncated JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", PathQuorumExpected, strings.NewReader(tt.body))
			var req ExpectedRequest
			err := decodeBody(r, &req)
			if tt.want == "" {
				if err != nil || req.ExpectedVotes != 3 {
					t.Fatalf("got %+v, %v", req, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "request body: ") {
				t.Fatalf("error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestCmapValueBodyValidates(t *testing.T) {
	for body, want := range map[string]string{
		`{"type":"u99","value":"1"}`:  `field "type"`,
		`{"type":"u8","value":"300"}`: `field "value"`,
		`{"type":"u8","valu":"3"}`:    `unknown field "valu"`,
	} {
		var v CmapValue
		err := decodeBody(httptest.NewRequest("PUT", "/v1/cmap/a.b", strings.NewReader(body)), &v)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", body, err, want)
		}
	}
}
