package compiler

import (
	"fmt"
	"strings"
)

// simulate runs a stage twice. The first run, from the expected leader,
// gives the order the runner will take; the steps are then listed in that
// order and every starting leader is simulated again from the listed
// order, because that list is what the runner gets (for another starting
// leader it moves that leader's step, not the expected one's).
func simulate(ss *stageSim, reserve int) simOutcome {
	first := ss.run(reserve)
	if first.story == nil {
		return first
	}
	listed := make([]Step, 0, len(ss.steps))
	for _, i := range first.story.order {
		listed = append(listed, ss.steps[i])
	}
	ss.steps = listed
	return ss.run(reserve)
}

// story fills a stage from its simulation: the steps in the order the
// runner takes from the expected leader, with that run's rules, the worst
// margin over every starting leader, the predicted leaders, the leader
// move, and the runs that differ for other starting leaders.
func story(st *Stage, ss *stageSim, out simOutcome) {
	st.Steps = nil
	run := out.story
	order := make([]int, len(ss.steps))
	for i := range order {
		order[i] = i
	}
	if run != nil {
		order = run.order
		st.Leader, st.LeaderAfter, st.Elections = run.start, run.after, run.elections
	} else {
		st.Leader, st.LeaderAfter = ss.expected, ss.expected
	}
	for k, i := range order {
		x := ss.steps[i]
		s := Step{Action: x.Action, Host: x.Host, ID: x.ID, Margin: out.steps[i].margin, Rule: out.steps[i].rule, Expected: out.steps[i].margin}
		if old, ok := ss.live[x.Host]; ok && old != x.ID && x.Action == Restart {
			o := old
			s.FromID = &o
		}
		if run != nil {
			r := run.results[i]
			s.Rule, s.Expected, s.LeaderAfter = r.rule, r.margin, run.leaders[k]
			if w := out.steps[i]; w.margin < r.margin {
				s.Worst = fmt.Sprintf("margin %d if %s leads when the stage starts: %s", w.margin, w.leader, w.rule)
			}
		}
		st.Steps = append(st.Steps, s)
	}
	if run == nil {
		return
	}
	if m := run.move; m != nil {
		st.MoveLeader = &Step{Action: Restart, Host: m.host, ID: m.id, Margin: m.result.margin, Expected: m.result.margin,
			Rule: m.result.rule, LeaderAfter: m.winner}
	}
	story := runKey(ss, run)
	byKey := map[string]int{}
	for _, o := range out.others {
		k := runKey(ss, o)
		if k == story {
			// The same run as the story: a starting leader not listed
			// among the alternatives runs the story.
			continue
		}
		if j, ok := byKey[k]; ok {
			st.Alternatives[j].Leaders = append(st.Alternatives[j].Leaders, o.start)
			continue
		}
		a := Alternative{Leaders: []string{o.start}, LeaderAfter: o.after}
		for _, i := range o.order {
			a.Order = append(a.Order, ss.steps[i].Host)
		}
		if o.move != nil {
			a.MoveLeader = o.move.host
		}
		byKey[k] = len(st.Alternatives)
		st.Alternatives = append(st.Alternatives, a)
	}
}

// runKey identifies what a run does: its order, its leader move and the
// leader it ends with.
func runKey(ss *stageSim, r *scenarioRun) string {
	var b strings.Builder
	for _, i := range r.order {
		b.WriteString(ss.steps[i].Host)
		b.WriteByte(',')
	}
	if r.move != nil {
		b.WriteString("move " + r.move.host)
	}
	b.WriteString(" -> " + r.after)
	return b.String()
}

// Interesting reports whether an alternative tells more than "the same
// steps, and the leader it started with keeps leading" (a start stage from
// any leader): the reports list only those.
func Interesting(st *Stage, a Alternative) bool {
	if a.MoveLeader != "" || len(a.Leaders) != 1 || a.LeaderAfter != a.Leaders[0] || len(a.Order) != len(st.Steps) {
		return true
	}
	for i, h := range a.Order {
		if st.Steps[i].Host != h {
			return true
		}
	}
	return false
}

// LeaderAfterFrom is the leader the plan predicts once stage st is done
// when start leads at its beginning: the story's, or an alternative's.
func LeaderAfterFrom(st *Stage, start string) string {
	return PredictedLeader(st.Alternatives, st.LeaderAfter, start)
}

// PredictedLeader is LeaderAfterFrom over a stage's alternatives and its
// story's leader (as a stage manifest carries them).
func PredictedLeader(alts []Alternative, story, start string) string {
	for _, a := range alts {
		for _, l := range a.Leaders {
			if l == start {
				return a.LeaderAfter
			}
		}
	}
	return story
}
