package cli

import (
	"encoding"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/gitops"
	"github.com/zkstage/zkstage/render"
	"github.com/zkstage/zkstage/rollout"
)

var updateFormats = flag.Bool("update", false, "rewrite testdata/formats/*.golden (refused when a field is removed or changed without a format bump)")

// TestJSONFormats pins the layout of stage.json and of every -o json
// output: the golden file of each holds its format version and every field
// path with its JSON type. A changed layout fails the test; -update accepts
// added fields, but a removed, renamed or retyped field only together with
// a new format version, because scripts, dashboards and CI jobs read these
// files and must be able to tell.
func TestJSONFormats(t *testing.T) {
	outputs := []struct {
		name    string // golden file: testdata/formats/<name>.golden
		format  int
		value   interface{}
		wrapped bool // written by writeJSON, which adds "format"
	}{
		{"stage.json", render.ManifestFormat, render.Manifest{}, false},
		{"plan", OutputFormat, compiler.Plan{}, true},
		{"render-check", OutputFormat, renderCheckOutput{}, true},
		{"verify", OutputFormat, verifyOutput{}, true},
		{"roll", OutputFormat, rollout.Result{}, true},
		{"roll-dry-run", OutputFormat, rollout.Preview{}, true},
		{"bench", OutputFormat, rollout.BenchResult{}, true},
		{"lab", OutputFormat, labOutput{}, true},
		{"stage", OutputFormat, gitops.StageResult{}, true},
		{"gate", OutputFormat, gitops.GateResult{}, true},
	}
	for _, o := range outputs {
		t.Run(o.name, func(t *testing.T) {
			var fields []string
			if o.wrapped {
				fields = append(fields, "format number")
			}
			fields = append(fields, jsonShape("", reflect.TypeOf(o.value), map[reflect.Type]bool{})...)
			sort.Strings(fields)
			got := fmt.Sprintf("format %d\n%s\n", o.format, strings.Join(fields, "\n"))
			path := filepath.Join("testdata", "formats", o.name+".golden")
			want, err := os.ReadFile(path)
			if err != nil && !(*updateFormats && os.IsNotExist(err)) {
				t.Fatal(err)
			}
			if got == string(want) {
				return
			}
			wantVersion, wantFields, _ := strings.Cut(string(want), "\n")
			gone := missing(strings.Split(strings.TrimSpace(wantFields), "\n"), fields)
			if want != nil && len(gone) > 0 && wantVersion == fmt.Sprintf("format %d", o.format) {
				t.Fatalf("%s: fields removed, renamed or retyped without a format bump (still %s): %s", o.name, wantVersion, strings.Join(gone, ", "))
			}
			if !*updateFormats {
				t.Fatalf("%s: the JSON layout changed:\n%s\nwant:\n%s\n(go test ./cmd/zkstage/cli -run TestJSONFormats -update accepts added fields)", o.name, got, want)
			}
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// missing returns the lines of want that got lacks.
func missing(want, got []string) []string {
	have := map[string]bool{}
	for _, g := range got {
		have[g] = true
	}
	var out []string
	for _, w := range want {
		if w != "" && !have[w] {
			out = append(out, w)
		}
	}
	return out
}

var (
	marshalerType     = reflect.TypeOf((*json.Marshaler)(nil)).Elem()
	textMarshalerType = reflect.TypeOf((*encoding.TextMarshaler)(nil)).Elem()
	durationType      = reflect.TypeOf(time.Duration(0))
)

// jsonShape lists "path type" for every field encoding/json writes for t.
func jsonShape(path string, t reflect.Type, seen map[reflect.Type]bool) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t.Implements(marshalerType) || reflect.PointerTo(t).Implements(marshalerType),
		t.Implements(textMarshalerType) || reflect.PointerTo(t).Implements(textMarshalerType):
		return []string{path + " " + t.String() + "(custom)"}
	case t == durationType:
		return []string{path + " number(ns)"}
	}
	switch t.Kind() {
	case reflect.Struct:
		if seen[t] {
			return []string{path + " " + t.String() + "(recursive)"}
		}
		seen[t] = true
		defer delete(seen, t)
		var out []string
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" || (!f.IsExported() && !f.Anonymous) {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if f.Anonymous && name == "" {
				out = append(out, jsonShape(path, f.Type, seen)...)
				continue
			}
			if name == "" {
				name = f.Name
			}
			if strings.Contains(opts, "omitempty") {
				name += "?"
			}
			p := name
			if path != "" {
				p = path + "." + name
			}
			out = append(out, jsonShape(p, f.Type, seen)...)
		}
		return out
	case reflect.Slice, reflect.Array:
		return jsonShape(path+"[]", t.Elem(), seen)
	case reflect.Map:
		return jsonShape(path+"{}", t.Elem(), seen)
	case reflect.String:
		return []string{path + " string"}
	case reflect.Bool:
		return []string{path + " bool"}
	case reflect.Interface:
		return []string{path + " any"}
	default:
		return []string{path + " number"}
	}
}
