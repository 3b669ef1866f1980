package labtest

import (
	"os"
	"testing"

	"github.com/zkstage/zkstage/lab"
)

// TestMatrix says, for every version of the live matrix, which ZooKeeper
// the live tests will run (CI prints it before the test run), and fails in
// CI when one is missing: there every live test of that version would fail
// anyway, and this names the cause once. It starts nothing.
func TestMatrix(t *testing.T) {
	t.Logf("homes: %q", Homes())
	for _, v := range Versions {
		rt, err := lab.FindRuntime("", Homes(), v)
		switch {
		case err == nil:
			t.Logf("%-7s %s from %s (java %s)", v, rt.Version, rt.Source, rt.Java)
		case os.Getenv("CI") == "true":
			t.Errorf("%-7s missing: %v", v, err)
		default:
			t.Logf("%-7s missing, its live tests skip: %v", v, err)
		}
	}
}
