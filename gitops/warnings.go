package gitops

import (
	"fmt"
	"path/filepath"

	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/schema"
)

// Warnings are the spec's and the plan's warnings as a reviewer reads them:
// the loader's with file:line:col (the file named as in the repository,
// rel), then the planner's, each once. They travel with the plan into the
// stage's pull request and the gate's output, where the reviewer looks.
func Warnings(rel string, spec []schema.Warning, p *compiler.Plan) []string {
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, w := range spec {
		s := w.Msg
		if w.Path != "" {
			s = w.Path + ": " + s
		}
		if w.Pos.IsValid() {
			s = fmt.Sprintf("%s:%d:%d: %s", filepath.ToSlash(filepath.Join(rel, "cluster.cue")), w.Pos.Line(), w.Pos.Column(), s)
		}
		add(s)
	}
	if p != nil {
		for _, w := range p.Warnings {
			add(w)
		}
	}
	return out
}
