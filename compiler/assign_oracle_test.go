package compiler

import (
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"

	"github.com/zkstage/zkstage/schema"
)

// An exhaustive oracle for id assignment, sharing no code with assign.go.
// For a small cluster it tries every set of existing voters to rename, in
// increasing size, and for each an exhaustive placement of the renamed and
// new voters over a reduced id universe; the first set that places is the
// fewest renames. The rules (ao* below) are written from the policy's
// definition in schema/cluster.cue:
//   - every staying host one distinct id in 0..maxID; removed hosts and
//     existing observers keep theirs, and nobody else takes them;
//   - a renamed voter takes no id some host runs today;
//   - minimal: the most preferred datacenter with voters holds the highest
//     voter id, never-datacenter voters are below every other voter;
//   - strict: a more preferred datacenter's voters are above a less
//     preferred one's;
//   - none: nobody is renamed.
//
// The universe: only the order of ids, whether someone runs an id today and
// which ids are fixed matter, so between two ids run today (or below the
// lowest, or above the highest) the moving hosts, m of them, can always use
// the first m ids of the gap: every current id and the m ids after each
// current id (and from 0) suffice.

type aoHost struct {
	name     string
	dc       string
	cur      int // -1: new
	observer bool
	remove   bool
}

type aoCase struct {
	version schema.Version
	extra   map[string]string
	policy  string
	dcs     map[string]*schema.Datacenter
	hosts   []aoHost
}

func (k *aoCase) maxID() int { return schema.MaxMyID(k.version, k.extra) }

func (k *aoCase) cluster() *schema.Cluster {
	c := &schema.Cluster{Name: "oracle", Version: k.version, Datacenters: k.dcs, Hosts: map[string]*schema.Host{}, Policy: schema.Policy{Renumber: k.policy, Method: "rolling"}}
	c.Settings.Extra = k.extra
	for _, h := range k.hosts {
		sh := &schema.Host{Name: h.name, DC: h.dc, Role: schema.RoleParticipant, Remove: h.remove}
		if h.observer {
			sh.Role = schema.RoleObserver
		}
		if h.cur >= 0 {
			id := h.cur
			sh.MyID = &id
		}
		c.Hosts[h.name] = sh
	}
	return c
}

func (k *aoCase) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s max %d policy %s;", k.version, k.maxID(), k.policy)
	for _, n := range schema.SortedKeys(k.dcs) {
		fmt.Fprintf(&b, " %s=%s/%d", n, k.dcs[n].Leader, k.dcs[n].Priority)
	}
	b.WriteString(";")
	fill := 0
	for _, h := range k.hosts {
		if strings.HasPrefix(h.name, "fill") {
			fill++
			continue
		}
		fmt.Fprintf(&b, " %s:%s:%d", h.name, h.dc, h.cur)
		if h.observer {
			b.WriteString(":obs")
		}
		if h.remove {
			b.WriteString(":rm")
		}
	}
	if fill > 0 {
		fmt.Fprintf(&b, " +%d removed fillers", fill)
	}
	return b.String()
}

// aoVoters are the staying participants.
func (k *aoCase) voters() []aoHost {
	var out []aoHost
	for _, h := range k.hosts {
		if !h.remove && !h.observer {
			out = append(out, h)
		}
	}
	return out
}

// aoTop is the most preferred datacenter that has a staying voter.
func (k *aoCase) top() *schema.Datacenter {
	var top *schema.Datacenter
	for _, v := range k.voters() {
		if d := k.dcs[v.dc]; top == nil || d.MorePreferred(top) {
			top = d
		}
	}
	return top
}

// violation says which rule ids break, "" if none.
func (k *aoCase) violation(ids map[string]int) string {
	current, fixed := map[int]bool{}, map[int]bool{}
	for _, h := range k.hosts {
		if h.cur >= 0 {
			current[h.cur] = true
			if h.remove || h.observer {
				fixed[h.cur] = true
			}
		}
	}
	owner := map[int]string{}
	for _, h := range k.hosts {
		id, ok := ids[h.name]
		if h.remove {
			if ok {
				return fmt.Sprintf("removed host %s has id %d", h.name, id)
			}
			continue
		}
		switch {
		case !ok:
			return "no id for " + h.name
		case id < 0 || id > k.maxID():
			return fmt.Sprintf("%s: id %d outside 0..%d", h.name, id, k.maxID())
		case owner[id] != "":
			return fmt.Sprintf("%s and %s both have id %d", owner[id], h.name, id)
		case h.observer && h.cur >= 0 && id != h.cur:
			return fmt.Sprintf("observer %s renumbered %d -> %d", h.name, h.cur, id)
		case fixed[id] && id != h.cur:
			return fmt.Sprintf("%s takes id %d of a removed host or an observer", h.name, id)
		case h.cur >= 0 && id != h.cur && current[id]:
			return fmt.Sprintf("%s renamed %d -> %d, an id run today", h.name, h.cur, id)
		}
		owner[id] = h.name
	}
	voters := k.voters()
	switch k.policy {
	case "none":
		for _, v := range voters {
			if v.cur >= 0 && ids[v.name] != v.cur {
				return fmt.Sprintf("none renamed %s", v.name)
			}
		}
	case "strict":
		for _, u := range voters {
			for _, v := range voters {
				if k.dcs[u.dc].MorePreferred(k.dcs[v.dc]) && ids[u.name] < ids[v.name] {
					return fmt.Sprintf("strict: %s (%s, %d) below %s (%s, %d)", u.name, u.dc, ids[u.name], v.name, v.dc, ids[v.name])
				}
			}
		}
	case "minimal":
		var high aoHost
		for i, v := range voters {
			if i == 0 || ids[v.name] > ids[high.name] {
				high = v
			}
		}
		if k.dcs[high.dc] != k.top() {
			return fmt.Sprintf("minimal: %s of %s holds the highest id, not %s", high.name, high.dc, k.top().Name)
		}
		for _, u := range voters {
			for _, v := range voters {
				if k.dcs[u.dc].Leader == schema.LeaderNever && k.dcs[v.dc].Leader != schema.LeaderNever && ids[u.name] > ids[v.name] {
					return fmt.Sprintf("minimal: never-datacenter %s above %s", u.name, v.name)
				}
			}
		}
	}
	return ""
}

func (k *aoCase) renames(ids map[string]int) int {
	n := 0
	for _, v := range k.voters() {
		if v.cur >= 0 && ids[v.name] != v.cur {
			n++
		}
	}
	return n
}

// minRenames is the brute force: the fewest renames of a valid assignment
// and one such assignment, or false.
func (k *aoCase) minRenames() (int, map[string]int, bool) {
	var existing []aoHost
	for _, v := range k.voters() {
		if v.cur >= 0 {
			existing = append(existing, v)
		}
	}
	most := len(existing)
	if k.policy == "none" {
		most = 0
	}
	for r := 0; r <= most; r++ {
		for mask := 0; mask < 1<<len(existing); mask++ {
			if popcount(mask) != r {
				continue
			}
			moved := map[string]bool{}
			for i, h := range existing {
				if mask&(1<<i) != 0 {
					moved[h.name] = true
				}
			}
			if ids, ok := k.place(moved); ok {
				return r, ids, true
			}
		}
	}
	return 0, nil, false
}

func popcount(x int) int {
	n := 0
	for ; x != 0; x &= x - 1 {
		n++
	}
	return n
}

// aoClass is a set of interchangeable moving voters: same datacenter, and
// renamed or new.
type aoClass struct {
	dc      *schema.Datacenter
	renamed bool
	hosts   []string
}

type aoKey struct {
	i, st int
	left  [8]int8
}

// aoSweep places the moving voters by walking the universe upwards: at each
// id a kept voter sits, or one moving voter of some class, or nobody. The
// state st is all the rules need of the ids below: for minimal whether a
// voter that may lead was placed and whether the last one placed is of the
// top datacenter, for strict the rank of the last placed datacenter.
type aoSweep struct {
	k       *aoCase
	pos     []int
	keptAt  map[int]aoHost
	free    map[int]bool
	current map[int]bool
	classes []aoClass
	top     *schema.Datacenter
	rank    map[*schema.Datacenter]int
	failed  map[aoKey]bool
	took    []int // class index per position, -1 for none or kept
}

// place reports whether the voters in moved and the new ones can be placed
// with everyone else kept, and the ids (new observers included).
func (k *aoCase) place(moved map[string]bool) (map[string]int, bool) {
	s := &aoSweep{k: k, keptAt: map[int]aoHost{}, free: map[int]bool{}, current: map[int]bool{}, top: k.top(), rank: map[*schema.Datacenter]int{}, failed: map[aoKey]bool{}}
	taken := map[int]bool{}
	for _, h := range k.hosts {
		if h.cur >= 0 {
			s.current[h.cur] = true
			if h.remove || h.observer || !moved[h.name] {
				taken[h.cur] = true
			}
		}
	}
	classOf := map[string]int{}
	movers := 0
	for _, v := range k.voters() {
		if v.cur >= 0 && !moved[v.name] {
			s.keptAt[v.cur] = v
			continue
		}
		c := aoClass{dc: k.dcs[v.dc], renamed: v.cur >= 0}
		key := fmt.Sprintf("%s/%v", c.dc.Name, c.renamed)
		idx, ok := classOf[key]
		if !ok {
			idx = len(s.classes)
			classOf[key] = idx
			s.classes = append(s.classes, c)
		}
		s.classes[idx].hosts = append(s.classes[idx].hosts, v.name)
		movers++
	}
	var dcs []*schema.Datacenter
	for _, d := range k.dcs {
		dcs = append(dcs, d)
	}
	sort.Slice(dcs, func(i, j int) bool { return dcs[j].MorePreferred(dcs[i]) })
	for i, d := range dcs {
		s.rank[d] = i
	}
	universe := map[int]bool{}
	for c := range s.current {
		universe[c] = true
	}
	for _, c := range append(sortedIDs(s.current), -1) {
		for id := c + 1; id <= c+movers && id <= k.maxID(); id++ {
			universe[id] = true
		}
	}
	for id := range universe {
		if !taken[id] {
			s.free[id] = true
		}
	}
	for id := range s.keptAt {
		universe[id] = true
	}
	for _, id := range sortedIDs(universe) {
		if s.free[id] || s.keptAt[id].name != "" {
			s.pos = append(s.pos, id)
		}
	}
	left := [8]int8{}
	for i, c := range s.classes {
		left[i] = int8(len(c.hosts))
	}
	s.took = make([]int, len(s.pos))
	if !s.walk(0, 0, left) {
		return nil, false
	}
	ids := map[string]int{}
	for _, h := range k.hosts {
		if h.cur >= 0 && !h.remove && !moved[h.name] {
			ids[h.name] = h.cur
		}
	}
	next := make([]int, len(s.classes))
	for i, ci := range s.took {
		if ci >= 0 {
			ids[s.classes[ci].hosts[next[ci]]] = s.pos[i]
			next[ci]++
		}
	}
	// New observers: any id still free (there are always plenty here).
	used := map[int]bool{}
	for id := range taken {
		used[id] = true
	}
	for _, id := range ids {
		used[id] = true
	}
	for _, h := range k.hosts {
		if h.observer && h.cur < 0 {
			id := 0
			for used[id] {
				id++
			}
			if id > k.maxID() {
				return nil, false
			}
			ids[h.name] = id
			used[id] = true
		}
	}
	return ids, true
}

func (s *aoSweep) walk(i, st int, left [8]int8) bool {
	if i == len(s.pos) {
		for _, n := range left {
			if n != 0 {
				return false
			}
		}
		return s.k.policy != "minimal" || st&2 != 0
	}
	key := aoKey{i, st, left}
	if s.failed[key] {
		return false
	}
	id := s.pos[i]
	if v, ok := s.keptAt[id]; ok {
		s.took[i] = -1
		if nst, ok := s.step(st, s.k.dcs[v.dc]); ok && s.walk(i+1, nst, left) {
			return true
		}
		s.failed[key] = true
		return false
	}
	s.took[i] = -1
	if s.walk(i+1, st, left) {
		return true
	}
	for ci, c := range s.classes {
		if left[ci] == 0 || c.renamed && s.current[id] {
			continue
		}
		nst, ok := s.step(st, c.dc)
		if !ok {
			continue
		}
		left[ci]--
		s.took[i] = ci
		if s.walk(i+1, nst, left) {
			return true
		}
		left[ci]++
	}
	s.took[i] = -1
	s.failed[key] = true
	return false
}

// step places a voter of d above every voter placed so far.
func (s *aoSweep) step(st int, d *schema.Datacenter) (int, bool) {
	switch s.k.policy {
	case "minimal":
		never := d.Leader == schema.LeaderNever
		if never && st&1 != 0 {
			return 0, false
		}
		st &^= 2
		if !never {
			st |= 1
		}
		if d == s.top {
			st |= 2
		}
		return st, true
	case "strict":
		r := s.rank[d] + 1
		return r, r >= st
	}
	return st, true
}

func sortedIDs(m map[int]bool) []int {
	var out []int
	for id := range m {
		out = append(out, id)
	}
	sort.Ints(out)
	return out
}

// aoRandom draws a small cluster: up to 7 staying voters in 1-3
// datacenters, current ids mostly small and sometimes at the top of the
// range, removed hosts, observers, and now and then every id but a few run
// by hosts being removed, so that free ids are scarce.
func aoRandom(r *rand.Rand) *aoCase {
	versions := []struct {
		v     schema.Version
		extra map[string]string
	}{
		{schema.Version{Major: 3, Minor: 4, Patch: 6}, nil},
		{schema.Version{Major: 3, Minor: 8, Patch: 0}, map[string]string{schema.KeyExtendedTypes: "true"}},
		{schema.Version{Major: 3, Minor: 8, Patch: 0}, map[string]string{schema.KeyEmulate353TTL: "true"}},
	}
	for {
		ver := versions[r.Intn(len(versions))]
		k := &aoCase{version: ver.v, extra: ver.extra, policy: []string{"minimal", "strict", "none"}[r.Intn(3)], dcs: map[string]*schema.Datacenter{}}
		maxID := k.maxID()
		var dcNames []string
		for i := 0; i < 1+r.Intn(3); i++ {
			name := fmt.Sprintf("d%d", i)
			leader := []string{schema.LeaderPreferred, schema.LeaderAllowed, schema.LeaderNever}[r.Intn(3)]
			k.dcs[name] = &schema.Datacenter{Name: name, Leader: leader, Priority: 1 + r.Intn(2)}
			dcNames = append(dcNames, name)
		}
		used := map[int]bool{}
		drawID := func() int {
			for {
				id := r.Intn(9)
				if r.Intn(8) == 0 {
					id = maxID - r.Intn(3)
				}
				if !used[id] {
					used[id] = true
					return id
				}
			}
		}
		add := func(prefix string, n int, existing func() bool, observer, remove bool) {
			for i := 0; i < n; i++ {
				h := aoHost{name: fmt.Sprintf("%s%d", prefix, i), dc: dcNames[r.Intn(len(dcNames))], cur: -1, observer: observer, remove: remove}
				if existing() {
					h.cur = drawID()
				}
				k.hosts = append(k.hosts, h)
			}
		}
		always := func() bool { return true }
		add("v", 1+r.Intn(7), func() bool { return r.Intn(5) < 3 }, false, false)
		add("r", r.Intn(3), always, false, true)
		add("o", r.Intn(2), always, true, false)
		add("p", r.Intn(2), func() bool { return false }, true, false)
		if r.Intn(6) == 0 {
			// Crowded: all but a few ids run by hosts being removed.
			keep := map[int]bool{}
			for i := 0; i < r.Intn(9); i++ {
				keep[r.Intn(maxID+1)] = true
			}
			for id := 0; id <= maxID; id++ {
				if !used[id] && !keep[id] {
					used[id] = true
					k.hosts = append(k.hosts, aoHost{name: fmt.Sprintf("fill%03d", id), dc: dcNames[0], cur: id, remove: true})
				}
			}
		}
		// The schema refuses a target where no voter may lead.
		if top := k.top(); top != nil && top.Leader != schema.LeaderNever {
			return k
		}
	}
}

// renamedHosts is the same cluster with every host renamed so that the
// hosts sort in another order.
func (k *aoCase) renamedHosts(r *rand.Rand) *aoCase {
	k2 := *k
	k2.hosts = nil
	perm := r.Perm(len(k.hosts))
	for i, h := range k.hosts {
		h.name = fmt.Sprintf("x%04d-%s", perm[i], h.name)
		k2.hosts = append(k2.hosts, h)
	}
	return &k2
}

// TestAssignOracle: assignIDs finds ids exactly when the brute force does,
// they keep every rule, and they take the fewest renames (none for none);
// the same cluster with its hosts renamed gets as far with as many renames.
func TestAssignOracle(t *testing.T) {
	n := 3000
	if !testing.Short() {
		n = 30000
	}
	r := rand.New(rand.NewSource(12))
	names := rand.New(rand.NewSource(13))
	stats := map[string]int{}
	for i := 0; i < n; i++ {
		k := aoRandom(r)
		fewest, witness, ok := k.minRenames()
		if ok {
			if v := k.violation(witness); v != "" {
				t.Fatalf("case %d %s: the brute force's own witness %v breaks a rule: %s", i, k, witness, v)
			}
		}
		a, err := assignIDs(k.cluster())
		k2 := k.renamedHosts(names)
		a2, err2 := assignIDs(k2.cluster())
		switch {
		case (err == nil) != (err2 == nil):
			t.Errorf("case %d %s: host names decide: %v, renamed %v", i, k, err, err2)
		case err2 == nil && k2.violation(a2.ids) != "":
			t.Errorf("case %d %s renamed: ids %v: %s", i, k2, a2.ids, k2.violation(a2.ids))
		case err2 == nil && k2.renames(a2.ids) != k.renames(a.ids):
			t.Errorf("case %d %s: %d renames, %d with the hosts renamed", i, k, k.renames(a.ids), k2.renames(a2.ids))
		}
		switch {
		case ok && err != nil:
			t.Errorf("case %d %s: refused (%v), but %v takes %d renames", i, k, err, witness, fewest)
			continue
		case !ok && err == nil:
			t.Errorf("case %d %s: assigned %v, the brute force finds no assignment", i, k, a.ids)
			continue
		case !ok:
			stats["refused "+k.policy]++
			continue
		}
		stats[fmt.Sprintf("assigned %s", k.policy)]++
		if fewest > 0 {
			stats[fmt.Sprintf("%s with renames", k.policy)]++
		}
		if v := k.violation(a.ids); v != "" {
			t.Errorf("case %d %s: ids %v: %s", i, k, a.ids, v)
			continue
		}
		if got := k.renames(a.ids); got != fewest {
			t.Errorf("case %d %s: %d renames %v, the fewest is %d %v", i, k, got, a.ids, fewest, witness)
		}
		if len(a.renames) != k.renames(a.ids) {
			t.Errorf("case %d %s: renames %v do not match the ids %v", i, k, a.renames, a.ids)
		}
	}
	t.Logf("%d cases: %v", n, stats)
}
