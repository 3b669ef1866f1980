package ansible_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/compiler/compilertest"
	"github.com/zkstage/zkstage/lab"
	"github.com/zkstage/zkstage/lab/labtest"
	"github.com/zkstage/zkstage/rollout"
	"github.com/zkstage/zkstage/schema"
)

// cluster is the reference topology on this package's own loopback range
// (127.0.61-63): live tests of other packages use other ranges.
const cluster = "testdata/ansible61"

// requireAnsible skips the test when ansible-playbook is missing, except in
// CI (CI=true), where it is a failure, as labtest.Require does for
// ZooKeeper.
func requireAnsible(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("live test: skipped with -short")
	}
	p, err := exec.LookPath("ansible-playbook")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the Ansible example needs ansible-playbook (apt-get install -y ansible): %v", err)
		}
		t.Skipf("live test: %v", err)
	}
	return p
}

// TestExpansionThroughAnsible drives the whole reference expansion (5 ->
// 5+5+1) the way docs/config-management.md says, with Ansible as config
// management and the lab as the hosts: zkstage stage writes the stage
// branches of a configuration repository; for each stage the live gate
// passes, the branch merges, pull.yml installs the files (restarting
// nothing), and zkstage roll runs the steps through restart.yml, start.yml
// and stop.yml, one host at a time. A client writes the whole time; no
// acknowledged write may be lost.
func TestExpansionThroughAnsible(t *testing.T) {
	playbook := requireAnsible(t)
	l := labtest.NewLab(t, nil)
	r := newRig(t, playbook, l, cluster, "ansible61")
	repo, dir, bin, env, execCmd := r.repo, r.dir, r.bin, r.env, r.execCmd
	git, pull := r.git, r.pull
	branches := r.branches()
	c, p := compilertest.Plan(t, dir)
	if len(branches) != len(p.Stages) {
		t.Fatalf("zkstage stage wrote %d branches, the plan has %d stages: %v", len(branches), len(p.Stages), branches)
	}

	// Stage 00, adoption: the ensemble as it runs today. Its files are
	// pulled, then its five hosts start, ascending id.
	git("merge", "-q", "--ff-only", branches[0])
	if got, want := pulledHosts(t, pull()), hostsOf(p.Stages[0].Live); got != want {
		t.Errorf("stage 00 pull installed files on %s, want %s", got, want)
	}
	for _, m := range p.Stages[0].Members {
		run(t, repo, append(env, "ZKSTAGE_ACTION=start", "ZKSTAGE_HOST="+m.Host), "sh", "-c", execCmd)
	}
	labtest.WaitServing(t, l, 90*time.Second)

	ctx := context.Background()
	hosts := schema.SortedHosts(c)
	w := startWriter(t, c, "/ansible-writer")
	began := time.Now()

	for k := 1; k < len(p.Stages); k++ {
		st := &p.Stages[k]
		from := time.Now()
		// The gate before the merge: stage k-1 is live.
		run(t, repo, nil, bin, "gate", dir, "--base", "main", "--head", branches[k], "--wait", "90s")
		git("merge", "-q", "--ff-only", branches[k])

		before, starts := installed(t, l, hosts), startCounts(t, l, hosts)
		out := pull()
		after := installed(t, l, hosts)
		steps := stepHosts(st)
		if got := pulledHosts(t, out); got != steps {
			t.Errorf("stage %02d %s: Ansible changed files on %s, the stage has steps for %s", k, st.Name, got, steps)
		}
		if got := changed(before, after); got != steps {
			t.Errorf("stage %02d %s: installed files differ on %s, the stage has steps for %s", k, st.Name, got, steps)
		}
		if got := startCounts(t, l, hosts); !equalCounts(got, starts) {
			t.Errorf("stage %02d: the pull (re)started servers: starts %v -> %v", k, starts, got)
		}

		res := roll(t, repo, env, bin, dir, k, execCmd)
		if len(res.Steps) != len(st.Steps) {
			t.Fatalf("stage %02d: %d step results, the plan has %d steps", k, len(res.Steps), len(st.Steps))
		}
		// Exactly the hosts with a restart or start step started once more.
		now := startCounts(t, l, hosts)
		for _, s := range st.Steps {
			if s.Action != compiler.Stop {
				starts[s.Host]++
			}
		}
		if !equalCounts(now, starts) {
			t.Errorf("stage %02d: starts per host %v, want %v", k, now, starts)
		}
		ws := w.Stats(from, time.Now())
		t.Logf("stage %02d %s: roll %s, %d elections, leader %s; writer %d acked, %d failed, longest stall %s",
			k, st.Name, res.Duration.Round(time.Millisecond), res.Elections, res.Leader, ws.Acked, ws.Failed, ws.Stall.Round(time.Millisecond))
	}

	last := len(p.Stages) - 1
	run(t, repo, nil, bin, "verify", dir, "--stage", strconv.Itoa(last), "--wait", "60s")
	total := w.Stats(began, time.Now())
	acked := len(w.Acked())
	missing, err := w.Check(ctx, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) > 0 {
		t.Errorf("%d of %d acknowledged writes are missing, first %v", len(missing), acked, missing[:min(5, len(missing))])
	}
	t.Logf("expansion through Ansible: %s, %d writes acknowledged (all present), %d failed, longest stall %s",
		time.Since(began).Round(time.Second), acked, total.Failed, total.Stall.Round(time.Millisecond))
}

// rig is a configuration repository whose spec zkstage stage has staged,
// with the playbooks aimed at a lab: every host is this machine and its
// files land in the folder the lab runs it from.
type rig struct {
	t                         *testing.T
	here, repo, dir, bin, tmp string
	env, ansible              []string
	playbook, execCmd         string
}

// newRig copies spec/cluster.cue into a new repository as
// clusters/<name>/cluster.cue, commits it and runs zkstage stage.
func newRig(t *testing.T, playbook string, l *lab.Lab, spec, name string) *rig {
	t.Helper()
	work := t.TempDir()
	here, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, here: here, playbook: playbook, bin: buildZkstage(t, work), repo: filepath.Join(work, "repo")}
	r.dir = filepath.Join(r.repo, "clusters", name)
	data, err := os.ReadFile(filepath.Join(spec, "cluster.cue"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.dir, "cluster.cue"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	r.git("init", "-q", "-b", "main")
	r.git("-c", "user.name=test", "-c", "user.email=test@localhost", "commit", "-q", "--allow-empty", "-m", "empty")
	r.git("add", ".")
	r.git("-c", "user.name=test", "-c", "user.email=test@localhost", "commit", "-q", "-m", name+": the spec")
	run(t, r.repo, nil, r.bin, "stage", r.dir)

	r.tmp = filepath.Join(work, "ansible-tmp")
	r.env = []string{
		"ZKSTAGE_DIR=" + r.dir, "ZKSTAGE_LAB_STATE=" + l.State(), "ZKSTAGE_BIN=" + r.bin,
		"ANSIBLE_LOCAL_TEMP=" + r.tmp, "ANSIBLE_REMOTE_TEMP=" + r.tmp, "ANSIBLE_FORKS=12", "ANSIBLE_NOCOLOR=1",
		"ANSIBLE_RETRY_FILES_ENABLED=false",
		"LC_ALL=C.UTF-8", // ansible-core 2.14 refuses a locale that is not UTF-8
	}
	r.ansible = []string{"-i", filepath.Join(here, "inventory.py"), "-e", "@" + filepath.Join(here, "lab.yml")}
	// The --exec command of every roll, as the docs give it.
	r.execCmd = fmt.Sprintf(`%s -i %s -e @%s "%s/$ZKSTAGE_ACTION.yml" -l "$ZKSTAGE_HOST"`,
		playbook, filepath.Join(here, "inventory.py"), filepath.Join(here, "lab.yml"), here)
	return r
}

func (r *rig) git(args ...string) string { return run(r.t, r.repo, nil, "git", args...) }

// pull runs pull.yml on the stage main is at and returns Ansible's output.
func (r *rig) pull() string {
	return run(r.t, r.repo, r.env, r.playbook, append(r.ansible, filepath.Join(r.here, "pull.yml"))...)
}

// branches are the stage branches, sorted.
func (r *rig) branches() []string {
	b := strings.Fields(r.git("for-each-ref", "--format=%(refname:short)", "refs/heads/zkstage/"))
	sort.Strings(b)
	return b
}

// roll runs zkstage roll for stage k with the Ansible --exec command and
// fails the test unless every step is done.
func roll(t *testing.T, repo string, env []string, bin, dir string, k int, execCmd string, extra ...string) *rollout.Result {
	t.Helper()
	res, _ := rollOutput(t, repo, env, bin, dir, k, execCmd, extra...)
	return res
}

// rollOutput is roll, with the roll's stderr: its progress and the
// playbooks' output.
func rollOutput(t *testing.T, repo string, env []string, bin, dir string, k int, execCmd string, extra ...string) (*rollout.Result, string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"roll", dir, "--stage", strconv.Itoa(k), "--exec", execCmd, "--step-timeout", "120s", "-o", "json"}, extra...)...)
	cmd.Dir, cmd.Env = repo, append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var res rollout.Result
	if jerr := json.Unmarshal(stdout.Bytes(), &res); err != nil || jerr != nil || !res.OK {
		t.Fatalf("roll stage %d: %v %v: %s\nprogress and Ansible output:\n%s", k, err, jerr, res.Message, stderr.String())
	}
	for _, s := range res.Steps {
		if s.Status != rollout.StatusDone {
			t.Errorf("stage %d: step %s %s is %s", k, s.Action, s.Host, s.Status)
		}
	}
	return &res, stderr.String()
}

func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return string(out)
}

func buildZkstage(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "zkstage")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/zkstage/zkstage/cmd/zkstage").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

var recapRE = regexp.MustCompile(`(?m)^(\S+)\s+: ok=\d+\s+changed=(\d+)\s`)

// pulledHosts lists, from the play recap, the hosts where Ansible changed
// something.
func pulledHosts(t *testing.T, out string) string {
	t.Helper()
	ms := recapRE.FindAllStringSubmatch(out, -1)
	if len(ms) == 0 {
		t.Fatalf("no play recap in the Ansible output:\n%s", out)
	}
	var hosts []string
	for _, m := range ms {
		if m[2] != "0" {
			hosts = append(hosts, m[1])
		}
	}
	return hostsOf(hosts)
}

func hostsOf(hosts []string) string {
	s := append([]string{}, hosts...)
	sort.Strings(s)
	return strings.Join(s, " ")
}

func stepHosts(st *compiler.Stage) string {
	var hosts []string
	for _, s := range st.Steps {
		hosts = append(hosts, s.Host)
	}
	return hostsOf(hosts)
}

// installed reads every host's installed zoo.cfg, zoo.cfg.dynamic and myid
// ("" when absent).
func installed(t *testing.T, l *lab.Lab, hosts []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, h := range hosts {
		var b strings.Builder
		for _, name := range []string{"zoo.cfg", "zoo.cfg.dynamic", "myid"} {
			data, err := os.ReadFile(filepath.Join(l.State(), h, "conf", name))
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			b.WriteString(name + "\x00" + string(data) + "\x00")
		}
		out[h] = b.String()
	}
	return out
}

func changed(before, after map[string]string) string {
	var hosts []string
	for h, b := range after {
		if before[h] != b {
			hosts = append(hosts, h)
		}
	}
	return hostsOf(hosts)
}

// startCounts is how many times the lab started each host.
func startCounts(t *testing.T, l *lab.Lab, hosts []string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, h := range hosts {
		b, err := os.ReadFile(l.StartsLog(h))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		out[h] = strings.Count(string(b), "\n")
	}
	return out
}

func equalCounts(a, b map[string]int) bool {
	for h, n := range a {
		if b[h] != n {
			return false
		}
	}
	for h, n := range b {
		if a[h] != n {
			return false
		}
	}
	return true
}

// startWriter starts a client writing under path on every host of c; it
// stops when the test ends.
func startWriter(t *testing.T, c *schema.Cluster, path string) *rollout.Writer {
	t.Helper()
	var servers []string
	for _, h := range c.Hosts {
		servers = append(servers, net.JoinHostPort(h.Address, strconv.Itoa(h.Ports.Client)))
	}
	w, err := rollout.StartWriter(context.Background(), servers, path, rollout.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	return w
}
