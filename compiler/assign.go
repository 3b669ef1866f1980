package compiler

import (
	"fmt"
	"sort"
	"strings"

	"github.com/zkstage/zkstage/schema"
)

// assignment is the id every remaining host will run in the final
// configuration, and the renames of existing hosts that it takes.
type assignment struct {
	ids     map[string]int
	renames []Rename
	why     []string
}

// hostInfo is what id assignment needs to know about a host.
type hostInfo struct {
	name  string
	dc    *schema.Datacenter
	cur   int // current id, -1 for a new host
	voter bool
}

// existing reports whether the host runs an id today, so that giving it
// another one is a rename.
func (h hostInfo) existing() bool { return h.cur >= 0 }

// idSpace is what every policy must respect besides its own order.
type idSpace struct {
	maxID int
	// fixed: ids no one else may take, ever: removed hosts (live until the
	// shrink stage) and existing observers (not renumbered).
	fixed map[int]bool
	// current: every id some host runs today. A renamed host may not take
	// one: its holder may still run it during the rename stage.
	current map[int]bool
	// avoid: new hosts may not take one either. A new host on an id that a
	// renamed host gives up must wait for that rename; the planner asks for
	// this variant when no plan grows before renaming otherwise.
	avoid bool
}

// usedFixed is a fresh set of taken ids holding the fixed ones.
func (sp idSpace) usedFixed() map[int]bool {
	used := map[int]bool{}
	for id := range sp.fixed {
		used[id] = true
	}
	return used
}

// assignIDs chooses final ids for every host that stays or joins, following
// the renumber policy. Leader placement has one lever, the id: at equal zxid
// the highest live id wins an election.
func assignIDs(c *schema.Cluster) (*assignment, error) { return assignIDsWith(c, false) }

// assignIDsWith is assignIDs; with avoid, new hosts take only ids no host
// runs today, so that they can join before any rename.
func assignIDsWith(c *schema.Cluster, avoid bool) (*assignment, error) {
	a := &assignment{ids: map[string]int{}}
	sp := idSpace{maxID: schema.MaxMyID(c.Version, c.Settings.Extra), fixed: map[int]bool{}, current: map[int]bool{}, avoid: avoid}
	var voters, newObservers []hostInfo
	for _, name := range schema.SortedHosts(c) {
		h := c.Hosts[name]
		hi := hostInfo{name: name, dc: c.Datacenters[h.DC], cur: -1, voter: h.Role == schema.RoleParticipant}
		if h.MyID != nil {
			hi.cur = *h.MyID
			sp.current[hi.cur] = true
		}
		switch {
		case h.Remove:
			sp.fixed[hi.cur] = true
		case !hi.voter && hi.existing():
			sp.fixed[hi.cur] = true
			a.ids[name] = hi.cur
		case !hi.voter:
			newObservers = append(newObservers, hi)
		default:
			voters = append(voters, hi)
		}
	}
	var ids map[string]int
	var err error
	switch c.Policy.Renumber {
	case "strict":
		ids, err = a.assignStrict(voters, sp)
	case "minimal":
		ids, err = a.assignMinimal(voters, sp)
	case "none":
		ids, err = a.assignNone(voters, sp)
	default:
		return nil, fmt.Errorf("policy.renumber %q not supported", c.Policy.Renumber)
	}
	if err != nil {
		return nil, err
	}
	for name, id := range ids {
		a.ids[name] = id
	}
	if err := allocObservers(a, newObservers, sp); err != nil {
		return nil, err
	}
	a.collectRenames(voters)
	if c.Policy.Renumber != "none" {
		a.explainRenames()
	}
	return a, nil
}

// assignStrict orders every voter id by datacenter, least preferred lowest,
// with the fewest renames.
func (a *assignment) assignStrict(voters []hostInfo, sp idSpace) (map[string]int, error) {
	groups := groupByDC(voters)
	bounds, err := splitIDs(groups, sp)
	if err != nil {
		return nil, err
	}
	ids, used := keepInBounds(groups, bounds, sp)
	for gi, g := range groups {
		if !fill(ids, unplaced(g, ids), bounds[gi], bounds[gi+1], used, sp.current, sp.avoid) {
			// splitIDs checked both capacities, so this is a bug.
			return nil, fmt.Errorf("internal error: no free id in %d..%d for datacenter %s", bounds[gi], bounds[gi+1]-1, g[0].dc.Name)
		}
	}
	s := "renumber strict: ids ordered by datacenter, lowest to highest:"
	for _, g := range groups {
		s += " " + g[0].dc.Name
	}
	a.why = append(a.why, s)
	return ids, nil
}

// assignMinimal makes the most preferred datacenter hold the highest voter
// id and never-datacenters the lowest, with the fewest renames. The exact
// search below decides whether that is possible and how many renames it
// takes; the rounder layout of minimalLayout (a renamed leader-to-be on the
// next multiple of 100) is kept when it is that good.
func (a *assignment) assignMinimal(voters []hostInfo, sp idSpace) (map[string]int, error) {
	top := topDC(voters)
	if top == nil || top.Leader == schema.LeaderNever {
		return nil, fmt.Errorf("no voter in a datacenter that may lead")
	}
	m := newMinimalModel(voters, top, sp)
	best, ok := m.best()
	if !ok {
		return nil, fmt.Errorf("no ids in 0..%d give %s (most preferred) the highest voter id and never-datacenters the lowest ids: renamed hosts may not take an id some host runs today, removed hosts and observers keep theirs", sp.maxID, top.Name)
	}
	s := fmt.Sprintf("renumber minimal: %s (most preferred) must hold the highest id", top.Name)
	if m.neverVoters() > 0 {
		s += " and never-datacenters the lowest ids"
	}
	a.why = append(a.why, s)
	ids, err := minimalLayout(voters, top, sp)
	if err == nil && renameCount(voters, ids) == best.cost && minimalViolation(voters, ids, top, sp) == "" {
		return ids, nil
	}
	ids, err = m.build(best)
	if err != nil {
		return nil, err
	}
	if v := minimalViolation(voters, ids, top, sp); v != "" {
		return nil, fmt.Errorf("internal error: minimal ids %v: %s", ids, v)
	}
	h := highestHolder(ids, voters)
	a.why = append(a.why, fmt.Sprintf("renumber minimal: with the fewest renames (%d), %s holds the highest voter id, %d", best.cost, h.name, ids[h.name]))
	return ids, nil
}

// minimalLayout is the first layout tried for minimal renumbering: the
// fewest renames that put never-datacenters lowest, then the preferred
// datacenter on top, moving its highest host to a round "high block" (the
// next multiple of 100 above every other id) so that later growth of the
// other datacenters does not overtake it. It may take more renames than
// needed, or fail: the caller checks it against the exact minimum.
func minimalLayout(voters []hostInfo, top *schema.Datacenter, sp idSpace) (map[string]int, error) {
	var never, others []hostInfo
	for _, v := range voters {
		if v.dc.Leader == schema.LeaderNever {
			never = append(never, v)
		} else {
			others = append(others, v)
		}
	}
	var groups [][]hostInfo
	if len(never) > 0 {
		groups = append(groups, never)
	}
	groups = append(groups, others)
	bounds, err := splitIDs(groups, sp)
	if err != nil {
		return nil, err
	}
	ids, used := keepInBounds(groups, bounds, sp)
	var floating []hostInfo
	for gi, g := range groups {
		var movers []hostInfo
		for _, h := range byPreference(unplaced(g, ids)) {
			if h.dc == top && gi == len(groups)-1 {
				floating = append(floating, h)
			} else {
				movers = append(movers, h)
			}
		}
		if !fill(ids, movers, bounds[gi], bounds[gi+1], used, sp.current, sp.avoid) {
			return nil, fmt.Errorf("no free id in %d..%d", bounds[gi], bounds[gi+1]-1)
		}
	}
	if err := placeTop(ids, voters, top, floating, used, sp); err != nil {
		return nil, err
	}
	return ids, nil
}

// placeTop gives the preferred datacenter's unplaced hosts ids above every
// other datacenter's: new hosts the next free ones, renamed hosts (or, when
// none is unplaced and another datacenter holds the highest id, the
// preferred host with the highest id) the high block.
func placeTop(ids map[string]int, voters []hostInfo, top *schema.Datacenter, floating []hostInfo, used map[int]bool, sp idSpace) error {
	maxOther := -1
	for _, v := range voters {
		if id, ok := ids[v.name]; ok && v.dc != top && id > maxOther {
			maxOther = id
		}
	}
	var renamed, fresh []hostInfo
	for _, h := range floating {
		if h.existing() {
			renamed = append(renamed, h)
		} else {
			fresh = append(fresh, h)
		}
	}
	for _, h := range fresh {
		id, ok := lowestFree(maxOther+1, sp.maxID+1, used, sp.current, sp.avoid)
		if !ok {
			return fmt.Errorf("no free id above %d for new host %q", maxOther, h.name)
		}
		ids[h.name] = id
		used[id] = true
	}
	if len(renamed) == 0 {
		if holder := highestHolder(ids, voters); holder != nil && holder.dc == top {
			return nil
		}
		// One rename: the top datacenter's host with the highest id moves up.
		var best *hostInfo
		for i := range voters {
			v := &voters[i]
			if v.dc == top && v.existing() && (best == nil || v.cur > best.cur) {
				best = v
			}
		}
		if best == nil {
			return fmt.Errorf("datacenter %s has no host that could hold the highest id", top.Name)
		}
		delete(ids, best.name)
		delete(used, best.cur)
		renamed = append(renamed, *best)
	}
	highest := -1
	if h := highestHolder(ids, voters); h != nil {
		highest = ids[h.name]
	}
	base := (highest/100 + 1) * 100
	for _, h := range renamed {
		id, ok := lowestFree(base, sp.maxID+1, used, sp.current, true)
		if !ok {
			// No round block fits under the version's limit: take the
			// next free id above every other datacenter's.
			id, ok = lowestFree(maxOther+1, sp.maxID+1, used, sp.current, true)
		}
		if !ok {
			return fmt.Errorf("no free id above %d for host %q", maxOther, h.name)
		}
		ids[h.name] = id
		used[id] = true
	}
	return nil
}

// highestHolder is the voter with the highest id placed so far.
func highestHolder(ids map[string]int, voters []hostInfo) *hostInfo {
	var holder *hostInfo
	for i, v := range voters {
		if id, ok := ids[v.name]; ok && (holder == nil || id > ids[holder.name]) {
			holder = &voters[i]
		}
	}
	return holder
}

// minimalModel counts, for every id, what an interval of ids holds today, so
// that each layout of minimal renumbering is checked in constant time.
//
// A layout is a cut and a top id: never-datacenter voters take ids below
// cut, the others ids in cut..top, and top, the highest voter id, is held by
// a host of the preferred datacenter. For a given layout keeping every host
// whose id already lies in its range is never worse (a host that moves
// could swap back with whoever took its id, a new host), except that the
// preferred host holding top may be one that could have stayed. What is
// left is a matching of the moving hosts to free ids in their range, where
// renamed hosts may take only ids no host runs today and new hosts any free
// id: such nested choices fit exactly when the renamed hosts fit in the ids
// nobody runs and all of them fit in the free ids.
type minimalModel struct {
	voters []hostInfo
	top    *schema.Datacenter
	sp     idSpace
	// Prefix counts over ids < t: fixed, current, never-datacenter voters,
	// other voters, the preferred datacenter's voters.
	fixed, current, never, other, topDC []int
	// Per id: fixed, run today, run today by the preferred datacenter.
	isFixed, isCurrent, curTop []bool
	vNever, vOther, vTop       int // voters that run an id today
	nNever, nOther, nTop       int // new voters
}

// holderKind says which host of the preferred datacenter holds the top id.
type holderKind int

const (
	holderKept   holderKind = iota // it runs that id today
	holderNew                      // a new host
	holderMoved                    // a host whose id is outside its range anyway
	holderRaised                   // a host that could keep its id moves up (one more rename)
)

// minimalCut is one layout and the renames it takes.
type minimalCut struct {
	cut, top int
	holder   holderKind
	cost     int
}

func newMinimalModel(voters []hostInfo, top *schema.Datacenter, sp idSpace) *minimalModel {
	n := sp.maxID + 2
	m := &minimalModel{voters: voters, top: top, sp: sp}
	for _, p := range []*[]int{&m.fixed, &m.current, &m.never, &m.other, &m.topDC} {
		*p = make([]int, n)
	}
	for _, p := range []*[]bool{&m.isFixed, &m.isCurrent, &m.curTop} {
		*p = make([]bool, n)
	}
	byID := map[int]*hostInfo{}
	for i, v := range voters {
		never := v.dc.Leader == schema.LeaderNever
		switch {
		case v.existing() && never:
			m.vNever++
		case v.existing():
			m.vOther++
		case never:
			m.nNever++
		default:
			m.nOther++
		}
		if v.dc == top {
			if v.existing() {
				m.vTop++
				m.curTop[v.cur] = true
			} else {
				m.nTop++
			}
		}
		if v.existing() {
			byID[v.cur] = &voters[i]
		}
	}
	for t := 1; t < n; t++ {
		id := t - 1
		m.fixed[t], m.current[t] = m.fixed[id], m.current[id]
		m.never[t], m.other[t], m.topDC[t] = m.never[id], m.other[id], m.topDC[id]
		if sp.fixed[id] {
			m.fixed[t]++
			m.isFixed[id] = true
		}
		if sp.current[id] {
			m.current[t]++
			m.isCurrent[id] = true
		}
		if v := byID[id]; v != nil {
			if v.dc.Leader == schema.LeaderNever {
				m.never[t]++
			} else {
				m.other[t]++
			}
			if v.dc == top {
				m.topDC[t]++
			}
		}
	}
	return m
}

func (m *minimalModel) neverVoters() int { return m.vNever + m.nNever }

// best is the cheapest layout, see better.
func (m *minimalModel) best() (minimalCut, bool) {
	var best minimalCut
	found := false
	lastCut := m.sp.maxID
	if m.neverVoters() == 0 {
		lastCut = 0 // a higher cut only narrows the others' range
	}
	for cut := 0; cut <= lastCut; cut++ {
		for top := cut; top <= m.sp.maxID; top++ {
			c, ok := m.eval(cut, top)
			if ok && (!found || c.better(best)) {
				best, found = c, true
			}
		}
	}
	return best, found
}

// better orders layouts: fewer renames; then the lower cut (compact
// never-datacenter ids); a top host that stays, then a new one, then a
// renamed one; the lower top id, a round one first for a renamed host (the
// high block of minimalLayout, room for the others to grow below it).
func (c minimalCut) better(d minimalCut) bool {
	if c.cost != d.cost {
		return c.cost < d.cost
	}
	if c.cut != d.cut {
		return c.cut < d.cut
	}
	if c.holder != d.holder {
		return c.holder < d.holder
	}
	if c.holder >= holderMoved {
		if r1, r2 := c.top%100 == 0, d.top%100 == 0; r1 != r2 {
			return r1
		}
	}
	return c.top < d.top
}

// eval checks one layout and counts its renames.
func (m *minimalModel) eval(cut, top int) (minimalCut, bool) {
	res := minimalCut{cut: cut, top: top}
	// Never-datacenter voters in 0..cut-1.
	keptNever := m.never[cut]
	renNever := m.vNever - keptNever
	if !m.fit(renNever, m.nNever, cut-m.current[cut], cut-m.fixed[cut]-keptNever) {
		return res, false
	}
	// The others in cut..top-1, and one preferred host at top.
	width := top - cut
	kept := m.other[top] - m.other[cut]
	freeRen := width - (m.current[top] - m.current[cut])
	freeNew := width - (m.fixed[top] - m.fixed[cut]) - kept
	ren := m.vOther - kept
	topIn := m.topDC[top] - m.topDC[cut]
	topFreeForRenamed := !m.isCurrent[top]
	switch {
	case m.curTop[top]:
		ren-- // it stays on top
		res.holder = holderKept
		if !m.fit(ren, m.nOther, freeRen, freeNew) {
			return res, false
		}
	case m.isFixed[top]:
		return res, false
	case m.nTop > 0 && !(m.sp.avoid && m.isCurrent[top]) && m.fit(ren, m.nOther-1, freeRen, freeNew):
		res.holder = holderNew
	case topFreeForRenamed && m.vTop-topIn > 0 && m.fit(ren-1, m.nOther, freeRen, freeNew):
		res.holder = holderMoved
	case topFreeForRenamed && topIn > 0 && m.fit(ren, m.nOther, freeRen, freeNew+1):
		// The raised host leaves its id to the new hosts.
		res.holder = holderRaised
		ren++
	default:
		return res, false
	}
	res.cost = renNever + ren
	return res, true
}

// fit is fits; when new hosts avoid the ids run today they count with the
// renamed hosts.
func (m *minimalModel) fit(ren, fresh, freeRen, freeAll int) bool {
	if m.sp.avoid {
		return fits(ren+fresh, 0, freeRen, freeAll)
	}
	return fits(ren, fresh, freeRen, freeAll)
}

// fits reports whether ren renamed and fresh new hosts fit in freeRen ids no
// host runs today and freeAll free ids (freeRen of them among those).
func fits(ren, fresh, freeRen, freeAll int) bool {
	return ren <= freeRen && ren+fresh <= freeAll
}

// build turns a layout into ids: hosts in range stay, the top holder moves
// up, the others fill their ranges least preferred datacenter first.
func (m *minimalModel) build(c minimalCut) (map[string]int, error) {
	holder := m.holderFor(c)
	if holder == nil {
		return nil, fmt.Errorf("internal error: no host of %s for id %d", m.top.Name, c.top)
	}
	ids := map[string]int{holder.name: c.top}
	used := m.sp.usedFixed()
	used[c.top] = true
	var never, others []hostInfo
	for _, v := range m.voters {
		switch {
		case v.name == holder.name:
		case m.inRange(c, v):
			ids[v.name] = v.cur
			used[v.cur] = true
		case v.dc.Leader == schema.LeaderNever:
			never = append(never, v)
		default:
			others = append(others, v)
		}
	}
	if !fill(ids, byPreference(never), 0, c.cut, used, m.sp.current, m.sp.avoid) || !fill(ids, byPreference(others), c.cut, c.top, used, m.sp.current, m.sp.avoid) {
		return nil, fmt.Errorf("internal error: minimal layout cut %d top %d does not fit", c.cut, c.top)
	}
	return ids, nil
}

// inRange reports whether v runs an id today that its range in the layout
// holds (the top id is the holder's, not in anyone's range).
func (m *minimalModel) inRange(c minimalCut, v hostInfo) bool {
	if !v.existing() {
		return false
	}
	if v.dc.Leader == schema.LeaderNever {
		return v.cur < c.cut
	}
	return v.cur >= c.cut && v.cur < c.top
}

// holderFor picks the preferred host that takes the top id: the one that
// runs it, the first new host, or among the renamed candidates the one with
// the highest id (the choice among equals does not change what fits).
func (m *minimalModel) holderFor(c minimalCut) *hostInfo {
	var best *hostInfo
	for i, v := range m.voters {
		if v.dc != m.top {
			continue
		}
		var ok bool
		switch c.holder {
		case holderKept:
			ok = v.existing() && v.cur == c.top
		case holderNew:
			ok = !v.existing() && best == nil
		case holderMoved:
			ok = v.existing() && !m.inRange(c, v) && (best == nil || v.cur > best.cur)
		case holderRaised:
			ok = m.inRange(c, v) && (best == nil || v.cur > best.cur)
		}
		if ok {
			best = &m.voters[i]
		}
	}
	return best
}

// minimalViolation says which rule of minimal renumbering ids break, or "".
func minimalViolation(voters []hostInfo, ids map[string]int, top *schema.Datacenter, sp idSpace) string {
	if v := commonViolation(voters, ids, sp); v != "" {
		return v
	}
	holder := highestHolder(ids, voters)
	if holder == nil || holder.dc != top {
		return "the preferred datacenter does not hold the highest id"
	}
	lowestOther := sp.maxID + 1
	for _, v := range voters {
		if v.dc.Leader != schema.LeaderNever && ids[v.name] < lowestOther {
			lowestOther = ids[v.name]
		}
	}
	for _, v := range voters {
		if v.dc.Leader == schema.LeaderNever && ids[v.name] > lowestOther {
			return fmt.Sprintf("never-datacenter host %s is above a host that may lead", v.name)
		}
	}
	return ""
}

// commonViolation checks the rules every policy shares: one distinct id in
// range per voter, none fixed, a renamed host on an id nobody runs today.
func commonViolation(voters []hostInfo, ids map[string]int, sp idSpace) string {
	seen := map[int]string{}
	for _, v := range voters {
		id, ok := ids[v.name]
		switch {
		case !ok:
			return "no id for " + v.name
		case id < 0 || id > sp.maxID:
			return fmt.Sprintf("%s: id %d out of range", v.name, id)
		case seen[id] != "":
			return fmt.Sprintf("%s and %s share id %d", seen[id], v.name, id)
		case sp.fixed[id]:
			return fmt.Sprintf("%s takes the fixed id %d", v.name, id)
		case v.existing() && id != v.cur && sp.current[id]:
			return fmt.Sprintf("%s is renamed to %d, which a host runs today", v.name, id)
		}
		seen[id] = v.name
	}
	return ""
}

func renameCount(voters []hostInfo, ids map[string]int) int {
	n := 0
	for _, v := range voters {
		if id, ok := ids[v.name]; v.existing() && (!ok || id != v.cur) {
			n++
		}
	}
	return n
}

// assignNone keeps every existing id. New never-datacenter voters take the
// lowest free ids, other new voters the ids above all current ones, least
// preferred datacenter first; when those run out (a host runs a high id
// such as 255 today), the least preferred of them take the highest free ids
// below.
func (a *assignment) assignNone(voters []hostInfo, sp idSpace) (map[string]int, error) {
	ids := map[string]int{}
	used := sp.usedFixed()
	maxCur := -1
	for id := range sp.current {
		used[id] = true
		maxCur = max(maxCur, id)
	}
	var never, others []hostInfo
	for _, v := range byPreference(voters) {
		switch {
		case v.existing():
			ids[v.name] = v.cur
		case v.dc.Leader == schema.LeaderNever:
			never = append(never, v)
		default:
			others = append(others, v)
		}
	}
	a.why = append(a.why, "renumber none: existing ids kept; new hosts get free ids (never-datacenters the lowest)")
	for _, h := range never {
		// Below every current id if one is free there (0 included), so
		// that the new host cannot win an election.
		if id, ok := lowestFree(0, maxCur, used, sp.current, sp.avoid); ok {
			ids[h.name] = id
			used[id] = true
		} else if err := takeLowest(ids, h, maxCur+1, used, sp); err != nil {
			return nil, err
		}
	}
	above := 0
	for id := maxCur + 1; id <= sp.maxID; id++ {
		if !used[id] {
			above++
		}
	}
	// The most preferred new hosts get the ids above, the rest wait below.
	below := others[:max(0, len(others)-above)]
	var names []string
	for i := len(below) - 1; i >= 0; i-- {
		id, ok := highestFree(maxCur, used)
		if !ok {
			return nil, fmt.Errorf("no free id for new host %q (max myid %d)", below[i].name, sp.maxID)
		}
		ids[below[i].name] = id
		used[id] = true
		names = append([]string{fmt.Sprintf("%s %d", below[i].name, id)}, names...)
	}
	for _, h := range others[len(below):] {
		if err := takeLowest(ids, h, maxCur+1, used, sp); err != nil {
			return nil, err
		}
	}
	if len(below) > 0 {
		a.why = append(a.why, fmt.Sprintf("renumber none: only %d free id(s) above %d, the highest id run today: %s below it", above, maxCur, strings.Join(names, ", ")))
	}
	return ids, nil
}

func takeLowest(ids map[string]int, h hostInfo, lo int, used map[int]bool, sp idSpace) error {
	id, ok := lowestFree(lo, sp.maxID+1, used, sp.current, sp.avoid)
	if !ok {
		return fmt.Errorf("no free id for new host %q (max myid %d)", h.name, sp.maxID)
	}
	ids[h.name] = id
	used[id] = true
	return nil
}

// highestFree is the highest unused id below hi, 0 last.
func highestFree(hi int, used map[int]bool) (int, bool) {
	for id := hi - 1; id >= 1; id-- {
		if !used[id] {
			return id, true
		}
	}
	return 0, hi > 0 && !used[0]
}

func allocObservers(a *assignment, obs []hostInfo, sp idSpace) error {
	used := sp.usedFixed()
	for _, id := range a.ids {
		used[id] = true
	}
	for _, h := range obs {
		// Not renamed: a new observer may take an id a renamed voter leaves.
		id, ok := lowestFree(0, sp.maxID+1, used, sp.current, sp.avoid)
		if !ok {
			return fmt.Errorf("no free id for new observer %q (max myid %d)", h.name, sp.maxID)
		}
		a.ids[h.name] = id
		used[id] = true
	}
	return nil
}

// idOrder lists lo..hi-1, 0 last because it is outside ZooKeeper's
// documented range.
func idOrder(lo, hi int) []int {
	var order []int
	for id := max(lo, 1); id < hi; id++ {
		order = append(order, id)
	}
	if lo <= 0 && hi > 0 {
		order = append(order, 0)
	}
	return order
}

// lowestFree returns the lowest unused id in [lo, hi), trying 0 last. A
// renamed host must not take an id some host runs today (that host may
// still run it during the stage).
func lowestFree(lo, hi int, used, current map[int]bool, renamed bool) (int, bool) {
	for _, id := range idOrder(lo, hi) {
		if !used[id] && !(renamed && current[id]) {
			return id, true
		}
	}
	return 0, false
}

// fill gives each host, in order, the lowest id in [lo, hi) it may take (0
// last) that leaves enough ids for the hosts after it. Renamed hosts may
// take only ids no host runs today, new hosts any free id, so handing out
// the lowest id in host order could starve a renamed host that comes later
// although an assignment exists; with nested choices like these, the rest
// fit exactly when the renamed ones fit in the ids nobody runs and all fit
// in the free ids. It reports false when the hosts do not fit at all.
func fill(ids map[string]int, hosts []hostInfo, lo, hi int, used, current map[int]bool, avoid bool) bool {
	// restricted: the host may not take an id some host runs today.
	restricted := func(h hostInfo) bool { return h.existing() || avoid }
	order := idOrder(lo, hi)
	freeRen, freeAll := 0, 0
	for _, id := range order {
		if !used[id] {
			freeAll++
			if !current[id] {
				freeRen++
			}
		}
	}
	needRen, needAll := 0, len(hosts)
	for _, h := range hosts {
		if restricted(h) {
			needRen++
		}
	}
	for _, h := range hosts {
		if restricted(h) {
			needRen--
		}
		needAll--
		chosen := -1
		for _, id := range order {
			if used[id] || restricted(h) && current[id] {
				continue
			}
			ren := freeRen
			if !current[id] {
				ren--
			}
			if fits(needRen, needAll-needRen, ren, freeAll-1) {
				chosen = id
				break
			}
		}
		if chosen < 0 {
			return false
		}
		ids[h.name] = chosen
		used[chosen] = true
		freeAll--
		if !current[chosen] {
			freeRen--
		}
	}
	return true
}

// keepInBounds keeps every existing host whose id lies in its group's
// interval; it returns the ids and the taken set (with the fixed ids).
func keepInBounds(groups [][]hostInfo, bounds []int, sp idSpace) (map[string]int, map[int]bool) {
	ids := map[string]int{}
	used := sp.usedFixed()
	for gi, g := range groups {
		for _, h := range g {
			if h.existing() && h.cur >= bounds[gi] && h.cur < bounds[gi+1] {
				ids[h.name] = h.cur
				used[h.cur] = true
			}
		}
	}
	return ids, used
}

// unplaced is the hosts of g without an id yet.
func unplaced(g []hostInfo, ids map[string]int) []hostInfo {
	var out []hostInfo
	for _, h := range g {
		if _, ok := ids[h.name]; !ok {
			out = append(out, h)
		}
	}
	return out
}

// byPreference sorts hosts least preferred datacenter first, so that the
// more preferred ones get the higher ids within a range.
func byPreference(hosts []hostInfo) []hostInfo {
	out := append([]hostInfo(nil), hosts...)
	sort.SliceStable(out, func(i, j int) bool { return out[j].dc.MorePreferred(out[i].dc) })
	return out
}

// splitIDs cuts the id space 0..maxID into one interval per group (lowest
// ids to the first group) so that the fewest existing hosts fall outside
// their group's interval, i.e. the fewest renames. Dynamic programming over
// the cut points; ties go to the lowest cuts, which keeps ids compact.
// Keeping every host whose id lies in its interval is never worse: a host
// that moved could swap back with the new host that took its id.
func splitIDs(groups [][]hostInfo, sp idSpace) ([]int, error) {
	k := len(groups)
	M := sp.maxID + 2 // cut points 0..maxID+1
	const inf = 1 << 30
	// own[g][t]: existing hosts of group g with id < t.
	own := make([][]int, k)
	for g := range groups {
		own[g] = make([]int, M)
		for _, h := range groups[g] {
			if h.existing() {
				for t := h.cur + 1; t < M; t++ {
					own[g][t]++
				}
			}
		}
	}
	// blocked[t]: ids < t that no group may take (removed hosts, observers).
	blocked := make([]int, M)
	occupied := make([]int, M) // ids < t that some host runs today
	for t := 1; t < M; t++ {
		blocked[t] = blocked[t-1]
		occupied[t] = occupied[t-1]
		if sp.fixed[t-1] {
			blocked[t]++
		}
		if sp.current[t-1] || sp.fixed[t-1] {
			occupied[t]++
		}
	}
	existing := make([]int, k)
	size := make([]int, k)
	for g, hs := range groups {
		size[g] = len(hs)
		for _, h := range hs {
			if h.existing() {
				existing[g]++
			}
		}
	}
	// The last cut is fixed at M-1 (maxID+1); the first at 0.
	dp := make([][]int, k+1)
	from := make([][]int, k+1)
	for i := range dp {
		dp[i] = make([]int, M)
		from[i] = make([]int, M)
		for t := range dp[i] {
			dp[i][t] = inf
		}
	}
	dp[0][0] = 0
	for g := 0; g < k; g++ {
		for s := 0; s < M; s++ {
			if dp[g][s] == inf {
				continue
			}
			tmin, tmax := s, M-1
			if g == k-1 {
				tmin = M - 1
			}
			for t := tmin; t <= tmax; t++ {
				kept := own[g][t] - own[g][s]
				ren := existing[g] - kept
				fresh := size[g] - existing[g]
				width := t - s
				// Ids new and renamed hosts may take: not kept by this
				// group, not blocked. Other groups' hosts in the interval
				// are renamed away, so their ids are free for new hosts.
				freeForNew := width - kept - (blocked[t] - blocked[s])
				// Renamed hosts may not take an id some host runs today.
				freeForRen := width - (occupied[t] - occupied[s])
				needRen, needFresh := ren, fresh
				if sp.avoid {
					// New hosts too keep off the ids run today.
					needRen, needFresh = ren+fresh, 0
				}
				if !fits(needRen, needFresh, freeForRen, freeForNew) {
					continue
				}
				if c := dp[g][s] + ren; c < dp[g+1][t] {
					dp[g+1][t] = c
					from[g+1][t] = s
				}
			}
		}
	}
	if dp[k][M-1] == inf {
		return nil, fmt.Errorf("no id assignment fits %d groups of hosts in ids 0..%d", k, sp.maxID)
	}
	bounds := make([]int, k+1)
	bounds[k] = M - 1
	for g := k; g > 0; g-- {
		bounds[g-1] = from[g][bounds[g]]
	}
	return bounds, nil
}

// groupByDC groups voters per datacenter, least preferred first (the lowest
// ids), for strict renumbering.
func groupByDC(voters []hostInfo) [][]hostInfo {
	byDC := map[*schema.Datacenter][]hostInfo{}
	var dcs []*schema.Datacenter
	for _, v := range voters {
		if _, ok := byDC[v.dc]; !ok {
			dcs = append(dcs, v.dc)
		}
		byDC[v.dc] = append(byDC[v.dc], v)
	}
	sort.Slice(dcs, func(i, j int) bool { return dcs[j].MorePreferred(dcs[i]) })
	var groups [][]hostInfo
	for _, d := range dcs {
		groups = append(groups, byDC[d])
	}
	return groups
}

// topDC is the most preferred datacenter that has voters.
func topDC(voters []hostInfo) *schema.Datacenter {
	var top *schema.Datacenter
	for _, v := range voters {
		if top == nil || v.dc.MorePreferred(top) {
			top = v.dc
		}
	}
	return top
}

func (a *assignment) collectRenames(voters []hostInfo) {
	for _, v := range voters {
		if v.existing() && a.ids[v.name] != v.cur {
			a.renames = append(a.renames, Rename{Host: v.name, From: v.cur, To: a.ids[v.name]})
		}
	}
	sort.Slice(a.renames, func(i, j int) bool { return a.renames[i].From < a.renames[j].From })
}

func (a *assignment) explainRenames() {
	if len(a.renames) == 0 {
		a.why = append(a.why, "no rename needed")
		return
	}
	for _, r := range a.renames {
		a.why = append(a.why, fmt.Sprintf("rename %s: %d -> %d", r.Host, r.From, r.To))
	}
}
