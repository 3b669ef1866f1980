package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	os.Exit(testscript.RunMain(m, map[string]func() int{
		"zkstage": Main,
	}))
}

// TestScripts runs the CLI scripts under testdata/script. Each script gets
// $CLUSTERS, the repository's example clusters, to copy from.
func TestScripts(t *testing.T) {
	clusters, err := filepath.Abs("../../../clusters")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("CLUSTERS", clusters)
			return nil
		},
		UpdateScripts: os.Getenv("UPDATE_SCRIPTS") == "1",
	})
}
