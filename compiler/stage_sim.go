package compiler

import (
	"fmt"
	"sort"
)

// stageSim is one stage to check: live hosts start on A (all following one
// leader), the steps move them to B.
type stageSim struct {
	a, b       []Member
	live       map[string]int // host -> id it runs at the start (on A)
	steps      []Step         // plan order (ascending id); NextStep orders them
	leaderRule string
	// onB: the live hosts already run B at the start (start and stop
	// stages, where the configuration does not change).
	onB bool
	// expected is the host the plan expects to lead when the stage starts
	// (the previous stage's predicted leader); its run is the plan's story.
	expected string
	// pref is the most preferred datacenter: the runner moves a leader it
	// finds elsewhere after the last step (rollout's placeLeader), and the
	// simulation predicts that move. dc maps hosts to their datacenter.
	pref string
	dc   map[string]string
}

// simOutcome is the worst case over every host that may lead at roll time,
// and the run for the expected leader.
type simOutcome struct {
	steps  []stepResult // aligned with stageSim.steps: the worst per step
	min    int
	unsafe string
	// firstFail is the first step, in execution order, whose margin is
	// below the reserve, in the first leader scenario that has one.
	firstFail       string
	firstFailMargin int
	// story is the run from the expected leader; others the runs from
	// every other possible starting leader.
	story  *scenarioRun
	others []*scenarioRun
}

// scenarioRun is one starting leader's run of the stage, in the order the
// runner takes (NextStep before every step).
type scenarioRun struct {
	start   string
	order   []int        // indexes into stageSim.steps, in execution order
	results []stepResult // aligned with stageSim.steps
	leaders []string     // the leader after each executed step (order)
	// after is the leader once the stage (and the move, if any) is done.
	after string
	// move is the runner's leader move after the last step, if it makes one.
	move *moveRun
	// elections counts the steps that end a leadership (the leader's own
	// restart or stop, or a leader losing its quorum).
	elections int
}

type moveRun struct {
	host   string
	id     int
	result stepResult
	winner string
}

// maxScenarios bounds how many possible leaders are simulated one by one.
// Above it, representatives are taken (lowest and highest id of hosts whose
// id changes and of hosts whose id stays): the rules only depend on whether
// the leader's id changes and on counts, not on which host it is.
const maxScenarios = 16

func (s *stageSim) run(reserve int) simOutcome {
	A, B := newConfig(s.a), newConfig(s.b)
	out := simOutcome{steps: make([]stepResult, len(s.steps)), min: 1 << 20}
	for i := range out.steps {
		out.steps[i].margin = 1 << 20
	}
	for _, leader := range s.candidates(A, B) {
		run := s.scenario(A, B, leader)
		for _, i := range run.order {
			r := run.results[i]
			if out.firstFail == "" && (r.margin < reserve || r.unsafe != "") {
				out.firstFail = r.rule
				if r.unsafe != "" {
					out.firstFail = r.unsafe
				}
				out.firstFail = fmt.Sprintf("%s %s: %s", s.steps[i].Action, s.steps[i].Host, out.firstFail)
				out.firstFailMargin = r.margin
			}
			if r.margin < out.steps[i].margin {
				out.steps[i].margin, out.steps[i].rule, out.steps[i].leader = r.margin, r.rule, leader
			}
			if r.unsafe != "" && out.steps[i].unsafe == "" {
				out.steps[i].unsafe = r.unsafe
			}
		}
		if leader == s.expected || out.story == nil && s.expected == "" {
			out.story = run
		} else {
			out.others = append(out.others, run)
		}
	}
	if out.story == nil && len(out.others) > 0 {
		out.story, out.others = out.others[0], out.others[1:]
	}
	for _, r := range out.steps {
		if r.margin < out.min {
			out.min = r.margin
		}
		if r.unsafe != "" && out.unsafe == "" {
			out.unsafe = r.unsafe
		}
	}
	if len(s.steps) == 0 {
		out.min = 0
	}
	return out
}

// scenario runs the stage from one starting leader, choosing every step
// with NextStep from the simulated leader of the moment, as the runner does
// from the live one.
func (s *stageSim) scenario(A, B config, leader string) *scenarioRun {
	w := &world{cfg: [2]config{A, B}, byName: map[string]*simHost{}}
	for _, name := range sortedKeys(s.live) {
		h := &simHost{name: name, id: s.live[name], live: true, following: true}
		if s.onB {
			h.cfg = 1
		}
		w.hosts = append(w.hosts, h)
		w.byName[name] = h
	}
	// Hosts that are not live yet (new hosts) exist in the world, down.
	for _, st := range s.steps {
		if _, ok := w.byName[st.Host]; !ok {
			h := &simHost{name: st.Host, id: st.ID, cfg: 1}
			w.hosts = append(w.hosts, h)
			w.byName[st.Host] = h
		}
	}
	w.leader = w.byName[leader]
	run := &scenarioRun{start: leader, results: make([]stepResult, len(s.steps))}
	remaining := make([]int, len(s.steps))
	for i := range remaining {
		remaining[i] = i
	}
	for len(remaining) > 0 {
		name, id := "", -1
		if w.leader != nil {
			name, id = w.leader.name, w.leader.id
		}
		i, _ := NextStep(s.steps, remaining, s.leaderRule, name, id)
		before := w.leader
		run.results[i] = w.apply(s.steps[i])
		if before != nil && w.leader != before {
			run.elections++
		}
		run.order = append(run.order, i)
		run.leaders = append(run.leaders, w.leaderName())
		for j, r := range remaining {
			if r == i {
				remaining = append(remaining[:j], remaining[j+1:]...)
				break
			}
		}
	}
	run.move = s.moveLeader(w)
	if run.move != nil {
		run.elections++
	}
	run.after = w.leaderName()
	return run
}

// moveLeader predicts rollout's placeLeader: after the last step, a leader
// outside the most preferred datacenter is restarted when the highest id
// among the other live voters is there (with equal zxids that host wins the
// election the restart starts); otherwise the leader stays.
func (s *stageSim) moveLeader(w *world) *moveRun {
	L := w.leader
	if s.pref == "" || L == nil || s.dc[L.name] == s.pref {
		return nil
	}
	var next *simHost
	for _, h := range w.hosts {
		if h != L && h.live && w.cfg[h.cfg].voters[h.id] && (next == nil || h.id > next.id) {
			next = h
		}
	}
	if next == nil || s.dc[next.name] != s.pref {
		return nil
	}
	m := &moveRun{host: L.name, id: L.id}
	m.result = w.apply(Step{Action: Restart, Host: L.name, ID: L.id})
	m.winner = w.leaderName()
	return m
}

func (w *world) leaderName() string {
	if w.leader == nil {
		return ""
	}
	return w.leader.name
}

// candidates are the live voters of A that may be leading when the stage
// starts; the expected leader is always one of them.
func (s *stageSim) candidates(A, B config) []string {
	start := A
	if s.onB {
		start = B
	}
	var all []string
	for _, name := range sortedKeys(s.live) {
		if start.voters[s.live[name]] {
			all = append(all, name)
		}
	}
	if len(all) <= maxScenarios {
		return all
	}
	renamed := map[string]bool{}
	for _, st := range s.steps {
		if id, ok := s.live[st.Host]; ok && id != st.ID {
			renamed[st.Host] = true
		}
	}
	byID := func(names []string) []string {
		sort.Slice(names, func(i, j int) bool { return s.live[names[i]] < s.live[names[j]] })
		if len(names) <= 2 {
			return names
		}
		return []string{names[0], names[len(names)/2], names[len(names)-1]}
	}
	var ren, kept []string
	for _, n := range all {
		if renamed[n] {
			ren = append(ren, n)
		} else {
			kept = append(kept, n)
		}
	}
	reps := append(byID(ren), byID(kept)...)
	if id, ok := s.live[s.expected]; ok && start.voters[id] {
		found := false
		for _, r := range reps {
			found = found || r == s.expected
		}
		if !found {
			reps = append(reps, s.expected)
		}
	}
	return reps
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
