package compiler

import "fmt"

// The step simulator implements the model of docs/zookeeper-facts.md. A world
// holds two configurations, A (what the stage starts from) and B (what it
// ends with); every live host runs one of them under one id.

type config struct {
	voters  map[int]bool
	members map[int]bool
	q       int
}

func newConfig(ms []Member) config {
	c := config{voters: map[int]bool{}, members: map[int]bool{}}
	for _, m := range ms {
		c.members[m.ID] = true
		if m.Voter() {
			c.voters[m.ID] = true
		}
	}
	c.q = Quorum(len(c.voters))
	return c
}

type simHost struct {
	name      string
	id        int
	cfg       int // 0: A, 1: B
	live      bool
	following bool // serving under the current leader (or is the leader)
}

type world struct {
	cfg    [2]config
	hosts  []*simHost
	byName map[string]*simHost
	leader *simHost
}

// stepResult is the outcome of one step in one leader scenario.
type stepResult struct {
	margin int
	rule   string
	unsafe string // non-empty: two leaders are possible after this step
	// leader is the starting leader of the scenario the result comes from
	// (for the worst case over scenarios).
	leader string
}

// followersIn counts live hosts following the leader whose running id is a
// voter of config ci, the leader included, except skip.
func (w *world) followersIn(ci int, skip *simHost) int {
	n := 0
	for _, h := range w.hosts {
		if h != skip && h.live && h.following && w.cfg[ci].voters[h.id] {
			n++
		}
	}
	return n
}

// rule1 is the leader's slack: followers that are voters of its config.
func (w *world) rule1(skip *simHost) (int, string) {
	L := w.leader
	c := w.cfg[L.cfg]
	n := w.followersIn(L.cfg, skip)
	return n - c.q, fmt.Sprintf("rule 1: leader %s (id %d) keeps %d voters of its %d-voter config, quorum %d", L.name, L.id, n, len(c.voters), c.q)
}

// rule2 is the slack of host h joining the leader with config ci.
func (w *world) rule2(h *simHost, ci int) (int, string) {
	c := w.cfg[ci]
	if w.leader == nil {
		return -c.q, fmt.Sprintf("rule 2: %s (id %d) finds no leader to join", h.name, h.id)
	}
	L := w.leader
	if !c.voters[L.id] {
		return -c.q, fmt.Sprintf("rule 2: %s (id %d) cannot follow leader %s: id %d is not a voter of its config", h.name, h.id, L.name, L.id)
	}
	n := w.followersIn(ci, h)
	return n - c.q, fmt.Sprintf("rule 2: %s (id %d) rejoins with %d other live voters of the %d-voter config following leader %s (id %d), quorum %d", h.name, h.id, n, len(c.voters), L.name, L.id, c.q)
}

// elect applies rule 3 after the leader went away: hosts running C elect once
// q(C) voters of C take part; at equal zxid the highest id wins.
func (w *world) elect() (int, string) {
	best := -len(w.hosts)
	bestRule := "rule 3: no configuration has a quorum of live voters: no leader"
	var winner *simHost
	for ci := 0; ci < 2; ci++ {
		c := w.cfg[ci]
		takers := 0
		var cand *simHost
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
		slack := takers - c.q
		if slack >= 0 && (winner == nil || cand.id > winner.id) {
			winner = cand
			best = slack
			bestRule = fmt.Sprintf("rule 3: %d live voters of the %d-voter config elect a leader (%s, id %d, wins), quorum %d", takers, len(c.voters), cand.name, cand.id, c.q)
		} else if winner == nil && slack > best {
			best = slack
			bestRule = fmt.Sprintf("rule 3: only %d live voters of the %d-voter config, quorum %d: no leader", takers, len(c.voters), c.q)
		}
	}
	w.leader = winner
	for _, h := range w.hosts {
		h.following = false
		if winner != nil && h.live && w.cfg[h.cfg].members[winner.id] && w.cfg[winner.cfg].members[h.id] {
			h.following = true
		}
	}
	return best, bestRule
}

// apply runs one step and returns its margin and whether it is safe.
func (w *world) apply(s Step) stepResult {
	h := w.byName[s.Host]
	res := stepResult{margin: 1 << 20}
	note := func(m int, rule string) {
		if m < res.margin {
			res.margin, res.rule = m, rule
		}
	}
	switch s.Action {
	case Restart, Stop:
		wasLive := h.live
		h.live = false
		h.following = false
		if w.leader == h {
			note(w.elect())
		} else if w.leader != nil && wasLive {
			m, rule := w.rule1(nil)
			note(m, rule)
			if m < 0 {
				// The leader lost its quorum: everyone goes LOOKING.
				w.leader = nil
				w.elect()
			}
		}
		if s.Action == Stop {
			break
		}
		fallthrough
	case Start:
		h.id = s.ID
		h.cfg = 1
		h.live = true
		m, rule := w.rule2(h, 1)
		note(m, rule)
		h.following = m >= 0
	}
	if res.margin == 1<<20 {
		res.margin, res.rule = 0, ""
	}
	res.unsafe = w.unsafe()
	return res
}

// unsafe reports whether leaders of A and B could exist at once: each needs
// a live host running it, and disjoint supporter sets of sizes q(A), q(B)
// must be possible among the live hosts whose running id is a voter.
func (w *world) unsafe() string {
	var runs [2]bool
	var onlyA, onlyB, both int
	for _, h := range w.hosts {
		if !h.live {
			continue
		}
		if w.cfg[h.cfg].voters[h.id] {
			runs[h.cfg] = true
		}
		inA, inB := w.cfg[0].voters[h.id], w.cfg[1].voters[h.id]
		switch {
		case inA && inB:
			both++
		case inA:
			onlyA++
		case inB:
			onlyB++
		}
	}
	if !runs[0] || !runs[1] {
		return ""
	}
	if disjointQuorums(onlyA, onlyB, both, w.cfg[0].q, w.cfg[1].q) {
		return fmt.Sprintf("two leaders possible: %d voters of A only, %d of B only, %d of both; quorums %d and %d can be disjoint", onlyA, onlyB, both, w.cfg[0].q, w.cfg[1].q)
	}
	return ""
}

// disjointQuorums: can sets SA (from A-supporters) and SB (from
// B-supporters), disjoint, reach qa and qb? Shared hosts go where needed.
func disjointQuorums(onlyA, onlyB, both, qa, qb int) bool {
	needA := max(0, qa-onlyA)
	needB := max(0, qb-onlyB)
	return needA+needB <= both
}
