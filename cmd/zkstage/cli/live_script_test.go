package cli

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/zkstage/zkstage/lab"
	"github.com/zkstage/zkstage/lab/labtest"
	"github.com/zkstage/zkstage/schema"
)

// TestLiveScripts runs the scripts under testdata/live, which start real
// ZooKeeper servers with `zkstage lab` (on clusters/lab's 127.0.1-3.x
// addresses; reconfig_shrink on 127.0.84.x). The runtime is found as the lab tests find theirs: the
// version clusters/lab declares, from the folder of upstream installs
// (labtest.Homes, passed on to zkstage as $ZKSTAGE_ZOOKEEPER_HOMES) or
// Debian's package. [zookeeper] is false when java or that ZooKeeper is
// missing; the scripts then skip, except in CI (CI=true), where they fail.
// Each script's lab state is $WORK/state; whatever it left running is
// stopped afterwards.
func TestLiveScripts(t *testing.T) {
	clusters, err := filepath.Abs("../../../clusters")
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := schema.Load(filepath.Join(clusters, "lab"))
	if err != nil {
		t.Fatal(err)
	}
	homes := labtest.Homes()
	_, rtErr := lab.FindRuntime("", homes, c.Version.String())
	if rtErr != nil && os.Getenv("CI") == "true" {
		t.Fatalf("live scripts need ZooKeeper %s in CI: %v", c.Version, rtErr)
	}
	// The 3.4 script needs the reference ensemble's own release.
	_, rt34Err := lab.FindRuntime("", homes, "3.4.6")
	if rt34Err != nil && os.Getenv("CI") == "true" {
		t.Fatalf("live scripts need ZooKeeper 3.4.6 in CI: %v", rt34Err)
	}
	if testing.Short() {
		t.Skip("live scripts: skipped with -short")
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/live",
		Setup: func(env *testscript.Env) error {
			env.Setenv("CLUSTERS", clusters)
			env.Setenv(lab.EnvZooKeeperHomes, homes)
			state := filepath.Join(env.WorkDir, "state")
			env.Defer(func() {
				// Open: stopping needs no runtime.
				if l, err := lab.Open(lab.Options{State: state}); err == nil {
					_, _ = l.Down(context.Background())
				}
			})
			return nil
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "zookeeper":
				return rtErr == nil, nil
			case "zookeeper346":
				return rt34Err == nil, nil
			}
			return false, nil
		},
		UpdateScripts: os.Getenv("UPDATE_SCRIPTS") == "1",
	})
}
