package config

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseSyntaxErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"unclosed", "# x\ntotem {\n\ttoken: 1\n", `cluster.conf:2: syntax error: missing "}" for section totem opened here`},
		{"unclosed inner reports innermost", "totem {\n interface {\n  a: 1\n", `cluster.conf:2: syntax error: missing "}" for section interface opened here`},
		{"stray close", "totem {\n}\n}\n", `cluster.conf:3: syntax error: "}" without an open section`},
		{"junk line", "totem {\n  token 200\n}\n", `cluster.conf:2: syntax error: expected "key: value", "name {", "}" or a "#" comment, found "token 200"`},
		{"bad section name", "my section {\n}\n", `cluster.conf:1: syntax error: "my section" is not a valid section name (letters, digits, "_" and "-")`},
		{"bad key", "totem {\n  to ken: 1\n}\n", `cluster.conf:2: syntax error: "to ken" is not a valid key (letters, digits, "_" and "-")`},
		{"empty key", "totem {\n  : 1\n}\n", `cluster.conf:2: syntax error: "" is not a valid key (letters, digits, "_" and "-")`},
		{"dotted key", "totem {\n  a.b: 1\n}\n", `cluster.conf:2: syntax error: "a.b" is not a valid key (letters, digits, "_" and "-")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("cluster.conf", []byte(tt.in))
			if err == nil || err.Error() != tt.want {
				t.Errorf("Parse error = %v\nwant %s", err, tt.want)
			}
		})
	}
}

func TestParseValues(t *testing.T) {
	in := "totem {\r\n" +
		"\tcluster_name: \"my cluster\"\r\n" + // quotes removed, inner space kept
		"\tspaced:    a b   \n" + // trimmed
		"\tempty:\n" +
		"\tcolon: a:b:c\n" + // split at the first colon
		"\thash: a # not a comment\n" + // "#" is a comment only at line start
		"\tbrace: x {\n" + // a value may end in "{"
		"\tinner: \"\"q\"\"\n" + // one pair of quotes removed
		"\tlone: \"\n" +
		"\tsub{\n\t}\n" + // "name{" without a space
		"}\n"
	f, err := Parse("c", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"totem.cluster_name": "my cluster",
		"totem.spaced":       "a b",
		"totem.empty":        "",
		"totem.colon":        "a:b:c",
		"totem.hash":         "a # not a comment",
		"totem.brace":        "x {",
		"totem.inner":        `"q"`,
		"totem.lone":         `"`,
	} {
		if got, ok := f.Get(path); !ok || got != want {
			t.Errorf("Get(%q) = %q, %v; want %q", path, got, ok, want)
		}
	}
	if _, ok := f.Get("totem.sub.x"); ok {
		t.Errorf("empty section has a key")
	}
	if len(f.Entries) != 1 || f.Entries[0].Children[len(f.Entries[0].Children)-1].Kind != KindSection {
		t.Errorf("sub{ was not read as a section")
	}
}

func TestParseLineNumbers(t *testing.T) {
	f, err := Parse("c", []byte("# one\n\ntotem {\n\n\n\ttoken: 5\n}\n"))
	if err != nil {
		t.Fatal(err)
	}
	totem := f.Entries[2]
	if totem.Kind != KindSection || totem.Line != 3 {
		t.Fatalf("totem entry = %+v, want a section at line 3", totem)
	}
	// The blank lines right after "{" are dropped; the key keeps its line.
	if len(totem.Children) != 1 || totem.Children[0].Line != 6 {
		t.Errorf("totem children = %+v, want one key at line 6", totem.Children)
	}
}

func TestFormatCanonical(t *testing.T) {
	in := `
# header


totem {

      version:2
  cluster_name:   "  padded "
   interface {
linknumber: 0
   }


   # about token
      token: 300

}
nodelist{
}
`
	want := `# header

totem {
	version: 2
	cluster_name: "  padded "
	interface {
		linknumber: 0
	}

	# about token
	token: 300
}
nodelist {
}
`
	f, err := Parse("c", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(f.Format()); got != want {
		t.Errorf("Format:\n%s\nwant:\n%s", got, want)
	}
}

// TestRoundTripTestdata: for every parseable testdata file, Parse → Format →
// Parse gives the same tree (line numbers aside), Format is then stable, and
// decoding both trees gives the same result.
func TestRoundTripTestdata(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.conf")
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		f1, err := Parse("c", data)
		if err != nil {
			continue // syntax-error inputs
		}
		checkRoundTrip(t, path, f1)
		if a, b := decodeReport("c", f1.Format()), decodeReport("c", data); !sameDecode(a, b) {
			t.Errorf("%s: decoding the formatted file differs:\n%s\nvs\n%s", path, a, b)
		}
	}
}

// sameDecode compares decode reports ignoring line numbers, which formatting
// may change.
func sameDecode(a, b []byte) bool {
	strip := func(s []byte) string {
		var out []string
		for _, l := range strings.Split(string(s), "\n") {
			if i := strings.Index(l, "c:"); i >= 0 {
				if j := strings.Index(l[i+2:], ":"); j >= 0 {
					l = l[:i] + l[i+2+j:]
				}
			}
			out = append(out, l)
		}
		return strings.Join(out, "\n")
	}
	return strip(a) == strip(b)
}

func TestUnknownSectionsSurvive(t *testing.T) {
	data, err := os.ReadFile("testdata/warnings.conf")
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse("warnings.conf", data)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Set("totem.token", "250"); err != nil {
		t.Fatal(err)
	}
	out := string(f.Format())
	for _, want := range []string{
		"# A section no one knows: kept, with this comment.\nvendor_extension {\n\twidget {\n\t\tsize: 3\n\t}\n}\n",
		"system {\n\tsched_rr: yes\n}\n",
		"\tflux_capacitor: on\n",
		"\t\tcolor: blue\n",
		"\t\tttl: 1\n",
		"\ttoken: 1000\n\ttoken: 250\n", // the last occurrence is the one changed
	} {
		if !strings.Contains(out, want) {
			t.Errorf("formatted file lacks %q:\n%s", want, out)
		}
	}
	g, err := Parse("again", []byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := g.Get("vendor_extension.widget.size"); v != "3" {
		t.Errorf("vendor_extension.widget.size = %q after rewrite, want 3", v)
	}
}

// TestRoundTripRandom builds random trees (seeded), formats and re-parses them.
func TestRoundTripRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 500 {
		f := &File{Name: "r", Entries: randomEntries(rng, 0)}
		f.Entries = normalize(f.Entries)
		data := f.Format()
		g, err := Parse("r", data)
		if err != nil {
			t.Fatalf("case %d: Parse(Format()) failed: %v\n%s", i, err, data)
		}
		if !reflect.DeepEqual(stripLines(f.Entries), stripLines(g.Entries)) {
			t.Fatalf("case %d: tree changed by Format/Parse:\n%s\nre-formatted:\n%s", i, data, g.Format())
		}
	}
}

func randomEntries(rng *rand.Rand, depth int) []*Entry {
	names := []string{"totem", "node", "a", "b-c", "x_1"}
	values := []string{"", "1", "a b", " lead", "trail ", `"q"`, `"`, "x {", "a:b", "# h", "\tt", "é"}
	var out []*Entry
	for range rng.IntN(6) {
		switch k := rng.IntN(4); {
		case k == 0:
			out = append(out, &Entry{Kind: KindBlank})
		case k == 1:
			out = append(out, &Entry{Kind: KindComment, Value: strings.TrimSpace("# c" + values[rng.IntN(len(values))])})
		case k == 2 || depth >= 3:
			out = append(out, &Entry{Kind: KindKey, Name: names[rng.IntN(len(names))], Value: values[rng.IntN(len(values))]})
		default:
			sec := &Entry{Kind: KindSection, Name: names[rng.IntN(len(names))]}
			sec.Children = normalize(randomEntries(rng, depth+1))
			out = append(out, sec)
		}
	}
	return out
}

func checkRoundTrip(t *testing.T, name string, f1 *File) {
	t.Helper()
	out1 := f1.Format()
	f2, err := Parse("c", out1)
	if err != nil {
		t.Fatalf("%s: Parse(Format()) failed: %v\n%s", name, err, out1)
	}
	if !reflect.DeepEqual(stripLines(f1.Entries), stripLines(f2.Entries)) {
		t.Errorf("%s: tree changed by Format/Parse", name)
	}
	if out2 := f2.Format(); string(out1) != string(out2) {
		t.Errorf("%s: Format is not stable:\n%s\nvs\n%s", name, out1, out2)
	}
}

// stripLines copies a tree without line numbers.
func stripLines(es []*Entry) []Entry {
	out := make([]Entry, len(es))
	for i, e := range es {
		c := *e
		c.Line = 0
		c.Children = nil
		if e.Kind == KindSection {
			kids := stripLines(e.Children)
			c.Children = make([]*Entry, len(kids))
			for j := range kids {
				c.Children[j] = &kids[j]
			}
		}
		out[i] = c
	}
	return out
}

// FuzzParse: Parse never panics, and what it accepts survives Format/Parse.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.conf")
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("a {\n b: \"\"\n}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		f1, err := Parse("fuzz", data)
		if err != nil {
			return
		}
		checkRoundTrip(t, "fuzz", f1)
		_, _ = Decode(f1)
	})
}

// TestExampleIsCanonical: the shipped example is already in Format's form, so
// a tool that edits it changes only what it edits.
func TestExampleIsCanonical(t *testing.T) {
	data, err := os.ReadFile("testdata/ovsha-3node.conf")
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse("ovsha-3node.conf", data)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Format(); string(got) != string(data) {
		t.Errorf("Format changes testdata/ovsha-3node.conf:\n%s", got)
	}
}
