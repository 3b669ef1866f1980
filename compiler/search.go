package compiler

import (
	"fmt"
	"sort"
	"strings"
)

// The planner searches over the order of rename, grow and shrink stages
// instead of following one recipe: growing 4 -> 5 before a rename keeps a
// quorum where renaming first cannot, and a shrink may have to wait for a
// rename or come before one. Each move takes the largest batch the
// simulator accepts (a larger batch never has a larger margin), so the
// states are few: which renames, joiners and leavers are still pending, and
// the leader the plan expects. Uniform-cost search finds the plan with the
// fewest elections, then the fewest restarts, then the fewest stages; ties
// go to the order rename, grow, shrink.

// searchNode is a state of the search and the stages that reach it.
type searchNode struct {
	st      state
	ren     []Rename // pending renames, by current id
	voters  []Member // pending new voters, in the order they are added
	obs     []Member // pending new observers
	leaving []Member // pending leavers: observers first, then by id
	removed []string // hosts removed by earlier stages (for refusals)
	stages  []Stage
	cost    [3]int // elections, restarts, stages
	path    string // moves so far: 1 rename, 2 grow, 3 shrink
}

func (n *searchNode) pending() int { return len(n.ren) + len(n.voters) + len(n.obs) + len(n.leaving) }

func (n *searchNode) key() string {
	var b strings.Builder
	for _, r := range n.ren {
		b.WriteString(r.Host + ",")
	}
	b.WriteString("|")
	for _, m := range n.voters {
		b.WriteString(m.Host + ",")
	}
	b.WriteString("|")
	for _, m := range n.obs {
		b.WriteString(m.Host + ",")
	}
	b.WriteString("|")
	for _, m := range n.leaving {
		b.WriteString(m.Host + ",")
	}
	return b.String() + "|" + n.st.leader
}

func (n *searchNode) less(o *searchNode) bool {
	for i := range n.cost {
		if n.cost[i] != o.cost[i] {
			return n.cost[i] < o.cost[i]
		}
	}
	return n.path < o.path
}

// blocked is a move no batch of which the simulator accepts.
type blocked struct {
	kind    byte // '1' rename, '2' grow voters, 'o' grow observers, '3' shrink
	refused *candidate
}

// search returns the stages of the best plan from st, or the refusal of the
// most advanced state no move could leave.
func (p *planner) search(st state) ([]Stage, error) {
	start := &searchNode{st: st, ren: p.assign.renames}
	start.voters, start.obs = p.newHosts()
	for _, m := range st.cur {
		if p.c.Hosts[m.Host].Remove {
			start.leaving = append(start.leaving, m)
		}
	}
	// Observers leave first (free), then voters in ascending id.
	sort.SliceStable(start.leaving, func(i, j int) bool { return !start.leaving[i].Voter() && start.leaving[j].Voter() })

	frontier := []*searchNode{start}
	done := map[string]bool{}
	var stuck *searchNode
	var stuckWhy []blocked
	for len(frontier) > 0 {
		bi := 0
		for i, n := range frontier {
			if n.less(frontier[bi]) {
				bi = i
			}
		}
		n := frontier[bi]
		frontier = append(frontier[:bi], frontier[bi+1:]...)
		if n.pending() == 0 {
			return n.stages, nil
		}
		if done[n.key()] {
			continue
		}
		done[n.key()] = true
		children, why := p.expand(n)
		frontier = append(frontier, children...)
		if len(why) > 0 && (stuck == nil || n.pending() < stuck.pending()) {
			stuck, stuckWhy = n, why
		}
	}
	if stuck == nil {
		return nil, p.refuseAt(p.c.PolicyPos, []string{"policy"}, "no sequence of rolling stages reaches the target")
	}
	return nil, p.refusal(stuck, stuckWhy[0])
}

// expand makes every move from n: the largest accepted rename, grow and
// shrink batch. A move none of whose batches is accepted is reported.
func (p *planner) expand(n *searchNode) ([]*searchNode, []blocked) {
	var kids []*searchNode
	var why []blocked
	child := func(kind byte, c candidate, f func(k *searchNode)) {
		k := &searchNode{st: c.next, ren: n.ren, voters: n.voters, obs: n.obs, leaving: n.leaving, removed: n.removed,
			stages: append(append([]Stage{}, n.stages...), c.stages...), cost: n.cost, path: n.path + string(kind)}
		for _, s := range c.stages {
			k.cost[0] += s.Elections
			for _, x := range s.Steps {
				if x.Action == Restart {
					k.cost[1]++
				}
			}
			if s.MoveLeader != nil {
				k.cost[1]++
			}
			k.cost[2]++
		}
		f(k)
		kids = append(kids, k)
	}
	if len(n.ren) > 0 {
		k, chosen, refused := largest(len(n.ren), func(k int) candidate { return p.renameStage(n.st, n.ren[:k]) })
		if k == 0 {
			why = append(why, blocked{'1', refused})
		} else {
			if refused != nil {
				chosen.stages[0].Why = append(chosen.stages[0].Why, fmt.Sprintf("%d renames in one stage refused: %s", k+1, refused.reason))
			}
			child('1', chosen, func(c *searchNode) { c.ren = n.ren[k:] })
		}
	}
	if len(n.voters) > 0 || len(n.obs) > 0 {
		p.growMove(n, child, &why)
	}
	if len(n.leaving) > 0 {
		k, chosen, refused := largest(len(n.leaving), func(k int) candidate { return p.shrinkStages(n.st, n.leaving[:k]) })
		if k == 0 {
			why = append(why, blocked{'3', refused})
		} else {
			if refused != nil {
				chosen.stages[0].Why = append(chosen.stages[0].Why, fmt.Sprintf("removing %d at once refused: %s", k+1, refused.reason))
			}
			gone := n.leaving[:k]
			child('3', chosen, func(c *searchNode) {
				c.leaving = n.leaving[k:]
				c.removed = append(append([]string{}, n.removed...), hostsOf(gone)...)
			})
		}
	}
	return kids, why
}

// growMove adds the largest accepted batch of the joiners whose ids are
// free now (a joiner may take the old id of a host renamed in an earlier
// stage, so it waits for that rename); observers join with the last voters.
func (p *planner) growMove(n *searchNode, child func(byte, candidate, func(*searchNode)), why *[]blocked) {
	used := map[int]bool{}
	for _, id := range n.st.live {
		used[id] = true
	}
	var avail, waiting []Member
	for _, m := range n.voters {
		if used[m.ID] {
			waiting = append(waiting, m)
		} else {
			avail = append(avail, m)
		}
	}
	var obs, obsWaiting []Member
	for _, m := range n.obs {
		if used[m.ID] {
			obsWaiting = append(obsWaiting, m)
		} else {
			obs = append(obs, m)
		}
	}
	try := func(k int) candidate {
		add := append([]Member{}, avail[:k]...)
		if k == len(avail) && len(waiting) == 0 {
			add = append(add, obs...)
		}
		return p.growStages(n.st, add)
	}
	if len(avail) == 0 {
		if len(waiting) > 0 || len(obs) == 0 {
			return
		}
		c := try(0)
		if !c.ok {
			*why = append(*why, blocked{'o', &c})
			return
		}
		child('2', c, func(k *searchNode) { k.obs = obsWaiting })
		return
	}
	k, chosen, refused := largest(len(avail), try)
	if k == 0 {
		*why = append(*why, blocked{'2', refused})
		return
	}
	if refused != nil {
		chosen.stages[0].Why = append(chosen.stages[0].Why, fmt.Sprintf("%d -> %d refused: %s",
			countVoters(n.st.cur), countVoters(n.st.cur)+k+1, refused.reason))
	}
	rest := append(append([]Member{}, avail[k:]...), waiting...)
	sort.SliceStable(rest, func(i, j int) bool { return indexOf(n.voters, rest[i]) < indexOf(n.voters, rest[j]) })
	child('2', chosen, func(c *searchNode) {
		c.voters = rest
		if k == len(avail) && len(waiting) == 0 {
			c.obs = obsWaiting
		}
	})
}

func indexOf(ms []Member, m Member) int {
	for i, x := range ms {
		if x.Host == m.Host {
			return i
		}
	}
	return -1
}

func hostsOf(ms []Member) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Host)
	}
	return out
}

// refusal explains the blocked move of the most advanced state, positioned
// at the spec field it is about.
func (p *planner) refusal(n *searchNode, b blocked) error {
	switch b.kind {
	case '1':
		h := n.ren[0].Host
		more := ""
		if v := countVoters(n.st.cur); v < 5 && len(n.voters) == 0 && p.reserve == 0 {
			// docs/zookeeper-facts.md: with 5 voters one rename per stage
			// keeps a quorum; the search would grow first if it could.
			more = fmt.Sprintf("; or add %d voter(s) to the spec first: with 5 voters one rename per stage keeps a quorum", 5-v)
		}
		return p.refuseAt(p.c.Hosts[h].MyIDPos, []string{"hosts", h, "myid"}, "renumbering %s: %s; %s%s", describeRename(n.ren[0]), b.refused.reason, p.nearest(b.refused), more)
	case '2':
		return p.refuseAt(p.c.ReservePos, []string{"policy", "reserve"}, "reserve %d cannot grow a %d-server ensemble by rolling restarts: adding one voter is refused (%s); %s",
			p.reserve, countVoters(n.st.cur), b.refused.reason, p.nearest(b.refused))
	case 'o':
		o := n.obs[0].Host
		return p.refuseAt(p.c.Hosts[o].RolePos, []string{"hosts", o, "role"}, "adding observers: %s; %s", b.refused.reason, p.nearest(b.refused))
	default:
		m := n.leaving[0]
		return p.refuseAt(p.c.Hosts[m.Host].RemovePos, []string{"hosts", m.Host, "remove"}, "%s", p.shrinkRefusal(n.st, n.removed, m, b.refused))
	}
}

// nearest is the smallest change that makes a plan possible: the step's
// own margin says which reserve it could keep; failing that, a lower
// reserve for the whole search; else another method.
func (p *planner) nearest(refused *candidate) string {
	s := p.suggest(refused)
	if p.reserve == 0 || strings.HasPrefix(s, "set policy.reserve") || p.nested {
		return s
	}
	for r := p.reserve - 1; r >= 0; r-- {
		q := *p
		q.reserve, q.nested, q.stages, q.warnings = r, true, nil, nil
		if _, err := q.search(q.initial); err == nil {
			return fmt.Sprintf("set policy.reserve to %d (a rolling plan exists then)", r)
		}
	}
	return s
}
