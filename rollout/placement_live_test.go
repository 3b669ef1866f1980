package rollout

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/zkstage/zkstage/lab/labtest"
)

// TestLeaderMovedBack: a stage that ends with the leader outside the most
// preferred datacenter while a host there holds the highest live id gets
// one more gated restart of the leader, which puts the leadership back; with
// KeepLeader it stays, with a warning.
//
// Stage 04 (the seven on the 11-member config) is up with zk1-dc1 (id 100)
// leading; restarting it makes zk2-dc2 (id 6, dc2) lead. Stage 05 only
// starts the four new hosts, so the roll ends with the leader in dc2.
//
// It runs on every version: the move is one more gated restart, and on 3.4
// the gate's membership comes from the runner's own steps.
func TestLeaderMovedBack(t *testing.T) {
	for _, v := range labtest.Versions {
		t.Run(v, func(t *testing.T) { leaderMovedBack(t, v) })
	}
}

func leaderMovedBack(t *testing.T, version string) {
	f := newFixtureVersion(t, testDir, version, 4)
	ctx := context.Background()
	f.leaderToDC2(t, 4)

	res, err := Run(ctx, f.opts(5, LabExec(f.lab, f.c, f.p)))
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK {
		t.Fatalf("stage 05: %s", res.Message)
	}
	mv := res.LeaderMove
	if mv == nil || mv.Status != StatusDone || mv.Action != ActionMoveLeader || f.c.Hosts[mv.Host].DC != "dc2" {
		t.Fatalf("leader move %+v, want a done move-leader step of the dc2 leader", mv)
	}
	if f.c.Hosts[res.Leader].DC != "dc1" || f.c.Hosts[mv.LeaderAfter].DC != "dc1" {
		t.Errorf("leader after the move %s (%s), want one in dc1", res.Leader, mv.LeaderAfter)
	}
	if mv.Elections < 1 || res.Elections < mv.Elections {
		t.Errorf("the move counts %d elections (roll %d), want at least 1", mv.Elections, res.Elections)
	}
	if !strings.Contains(mv.Reason, "won the election its restart started") {
		t.Errorf("move reason %q", mv.Reason)
	}
	f.finalMembership(t, "dc1")

	// KeepLeader: the same misplacement stays, with a warning.
	f.leaderToDC2(t, 5)
	o := f.opts(5, LabExec(f.lab, f.c, f.p))
	o.Resume, o.KeepLeader = true, true
	res, err = Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK || res.LeaderMove != nil || f.c.Hosts[res.Leader].DC != "dc2" {
		t.Fatalf("KeepLeader: ok=%v move=%+v leader %s, want the dc2 leader left alone", res.OK, res.LeaderMove, res.Leader)
	}
	if !strings.Contains(strings.Join(res.Warnings, "\n"), "is in dc2, not in the preferred dc1") {
		t.Errorf("KeepLeader: no placement warning: %v", res.Warnings)
	}
}

// leaderToDC2 moves the leadership of the running stage k from dc1 to dc2:
// the dc1 leader stops, the others elect (dc2 then holds the highest id
// left), and only then does it start again and follow. A plain restart is
// not enough: a quick JVM (seen on 3.4.6) rejoins the election and wins it.
func (f *fixture) leaderToDC2(t *testing.T, k int) {
	t.Helper()
	ctx := context.Background()
	st := f.runnerState(t, k)
	L := st.Leader
	if f.c.Hosts[L].DC != "dc1" {
		t.Fatalf("stage %02d leader %q, want one in dc1 to start from", k, L)
	}
	if _, err := f.lab.Stop(ctx, L); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if st := f.runnerState(t, k); st.Leader != "" && f.c.Hosts[st.Leader].DC == "dc2" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no dc2 leader within 60s after stopping %s", L)
		}
		time.Sleep(300 * time.Millisecond)
	}
	files, err := LabFiles(f.c, f.p, k)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.lab.Start(ctx, files, k, L); err != nil {
		t.Fatal(err)
	}
	f.verify(t, k, 60*time.Second)
	if st := f.runnerState(t, k); f.c.Hosts[st.Leader].DC != "dc2" {
		t.Fatalf("after %s came back, %q leads, want the dc2 leader kept", L, st.Leader)
	}
}

// runnerState observes the hosts of stage k the way the runner does.
func (f *fixture) runnerState(t *testing.T, k int) *state {
	t.Helper()
	from, to := k-1, k
	if k == 0 {
		// Before stage 1: observed as the runner of stage 1 sees it.
		from, to = 0, 1
	}
	r, err := newRunner(Options{From: f.manifest(from), To: f.manifest(to)})
	if err != nil {
		t.Fatal(err)
	}
	return r.observe(context.Background())
}
