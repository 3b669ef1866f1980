package gitops

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/lab"
	"github.com/zkstage/zkstage/lab/labtest"
	"github.com/zkstage/zkstage/render"
	"github.com/zkstage/zkstage/rollout"
	"github.com/zkstage/zkstage/schema"
	"github.com/zkstage/zkstage/verify"
)

// TestLiveGateFollowsTheRollout is the end-to-end promise: stage the lab41
// cluster, then for each branch in order, the live gate fails until the
// previous stage has been rolled out on a real ensemble and passes after.
// The lab runs on 127.0.41.x (dc1), 127.0.42.x (dc2) and 127.0.43.x (dc3);
// it rolls every stage and ends with the eleven servers of the target.
//
// It runs on every version of the matrix; on 3.4, which shows no
// membership, the gate's verify reads the runner's journal.
func TestLiveGateFollowsTheRollout(t *testing.T) {
	for _, v := range labtest.Versions {
		t.Run(v, func(t *testing.T) { liveGate(t, v) })
	}
}

// TestLiveGateUnderReconfig is the same promise under dynamic
// reconfiguration (3.5.10 and 3.8.0; 127.0.85.x and 127.0.86.x): the
// stages turn reconfiguration on, remove the id of a host being renamed,
// and add it under its new id with two joiners. The rendered files on the
// branches are the static part (and the joiners' bootstrap dynamic
// files); the gate's live check must see each stage through
// /zookeeper/config, which ZooKeeper owns once reconfiguration is on.
func TestLiveGateUnderReconfig(t *testing.T) {
	for _, v := range []string{"3.5.10", "3.8.0"} {
		t.Run(v, func(t *testing.T) {
			labtest.RequireVersion(t, v)
			t.Setenv(rollout.EnvReconfigAuth, "super:zkstage-test")
			gateFollowsRollout(t, newTestRepoOf(t, "testdata/reconfig85", v), true)
		})
	}
}

func liveGate(t *testing.T, version string) {
	labtest.RequireVersion(t, version)
	gateFollowsRollout(t, newTestRepoVersion(t, version), false)
}

// gateFollowsRollout stages r's spec and walks the branches in order: each
// gate fails on the live check until the previous stage is rolled out, and
// passes after; main's last manifest then verifies live. With znodeConfig,
// every passing gate from stage 1 on must have checked the membership
// through /zookeeper/config.
func gateFollowsRollout(t *testing.T, r *testRepo, znodeConfig bool) {
	c, p := r.plan()
	version := c.Version.String()
	n := branchNames(p)
	r.mustStage(StageOptions{})
	l := labtest.NewLabVersion(t, version, nil)

	gate := func(base, head string, wait time.Duration) *GateResult {
		return r.gate(GateOptions{Base: base, Head: head, Wait: wait, Verify: verify.Options{Timeout: 2 * time.Second}})
	}
	// Before: the files and the sequence are right, only the live check
	// fails, so the failure is the ensemble's and nothing else's.
	fails := func(base string, k int) {
		t.Helper()
		res := gate(base, n[k], 0)
		st := checkStatus(res)
		if st[GateRendered] != GatePass || st[GateSequence] != GatePass || st[GateLive] != GateFail || res.OK() {
			t.Fatalf("gate of %s before the previous stage is rolled out: %v, want only the live check failing\n%+v", n[k], st, res.Checks)
		}
		t.Logf("stage %02d gate fails before: %s", k, res.Checks[2].Message)
		// Turning reconfiguration on changes neither the membership nor
		// conf: only /zookeeper/config's version (0 while static) tells
		// that the enabling stage has not run.
		if znodeConfig && k > 0 && p.Stages[k-1].Kind == compiler.KindReconfigEnable {
			ch := zkConfigCheck(res.Verify)
			if ch == nil || ch.Status != verify.Fail || !strings.Contains(ch.Message, "version=0") {
				t.Fatalf("gate of %s before the enabling stage: /zookeeper/config check %+v, want a failure on version=0", n[k], ch)
			}
			t.Logf("stage %02d gate: %s", k, ch.Message)
		}
	}
	passes := func(base string, k int) {
		t.Helper()
		res := gate(base, n[k], 60*time.Second)
		if !res.OK() || checkStatus(res)[GateLive] != GatePass {
			var b strings.Builder
			res.WriteText(&b)
			if res.Verify != nil {
				res.Verify.WriteText(&b) // the evidence behind the live check
			}
			t.Fatalf("gate of %s after the rollout:\n%s", n[k], b.String())
		}
		if res.Verify == nil || res.VerifiedStage != max(k-1, 0) {
			t.Fatalf("gate of %s verified stage %d, want %d", n[k], res.VerifiedStage, max(k-1, 0))
		}
		if znodeConfig && k >= 2 {
			seen := zkConfigCheck(res.Verify)
			if seen == nil || seen.Status != verify.Pass {
				t.Fatalf("gate of %s: the membership was not verified through /zookeeper/config: %+v", n[k], seen)
			}
			t.Logf("stage %02d gate: %s", k, seen.Message)
		}
		t.Logf("stage %02d gate passes after: %s", k, res.Checks[2].Message)
	}

	// Stage 00 adopts the ensemble as it runs: its gate verifies stage 00
	// itself, so it fails before the lab is up, as does stage 01's.
	fails("main", 0)
	fails(n[0], 1)
	files := labFiles(t, c, p, 0)
	if _, err := l.Up(t.Context(), files, 0); err != nil {
		t.Fatal(err)
	}
	passes("main", 0)
	r.git("merge", "-q", "--ff-only", n[0])
	passes("main", 1)
	r.git("merge", "-q", "--ff-only", n[1])
	for k := 2; k < len(p.Stages); k++ {
		fails("main", k)
		roll(t, l, c, p, k-1)
		passes("main", k)
		r.git("merge", "-q", "--ff-only", n[k])
	}
	// The last stage has no next gate: roll it and verify main's manifest,
	// the target, on all eleven servers.
	last := len(p.Stages) - 1
	roll(t, l, c, p, last)
	man, err := render.ReadManifest(r.clusterDir() + "/rendered/stage.json")
	if err != nil {
		t.Fatal(err)
	}
	if man.Stage != last {
		t.Fatalf("main is at stage %d after merging every branch, want %d", man.Stage, last)
	}
	wctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	rep, err := verify.RunWait(wctx, man, verify.Options{}, time.Second, nil)
	if err != nil || !rep.OK() {
		var b strings.Builder
		if rep != nil {
			rep.WriteText(&b)
		}
		t.Fatalf("the target does not verify: %v\n%s", err, b.String())
	}
	t.Logf("stage %02d verifies live: %d members, leader %s", last, len(man.LiveMembers()), rep.Leader)
}

// zkConfigCheck is the report's /zookeeper/config check, or nil.
func zkConfigCheck(rep *verify.Report) *verify.Check {
	if rep == nil {
		return nil
	}
	for i, ch := range rep.Checks {
		if ch.Name == verify.CheckZNodeConfig {
			return &rep.Checks[i]
		}
	}
	return nil
}

func labFiles(t *testing.T, c *schema.Cluster, p *compiler.Plan, k int) []lab.File {
	t.Helper()
	files, err := rollout.LabFiles(c, p, k)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// roll rolls stage k on the lab with the rollout runner, the way the
// runbook says (zkstage roll): gated steps, the live leader last or first.
func roll(t *testing.T, l *lab.Lab, c *schema.Cluster, p *compiler.Plan, k int) {
	t.Helper()
	res, err := rollout.Run(t.Context(), rollout.Options{
		From: render.NewManifest(c, p, k-1), To: render.NewManifest(c, p, k),
		Exec: rollout.LabExec(l, c, p),
	})
	if err != nil {
		t.Fatalf("stage %02d: %v", k, err)
	}
	if !res.OK {
		t.Fatalf("stage %02d did not roll: %s", k, res.Message)
	}
	t.Logf("stage %02d rolled in %s: %d steps, leader after %s", k, res.Duration.Round(100*time.Millisecond), len(res.Steps), res.Leader)
}
