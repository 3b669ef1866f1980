package rollout

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestLeaderMovedBack: a stage that ends with the leader outside the most
// preferred datacenter while a host there holds the highest live id gets
// one more gated restart of the leader, which puts the leadership back; with
// KeepLeader it stays, with a warning.
//
// Stage 04 (the seven on the 11-member config) is up with zk1-dc1 (id 100)
// leading; restarting it makes zk2-dc2 (id 6, dc2) lead. Stage 05 only
// starts the four new hosts, so the roll ends with the leader in dc2.
func TestLeaderMovedBack(t *testing.T) {
	f := newFixture(t, 4)
	ctx := context.Background()
	dc2Leader := func() {
		t.Helper()
		st := f.runnerState(t, 4)
		if f.c.Hosts[st.Leader].DC != "dc1" {
			t.Fatalf("stage 04 leader %q, want one in dc1 to start from", st.Leader)
		}
		files, err := LabFiles(f.c, f.p, 4)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.lab.Restart(ctx, files, 4, st.Leader); err != nil {
			t.Fatal(err)
		}
		f.verify(t, 4, 60*time.Second)
		if st := f.runnerState(t, 4); f.c.Hosts[st.Leader].DC != "dc2" {
			t.Fatalf("after restarting the leader, %q leads, want a dc2 host (the highest id left)", st.Leader)
		}
	}
	dc2Leader()

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
	if !strings.Contains(mv.Reason, "wins the election its restart starts") {
		t.Errorf("move reason %q", mv.Reason)
	}
	f.finalMembership(t, "dc1")

	// KeepLeader: the same misplacement stays, with a warning.
	files, err := LabFiles(f.c, f.p, 5)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.lab.Restart(ctx, files, 5, res.Leader); err != nil {
		t.Fatal(err)
	}
	f.verify(t, 5, 60*time.Second)
	st := f.runnerState(t, 5)
	if f.c.Hosts[st.Leader].DC == "dc1" {
		t.Fatalf("after restarting the dc1 leader, %s (dc1) leads: want a dc2 leader for the KeepLeader check", st.Leader)
	}
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

// runnerState observes the hosts of stage k the way the runner does.
func (f *fixture) runnerState(t *testing.T, k int) *state {
	t.Helper()
	from := k - 1
	if from < 0 {
		from = 0
	}
	r, err := newRunner(Options{From: f.manifest(from), To: f.manifest(k)})
	if err != nil {
		t.Fatal(err)
	}
	return r.observe(context.Background())
}
