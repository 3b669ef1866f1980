package rollout

import (
	"context"
	"fmt"

	"github.com/zkstage/zkstage/compiler"
)

// placeLeader runs after the plan's last step. With equal zxids the highest
// live id wins an election, so which host restarted last decides where the
// leader sits; a stage can end with it outside the most preferred
// datacenter. When a host there holds the highest id among the others,
// restarting the leader once (one election) puts the leadership back. The
// move is one more gated step, with its own margin check, reported in
// Result.LeaderMove; Options.KeepLeader turns it off.
func (r *runner) placeLeader(ctx context.Context, res *Result) {
	if r.opts.KeepLeader || len(r.to.LeaderDatacenters) == 0 || ctx.Err() != nil {
		return
	}
	st := r.observe(ctx)
	L := st.Leader
	pref := r.to.LeaderDatacenters[0]
	if L == "" || r.dcOf(L) == pref {
		return
	}
	next, nextID := "", -1
	for _, h := range r.liveNow() {
		if h == L || !r.members[h].Voter() {
			continue
		}
		if id := r.expectedID(h); id > nextID {
			next, nextID = h, id
		}
	}
	if next == "" || r.dcOf(next) != pref {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the leader %s is in %s, not in the preferred %s; restarting it would elect %s (id %d) in %s, so it stays: the ids decide (renumber: strict puts the highest ids in %s)",
			L, r.dcOf(L), pref, next, nextID, r.dcOf(next), pref))
		return
	}
	s := compiler.Step{Action: compiler.Restart, Host: L, ID: r.expectedID(L)}
	floor := 0
	for i, ps := range r.steps {
		if i == 0 || ps.Margin < floor {
			floor = ps.Margin
		}
	}
	if floor < 0 {
		floor = 0
	}
	s.Margin = floor
	r.steps = append(r.steps, s)
	sr := &StepResult{K: len(res.Steps) + 1, Action: ActionMoveLeader, Host: L, ID: s.ID, Status: StatusNotRun,
		PlannedMargin: floor, WasLeader: true}
	refusal, evidence := r.precheck(st, s, sr)
	ok := r.step(ctx, st, len(r.steps)-1, sr.K, sr.K, sr, refusal, evidence)
	res.LeaderMove = sr
	if !ok {
		// sr.Reason is why the step failed.
		res.OK = false
		res.Failure = sr
		res.Message = fmt.Sprintf("moving the leader back to %s: restart %s: %s", pref, L, sr.Reason)
		return
	}
	sr.Reason = fmt.Sprintf("the leader %s was in %s; %s (id %d) in %s won the election its restart started", L, r.dcOf(L), next, nextID, pref)
	res.Elections += sr.Elections
	r.record(ctx, s, res)
}

// predictAfter is the leader the plan predicts at the end of the stage when
// start leads at its beginning.
func (r *runner) predictAfter(start string) string {
	return compiler.PredictedLeader(r.to.Alternatives, r.to.LeaderAfter, start)
}
