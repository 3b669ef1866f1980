package rollout

import (
	"fmt"

	"github.com/zkstage/zkstage/compiler"
)

// The margin of the next step, computed on the live state with the rules of
// DESIGN.md section 3. It mirrors compiler/simulate.go (unexported there),
// but starts from what the ensemble looks like now instead of from a planned
// scenario, so a host that is already down or not serving lowers it.

type mconfig struct {
	voters, members map[int]bool
	q               int
}

func newMConfig(ms []compiler.Member) mconfig {
	c := mconfig{voters: map[int]bool{}, members: map[int]bool{}}
	for _, m := range ms {
		c.members[m.ID] = true
		if m.Voter() {
			c.voters[m.ID] = true
		}
	}
	c.q = compiler.Quorum(len(c.voters))
	return c
}

type mhost struct {
	name      string
	id        int
	cfg       int // 0: previous stage, 1: this stage
	live      bool
	following bool
}

type mworld struct {
	cfg    [2]mconfig
	hosts  []*mhost
	byName map[string]*mhost
	leader *mhost
}

func (w *mworld) followersIn(ci int, skip *mhost) int {
	n := 0
	for _, h := range w.hosts {
		if h != skip && h.live && h.following && w.cfg[ci].voters[h.id] {
			n++
		}
	}
	return n
}

func (w *mworld) rule1() (int, string) {
	L := w.leader
	c := w.cfg[L.cfg]
	n := w.followersIn(L.cfg, nil)
	return n - c.q, fmt.Sprintf("rule 1: leader %s (id %d) keeps %d voters of its %d-voter config, quorum %d", L.name, L.id, n, len(c.voters), c.q)
}

func (w *mworld) rule2(h *mhost, ci int) (int, string) {
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

func (w *mworld) elect() (int, string) {
	best := -len(w.hosts)
	bestRule := "rule 3: no configuration has a quorum of live voters: no leader"
	var winner *mhost
	for ci := 0; ci < 2; ci++ {
		c := w.cfg[ci]
		takers := 0
		var cand *mhost
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
			winner, best = cand, slack
			bestRule = fmt.Sprintf("rule 3: %d live voters of the %d-voter config elect a leader (%s, id %d, wins), quorum %d", takers, len(c.voters), cand.name, cand.id, c.q)
		} else if winner == nil && slack > best {
			best = slack
			bestRule = fmt.Sprintf("rule 3: only %d live voters of the %d-voter config, quorum %d: no leader", takers, len(c.voters), c.q)
		}
	}
	w.leader = winner
	for _, h := range w.hosts {
		h.following = winner != nil && h.live && w.cfg[h.cfg].members[winner.id] && w.cfg[winner.cfg].members[h.id]
	}
	return best, bestRule
}

// apply runs the step on the world and returns its margin and the rule it
// comes from.
func (w *mworld) apply(s compiler.Step) (int, string) {
	h := w.byName[s.Host]
	margin, rule := 1<<20, ""
	note := func(m int, r string) {
		if m < margin {
			margin, rule = m, r
		}
	}
	switch s.Action {
	case compiler.Restart, compiler.Stop:
		wasLive := h.live
		h.live, h.following = false, false
		if w.leader == h {
			note(w.elect())
		} else if w.leader != nil && wasLive {
			m, r := w.rule1()
			note(m, r)
			if m < 0 {
				w.leader = nil
				w.elect()
			}
		}
		if s.Action == compiler.Stop {
			break
		}
		fallthrough
	case compiler.Start:
		h.id, h.cfg, h.live = s.ID, 1, true
		m, r := w.rule2(h, 1)
		note(m, r)
		h.following = m >= 0
	}
	if margin == 1<<20 {
		margin = 0
	}
	return margin, rule
}

// liveMargin builds the world from an observation and applies step s.
func (r *runner) liveMargin(st *state, s compiler.Step) (int, string) {
	w := &mworld{cfg: [2]mconfig{newMConfig(r.from.Members), newMConfig(r.to.Members)}, byName: map[string]*mhost{}}
	for _, name := range r.hosts {
		o := st.Hosts[name]
		id, cfg := r.expectedID(name), r.expectedCfg(name)
		if o.ID >= 0 {
			id = o.ID
		}
		switch o.Config {
		case cfgFrom:
			cfg = 0
		case cfgTo:
			cfg = 1
		}
		h := &mhost{name: name, id: id, cfg: cfg, live: !o.Down, following: o.Serving}
		w.hosts = append(w.hosts, h)
		w.byName[name] = h
		if st.Leader == name {
			w.leader = h
		}
	}
	if w.leader == nil {
		return -1, "no single live leader: " + leadersText(st.Leaders)
	}
	return w.apply(s)
}

func leadersText(ls []string) string {
	switch len(ls) {
	case 0:
		return "no host says it leads"
	case 1:
		return ls[0] + " leads"
	}
	return fmt.Sprintf("%d hosts say they lead: %v", len(ls), ls)
}
