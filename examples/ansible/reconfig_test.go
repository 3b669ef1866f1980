package ansible_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/compiler/compilertest"
	"github.com/zkstage/zkstage/gitops"
	"github.com/zkstage/zkstage/lab"
	"github.com/zkstage/zkstage/lab/labtest"
	"github.com/zkstage/zkstage/render"
	"github.com/zkstage/zkstage/rollout"
	"github.com/zkstage/zkstage/schema"
	"github.com/zkstage/zkstage/zoocfg"
)

// reconfigCluster grows 3 -> 5 by dynamic reconfiguration, with a rename
// (127.0.64-65.x).
const reconfigCluster = "testdata/reconfig64"

// TestReconfigThroughAnsible drives a whole dynamic-reconfiguration plan
// through pull.yml, on 3.5.10 and 3.8.0, with the lab running every host
// in place from the files Ansible installed, so ZooKeeper rewrites those
// very files: stage 00 (static) is pulled and started; the enabling stage
// installs the dynamic files on all three and rolls; a pull right after
// changes nothing ZooKeeper wrote; new settings (a settings commit of
// stage 01) are edited into ZooKeeper's zoo.cfg in place and rolled; the
// remove stage changes no file; the add stage installs files only on the
// renamed host and the joiners. At the end every member runs the new
// settings, its zoo.cfg is ZooKeeper's (pointing at its own dynamic
// file), a last pull changes nothing, and no acknowledged write is lost.
func TestReconfigThroughAnsible(t *testing.T) {
	playbook := requireAnsible(t)
	for _, v := range []string{"3.5.10", "3.8.0"} {
		t.Run(v, func(t *testing.T) { reconfigThroughAnsible(t, playbook, v) })
	}
}

func reconfigThroughAnsible(t *testing.T, playbook, version string) {
	l := labtest.NewLabVersion(t, version, nil)
	r := newRig(t, playbook, l, labtest.ClusterAtVersion(t, reconfigCluster, version), "reconfig64")
	r.env = append(r.env, rollout.EnvReconfigAuth+"=super:zkstage-test", "ZKSTAGE_ZOOKEEPER_HOMES="+labtest.Homes())
	c, p := compilertest.Plan(t, r.dir)
	branches := r.branches()
	if len(branches) != len(p.Stages) {
		t.Fatalf("zkstage stage wrote %d branches, the plan has %d stages: %v", len(branches), len(p.Stages), branches)
	}
	hosts := schema.SortedHosts(c)
	gate := func(head string) {
		t.Helper()
		run(t, r.repo, r.env, r.bin, "gate", r.dir, "--base", "main", "--head", head, "--wait", "90s")
	}
	// pullChanges pulls and checks that Ansible changed files on exactly
	// want, and that the installed bytes changed there and nowhere else.
	pullChanges := func(what, want string) map[string]string {
		t.Helper()
		before := installed(t, l, hosts)
		out := r.pull()
		after := installed(t, l, hosts)
		if got := pulledHosts(t, out); got != want {
			t.Errorf("%s: Ansible changed files on %q, want %q\n%s", what, got, want, out)
		}
		if got := changed(before, after); got != want {
			t.Errorf("%s: installed files differ on %q, want %q", what, got, want)
		}
		return before
	}
	rollStage := func(k int, extra ...string) string {
		t.Helper()
		res, out := rollOutput(t, r.repo, r.env, r.bin, r.dir, k, r.execCmd, extra...)
		t.Logf("stage %02d %s%s: roll %s, %d elections, leader %s", k, p.Stages[k].Name, strings.Join(extra, " "),
			res.Duration.Round(time.Millisecond), res.Elections, res.Leader)
		return out
	}

	// Stage 00: static configs, pulled, then started ascending id.
	r.git("merge", "-q", "--ff-only", branches[0])
	pullChanges("stage 00", hostsOf(p.Stages[0].Live))
	for _, m := range p.Stages[0].Members {
		run(t, r.repo, append(r.env, "ZKSTAGE_ACTION=start", "ZKSTAGE_HOST="+m.Host), "sh", "-c", r.execCmd)
	}
	labtest.WaitServing(t, l, 90*time.Second)
	ctx := context.Background()
	w := startWriter(t, c, "/ansible-reconfig-writer")
	began := time.Now()

	// Stage 01 enables reconfiguration: every host gets the three files.
	gate(branches[1])
	r.git("merge", "-q", "--ff-only", branches[1])
	pullChanges("stage 01", stepHosts(&p.Stages[1]))
	for _, h := range p.Stages[1].Live {
		if _, err := os.Stat(filepath.Join(confDir(l, h), render.DynamicFile)); err != nil {
			t.Errorf("stage 01: %s has no bootstrap dynamic file: %v", h, err)
		}
	}
	if out := rollStage(1); strings.Contains(out, "killed") {
		t.Errorf("stage 01: a member was stopped by SIGKILL:\n%s", out)
	}
	// ZooKeeper rewrote each zoo.cfg; a pull must leave it so.
	pullChanges("stage 01, pulled again after the roll", "")
	for _, h := range p.Stages[1].Live {
		if own := ownDynamic(t, l, h); own == "" {
			t.Errorf("stage 01: %s's zoo.cfg does not point at a dynamic file ZooKeeper wrote", h)
		}
	}

	// New settings while the plan is under way: a settings commit of stage
	// 01 comes first, then stages 02 and 03 again on top of it.
	spec := r.git("show", "main:clusters/reconfig64/cluster.cue")
	edited := strings.Replace(spec, "syncLimit: 5}", `syncLimit: 6, extra: maxClientCnxns: "77"}`, 1)
	if edited == spec {
		t.Fatal("the spec has no settings line to edit")
	}
	if err := os.WriteFile(filepath.Join(r.dir, "cluster.cue"), []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	r.git("-c", "user.name=test", "-c", "user.email=test@localhost", "commit", "-q", "-am", "syncLimit 6, maxClientCnxns 77")
	var staged gitops.StageResult
	cmd := exec.Command(r.bin, "stage", r.dir, "-o", "json")
	cmd.Dir = r.repo
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("zkstage stage: %v\n%s", err, stdout)
	}
	if err := json.Unmarshal(stdout, &staged); err != nil {
		t.Fatal(err)
	}
	if len(staged.Branches) != 3 || staged.Branches[0].Entry != gitops.EntrySettings || staged.Branches[0].Stage != 1 {
		t.Fatalf("zkstage stage after the settings change: %+v, want the settings commit of stage 01, then 02 and 03", staged.Branches)
	}
	c, p = compilertest.Plan(t, r.dir)
	gate(staged.Branches[0].Name)
	r.git("merge", "-q", "--ff-only", staged.Branches[0].Name)
	before := pullChanges("stage 01 settings", hostsOf(p.Stages[1].Live))
	after := installed(t, l, hosts)
	for _, h := range p.Stages[1].Live {
		got := editsOf(t, before[h], after[h])
		if want := "maxClientCnxns=77 (new); syncLimit=6 (was 5)"; got != want {
			t.Errorf("stage 01 settings: %s's zoo.cfg edits %q, want only %q", h, got, want)
		}
	}
	rollStage(1, "--settings")

	// Stage 02 removes the renamed host's old id: no file changes.
	gate(staged.Branches[1].Name)
	r.git("merge", "-q", "--ff-only", staged.Branches[1].Name)
	pullChanges("stage 02", "")
	rollStage(2)

	// Stage 03: the renamed host and the joiners get files, nobody else.
	gate(staged.Branches[2].Name)
	r.git("merge", "-q", "--ff-only", staged.Branches[2].Name)
	var restarted []string
	for _, s := range p.Stages[3].Steps {
		if s.Action == compiler.Start || s.Action == compiler.Restart {
			restarted = append(restarted, s.Host)
		}
	}
	pullChanges("stage 03", hostsOf(restarted))
	out := rollStage(3)
	// The renamed host runs outside the configuration when it restarts
	// (ZKSTAGE_OUTSIDE=1): restart.yml kills it, then starts it; members
	// are restarted the usual way (none is in this stage).
	if n := strings.Count(out, "killed, then started"); n != len(p.Stages[3].Renamed) || len(p.Stages[3].Renamed) == 0 {
		t.Errorf("stage 03: %d restarts by SIGKILL, want one per renamed host (%v)\n%s", n, p.Stages[3].Renamed, out)
	}
	pullChanges("stage 03, pulled again after the roll", "")

	last := len(p.Stages) - 1
	out = run(t, r.repo, r.env, r.bin, "verify", r.dir, "--stage", strconv.Itoa(last), "--wait", "60s")
	for _, want := range []string{"settings", "pass"} {
		if !strings.Contains(out, want) {
			t.Errorf("verify of stage %02d does not show %q:\n%s", last, want, out)
		}
	}
	// The edits made in stage 01 survived ZooKeeper's rewrites after the
	// -remove and the -add; every member's zoo.cfg is ZooKeeper's.
	for _, m := range p.Stages[last].Members {
		cfg := readCfg(t, l, m.Host)
		for _, kv := range []string{"syncLimit=6", "maxClientCnxns=77"} {
			if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(kv) + `$`).MatchString(cfg) {
				t.Errorf("%s: zoo.cfg lacks %s after the reconfig operations:\n%s", m.Host, kv, cfg)
			}
		}
		if ownDynamic(t, l, m.Host) == "" {
			t.Errorf("%s: zoo.cfg does not point at a dynamic file ZooKeeper wrote:\n%s", m.Host, cfg)
		}
	}
	for _, rn := range p.Stages[last].Renamed {
		t.Logf("%s (renamed), zoo.cfg at the end:\n%s", rn.Host, readCfg(t, l, rn.Host))
	}
	acked := len(w.Acked())
	missing, err := w.Check(ctx, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) > 0 {
		t.Errorf("%d of %d acknowledged writes are missing, first %v", len(missing), acked, missing[:min(5, len(missing))])
	}
	total := w.Stats(began, time.Now())
	t.Logf("reconfiguration through Ansible (%s): %s, %d writes acknowledged (all present), %d failed, longest stall %s",
		version, time.Since(began).Round(time.Second), acked, total.Failed, total.Stall.Round(time.Millisecond))
}

func confDir(l *lab.Lab, host string) string { return filepath.Join(l.State(), host, "conf") }

func readCfg(t *testing.T, l *lab.Lab, host string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(confDir(l, host), "zoo.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var ownDynamicRE = regexp.MustCompile(`(?m)^dynamicConfigFile=(.*/zoo\.cfg\.dynamic\.[0-9a-f]+)$`)

// ownDynamic is the zoo.cfg.dynamic.<version> the host's zoo.cfg points at,
// in its own folder, "" when it points elsewhere.
func ownDynamic(t *testing.T, l *lab.Lab, host string) string {
	t.Helper()
	m := ownDynamicRE.FindStringSubmatch(readCfg(t, l, host))
	if m == nil || filepath.Dir(m[1]) != confDir(l, host) {
		return ""
	}
	if _, err := os.Stat(m[1]); err != nil {
		t.Errorf("%s: %v", host, err)
	}
	return m[1]
}

// editsOf lists the key edits between two installed() records' zoo.cfg.
func editsOf(t *testing.T, before, after string) string {
	t.Helper()
	cfg := func(rec string) []byte { return []byte(strings.Split(rec, "\x00")[1]) }
	edits, err := zoocfg.Edits(cfg(before), cfg(after))
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, e := range edits {
		s = append(s, e.String())
	}
	return strings.Join(s, "; ")
}

// TestPullRefusesNewIdentityWithoutStep: under reconfiguration pull.yml
// replaces a member's myid or static zoo.cfg only in a stage that
// restarts the host. A member whose installed myid differs from a stage
// that has no step for it (the repository is not at the stage the
// ensemble runs) is refused on every host before anything is installed,
// and the zoo.cfg ZooKeeper keeps there is left as it is.
func TestPullRefusesNewIdentityWithoutStep(t *testing.T) {
	playbook := requireAnsible(t)
	here, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	c, p := compilertest.Plan(t, filepath.Join("..", "..", "clusters", "reconfig"))
	const k = 3 // zk1-dc1 is renamed and the dc2 hosts join; zk2-dc1 has no step
	files, err := render.StageFiles(c, p, k)
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	rendered, state := filepath.Join(work, "rendered"), filepath.Join(work, "state")
	for _, f := range files {
		path := filepath.Join(rendered, f.Path)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// ZooKeeper's own zoo.cfg on zk2-dc1, and a myid of another id.
	conf := filepath.Join(state, "zk2-dc1", "conf")
	own := []byte("reconfigEnabled=true\ndynamicConfigFile=/etc/zookeeper/conf/zoo.cfg.dynamic.100000000\n")
	if err := os.MkdirAll(conf, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"zoo.cfg": own, "myid": []byte("7\n")} {
		if err := os.WriteFile(filepath.Join(conf, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tmp := filepath.Join(work, "ansible-tmp")
	cmd := exec.Command(playbook, "-i", filepath.Join(here, "inventory.py"), "-e", "@"+filepath.Join(here, "lab.yml"), filepath.Join(here, "pull.yml"))
	cmd.Env = append(os.Environ(), "ZKSTAGE_RENDERED="+rendered, "ZKSTAGE_LAB_STATE="+state,
		"ANSIBLE_LOCAL_TEMP="+tmp, "ANSIBLE_REMOTE_TEMP="+tmp, "ANSIBLE_NOCOLOR=1", "ANSIBLE_RETRY_FILES_ENABLED=false", "LC_ALL=C.UTF-8")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("pull.yml accepted a new myid on a member the stage does not restart:\n%s", out)
	}
	if !strings.Contains(string(out), "zk2-dc1: stage 3 of reconfig would replace its myid but has no start or restart step for it") {
		t.Errorf("pull.yml's refusal does not say why:\n%s", out)
	}
	if got, err := os.ReadFile(filepath.Join(conf, "zoo.cfg")); err != nil || !bytes.Equal(got, own) {
		t.Errorf("ZooKeeper's zoo.cfg changed: %q %v", got, err)
	}
	for _, h := range schema.SortedHosts(c) {
		if h == "zk2-dc1" {
			continue
		}
		if _, err := os.Stat(filepath.Join(state, h, "conf", "myid")); err == nil {
			t.Errorf("%s: myid was installed", h)
		}
	}
}
