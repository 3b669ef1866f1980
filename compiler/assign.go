package compiler

import (
	"fmt"
	"sort"

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

// assignIDs chooses final ids for every host that stays or joins, following
// the renumber policy. Leader placement has one lever, the id: at equal zxid
// the highest live id wins an election.
func assignIDs(c *schema.Cluster) (*assignment, error) {
	maxID := schema.MaxMyID(c.Version, c.Settings.Extra)
	a := &assignment{ids: map[string]int{}}
	var voters, newObservers []hostInfo
	// fixed: ids no one else may take, ever: removed hosts (live until the
	// shrink stage) and existing observers (not renumbered).
	fixed := map[int]bool{}
	current := map[int]bool{}
	for _, name := range schema.SortedHosts(c) {
		h := c.Hosts[name]
		hi := hostInfo{name: name, dc: c.Datacenters[h.DC], cur: -1, voter: h.Role == schema.RoleParticipant}
		if h.MyID != nil {
			hi.cur = *h.MyID
			current[hi.cur] = true
		}
		switch {
		case h.Remove:
			fixed[hi.cur] = true
		case !hi.voter && hi.cur >= 0:
			fixed[hi.cur] = true
			a.ids[name] = hi.cur
		case !hi.voter:
			newObservers = append(newObservers, hi)
		default:
			voters = append(voters, hi)
		}
	}

	var groups [][]hostInfo
	switch c.Policy.Renumber {
	case "strict":
		groups = groupByDC(voters)
	case "minimal":
		var never, others []hostInfo
		for _, v := range voters {
			if v.dc.Leader == schema.LeaderNever {
				never = append(never, v)
			} else {
				others = append(others, v)
			}
		}
		if len(never) > 0 {
			groups = append(groups, never)
		}
		groups = append(groups, others)
	case "none":
		return assignNone(a, voters, newObservers, fixed, current, maxID)
	default:
		return nil, fmt.Errorf("policy.renumber %q not supported", c.Policy.Renumber)
	}

	bounds, err := splitIDs(groups, fixed, current, maxID)
	if err != nil {
		return nil, err
	}
	used := map[int]bool{}
	for id := range fixed {
		used[id] = true
	}
	// Kept ids first, so allocation cannot hand them out.
	for gi, g := range groups {
		for _, h := range g {
			if h.cur >= bounds[gi] && h.cur < bounds[gi+1] {
				a.ids[h.name] = h.cur
				used[h.cur] = true
			}
		}
	}
	top := topDC(voters)
	var topFloating []hostInfo
	for gi, g := range groups {
		// Least preferred datacenter first, so the more preferred ones get
		// the higher ids within the group.
		sort.SliceStable(g, func(i, j int) bool { return g[j].dc.MorePreferred(g[i].dc) })
		for _, h := range g {
			if _, ok := a.ids[h.name]; ok {
				continue
			}
			if c.Policy.Renumber == "minimal" && h.dc == top && gi == len(groups)-1 {
				topFloating = append(topFloating, h)
				continue
			}
			id, ok := lowestFree(bounds[gi], bounds[gi+1], used, current, h.cur >= 0)
			if !ok {
				return nil, fmt.Errorf("no free id in %d..%d for host %q", bounds[gi], bounds[gi+1]-1, h.name)
			}
			a.ids[h.name] = id
			used[id] = true
		}
	}
	if c.Policy.Renumber == "minimal" {
		if err := placeTop(a, voters, top, topFloating, used, current, maxID); err != nil {
			return nil, err
		}
	}
	if err := allocObservers(a, newObservers, used, current, maxID); err != nil {
		return nil, err
	}
	a.collectRenames(voters)
	a.explain(c, groups, top)
	return a, nil
}

// placeTop makes the most preferred datacenter hold the highest voter id
// (minimal renumbering). Renamed hosts of that datacenter go to a round "high
// block" (the next multiple of 100 above every other id) so that later
// growth of the other datacenters does not overtake them; new hosts take the
// next ids above everything else.
func placeTop(a *assignment, voters []hostInfo, top *schema.Datacenter, floating []hostInfo, used, current map[int]bool, maxID int) error {
	maxOther := -1
	for _, v := range voters {
		if id, ok := a.ids[v.name]; ok && v.dc != top && id > maxOther {
			maxOther = id
		}
	}
	var renamed, fresh []hostInfo
	for _, h := range floating {
		if h.cur >= 0 {
			renamed = append(renamed, h)
		} else {
			fresh = append(fresh, h)
		}
	}
	for _, h := range fresh {
		id, ok := lowestFree(maxOther+1, maxID+1, used, current, false)
		if !ok {
			return fmt.Errorf("no free id above %d for new host %q of the preferred datacenter %s", maxOther, h.name, top.Name)
		}
		a.ids[h.name] = id
		used[id] = true
	}
	// Does the top datacenter hold the highest id now?
	highest, holder := -1, ""
	for _, v := range voters {
		if id, ok := a.ids[v.name]; ok && id > highest {
			highest, holder = id, v.name
		}
	}
	if len(renamed) == 0 && holder != "" && hostDC(voters, holder) == top {
		return nil
	}
	if len(renamed) == 0 {
		// One rename: the top datacenter's host with the highest id moves up.
		var best *hostInfo
		for i := range voters {
			v := &voters[i]
			if v.dc == top && v.cur >= 0 && (best == nil || v.cur > best.cur) {
				best = v
			}
		}
		if best == nil {
			return fmt.Errorf("datacenter %s has no host that could hold the highest id", top.Name)
		}
		delete(a.ids, best.name)
		delete(used, best.cur)
		renamed = append(renamed, *best)
	}
	base := (highestAssigned(a.ids, voters)/100 + 1) * 100
	for _, h := range renamed {
		id, ok := lowestFree(base, maxID+1, used, current, true)
		if !ok {
			// No round block fits under the version's limit: take the
			// next free id above every other datacenter's.
			id, ok = lowestFree(maxOther+1, maxID+1, used, current, true)
		}
		if !ok {
			return fmt.Errorf("no free id above %d for host %q of the preferred datacenter %s (max myid %d)", maxOther, h.name, top.Name, maxID)
		}
		a.ids[h.name] = id
		used[id] = true
	}
	return nil
}

func highestAssigned(ids map[string]int, voters []hostInfo) int {
	h := -1
	for _, v := range voters {
		if id, ok := ids[v.name]; ok && id > h {
			h = id
		}
	}
	return h
}

func hostDC(voters []hostInfo, name string) *schema.Datacenter {
	for _, v := range voters {
		if v.name == name {
			return v.dc
		}
	}
	return nil
}

// assignNone keeps every existing id; new never-datacenter voters take the
// lowest free ids, other new voters ids above all current ones, least
// preferred datacenter first.
func assignNone(a *assignment, voters, newObservers []hostInfo, fixed, current map[int]bool, maxID int) (*assignment, error) {
	used := map[int]bool{}
	for id := range fixed {
		used[id] = true
	}
	maxCur := -1
	for id := range current {
		used[id] = true
		if id > maxCur {
			maxCur = id
		}
	}
	var fresh []hostInfo
	for _, v := range voters {
		if v.cur >= 0 {
			a.ids[v.name] = v.cur
		} else {
			fresh = append(fresh, v)
		}
	}
	sort.SliceStable(fresh, func(i, j int) bool { return fresh[j].dc.MorePreferred(fresh[i].dc) })
	for _, h := range fresh {
		lo := maxCur + 1
		if h.dc.Leader == schema.LeaderNever {
			lo = 0
		}
		id, ok := lowestFree(lo, maxID+1, used, current, false)
		if !ok {
			return nil, fmt.Errorf("no free id for new host %q (max myid %d)", h.name, maxID)
		}
		a.ids[h.name] = id
		used[id] = true
	}
	if err := allocObservers(a, newObservers, used, current, maxID); err != nil {
		return nil, err
	}
	a.why = append(a.why, "renumber none: existing ids kept; new hosts get free ids (never-datacenters the lowest)")
	return a, nil
}

func allocObservers(a *assignment, obs []hostInfo, used, current map[int]bool, maxID int) error {
	for _, h := range obs {
		id, ok := lowestFree(0, maxID+1, used, current, false)
		if !ok {
			return fmt.Errorf("no free id for new observer %q (max myid %d)", h.name, maxID)
		}
		a.ids[h.name] = id
		used[id] = true
	}
	return nil
}

// lowestFree returns the lowest unused id in [lo, hi), trying 0 last because
// it is outside ZooKeeper's documented range. A renamed host must not take
// an id some host runs today (that host may still run it during the stage).
func lowestFree(lo, hi int, used, current map[int]bool, renamed bool) (int, bool) {
	ok := func(id int) bool { return !used[id] && !(renamed && current[id]) }
	for id := max(lo, 1); id < hi; id++ {
		if ok(id) {
			return id, true
		}
	}
	if lo <= 0 && hi > 0 && ok(0) {
		return 0, true
	}
	return 0, false
}

// splitIDs cuts the id space 0..maxID into one interval per group (lowest
// ids to the first group) so that the fewest existing hosts fall outside
// their group's interval, i.e. the fewest renames. Dynamic programming over
// the cut points; ties go to the lowest cuts, which keeps ids compact.
func splitIDs(groups [][]hostInfo, fixed, current map[int]bool, maxID int) ([]int, error) {
	k := len(groups)
	M := maxID + 2 // cut points 0..maxID+1
	const inf = 1 << 30
	// own[g][t]: existing hosts of group g with id < t.
	own := make([][]int, k)
	for g := range groups {
		own[g] = make([]int, M)
		for _, h := range groups[g] {
			if h.cur >= 0 {
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
		if fixed[t-1] {
			blocked[t]++
		}
		if current[t-1] || fixed[t-1] {
			occupied[t]++
		}
	}
	existing := make([]int, k)
	size := make([]int, k)
	for g, hs := range groups {
		size[g] = len(hs)
		for _, h := range hs {
			if h.cur >= 0 {
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
				if freeForNew < ren+fresh || freeForRen < ren {
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
		return nil, fmt.Errorf("no id assignment fits %d groups of hosts in ids 0..%d", k, maxID)
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
		if v.cur >= 0 && a.ids[v.name] != v.cur {
			a.renames = append(a.renames, Rename{Host: v.name, From: v.cur, To: a.ids[v.name]})
		}
	}
	sort.Slice(a.renames, func(i, j int) bool { return a.renames[i].From < a.renames[j].From })
}

func (a *assignment) explain(c *schema.Cluster, groups [][]hostInfo, top *schema.Datacenter) {
	switch c.Policy.Renumber {
	case "minimal":
		s := fmt.Sprintf("renumber minimal: %s (most preferred) must hold the highest id", top.Name)
		if len(groups) > 1 {
			s += " and never-datacenters the lowest ids"
		}
		a.why = append(a.why, s)
	case "strict":
		s := "renumber strict: ids ordered by datacenter, lowest to highest:"
		for _, g := range groups {
			s += " " + g[0].dc.Name
		}
		a.why = append(a.why, s)
	}
	if len(a.renames) == 0 {
		a.why = append(a.why, "no rename needed")
		return
	}
	for _, r := range a.renames {
		a.why = append(a.why, fmt.Sprintf("rename %s: %d -> %d", r.Host, r.From, r.To))
	}
}
