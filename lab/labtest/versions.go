package labtest

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"testing"
	"time"

	"github.com/zkstage/zkstage/lab"
)

// Versions is the live test matrix: the releases operators run that this
// machine can start. 3.4.6 and 3.5.10 come from upstream homes (a folder of
// installs named by version, see Homes), 3.8.0 from Debian's package.
var Versions = []string{"3.4.6", "3.5.10", "3.8.0"}

// Homes is the folder of upstream ZooKeeper installs named by version:
// $ZKSTAGE_ZOOKEEPER_HOMES, else the shared/zookeeper folder beside the
// repository's checkout (where CI and the developers' machines keep the
// 3.4.6 and 3.5.10 builds), else "".
func Homes() string {
	if h := os.Getenv(lab.EnvZooKeeperHomes); h != "" {
		return h
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ""
	}
	// file is <repo>/lab/labtest/versions.go.
	d := filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "zookeeper")
	if st, err := os.Stat(d); err == nil && st.IsDir() {
		abs, _ := filepath.Abs(d)
		return abs
	}
	return ""
}

// RequireVersion skips the test when java or a ZooKeeper of the version's
// release line is missing, saying which, except in CI (CI=true), where a
// missing runtime is a failure: CI has every version of the matrix.
func RequireVersion(t testing.TB, version string) *lab.Runtime {
	t.Helper()
	if testing.Short() {
		t.Skip("live test: skipped with -short")
	}
	rt, err := lab.FindRuntime("", Homes(), version)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("live test needs ZooKeeper %s: %v", version, err)
		}
		t.Skipf("live test on ZooKeeper %s: %v", version, err)
	}
	return rt
}

// NewLabVersion is NewLab for a ZooKeeper of the given version ("": any).
func NewLabVersion(t testing.TB, version string, overrides map[string]map[string]string) *lab.Lab {
	t.Helper()
	return NewLabOptions(t, lab.Options{Version: version, Overrides: overrides})
}

// NewLabOptions is NewLab with the test's own options (JVM flags, for
// instance); the state dir, tick time, homes, stop timeout and the JVMs'
// death with the test binary are the test defaults.
func NewLabOptions(t testing.TB, o lab.Options) *lab.Lab {
	t.Helper()
	RequireVersion(t, o.Version)
	o.State, o.TickTime, o.Homes, o.DieWithParent, o.StopTimeout = t.TempDir(), 200, Homes(), true, 5*time.Second
	l, err := lab.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := l.Down(context.Background()); err != nil {
			t.Errorf("lab down: %v", err)
		}
	})
	return l
}

var versionLine = regexp.MustCompile(`(?m)^version:\s*"[^"]*"`)

// ClusterAtVersion copies the cluster directory src (its cluster.cue) into
// a temporary directory with the spec's version set to version, so that one
// test topology runs on every version of the matrix.
func ClusterAtVersion(t testing.TB, src, version string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(src, "cluster.cue"))
	if err != nil {
		t.Fatal(err)
	}
	if !versionLine.Match(b) {
		t.Fatalf("%s/cluster.cue has no top-level version line to rewrite", src)
	}
	out := versionLine.ReplaceAll(b, []byte(`version: "`+version+`"`))
	dir := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cluster.cue"), out, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}
