package report

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/compiler/compilertest"
)

var update = flag.Bool("update", false, "rewrite the golden reports under testdata/")

func compile(t *testing.T, dir string) *compiler.Plan {
	t.Helper()
	_, p := compilertest.Plan(t, dir)
	return p
}

// TestGolden renders the text and markdown views of the example clusters'
// plans and of a shrink (with an observer joining) and compares them with
// testdata/<name>.txt and .md; go test ./report -update rewrites them.
func TestGolden(t *testing.T) {
	for _, tc := range []struct{ name, dir string }{
		{"reference", "../clusters/reference"},
		{"lab", "../clusters/lab"},
		{"shrink", "testdata/shrink"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := compile(t, tc.dir)
			views := []struct {
				ext    string
				render func(*bytes.Buffer) error
			}{
				{".txt", func(b *bytes.Buffer) error { return PlanText(b, p) }},
				{".md", func(b *bytes.Buffer) error { return PlanMarkdown(b, p) }},
			}
			for _, v := range views {
				var b bytes.Buffer
				if err := v.render(&b); err != nil {
					t.Fatal(err)
				}
				golden := filepath.Join("testdata", tc.name+v.ext)
				if *update {
					if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test ./report -update)", err)
				}
				if !bytes.Equal(b.Bytes(), want) {
					t.Errorf("%s differs (run go test ./report -update if the change is intended):\n%s", golden, b.String())
				}
			}
		})
	}
}

func TestMermaidHighlightsTheCurrentStage(t *testing.T) {
	p := compile(t, "../clusters/reference")
	if m := MermaidStages(p, -1); strings.Contains(m, "style") || strings.Count(m, " --> ") != len(p.Stages)-1 {
		t.Errorf("no current stage: want an unstyled chain of %d stages:\n%s", len(p.Stages), m)
	}
	for k := range p.Stages {
		m := MermaidStages(p, k)
		if n := strings.Count(m, "stroke-width"); n != 1 || !strings.Contains(m, fmt.Sprintf("  style s%d stroke-width:4px\n", k)) {
			t.Errorf("stage %d: want only s%d highlighted:\n%s", k, k, m)
		}
	}
}
