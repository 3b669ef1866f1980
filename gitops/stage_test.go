package gitops

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestStageWritesStackedBranches(t *testing.T) {
	r := newTestRepo(t)
	c, p := r.plan()
	mainBefore := r.git("rev-parse", "main")
	headBefore := r.git("symbolic-ref", "HEAD")

	res := r.mustStage(StageOptions{})

	names := branchNames(p)
	if got := r.lines("for-each-ref", "--format=%(refname:short)", "refs/heads/zkstage/"); !reflect.DeepEqual(got, names) {
		t.Fatalf("branches:\n got %q\nwant %q", got, names)
	}
	if len(res.Branches) != len(p.Stages) || res.BaseStage != -1 {
		t.Fatalf("result: %d branches, base stage %d; want %d, -1", len(res.Branches), res.BaseStage, len(p.Stages))
	}
	if got := r.git("rev-parse", "main"); got != mainBefore {
		t.Errorf("main moved: %s -> %s", mainBefore, got)
	}
	if got := r.git("symbolic-ref", "HEAD"); got != headBefore {
		t.Errorf("HEAD moved: %s -> %s", headBefore, got)
	}
	if st := r.git("status", "--porcelain"); st != "" {
		t.Errorf("worktree touched:\n%s", st)
	}
	parent := mainBefore
	for k, name := range names {
		b := res.Branches[k]
		if b.Name != name || b.Action != Created || b.Stage != k {
			t.Errorf("stage %d: result %+v", k, b)
		}
		// One commit per stage, stacked on the previous stage's.
		if got := r.git("rev-parse", name+"^"); got != parent {
			t.Errorf("%s: parent %s, want %s", name, got, parent)
		}
		if n := r.git("rev-list", "--count", mainBefore+".."+name); n != fmt.Sprint(k+1) {
			t.Errorf("%s: %s commits on main, want %d", name, n, k+1)
		}
		parent = r.git("rev-parse", name)
		if parent != b.Commit {
			t.Errorf("%s: result commit %s, git says %s", name, b.Commit, parent)
		}
		// The tree holds the spec, the README and exactly the stage's files.
		want, files := stagePaths(t, c, p, k)
		if got := r.lines("ls-tree", "-r", "--name-only", name, "--", clusterRel+"/"+RenderedDir); !reflect.DeepEqual(got, want) {
			t.Errorf("%s rendered files:\n got %q\nwant %q", name, got, want)
		}
		if got := r.lines("ls-tree", "--name-only", name); !reflect.DeepEqual(got, []string{"README.md", "clusters"}) {
			t.Errorf("%s top level: %q", name, got)
		}
		if d := r.git("diff", "--name-only", "main", name, "--", clusterRel+"/cluster.cue", "README.md"); d != "" {
			t.Errorf("%s changes files outside rendered/: %s", name, d)
		}
		for _, f := range files {
			if got := r.git("show", name+":"+clusterRel+"/"+RenderedDir+"/"+f.Path); got != strings.TrimRight(string(f.Data), "\n") {
				t.Errorf("%s:%s differs from render.StageFiles", name, f.Path)
			}
		}
		// The message is the pull request description.
		msg := r.git("log", "-1", "--format=%B", name)
		title := fmt.Sprintf("zkstage(lab41): stage %02d %s", k, p.Stages[k].Name)
		if first := strings.SplitN(msg, "\n", 2)[0]; first != title {
			t.Errorf("%s title %q, want %q", name, first, title)
		}
		for _, s := range []string{"## What changes", "## Why it is safe", "## Runbook", "## What the gate checks", "```mermaid", "zkstage gate clusters/lab41 --base main"} {
			if !strings.Contains(msg, s) {
				t.Errorf("%s message lacks %q", name, s)
			}
		}
		if k > 0 {
			roll := fmt.Sprintf("zkstage roll clusters/lab41 --stage %d --exec '<your restart command>'", k)
			if !strings.Contains(msg, roll) {
				t.Errorf("%s message lacks the roll command %q", name, roll)
			}
			for i, s := range p.Stages[k].Steps {
				step := fmt.Sprintf("   %d. %s `%s`", i+1, s.Action, s.Host)
				if !strings.Contains(msg, step) {
					t.Errorf("%s runbook lacks step %q", name, step)
				}
			}
		}
		if r.git("log", "-1", "--format=%an <%ae>", name) != DefaultAuthor.String() {
			t.Errorf("%s author %q, want the default", name, r.git("log", "-1", "--format=%an <%ae>", name))
		}
	}

	// Stage 3 starts the first two dc2 hosts: their files appear, nothing
	// else but the manifest and the comment headers changes.
	d := r.lines("diff", "--name-status", names[2], names[3])
	added := 0
	for _, l := range d {
		if strings.HasPrefix(l, "A\t") {
			added++
			if !strings.Contains(l, "/zk1-dc2/") && !strings.Contains(l, "/zk2-dc2/") {
				t.Errorf("stage 03 adds an unexpected file: %s", l)
			}
		}
		if strings.HasPrefix(l, "D\t") {
			t.Errorf("stage 03 deletes a file: %s", l)
		}
	}
	if added != 4 {
		t.Errorf("stage 03 adds %d files, want 4 (zoo.cfg, myid of zk1-dc2, zk2-dc2):\n%s", added, strings.Join(d, "\n"))
	}
	// Stage 1 renames zk1-dc1: its myid becomes 100.
	if got := r.git("show", names[1]+":"+clusterRel+"/rendered/zk1-dc1/myid"); got != "100" {
		t.Errorf("stage 01 zk1-dc1/myid = %q, want 100", got)
	}
}

func TestStageIsIdempotent(t *testing.T) {
	r := newTestRepo(t)
	first := r.mustStage(StageOptions{})
	refs := r.git("for-each-ref", "--format=%(refname) %(objectname)")
	second := r.mustStage(StageOptions{})
	for i, b := range second.Branches {
		if b.Action != Kept || b.Commit != first.Branches[i].Commit {
			t.Errorf("re-run: %s %s (was %s)", b.Action, b.Name, first.Branches[i].Commit)
		}
	}
	if got := r.git("for-each-ref", "--format=%(refname) %(objectname)"); got != refs {
		t.Errorf("refs changed on re-run:\n%s\n---\n%s", refs, got)
	}
	if n := len(r.lines("rev-list", "--all")); n != 1+len(first.Branches) {
		t.Errorf("%d commits after re-run, want %d", n, 1+len(first.Branches))
	}
}

func TestStageRefusesDirtyWorktree(t *testing.T) {
	cases := []struct {
		name  string
		dirty func(r *testRepo)
		want  []string
	}{
		{"modified spec", func(r *testRepo) { r.write(clusterRel+"/cluster.cue", "// edited\n") }, []string{" M " + clusterRel + "/cluster.cue"}},
		{"untracked rendered file", func(r *testRepo) { r.write(clusterRel+"/rendered/zk1-dc1/zoo.cfg", "x=1\n") }, []string{"?? " + clusterRel + "/rendered/zk1-dc1/zoo.cfg"}},
		{"staged file", func(r *testRepo) {
			r.write(clusterRel+"/notes.txt", "n\n")
			r.git("add", clusterRel+"/notes.txt")
		}, []string{"A  " + clusterRel + "/notes.txt"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newTestRepo(t)
			c, p := r.plan()
			tc.dirty(r)
			r.write("elsewhere.txt", "dirt outside the cluster folder is not our business\n")
			_, err := Stage(t.Context(), c, p, StageOptions{Dir: r.clusterDir()})
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("want an InputError, got %v", err)
			}
			if !reflect.DeepEqual(ie.Paths, tc.want) {
				t.Errorf("dirty paths %q, want %q", ie.Paths, tc.want)
			}
			if got := r.git("for-each-ref", "refs/heads/zkstage/"); got != "" {
				t.Errorf("branches written despite the refusal:\n%s", got)
			}
		})
	}
}

func TestStageSkipsMergedStages(t *testing.T) {
	r := newTestRepo(t)
	_, p := r.plan()
	names := branchNames(p)
	first := r.mustStage(StageOptions{})
	r.git("merge", "-q", "--ff-only", names[1]) // stages 00 and 01 merged
	res := r.mustStage(StageOptions{})
	if res.BaseStage != 1 {
		t.Fatalf("base stage %d, want 1", res.BaseStage)
	}
	if len(res.Branches) != len(p.Stages)-2 || res.Branches[0].Stage != 2 {
		t.Fatalf("branches from stage %d, %d of them", res.Branches[0].Stage, len(res.Branches))
	}
	for i, b := range res.Branches {
		// main now is branch 01's commit: the rest of the stack is unchanged.
		if b.Action != Kept || b.Commit != first.Branches[i+2].Commit {
			t.Errorf("%s: %s, want kept", b.Name, b.Action)
		}
	}
	if !reflect.DeepEqual(res.Merged, names[:2]) {
		t.Errorf("merged %q, want %q", res.Merged, names[:2])
	}
	if got := r.git("rev-parse", names[0]); got != first.Branches[0].Commit {
		t.Errorf("merged branch 00 was rewritten")
	}
}

func TestStageReplansAChangedSpec(t *testing.T) {
	r := newTestRepo(t)
	_, oldPlan := r.plan()
	names := branchNames(oldPlan)
	first := r.mustStage(StageOptions{})
	r.git("merge", "-q", "--ff-only", names[1])
	// The spec changes after stage 01 is rolled out: one dc2 host fewer.
	spec := r.git("show", "main:"+clusterRel+"/cluster.cue")
	var kept []string
	for _, l := range strings.Split(spec, "\n") {
		if !strings.Contains(l, `"zk5-dc2"`) {
			kept = append(kept, l)
		}
	}
	r.write(clusterRel+"/cluster.cue", strings.Join(kept, "\n")+"\n")
	r.git("commit", "-q", "-am", "four dc2 hosts")
	_, p := r.plan()
	if p.Fingerprint == oldPlan.Fingerprint {
		t.Fatal("the spec change did not change the plan's fingerprint")
	}
	res := r.mustStage(StageOptions{})
	if res.BaseStage != 1 || res.BaseFingerprint != oldPlan.Fingerprint {
		t.Fatalf("base: stage %d plan %s", res.BaseStage, res.BaseFingerprint)
	}
	// Stage 01 of the new plan is the ensemble main describes: it comes
	// back as a re-plan commit on top of main, then the rest follow.
	if res.Branches[0].Stage != 1 || res.Branches[0].Entry != EntryReplan {
		t.Fatalf("first branch %+v, want the re-plan of stage 01", res.Branches[0])
	}
	if len(res.Branches) != len(p.Stages)-1 {
		t.Fatalf("%d branches, want stages 01..%02d", len(res.Branches), len(p.Stages)-1)
	}
	old := map[string]string{}
	for _, b := range first.Branches {
		old[b.Name] = b.Commit
	}
	for _, b := range res.Branches {
		prev, existed := old[b.Name]
		switch {
		case existed && (b.Action != Updated || b.Previous != prev):
			t.Errorf("%s: %s (previous %s), want updated from %s", b.Name, b.Action, b.Previous, prev)
		case !existed && b.Action != Created:
			t.Errorf("%s: %s, want created", b.Name, b.Action)
		}
		if existed {
			// Every stage's manifest names the new plan.
			if len(b.Changed) == 0 {
				t.Errorf("%s: update lists no changed file", b.Name)
			}
			// The old commit stays in the object store.
			r.git("cat-file", "-e", b.Previous+"^{commit}")
		}
	}
	planned := map[string]bool{}
	for _, b := range res.Branches {
		planned[b.Name] = true
	}
	var stale []string
	for _, n := range branchNames(oldPlan)[2:] {
		if !planned[n] {
			stale = append(stale, n)
		}
	}
	if len(stale) == 0 || !reflect.DeepEqual(res.Stale, stale) {
		t.Errorf("stale %q, want %q", res.Stale, stale)
	}
	for _, n := range stale {
		r.git("rev-parse", "--verify", n) // reported, not deleted
	}
	if got := r.git("rev-parse", res.Branches[0].Name+"^"); got != r.git("rev-parse", "main") {
		t.Errorf("the re-plan commit is not on main")
	}
	msg := r.git("log", "-1", "--format=%B", res.Branches[0].Name)
	for _, s := range []string{"Re-plans cluster `lab41`", oldPlan.Fingerprint + "` → `" + p.Fingerprint, "  - modified `stage.json`\n", "Nothing to restart"} {
		if !strings.Contains(msg, s) {
			t.Errorf("re-plan message lacks %q:\n%s", s, msg)
		}
	}
	// Only the manifest names the plan: a re-plan touches no host's files,
	// so config management restarts nothing.
	for _, l := range strings.Split(msg, "\n") {
		if strings.HasPrefix(l, "  - ") && (strings.Contains(l, "/zoo.cfg`") || strings.Contains(l, "/myid`")) {
			t.Errorf("the re-plan changes a host file: %s", l)
		}
	}
	// The gate accepts the re-plan (offline) and then the next stage.
	g := r.gate(GateOptions{Base: "main", Head: res.Branches[0].Name, Offline: true})
	if !g.OK() {
		t.Errorf("gate of the re-plan: %+v", g.Checks)
	}
	g = r.gate(GateOptions{Base: res.Branches[0].Name, Head: res.Branches[1].Name, Offline: true})
	if !g.OK() {
		t.Errorf("gate of the stage after the re-plan: %+v", g.Checks)
	}
}

func TestStageAuthor(t *testing.T) {
	cases := []struct {
		name   string
		setup  func(r *testRepo)
		flag   *Signature
		want   string
		source string
	}{
		{"flag", nil, &Signature{"Flag Person", "flag@example.test"}, "Flag Person <flag@example.test>", "--author"},
		{"repository config", func(r *testRepo) {
			r.git("config", "user.name", "Repo Person")
			r.git("config", "user.email", "repo@example.test")
		}, nil, "Repo Person <repo@example.test>", "repository git config"},
		{"global config", func(r *testRepo) {
			exec := func(args ...string) { r.git(append([]string{"config", "--global"}, args...)...) }
			exec("user.name", "Global Person")
			exec("user.email", "global@example.test")
		}, nil, "Global Person <global@example.test>", "global git config"},
		{"default", nil, nil, "zkstage <zkstage@localhost>", "default"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newTestRepo(t)
			if tc.setup != nil {
				tc.setup(r)
			}
			res := r.mustStage(StageOptions{Author: tc.flag})
			if res.AuthorSource != tc.source {
				t.Errorf("source %q, want %q", res.AuthorSource, tc.source)
			}
			if got := r.git("log", "-1", "--format=%an <%ae>", res.Branches[0].Name); got != tc.want {
				t.Errorf("author %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseAuthor(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Signature
		ok   bool
	}{
		{"Ada Lovelace <ada@example.test>", Signature{"Ada Lovelace", "ada@example.test"}, true},
		{"  Bob <b@x>  ", Signature{"Bob", "b@x"}, true},
		{"no mail", Signature{}, false},
		{"<only@mail>", Signature{}, false},
		{"Name <>", Signature{}, false},
	} {
		got, err := ParseAuthor(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseAuthor(%q) = %v, %v", tc.in, got, err)
		}
	}
}

func TestStagePushesToABareRemote(t *testing.T) {
	r := newTestRepo(t)
	_, p := r.plan()
	bare := t.TempDir()
	r.git("init", "-q", "--bare", bare)
	r.git("remote", "add", "origin", bare)
	res := r.mustStage(StageOptions{Push: "origin"})
	remote := &testRepo{t: t, dir: bare}
	got := remote.lines("for-each-ref", "--format=%(refname:short) %(objectname)")
	var want []string
	for _, b := range res.Branches {
		want = append(want, b.Name+" "+b.Commit)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("remote refs (the base must not be pushed):\n got %q\nwant %q", got, want)
	}
	if len(res.Pushed) != len(p.Stages) {
		t.Errorf("pushed %d, want %d", len(res.Pushed), len(p.Stages))
	}
	// After a spec change the stage branches are force-pushed.
	spec := r.git("show", "main:"+clusterRel+"/cluster.cue")
	r.write(clusterRel+"/cluster.cue", strings.Replace(spec, "syncLimit: 5", "syncLimit: 6", 1)+"\n")
	r.git("commit", "-q", "-am", "syncLimit")
	res = r.mustStage(StageOptions{Push: "origin"})
	for _, b := range res.Branches {
		if b.Action != Updated {
			t.Errorf("%s: %s, want updated", b.Name, b.Action)
		}
		if got := remote.git("rev-parse", b.Name); got != b.Commit {
			t.Errorf("remote %s = %s, want %s", b.Name, got, b.Commit)
		}
	}
}

// TestStageCommitsNewSettingsFirst: settings changed while a plan is under
// way (the plan does not change) come as their own commit, the base's stage
// re-rendered with them and rolled with --settings, so that the next stage
// changes no zoo.cfg of a host it does not restart.
func TestStageCommitsNewSettingsFirst(t *testing.T) {
	r := newTestRepo(t)
	_, oldPlan := r.plan()
	names := branchNames(oldPlan)
	r.mustStage(StageOptions{})
	r.git("merge", "-q", "--ff-only", names[1])
	r.git("merge", "-q", "--ff-only", names[2])
	spec := r.git("show", "main:"+clusterRel+"/cluster.cue")
	r.write(clusterRel+"/cluster.cue", strings.Replace(spec, "syncLimit: 5", "syncLimit: 6", 1)+"\n")
	r.git("commit", "-q", "-am", "syncLimit 6")
	_, p := r.plan()
	if p.Fingerprint != oldPlan.Fingerprint {
		t.Fatal("a settings change changed the plan")
	}
	res := r.mustStage(StageOptions{})
	first := res.Branches[0]
	if first.Stage != 2 || first.Entry != EntrySettings || first.Name != BranchName("", "lab41", 2, "grow-5-to-7-roll-settings") {
		t.Fatalf("first branch %+v, want the settings commit of stage 02", first)
	}
	if len(res.Branches) != len(p.Stages)-2 || res.Branches[1].Stage != 3 || res.Branches[1].Entry != EntryNext {
		t.Fatalf("branches %+v, want the settings commit then stages 03..", res.Branches)
	}
	if !reflect.DeepEqual(res.Merged, names[:3]) || len(res.Stale) != 0 {
		t.Errorf("merged %q stale %q, want merged %q", res.Merged, res.Stale, names[:3])
	}
	msg := r.git("log", "-1", "--format=%B", first.Name)
	for _, s := range []string{"zkstage(lab41): stage 02 grow-5-to-7-roll-settings", "New settings for cluster `lab41`",
		"  - modified `zk2-dc1/zoo.cfg`\n", "| 1 | restart | `zk2-dc1` | id 1 |",
		"zkstage roll " + clusterRel + " --stage 2 --settings --exec", "rendered from another spec"} {
		if !strings.Contains(msg, s) {
			t.Errorf("settings message lacks %q:\n%s", s, msg)
		}
	}
	// Stage 03 on top of it starts the new hosts and changes nothing else.
	added := 0
	for _, l := range strings.Split(r.git("diff", "--name-status", first.Name, res.Branches[1].Name), "\n") {
		switch {
		case strings.HasPrefix(l, "A\t"):
			added++
		case !strings.HasSuffix(l, "/stage.json"):
			t.Errorf("stage 03 changes a running host's file: %s", l)
		}
	}
	if added != 4 {
		t.Errorf("stage 03 adds %d files, want the two new hosts' zoo.cfg and myid", added)
	}
	for _, g := range []GateOptions{{Base: "main", Head: first.Name}, {Base: first.Name, Head: res.Branches[1].Name}} {
		g.Offline = true
		if res := r.gate(g); !res.OK() {
			t.Errorf("gate %s onto %s: %+v", g.Head, g.Base, res.Checks)
		}
	}
	// Merged, the settings commit is the base: the next run starts at 03.
	r.git("merge", "-q", "--ff-only", first.Name)
	res = r.mustStage(StageOptions{})
	if res.Branches[0].Stage != 3 || res.Branches[0].Entry != EntryNext {
		t.Errorf("after the merge: first branch %+v", res.Branches[0])
	}
	if !reflect.DeepEqual(res.Merged, append(append([]string{}, names[:3]...), first.Name)) {
		t.Errorf("after the merge: merged %q", res.Merged)
	}
}

// Under dynamic reconfiguration ZooKeeper owns zoo.cfg: the settings
// commit's runbook lists the edits to make in place in each member's own
// zoo.cfg. While removed hosts still run outside the configuration, new
// settings are refused as an input error and no branch is written or moved.
func TestStageNewSettingsUnderReconfig(t *testing.T) {
	r := newTestRepoOf(t, "testdata/reconfig85", "")
	_, p := r.plan()
	names := branchNames(p)
	r.mustStage(StageOptions{})
	r.git("merge", "-q", "--ff-only", names[1])
	spec := r.git("show", "main:"+clusterRel+"/cluster.cue")
	r.write(clusterRel+"/cluster.cue", strings.Replace(spec, "syncLimit: 5}", "syncLimit: 6, extra: maxClientCnxns: \"77\"}", 1)+"\n")
	r.git("commit", "-q", "-am", "syncLimit 6, maxClientCnxns 77")
	res := r.mustStage(StageOptions{})
	first := res.Branches[0]
	if first.Entry != EntrySettings || first.Stage != 1 {
		t.Fatalf("first branch %+v, want the settings commit of stage 01", first)
	}
	msg := r.git("log", "-1", "--format=%B", first.Name)
	for _, w := range []string{"Config management must not replace `zoo.cfg` (ZooKeeper owns it)",
		"   - `zk1-dc1`: `maxClientCnxns=77 (new)`, `syncLimit=6 (was 5)`\n",
		"zkstage roll " + clusterRel + " --stage 1 --settings --exec"} {
		if !strings.Contains(msg, w) {
			t.Errorf("settings message lacks %q:\n%s", w, msg)
		}
	}

	// At stage 02 zk3-dc1 runs outside the configuration: refused.
	r.git("merge", "-q", "--ff-only", first.Name)
	r.git("merge", "-q", "--ff-only", res.Branches[1].Name)
	branches := func() string {
		return r.git("for-each-ref", "--format=%(refname) %(objectname)", "refs/heads/zkstage/")
	}
	before := branches()
	spec = r.git("show", "main:"+clusterRel+"/cluster.cue")
	r.write(clusterRel+"/cluster.cue", strings.Replace(spec, "syncLimit: 6", "syncLimit: 7", 1)+"\n")
	r.git("commit", "-q", "-am", "syncLimit 7")
	_, err := r.stage(StageOptions{})
	var ie *InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), clusterRel+"/cluster.cue: the settings of ") || !strings.Contains(err.Error(), "zk3-dc1 runs outside the configuration") {
		t.Fatalf("error %v, want an input error naming the spec and why", err)
	}
	if after := branches(); after != before {
		t.Errorf("branches changed:\n%s\nwere:\n%s", after, before)
	}
}
