package rollout

import (
	"context"
	"fmt"
	"time"

	"github.com/zkstage/zkstage/compiler"
)

// exec runs step s's command. A restart of the live leader whose absence
// lets the others elect (compiler.Handover) runs as two commands, stop and
// then start, with the others' election in between: the plan's story is
// that order, and a plain restart races it (a leader back before the
// others agree joins their election and, with the highest id, wins it; seen
// on 3.5.10, where it then cost the next stage a second election). Waiting
// costs no availability: the host is down for the step either way, and the
// ensemble serves again as soon as the others have elected.
func (r *runner) exec(ctx, sctx context.Context, st *state, s compiler.Step, sr *StepResult) error {
	return r.execWith(ctx, sctx, s, r.handover(st, s), sr)
}

// execWith runs s as stop, wait for winner to lead, start when winner is
// set, else as one command. The reconfig runner names the winner itself
// (its leader restarts move the leadership between committed members).
func (r *runner) execWith(ctx, sctx context.Context, s compiler.Step, winner string, sr *StepResult) error {
	if winner == "" {
		return r.opts.Exec.Exec(sctx, r.env(s))
	}
	stop, start := s, s
	stop.Action, start.Action = compiler.Stop, compiler.Start
	if err := r.opts.Exec.Exec(sctx, r.env(stop)); err != nil {
		return fmt.Errorf("stop (the leader's restart stops it first, so that the others elect %s): %w", winner, err)
	}
	t0 := time.Now()
	wctx, cancel := context.WithTimeout(sctx, r.opts.HandoverWait)
	leader := r.waitOtherLeader(wctx, s.Host)
	cancel()
	waited := time.Since(t0).Round(10 * time.Millisecond)
	switch {
	case leader == winner:
		sr.Handover = fmt.Sprintf("stopped, then started once %s led (%s), as predicted", leader, waited)
	case leader != "":
		sr.Handover = fmt.Sprintf("stopped, then started once %s led (%s); %s was predicted", leader, waited, winner)
	default:
		sr.Handover = fmt.Sprintf("stopped; no other host led within %s (%s was predicted), started again", waited, winner)
	}
	// The host is down now: it starts again even when the roll was
	// interrupted or the step's time ran out, since leaving it stopped
	// would cost the ensemble a voter nobody asked to lose.
	startCtx := sctx
	if sctx.Err() != nil {
		var cancel context.CancelFunc
		startCtx, cancel = context.WithTimeout(context.WithoutCancel(ctx), r.opts.StepTimeout)
		defer cancel()
	}
	if err := r.opts.Exec.Exec(startCtx, r.env(start)); err != nil {
		return fmt.Errorf("start after the handover (%s): %w", sr.Handover, err)
	}
	return nil
}

// waitOtherLeader observes until one host other than host leads, and
// returns it ("" when ctx ends first).
func (r *runner) waitOtherLeader(ctx context.Context, host string) string {
	poll := min(r.opts.Poll, 100*time.Millisecond)
	for {
		st := r.observe(ctx)
		if ctx.Err() != nil {
			return ""
		}
		if st.Leader != "" && st.Leader != host {
			return st.Leader
		}
		select {
		case <-ctx.Done():
			return ""
		case <-time.After(poll):
		}
	}
}
