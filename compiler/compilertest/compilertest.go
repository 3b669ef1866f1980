// Package compilertest loads and plans cluster specs for the tests of the
// packages that consume plans (render, report, adopt, rollout, gitops). The
// compiler itself does no I/O; this helper does, so it lives apart.
package compilertest

import (
	"testing"

	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/schema"
)

// Plan loads the spec in dir (a folder or a cluster.cue) and compiles it,
// failing the test on any error.
func Plan(t testing.TB, dir string) (*schema.Cluster, *compiler.Plan) {
	t.Helper()
	c, _, err := schema.Load(dir)
	return compile(t, c, err)
}

// PlanBytes is Plan for a spec in memory (file names it in positions).
func PlanBytes(t testing.TB, file string, src []byte) (*schema.Cluster, *compiler.Plan) {
	t.Helper()
	c, _, err := schema.LoadBytes(file, src)
	return compile(t, c, err)
}

func compile(t testing.TB, c *schema.Cluster, err error) (*schema.Cluster, *compiler.Plan) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	p, err := compiler.Compile(c)
	if err != nil {
		t.Fatal(err)
	}
	return c, p
}
