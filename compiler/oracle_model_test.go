package compiler

// The oracle's stage checker: an implementation of the model of
// docs/zookeeper-facts.md written from the document, sharing no code with
// simulate.go, stage_sim.go or plan.go. A stage has two configurations, A
// (what it starts from) and B (what it ends with); each live host runs one of
// them under one id. Steps run in the runner's dynamic order
// (rollout/runner.go, next): plan order, but before every step the live
// leader's pending restart or stop is deferred to the last restart/stop,
// except in a renamed-leader-first stage where a live leader whose id changes
// goes at once. Every live voter of A is tried as the starting leader.

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// orMem is one member of a configuration.
type orMem struct {
	host  string
	id    int
	voter bool
}

type orCfg struct {
	voters, members map[int]bool
	q               int
	key             string
}

func orNewCfg(ms []orMem) *orCfg {
	c := &orCfg{voters: map[int]bool{}, members: map[int]bool{}}
	var parts []string
	for _, m := range ms {
		c.members[m.id] = true
		if m.voter {
			c.voters[m.id] = true
		}
	}
	c.q = len(c.voters)/2 + 1
	ids := make([]int, 0, len(c.members))
	for id := range c.members {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	for _, id := range ids {
		s := fmt.Sprint(id)
		if !c.voters[id] {
			s += "o"
		}
		parts = append(parts, s)
	}
	c.key = strings.Join(parts, ",")
	return c
}

// orStep is one step: the host and the id it runs after the step.
type orStep struct {
	act  Action
	host string
	id   int
}

// orStage is one stage to check.
type orStage struct {
	kind  string
	a, b  []orMem
	live  map[string]int // host -> id at the start, all running A
	steps []orStep
	rule  string // LeaderRule
}

type orHost struct {
	name    string
	id      int
	cfg     int // 0: A, 1: B
	live    bool
	follows bool // serving under the current leader (the leader follows itself)
}

type orWorld struct {
	cfg    [2]*orCfg
	hosts  []*orHost
	by     map[string]*orHost
	leader *orHost
	safe   *orSafety
}

// orSafety memoises the two-leaders enumeration by the only things it
// depends on: how many live hosts run an id that is a voter of A only, of B
// only, of both, and the two quorums.
type orSafety struct{ memo map[[5]int]bool }

// twoLeaders: can two disjoint sets of live hosts be a quorum of A and a
// quorum of B? Enumerates every split of the live voting hosts.
func (s *orSafety) twoLeaders(inA, inB []bool, qa, qb int) bool {
	var k [5]int
	for i := range inA {
		switch {
		case inA[i] && inB[i]:
			k[2]++
		case inA[i]:
			k[0]++
		case inB[i]:
			k[1]++
		}
	}
	k[3], k[4] = qa, qb
	if v, ok := s.memo[k]; ok {
		return v
	}
	n := len(inA)
	res := false
	for mask := 0; mask < 1<<n && !res; mask++ {
		a, b := 0, 0
		for i := 0; i < n; i++ {
			if mask&(1<<i) != 0 {
				if inA[i] {
					a++
				}
			} else if inB[i] {
				b++
			}
		}
		res = a >= qa && b >= qb
	}
	s.memo[k] = res
	return res
}

func (w *orWorld) liveWithID(id int, except *orHost) *orHost {
	for _, h := range w.hosts {
		if h != except && h.live && h.id == id {
			return h
		}
	}
	return nil
}

// rule1 is the leader's slack: its live followers (itself included) whose
// id is a voter of the leader's configuration, minus its quorum.
func (w *orWorld) rule1() int {
	c := w.cfg[w.leader.cfg]
	n := 0
	for _, h := range w.hosts {
		if h.live && h.follows && c.voters[h.id] {
			n++
		}
	}
	return n - c.q
}

// rule2 is the slack of host h (just started on its configuration) joining
// the leader; ok is false when it cannot follow at all.
func (w *orWorld) rule2(h *orHost) (int, bool) {
	c := w.cfg[h.cfg]
	L := w.leader
	if L == nil || !c.voters[L.id] {
		return -c.q, false
	}
	n := 0
	for _, o := range w.hosts {
		if o != h && o.live && o.follows && c.voters[o.id] {
			n++
		}
	}
	return n - c.q, true
}

// elect is rule 3: hosts running C elect a leader once q(C) voters of C
// take part (live hosts whose id is a voter of C); the highest id running C
// wins, and of two configurations that can elect, the higher id wins.
func (w *orWorld) elect() (int, string) {
	var win *orHost
	slack := -1 << 20
	desc := "no configuration has a quorum of live voters"
	for ci := 0; ci < 2; ci++ {
		c := w.cfg[ci]
		takers := 0
		var cand *orHost
		for _, h := range w.hosts {
			if !h.live || !c.voters[h.id] {
				continue
			}
			takers++
			if h.cfg == ci && (cand == nil || h.id > cand.id) {
				cand = h
			}
		}
		if cand == nil {
			continue
		}
		if takers >= c.q {
			if win == nil || cand.id > win.id {
				win, slack = cand, takers-c.q
				desc = fmt.Sprintf("%s (id %d) elected by %d voters of {%s}, quorum %d", cand.name, cand.id, takers, c.key, c.q)
			}
		} else if win == nil && takers-c.q > slack {
			slack = takers - c.q
			desc = fmt.Sprintf("only %d live voters of {%s}, quorum %d", takers, c.key, c.q)
		}
	}
	w.leader = win
	for _, h := range w.hosts {
		h.follows = win != nil && h.live && w.cfg[h.cfg].voters[win.id] && w.cfg[win.cfg].members[h.id]
	}
	return slack, desc
}

func (w *orWorld) unsafe() bool {
	var runs [2]bool
	var inA, inB []bool
	for _, h := range w.hosts {
		if !h.live {
			continue
		}
		if w.cfg[h.cfg].voters[h.id] {
			runs[h.cfg] = true
		}
		a, b := w.cfg[0].voters[h.id], w.cfg[1].voters[h.id]
		if a || b {
			inA = append(inA, a)
			inB = append(inB, b)
		}
	}
	if !runs[0] || !runs[1] {
		return false
	}
	return w.safe.twoLeaders(inA, inB, w.cfg[0].q, w.cfg[1].q)
}

// orNext is the runner's choice of the next step among the remaining ones
// (indexes in plan order).
func orNext(st *orStage, remaining []int, leader *orHost) int {
	li := -1
	if leader != nil {
		for _, i := range remaining {
			if st.steps[i].host == leader.name && st.steps[i].act != Start {
				li = i
			}
		}
	}
	if li < 0 {
		return remaining[0]
	}
	if st.rule == LeaderFirst && leader.id != st.steps[li].id {
		return li
	}
	for _, i := range remaining {
		if i != li && st.steps[i].act != Start {
			return i
		}
	}
	return li
}

// orCheck replays the stage for every starting leader; it returns "" or the
// first violation, with the starting leader and the executed order.
func orCheck(st *orStage, reserve int, safe *orSafety) string {
	A, B := orNewCfg(st.a), orNewCfg(st.b)
	names := make([]string, 0, len(st.live))
	for h := range st.live {
		names = append(names, h)
	}
	sort.Strings(names)
	bHost := map[string]orMem{}
	for _, m := range st.b {
		bHost[m.host] = m
	}
	tried := 0
	for _, first := range names {
		if !A.voters[st.live[first]] {
			continue
		}
		tried++
		if v := orReplay(st, A, B, bHost, names, first, reserve, safe); v != "" {
			return v
		}
	}
	if tried == 0 && len(st.steps) > 0 {
		return "no live voter of the start configuration can lead"
	}
	return ""
}

func orReplay(st *orStage, A, B *orCfg, bHost map[string]orMem, names []string, first string, reserve int, safe *orSafety) string {
	w := &orWorld{cfg: [2]*orCfg{A, B}, by: map[string]*orHost{}, safe: safe}
	for _, n := range names {
		h := &orHost{name: n, id: st.live[n], live: true, follows: true}
		w.hosts = append(w.hosts, h)
		w.by[n] = h
	}
	for _, s := range st.steps {
		if w.by[s.host] == nil {
			h := &orHost{name: s.host, id: s.id, cfg: 1}
			w.hosts = append(w.hosts, h)
			w.by[s.host] = h
		}
	}
	w.leader = w.by[first]
	var order []string
	fail := func(format string, args ...interface{}) string {
		return fmt.Sprintf("first leader %s (id %d), order [%s]: %s", first, st.live[first], strings.Join(order, " "), fmt.Sprintf(format, args...))
	}
	done := make([]bool, len(st.steps))
	for k := 0; k < len(st.steps); k++ {
		var remaining []int
		for i := range st.steps {
			if !done[i] {
				remaining = append(remaining, i)
			}
		}
		i := orNext(st, remaining, w.leader)
		done[i] = true
		s := st.steps[i]
		h := w.by[s.host]
		order = append(order, fmt.Sprintf("%s:%s:%d", s.act, s.host, s.id))
		switch s.act {
		case Restart, Stop:
			if !h.live {
				return fail("%s %s: the host is not running", s.act, s.host)
			}
			h.live, h.follows = false, false
			if h == w.leader {
				m, d := w.elect()
				if w.leader == nil || m < reserve {
					return fail("%s %s (the leader): election margin %d < reserve %d: %s", s.act, s.host, m, reserve, d)
				}
			} else if w.leader != nil {
				if m := w.rule1(); m < reserve {
					return fail("%s %s: rule 1: leader %s (id %d) keeps margin %d < reserve %d in {%s}", s.act, s.host, w.leader.name, w.leader.id, m, reserve, w.cfg[w.leader.cfg].key)
				}
			} else {
				return fail("%s %s: no leader", s.act, s.host)
			}
		case Start:
			if h.live {
				return fail("start %s: already running", s.host)
			}
		default:
			return fail("unknown action %q", s.act)
		}
		if s.act == Stop {
			if w.unsafe() {
				return fail("after stop %s two leaders are possible", s.host)
			}
			continue
		}
		if o := w.liveWithID(s.id, h); o != nil {
			return fail("%s %s: id %d is still run by %s", s.act, s.host, s.id, o.name)
		}
		if _, ok := bHost[s.host]; !ok || bHost[s.host].id != s.id {
			return fail("%s %s: id %d is not its id in the stage's configuration", s.act, s.host, s.id)
		}
		h.id, h.cfg, h.live = s.id, 1, true
		m, ok := w.rule2(h)
		if !ok {
			L := "none"
			if w.leader != nil {
				L = fmt.Sprintf("%s (id %d)", w.leader.name, w.leader.id)
			}
			return fail("%s %s: rule 2: cannot follow leader %s, not a voter of {%s}", s.act, s.host, L, B.key)
		}
		if m < reserve {
			return fail("%s %s: rule 2: margin %d < reserve %d joining leader %s (id %d) in {%s}", s.act, s.host, m, reserve, w.leader.name, w.leader.id, B.key)
		}
		h.follows = true
		if w.unsafe() {
			return fail("after %s %s two leaders are possible", s.act, s.host)
		}
	}
	// The stage is done when every live host runs B under its B id.
	same := A.key == B.key
	for _, h := range w.hosts {
		if !h.live {
			continue
		}
		m, ok := bHost[h.name]
		if !ok {
			return fail("at the end %s still runs but is not a member of {%s}", h.name, B.key)
		}
		if (h.cfg != 1 && !same) || h.id != m.id {
			return fail("at the end %s runs id %d of the %s configuration, want id %d of {%s}", h.name, h.id, map[int]string{0: "old", 1: "new"}[h.cfg], m.id, B.key)
		}
	}
	return ""
}

// orStageKey identifies a stage for memoisation. The rules see ids only
// through equality and order, so the ids are replaced by their ranks: stages
// of different assignments with the same order type share a verdict.
func orStageKey(st *orStage, reserve int) string {
	ids := make([]int, 0, 2*len(st.b)+len(st.steps))
	for _, m := range st.a {
		ids = append(ids, m.id)
	}
	for _, m := range st.b {
		ids = append(ids, m.id)
	}
	for _, s := range st.steps {
		ids = append(ids, s.id)
	}
	for _, id := range st.live {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	u := ids[:0]
	for i, x := range ids {
		if i == 0 || x != ids[i-1] {
			u = append(u, x)
		}
	}
	rank := func(x int) int { return sort.SearchInts(u, x) }
	buf := make([]byte, 0, 160)
	buf = append(buf, st.rule...)
	buf = append(buf, '|', byte('0'+reserve), '|')
	mems := func(ms []orMem) {
		for _, m := range ms {
			buf = strconv.AppendInt(buf, int64(rank(m.id)), 10)
			if !m.voter {
				buf = append(buf, 'o')
			}
			buf = append(buf, ',')
		}
		buf = append(buf, '|')
	}
	mems(st.a)
	mems(st.b)
	for _, s := range st.steps {
		buf = append(buf, string(s.act)[:3]...)
		if id, ok := st.live[s.host]; ok {
			buf = strconv.AppendInt(buf, int64(rank(id)), 10)
		}
		buf = append(buf, '>')
		buf = strconv.AppendInt(buf, int64(rank(s.id)), 10)
		buf = append(buf, ',')
	}
	buf = append(buf, '|')
	live := make([]int, 0, len(st.live))
	for _, id := range st.live {
		live = append(live, rank(id))
	}
	sort.Ints(live)
	for _, r := range live {
		buf = strconv.AppendInt(buf, int64(r), 10)
		buf = append(buf, ',')
	}
	return string(buf)
}
