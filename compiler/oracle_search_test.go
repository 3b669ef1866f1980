package compiler

// The oracle's exhaustive planner. It shares no code with plan.go or
// assign.go: it enumerates every id assignment the renumber policy allows
// (over a reduced id universe that keeps every order type: what the model
// sees of ids is only equality and order), and for each one every sequence
// of the design's stage kinds (rename, grow, shrink, any nonempty subset of
// the pending changes, in every order), with memoisation on the state.

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/zkstage/zkstage/schema"
)

type orSpecHost struct {
	name   string
	dc     *schema.Datacenter
	voter  bool
	cur    int // -1: a new host
	remove bool
}

type orProblem struct {
	policy  string
	reserve int
	maxID   int
	hosts   []orSpecHost // by name
	byName  map[string]*orSpecHost
	// occupied: every id some host runs today (voters, observers, removed).
	occupied map[int]string
	safe     *orSafety
	verdicts map[string]string // stage key -> "" or the violation
	checks   int
	// neverRule: the spec does not accept a never-datacenter leader, so
	// an assignment under which one could win (neverLeads) is not allowed.
	// It is checked before assignments are deduplicated by signature,
	// which ignores datacenters.
	neverRule bool
}

func orProblemOf(c *schema.Cluster) *orProblem {
	p := &orProblem{policy: c.Policy.Renumber, reserve: c.Policy.Reserve, maxID: schema.MaxMyID(c.Version, c.Settings.Extra),
		byName: map[string]*orSpecHost{}, occupied: map[int]string{}, safe: &orSafety{memo: map[[5]int]bool{}}, verdicts: map[string]string{}}
	for _, name := range schema.SortedHosts(c) {
		h := c.Hosts[name]
		sh := orSpecHost{name: name, dc: c.Datacenters[h.DC], voter: h.Role != schema.RoleObserver, cur: -1, remove: h.Remove}
		if h.MyID != nil {
			sh.cur = *h.MyID
			p.occupied[sh.cur] = name
		}
		p.hosts = append(p.hosts, sh)
	}
	for i := range p.hosts {
		p.byName[p.hosts[i].name] = &p.hosts[i]
	}
	return p
}

// orderOK says whether voters u (id fu) and v (id fv) may have these ids
// under the policy's ordering rules (strict: by datacenter preference;
// minimal: never-datacenters below every other).
func (p *orProblem) orderOK(u *orSpecHost, fu int, v *orSpecHost, fv int) bool {
	if !u.voter || !v.voter || u.dc == v.dc {
		return true
	}
	if fu < fv {
		u, v = v, u
	}
	// u holds the higher id.
	switch p.policy {
	case "strict":
		return u.dc.MorePreferred(v.dc)
	case "minimal":
		return !(u.dc.Leader == schema.LeaderNever && v.dc.Leader != schema.LeaderNever)
	}
	return true
}

// violates checks a final assignment (host -> id of every host that stays)
// against the policy's rules; "" when it is allowed. The count of renames
// is not checked here.
func (p *orProblem) violates(final map[string]int) string {
	used := map[int]string{}
	var voters []*orSpecHost
	for i := range p.hosts {
		h := &p.hosts[i]
		f, ok := final[h.name]
		if h.remove {
			if ok {
				return fmt.Sprintf("removed host %s is still a member", h.name)
			}
			continue
		}
		if !ok {
			return fmt.Sprintf("host %s is not a member of the final configuration", h.name)
		}
		if f < 0 || f > p.maxID {
			return fmt.Sprintf("host %s: id %d outside 0..%d", h.name, f, p.maxID)
		}
		if o, dup := used[f]; dup {
			return fmt.Sprintf("hosts %s and %s both get id %d", o, h.name, f)
		}
		used[f] = h.name
		owner, occ := p.occupied[f]
		switch {
		case h.cur >= 0 && f == h.cur:
		case h.cur >= 0 && !h.voter:
			return fmt.Sprintf("existing observer %s renamed %d -> %d", h.name, h.cur, f)
		case h.cur >= 0 && p.policy == "none":
			return fmt.Sprintf("renumber none renames %s %d -> %d", h.name, h.cur, f)
		case h.cur >= 0 && occ:
			return fmt.Sprintf("renamed host %s takes id %d, which %s runs today", h.name, f, owner)
		case h.cur < 0 && occ:
			o := p.byName[owner]
			if o.remove || !o.voter {
				return fmt.Sprintf("new host %s takes id %d of %s (removed or observer: blocked)", h.name, f, owner)
			}
			if final[owner] == f {
				return fmt.Sprintf("new host %s takes id %d, which %s keeps", h.name, f, owner)
			}
		}
		if h.voter {
			voters = append(voters, h)
		}
	}
	for _, u := range voters {
		for _, v := range voters {
			if !p.orderOK(u, final[u.name], v, final[v.name]) {
				return fmt.Sprintf("%s: %s (%s, id %d) and %s (%s, id %d) are in the wrong order", p.policy, u.name, u.dc.Name, final[u.name], v.name, v.dc.Name, final[v.name])
			}
		}
	}
	if p.policy == "minimal" && len(voters) > 0 {
		var top *schema.Datacenter
		hi := voters[0]
		for _, v := range voters {
			if top == nil || v.dc.MorePreferred(top) {
				top = v.dc
			}
			if final[v.name] > final[hi.name] {
				hi = v
			}
		}
		if hi.dc != top {
			return fmt.Sprintf("minimal: the highest voter id %d is %s's in %s, not in the most preferred %s", final[hi.name], hi.name, hi.dc.Name, top.Name)
		}
	}
	return ""
}

// neverLeads says how a never-datacenter host could win an election of the
// final configuration: with equal zxids the highest live voter id wins
// once a quorum of voters is live; the cases are the healthy ensemble, one
// voter lost, one datacenter lost. "" when none.
func (p *orProblem) neverLeads(final map[string]int) string {
	var voters []*orSpecHost
	dcs := map[*schema.Datacenter]bool{}
	for i := range p.hosts {
		h := &p.hosts[i]
		if _, ok := final[h.name]; ok && h.voter && !h.remove {
			voters = append(voters, h)
			dcs[h.dc] = true
		}
	}
	q := len(voters)/2 + 1
	check := func(lost string, down func(*orSpecHost) bool) string {
		var win *orSpecHost
		live := 0
		for _, v := range voters {
			if down(v) {
				continue
			}
			live++
			if win == nil || final[v.name] > final[win.name] {
				win = v
			}
		}
		if live >= q && win != nil && win.dc.Leader == schema.LeaderNever {
			return fmt.Sprintf("%s lost: %s (id %d) of never-datacenter %s wins", lost, win.name, final[win.name], win.dc.Name)
		}
		return ""
	}
	if v := check("nothing", func(*orSpecHost) bool { return false }); v != "" {
		return v
	}
	for _, x := range voters {
		if v := check("host "+x.name, func(h *orSpecHost) bool { return h == x }); v != "" {
			return v
		}
	}
	for d := range dcs {
		if v := check("datacenter "+d.Name, func(h *orSpecHost) bool { return h.dc == d }); v != "" {
			return v
		}
	}
	return ""
}

func (p *orProblem) renames(final map[string]int) int {
	n := 0
	for _, h := range p.hosts {
		if f, ok := final[h.name]; ok && h.cur >= 0 && f != h.cur {
			n++
		}
	}
	return n
}

// signature is an assignment as the model sees it: every host's (current
// rank, final rank, voter, removed), ranks over all ids; host names and
// datacenters do not matter to the stage rules.
func (p *orProblem) signature(final map[string]int) string {
	vals := map[int]bool{}
	for _, h := range p.hosts {
		if h.cur >= 0 {
			vals[h.cur] = true
		}
		if f, ok := final[h.name]; ok {
			vals[f] = true
		}
	}
	var sorted []int
	for v := range vals {
		sorted = append(sorted, v)
	}
	sort.Ints(sorted)
	rank := map[int]int{}
	for i, v := range sorted {
		rank[v] = i
	}
	var parts []string
	for _, h := range p.hosts {
		c, f := -1, -1
		if h.cur >= 0 {
			c = rank[h.cur]
		}
		if x, ok := final[h.name]; ok {
			f = rank[x]
		}
		parts = append(parts, fmt.Sprintf("%d/%d/%v/%v", c, f, h.voter, h.remove))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// orGap is a run of free ids (or, for new hosts only, the current id of a
// renamed host: a gap of one).
type orGap struct {
	lo, cap int
	slot    bool // a renamed host's current id
}

// assignments enumerates every allowed assignment with the fewest renames,
// one per signature; minRenames is -1 when none exists.
func (p *orProblem) assignments() (out []map[string]int, minRenames int) {
	var stay []*orSpecHost // current voters that stay: candidates for renaming
	var fresh0 []*orSpecHost
	base := map[string]int{}
	for i := range p.hosts {
		h := &p.hosts[i]
		switch {
		case h.remove:
		case h.cur >= 0 && !h.voter:
			base[h.name] = h.cur
		case h.cur >= 0:
			stay = append(stay, h)
		default:
			fresh0 = append(fresh0, h)
		}
	}
	// New hosts: observers last, voters by datacenter (symmetric classes
	// next to each other).
	sort.SliceStable(fresh0, func(i, j int) bool {
		a, b := fresh0[i], fresh0[j]
		if a.voter != b.voter {
			return a.voter
		}
		if a.voter && a.dc != b.dc {
			return a.dc.Name < b.dc.Name
		}
		return a.name < b.name
	})
	var occ []int
	for id := range p.occupied {
		occ = append(occ, id)
	}
	sort.Ints(occ)
	maxR := len(stay)
	if p.policy == "none" {
		maxR = 0
	}
	seen := map[string]bool{}
	for r := 0; r <= maxR; r++ {
		forCombinations(len(stay), r, func(pick []int) {
			final := map[string]int{}
			for k, v := range base {
				final[k] = v
			}
			isRen := map[string]bool{}
			var fresh []*orSpecHost
			for _, i := range pick {
				isRen[stay[i].name] = true
				fresh = append(fresh, stay[i])
			}
			var kept []*orSpecHost
			for _, h := range stay {
				if !isRen[h.name] {
					final[h.name] = h.cur
					kept = append(kept, h)
				}
			}
			for _, u := range kept {
				for _, v := range kept {
					if !p.orderOK(u, u.cur, v, v.cur) {
						return
					}
				}
			}
			fresh = append(fresh, fresh0...)
			m := len(fresh)
			var gaps []orGap
			lo := 0
			for _, o := range append(occ, p.maxID+1) {
				switch {
				case lo == 0 && o-1 >= m:
					// Id 0 is outside the documented range: ids 1..m
					// have the same order type.
					gaps = append(gaps, orGap{lo: 1, cap: min(o-1, m)})
				case o > lo:
					gaps = append(gaps, orGap{lo: lo, cap: min(o-lo, m)})
				}
				lo = o + 1
			}
			for _, i := range pick {
				gaps = append(gaps, orGap{lo: stay[i].cur, cap: 1, slot: true})
			}
			p.placeGaps(fresh, isRen, kept, gaps, final, func(f map[string]int) {
				if p.violates(f) != "" || p.neverRule && p.neverLeads(f) != "" {
					return
				}
				s := p.signature(f)
				if seen[s] {
					return
				}
				seen[s] = true
				c := map[string]int{}
				for k, v := range f {
					c[k] = v
				}
				out = append(out, c)
			})
		})
		if len(out) > 0 {
			return out, r
		}
	}
	return nil, -1
}

// placeGaps chooses a gap for every fresh host (renamed or new), then the
// order of the hosts within each gap; values are the gap's lowest ids.
func (p *orProblem) placeGaps(fresh []*orSpecHost, isRen map[string]bool, kept []*orSpecHost, gaps []orGap, final map[string]int, emit func(map[string]int)) {
	m := len(fresh)
	gapOf := make([]int, m)
	count := make([]int, len(gaps))
	sameClass := func(a, b *orSpecHost) bool {
		if isRen[a.name] || isRen[b.name] || a.voter != b.voter {
			return false
		}
		// Under renumber none the order of new voters of different
		// datacenters does not matter to the policy, but it does to the
		// never-leader rule.
		return !a.voter || a.dc == b.dc || p.policy == "none" && !(p.neverRule && (a.dc.Leader == schema.LeaderNever) != (b.dc.Leader == schema.LeaderNever))
	}
	// before reports whether an id in gap g is below kept id x.
	var rec func(i int)
	rec = func(i int) {
		if i == m {
			p.orderGaps(fresh, gapOf, gaps, final, sameClass, emit)
			return
		}
		h := fresh[i]
		for g := range gaps {
			if count[g] >= gaps[g].cap {
				continue
			}
			if gaps[g].slot && isRen[h.name] {
				continue
			}
			if i > 0 && sameClass(fresh[i-1], h) && g < gapOf[i-1] {
				continue
			}
			ok := true
			gv := gaps[g].lo // any id of the gap compares the same with ids outside it
			if h.voter {
				for _, u := range kept {
					if !p.orderOK(h, gv, u, u.cur) {
						ok = false
						break
					}
				}
				for j := 0; j < i && ok; j++ {
					if gapOf[j] != g && !p.orderOK(h, gv, fresh[j], gaps[gapOf[j]].lo) {
						ok = false
					}
				}
			}
			if !ok {
				continue
			}
			gapOf[i] = g
			count[g]++
			rec(i + 1)
			count[g]--
		}
	}
	rec(0)
}

// orderGaps enumerates the orders of the hosts within each gap.
func (p *orProblem) orderGaps(fresh []*orSpecHost, gapOf []int, gaps []orGap, final map[string]int, sameClass func(a, b *orSpecHost) bool, emit func(map[string]int)) {
	byGap := map[int][]int{}
	var gs []int
	for i, g := range gapOf {
		if len(byGap[g]) == 0 {
			gs = append(gs, g)
		}
		byGap[g] = append(byGap[g], i)
	}
	sort.Ints(gs)
	var rec func(k int)
	rec = func(k int) {
		if k == len(gs) {
			emit(final)
			return
		}
		g := gs[k]
		idx := byGap[g]
		permute(idx, func(perm []int) {
			// Symmetric hosts keep their relative order.
			for a := 0; a < len(perm); a++ {
				for b := a + 1; b < len(perm); b++ {
					if sameClass(fresh[perm[a]], fresh[perm[b]]) && perm[a] > perm[b] {
						return
					}
				}
			}
			for pos, i := range perm {
				final[fresh[i].name] = gaps[g].lo + pos
			}
			rec(k + 1)
		})
		for _, i := range idx {
			delete(final, fresh[i].name)
		}
	}
	rec(0)
}

func permute(xs []int, f func([]int)) {
	a := append([]int{}, xs...)
	var rec func(k int)
	rec = func(k int) {
		if k == len(a) {
			f(a)
			return
		}
		for i := k; i < len(a); i++ {
			a[k], a[i] = a[i], a[k]
			rec(k + 1)
			a[k], a[i] = a[i], a[k]
		}
	}
	rec(0)
}

func forCombinations(n, r int, f func([]int)) {
	pick := make([]int, r)
	var rec func(start, k int)
	rec = func(start, k int) {
		if k == r {
			f(pick)
			return
		}
		for i := start; i < n; i++ {
			pick[k] = i
			rec(i+1, k+1)
		}
	}
	rec(0, 0)
}

// orMove is one step of a brute-force plan: a rename stage, or a grow or
// shrink pair of stages, over a subset of the pending items.
type orMove struct {
	kind string // rename | grow | shrink
	set  uint32
}

// orSearch looks for stage sequences for one assignment.
type orSearch struct {
	p       *orProblem
	final   map[string]int
	renamed []string // hosts whose id changes
	added   []string // new hosts
	leaving []string // removed hosts
	nR, nA  int
	okAt    map[uint32]int // a plan from this state within this many stages
	failAt  map[uint32]int // no plan from this state within this many stages
	choice  map[uint32]orMove
	moves   map[uint64]bool // (state, move) -> its stages pass
	mems    map[uint32][]orMem
}

func (p *orProblem) search(final map[string]int) *orSearch {
	s := &orSearch{p: p, final: final, okAt: map[uint32]int{}, failAt: map[uint32]int{}, choice: map[uint32]orMove{}, moves: map[uint64]bool{}, mems: map[uint32][]orMem{}}
	for _, h := range p.hosts {
		switch {
		case h.remove:
			s.leaving = append(s.leaving, h.name)
		case h.cur < 0:
			s.added = append(s.added, h.name)
		case final[h.name] != h.cur:
			s.renamed = append(s.renamed, h.name)
		}
	}
	s.nR, s.nA = len(s.renamed), len(s.added)
	return s
}

func (s *orSearch) all() uint32 {
	return uint32(1)<<(s.nR+s.nA+len(s.leaving)) - 1
}

func (s *orSearch) masks() (ren, add, leave uint32) {
	ren = uint32(1)<<s.nR - 1
	add = (uint32(1)<<s.nA - 1) << s.nR
	leave = s.all() &^ (ren | add)
	return
}

// members is the configuration every live host runs in a state (bits set:
// renames applied, hosts added, hosts removed).
func (s *orSearch) members(state uint32) []orMem {
	if ms, ok := s.mems[state]; ok {
		return ms
	}
	ms := s.membersOf(state)
	s.mems[state] = ms
	return ms
}

func (s *orSearch) membersOf(state uint32) []orMem {
	var ms []orMem
	for _, h := range s.p.hosts {
		if h.cur < 0 {
			continue
		}
		id := h.cur
		if k := index(s.renamed, h.name); k >= 0 && state&(1<<k) != 0 {
			id = s.final[h.name]
		}
		if k := index(s.leaving, h.name); k >= 0 && state&(1<<(s.nR+s.nA+k)) != 0 {
			continue
		}
		ms = append(ms, orMem{host: h.name, id: id, voter: h.voter})
	}
	for k, n := range s.added {
		if state&(1<<(s.nR+k)) != 0 {
			ms = append(ms, orMem{host: n, id: s.final[n], voter: s.p.byName[n].voter})
		}
	}
	slices.SortFunc(ms, func(a, b orMem) int { return a.id - b.id })
	return ms
}

func index(xs []string, x string) int {
	for i, y := range xs {
		if y == x {
			return i
		}
	}
	return -1
}

func liveOf(ms []orMem) map[string]int {
	l := map[string]int{}
	for _, m := range ms {
		l[m.host] = m.id
	}
	return l
}

func restarts(ms []orMem) []orStep {
	var st []orStep
	for _, m := range ms {
		st = append(st, orStep{act: Restart, host: m.host, id: m.id})
	}
	return st
}

// stages builds the stages of a move from a state.
func (s *orSearch) stages(state uint32, mv orMove) ([]*orStage, bool) {
	cur := s.members(state)
	next := s.members(state | mv.set)
	switch mv.kind {
	case "rename":
		return []*orStage{{kind: KindRename, a: cur, b: next, live: liveOf(cur), steps: restarts(next), rule: LeaderFirst}}, true
	case "grow":
		running := map[int]bool{}
		for _, m := range cur {
			running[m.id] = true
		}
		var starts []orStep
		for _, m := range next {
			if _, ok := liveOf(cur)[m.host]; !ok {
				if running[m.id] {
					return nil, false // its id still belongs to a host renamed later
				}
				starts = append(starts, orStep{act: Start, host: m.host, id: m.id})
			}
		}
		roll := &orStage{kind: KindGrowRoll, a: cur, b: next, live: liveOf(cur), steps: restarts(cur), rule: LeaderLast}
		start := &orStage{kind: KindGrowStart, a: next, b: next, live: liveOf(cur), steps: starts}
		return []*orStage{roll, start}, true
	default:
		gone := map[string]bool{}
		var stops []orStep
		for _, m := range cur {
			if _, ok := liveOf(next)[m.host]; !ok {
				gone[m.host] = true
				stops = append(stops, orStep{act: Stop, host: m.host, id: m.id})
			}
		}
		stop := &orStage{kind: KindShrinkStop, a: cur, b: cur, live: liveOf(cur), steps: stops, rule: LeaderLast}
		roll := &orStage{kind: KindShrinkRoll, a: cur, b: next, live: liveOf(next), steps: restarts(next), rule: LeaderLast}
		return []*orStage{stop, roll}, true
	}
}

func (p *orProblem) check(st *orStage) string {
	k := orStageKey(st, p.reserve)
	if v, ok := p.verdicts[k]; ok {
		return v
	}
	p.checks++
	v := orCheck(st, p.reserve, p.safe)
	p.verdicts[k] = v
	return v
}

func (s *orSearch) lowerBound(state uint32) int {
	ren, add, leave := s.masks()
	lb := 0
	if state&ren != ren {
		lb++
	}
	if state&add != add {
		lb += 2
	}
	if state&leave != leave {
		lb += 2
	}
	return lb
}

// moveOK reports whether every stage of the move passes the checker.
func (s *orSearch) moveOK(state uint32, mv orMove) bool {
	k := uint64(state)<<32 | uint64(mv.set)
	if v, ok := s.moves[k]; ok {
		return v
	}
	sts, good := s.stages(state, mv)
	for _, st := range sts {
		if !good {
			break
		}
		good = s.p.check(st) == ""
	}
	s.moves[k] = good
	return good
}

// within reports whether a plan from state takes at most budget stages.
func (s *orSearch) within(state uint32, budget int) bool {
	if budget < 0 {
		return false
	}
	if state == s.all() {
		return true
	}
	if budget < s.lowerBound(state) {
		return false
	}
	if b, ok := s.okAt[state]; ok && b <= budget {
		return true
	}
	if b, ok := s.failAt[state]; ok && b >= budget {
		return false
	}
	ren, add, leave := s.masks()
	for _, kind := range []struct {
		name string
		mask uint32
		cost int
	}{{"rename", ren, 1}, {"grow", add, 2}, {"shrink", leave, 2}} {
		pending := kind.mask &^ state
		if kind.cost > budget {
			continue
		}
		for sub := pending; sub > 0; sub = (sub - 1) & pending {
			mv := orMove{kind: kind.name, set: sub}
			if s.moveOK(state, mv) && s.within(state|sub, budget-kind.cost) {
				s.okAt[state] = budget
				s.choice[state] = mv
				return true
			}
		}
	}
	if b, ok := s.failAt[state]; !ok || budget > b {
		s.failAt[state] = budget
	}
	return false
}

// describe is the plan found from state 0 (after within succeeded).
func (s *orSearch) describe() string {
	var parts []string
	state := uint32(0)
	for state != s.all() {
		mv, ok := s.choice[state]
		if !ok {
			return strings.Join(append(parts, "?"), "; ")
		}
		var items []string
		for k := 0; k < s.nR+s.nA+len(s.leaving); k++ {
			if mv.set&(1<<k) == 0 {
				continue
			}
			switch {
			case k < s.nR:
				h := s.renamed[k]
				items = append(items, fmt.Sprintf("%s %d->%d", h, s.p.byName[h].cur, s.final[h]))
			case k < s.nR+s.nA:
				h := s.added[k-s.nR]
				items = append(items, fmt.Sprintf("+%s:%d", h, s.final[h]))
			default:
				h := s.leaving[k-s.nR-s.nA]
				items = append(items, fmt.Sprintf("-%s:%d", h, s.p.byName[h].cur))
			}
		}
		parts = append(parts, mv.kind+"("+strings.Join(items, ",")+")")
		state |= mv.set
	}
	return strings.Join(parts, "; ")
}
