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
	steps      []simStep      // planned order (ascending id)
	leaderRule string
	// onB: the live hosts already run B at the start (start and stop
	// stages, where the configuration does not change).
	onB bool
}

// simOutcome is the worst case over every host that may lead at roll time.
type simOutcome struct {
	steps  []stepResult // aligned with stageSim.steps
	min    int
	unsafe string
	// firstFail is the first step, in execution order, whose margin is
	// below the reserve, in the first leader scenario that has one.
	firstFail       string
	firstFailMargin int
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
			if _, ok := w.byName[st.host]; !ok {
				h := &simHost{name: st.host, id: st.newID, cfg: 1}
				w.hosts = append(w.hosts, h)
				w.byName[st.host] = h
			}
		}
		w.leader = w.byName[leader]
		for _, i := range s.order(leader) {
			r := w.apply(s.steps[i])
			if out.firstFail == "" && (r.margin < reserve || r.unsafe != "") {
				out.firstFail = r.rule
				if r.unsafe != "" {
					out.firstFail = r.unsafe
				}
				out.firstFail = fmt.Sprintf("%s %s: %s", s.steps[i].action, s.steps[i].host, out.firstFail)
				out.firstFailMargin = r.margin
			}
			if r.margin < out.steps[i].margin {
				out.steps[i].margin, out.steps[i].rule = r.margin, r.rule
			}
			if r.unsafe != "" && out.steps[i].unsafe == "" {
				out.steps[i].unsafe = r.unsafe
			}
		}
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

// candidates are the live voters of A that may be leading when the stage
// starts.
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
		if id, ok := s.live[st.host]; ok && id != st.newID {
			renamed[st.host] = true
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
	return append(byID(ren), byID(kept)...)
}

// order is the step order with the live leader moved per the leader rule:
// last, or first when its own id changes in a rename stage.
func (s *stageSim) order(leader string) []int {
	li := -1
	for i, st := range s.steps {
		if st.host == leader && st.action != Start {
			li = i
		}
	}
	idx := make([]int, 0, len(s.steps))
	for i := range s.steps {
		if i != li {
			idx = append(idx, i)
		}
	}
	if li < 0 {
		return idx
	}
	renamedLeader := s.live[leader] != s.steps[li].newID
	if s.leaderRule == LeaderFirst && renamedLeader {
		return append([]int{li}, idx...)
	}
	// Leader last among the restarts/stops, before any start.
	pos := len(idx)
	for j, i := range idx {
		if s.steps[i].action == Start {
			pos = j
			break
		}
	}
	out := append([]int{}, idx[:pos]...)
	out = append(out, li)
	return append(out, idx[pos:]...)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
