package cli

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/zkstage/zkstage/lab"
)

// TestLiveScripts runs the scripts under testdata/live, which start real
// ZooKeeper servers with `zkstage lab` (on clusters/lab's 127.0.1-3.x
// addresses). [zookeeper] is false when java or ZooKeeper is missing; the
// scripts then skip, except in CI (CI=true), where they fail. Each script's
// lab state is $WORK/state; whatever it left running is stopped afterwards.
func TestLiveScripts(t *testing.T) {
	clusters, err := filepath.Abs("../../../clusters")
	if err != nil {
		t.Fatal(err)
	}
	_, rtErr := lab.FindRuntime("", "", "")
	if rtErr != nil && os.Getenv("CI") == "true" {
		t.Fatalf("live scripts need ZooKeeper in CI: %v", rtErr)
	}
	if testing.Short() {
		t.Skip("live scripts: skipped with -short")
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/live",
		Setup: func(env *testscript.Env) error {
			env.Setenv("CLUSTERS", clusters)
			state := filepath.Join(env.WorkDir, "state")
			env.Defer(func() {
				if l, err := lab.New(lab.Options{State: state}); err == nil {
					_, _ = l.Down(context.Background())
				}
			})
			return nil
		},
		Condition: func(cond string) (bool, error) {
			if cond == "zookeeper" {
				return rtErr == nil, nil
			}
			return false, nil
		},
		UpdateScripts: os.Getenv("UPDATE_SCRIPTS") == "1",
	})
}
