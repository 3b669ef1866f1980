package gitops

import (
	"context"
	"github.com/zkstage/zkstage/lab/labtest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/compiler/compilertest"
	"github.com/zkstage/zkstage/render"
	"github.com/zkstage/zkstage/schema"
)

// clusterRel is where the test repositories keep the cluster.
const clusterRel = "clusters/lab41"

// testRepo is a real git repository in a temp dir, made and read with the
// git command so that what zkstage writes is judged by git itself.
type testRepo struct {
	t   *testing.T
	dir string
}

// isolate keeps the user's git config out of the tests: HOME and XDG point
// at an empty folder and the system config is ignored.
func isolate(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the gitops tests read repositories with git: %v", err)
		}
		t.Skipf("git not installed: %v", err)
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	for _, k := range []string{"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	// Commits made by the test itself (git commit, git merge).
	t.Setenv("GIT_AUTHOR_NAME", "Test Setup")
	t.Setenv("GIT_AUTHOR_EMAIL", "setup@example.test")
	t.Setenv("GIT_COMMITTER_NAME", "Test Setup")
	t.Setenv("GIT_COMMITTER_EMAIL", "setup@example.test")
}

// newTestRepo makes a repository whose main branch holds the lab41 spec
// and nothing rendered.
func newTestRepo(t *testing.T) *testRepo {
	t.Helper()
	return newTestRepoVersion(t, "")
}

// newTestRepoVersion is newTestRepo with the spec's ZooKeeper version set to
// version ("" keeps the spec's).
func newTestRepoVersion(t *testing.T, version string) *testRepo {
	t.Helper()
	return newTestRepoOf(t, "testdata/lab41", version)
}

// newTestRepoOf is a config repository holding the spec in src at version
// ("" keeps the spec's).
func newTestRepoOf(t *testing.T, src, version string) *testRepo {
	t.Helper()
	isolate(t)
	r := &testRepo{t: t, dir: t.TempDir()}
	r.git("init", "-q", "-b", "main")
	if version != "" {
		src = labtest.ClusterAtVersion(t, src, version)
	}
	spec, err := os.ReadFile(src + "/cluster.cue")
	if err != nil {
		t.Fatal(err)
	}
	r.write(clusterRel+"/cluster.cue", string(spec))
	r.write("README.md", "config repository\n")
	r.git("add", ".")
	r.git("commit", "-q", "-m", "spec")
	return r
}

func (r *testRepo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", append([]string{"-C", r.dir}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimRight(string(out), "\n")
}

func (r *testRepo) lines(args ...string) []string {
	r.t.Helper()
	out := r.git(args...)
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

func (r *testRepo) write(rel, data string) {
	r.t.Helper()
	p := filepath.Join(r.dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

func (r *testRepo) clusterDir() string { return filepath.Join(r.dir, filepath.FromSlash(clusterRel)) }

// plan loads and compiles the spec in the worktree.
func (r *testRepo) plan() (*schema.Cluster, *compiler.Plan) {
	r.t.Helper()
	return compilertest.Plan(r.t, r.clusterDir())
}

// stage runs Stage on the worktree's spec.
func (r *testRepo) stage(opts StageOptions) (*StageResult, error) {
	r.t.Helper()
	c, p := r.plan()
	opts.Dir = r.clusterDir()
	return Stage(context.Background(), c, p, opts)
}

func (r *testRepo) mustStage(opts StageOptions) *StageResult {
	r.t.Helper()
	res, err := r.stage(opts)
	if err != nil {
		r.t.Fatalf("stage: %v", err)
	}
	return res
}

func (r *testRepo) gate(opts GateOptions) *GateResult {
	r.t.Helper()
	opts.Dir = r.clusterDir()
	res, err := Gate(context.Background(), opts)
	if err != nil {
		r.t.Fatalf("gate: %v", err)
	}
	return res
}

// branchNames are the stage branches of the lab41 plan.
func branchNames(p *compiler.Plan) []string {
	var out []string
	for k, s := range p.Stages {
		out = append(out, BranchName("", p.Cluster, k, s.Name))
	}
	return out
}

// stagePaths are the repository paths stage k must hold under rendered/.
func stagePaths(t *testing.T, c *schema.Cluster, p *compiler.Plan, k int) ([]string, []render.File) {
	t.Helper()
	files, err := render.StageFiles(c, p, k)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		out = append(out, clusterRel+"/"+RenderedDir+"/"+f.Path)
	}
	sort.Strings(out)
	return out, files
}

func checkStatus(res *GateResult) map[string]string {
	m := map[string]string{}
	for _, c := range res.Checks {
		m[c.Name] = c.Status
	}
	return m
}
