package compiler

// TestOracleAgreement: for small clusters (up to 7 current voters, up to 3
// datacenters, every renumber policy), an exhaustive search over id
// assignments and stage sequences (oracle_search_test.go) agrees with the
// planner: every refusal has no plan in the brute force, and every plan
// passes the oracle's own stage checker (oracle_model_test.go) for every
// starting leader, in the runner's dynamic order, and implements the spec
// with an assignment the policy allows and the fewest renames. A weaker side
// check, reported but not asserted: the planner's number of stages is no
// worse than the brute-force minimum.
//
// Every case is a subtest named after it (issue-* for the cases of issue 12,
// randNNNN-<policy>-r<reserve>-v<current voters> for the fixed-seed random
// ones, the same under -short, which runs the first 400); a failure prints
// the spec in one line, the planner's answer and the brute force's plan, and
// the parent test logs the disagreements by class with the smallest
// reproducer of each. Rerun one with
// go test ./compiler -run 'TestOracleAgreement/rand0001-'.

import (
	"fmt"
	"math/rand"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/zkstage/zkstage/schema"
)

type orCase struct {
	name    string
	version string
	dcs     map[string]string
	hosts   []hostSpec
	reserve int
	policy  string
}

// compact is the case in one line: enough to rebuild it.
func (c orCase) compact() string {
	var dcs []string
	for _, n := range schema.SortedKeys(c.dcs) {
		dcs = append(dcs, n+"="+c.dcs[n])
	}
	var hs []string
	for _, h := range c.hosts {
		s := h.name + "@" + h.dc
		if h.myid >= 0 {
			s += fmt.Sprintf(":%d", h.myid)
		} else {
			s += ":new"
		}
		if h.role == "observer" {
			s += ":obs"
		}
		if h.remove {
			s += ":remove"
		}
		hs = append(hs, s)
	}
	return fmt.Sprintf("version=%s renumber=%s reserve=%d dcs{%s} hosts{%s}", c.version, c.policy, c.reserve, strings.Join(dcs, " "), strings.Join(hs, " "))
}

func (c orCase) spec(t *testing.T) (cl *schema.Cluster) {
	defer func() {
		if recover() != nil {
			cl = nil
		}
	}()
	ft := &fakeTB{TB: t}
	cl = buildSpec(ft, c.version, c.dcs, c.hosts, fmt.Sprintf("reserve: %d, renumber: %q", c.reserve, c.policy))
	if ft.failed {
		return nil
	}
	return cl
}

// orHandCases are the cases of issue 12.
func orHandCases() []orCase {
	two := map[string]string{"dc1": "preferred/1", "dc2": "allowed/2"}
	return []orCase{
		// Four voters need a rename (dc2's d holds the highest id): the
		// rename cannot keep a quorum, but growing 4 -> 5 first can.
		{name: "issue-grow-before-rename", version: "3.8.0", dcs: two, policy: "minimal", hosts: []hostSpec{
			{"a", "dc1", "", 1, false}, {"b", "dc1", "", 2, false}, {"c", "dc1", "", 3, false}, {"d", "dc2", "", 4, false}, {"e", "dc2", "", -1, false}}},
		{name: "issue-grow-before-rename-strict", version: "3.8.0", dcs: two, policy: "strict", hosts: []hostSpec{
			{"a", "dc1", "", 1, false}, {"b", "dc1", "", 2, false}, {"c", "dc1", "", 3, false}, {"d", "dc2", "", 4, false}, {"e", "dc2", "", -1, false}}},
		// The same four voters and nothing to add: no plan at all.
		{name: "issue-four-voters-rename", version: "3.8.0", dcs: two, policy: "minimal", hosts: []hostSpec{
			{"a", "dc1", "", 1, false}, {"b", "dc1", "", 2, false}, {"c", "dc1", "", 3, false}, {"d", "dc2", "", 4, false}}},
		// renumber none and a current host at 255: 250 ids are free.
		{name: "issue-none-255", version: "3.8.0", dcs: two, policy: "none", hosts: []hostSpec{
			{"a", "dc1", "", 1, false}, {"b", "dc1", "", 2, false}, {"c", "dc1", "", 3, false}, {"d", "dc2", "", 255, false}, {"e", "dc1", "", -1, false}}},
		{name: "issue-none-255-3.4.6", version: "3.4.6", dcs: two, policy: "none", hosts: []hostSpec{
			{"a", "dc1", "", 1, false}, {"b", "dc1", "", 2, false}, {"c", "dc1", "", 255, false}, {"d", "dc2", "", 4, false}, {"e", "dc2", "", 5, false},
			{"f", "dc2", "", -1, false}, {"g", "dc2", "", -1, false}}},
		// minimal with a non-preferred host at 255: it must move down (one
		// rename, as strict does).
		{name: "issue-minimal-255", version: "3.8.0", dcs: two, policy: "minimal", hosts: []hostSpec{
			{"a", "dc1", "", 1, false}, {"b", "dc1", "", 2, false}, {"c", "dc1", "", 3, false}, {"d", "dc1", "", 4, false}, {"e", "dc2", "", 255, false}}},
		{name: "issue-minimal-255-strict", version: "3.8.0", dcs: two, policy: "strict", hosts: []hostSpec{
			{"a", "dc1", "", 1, false}, {"b", "dc1", "", 2, false}, {"c", "dc1", "", 3, false}, {"d", "dc1", "", 4, false}, {"e", "dc2", "", 255, false}}},
		// Id handout in host-name order (strict): dc2 gets ids 0..2, where 0
		// is the removed y's, 1 is free and 2 is x's (renamed up). The
		// renamed z must take 1 (a renamed host never takes an id run
		// today) and the new m may take 2 once x has moved; handing out in
		// name order gives m the 1. Named a-z, the host sorts before m.
		// Every current member is an observer: no leader to keep, nothing
		// can roll.
		{name: "issue-observers-only", version: "3.8.0", dcs: two, policy: "minimal", hosts: []hostSpec{
			{"o1", "dc1", "observer", 1, false}, {"o2", "dc2", "observer", 2, false},
			{"a", "dc1", "", -1, false}, {"b", "dc1", "", -1, false}, {"c", "dc2", "", -1, false}}},
		{name: "issue-name-order-z", version: "3.8.0", dcs: two, policy: "strict", hosts: []hostSpec{
			{"x", "dc1", "", 2, false}, {"p", "dc1", "", 3, false}, {"q", "dc1", "", 4, false}, {"r", "dc1", "", 5, false}, {"s", "dc1", "", 6, false},
			{"z", "dc2", "", 7, false}, {"m", "dc2", "", -1, false}, {"y", "dc2", "", 0, true}}},
		{name: "issue-name-order-a-z", version: "3.8.0", dcs: two, policy: "strict", hosts: []hostSpec{
			{"x", "dc1", "", 2, false}, {"p", "dc1", "", 3, false}, {"q", "dc1", "", 4, false}, {"r", "dc1", "", 5, false}, {"s", "dc1", "", 6, false},
			{"a-z", "dc2", "", 7, false}, {"m", "dc2", "", -1, false}, {"y", "dc2", "", 0, true}}},
	}
}

// orRandomCases are fixed-seed random small clusters.
func orRandomCases(n int) []orCase {
	rng := rand.New(rand.NewSource(12))
	classes := []string{"preferred", "preferred", "allowed", "allowed", "never"}
	policies := []string{"minimal", "strict", "none"}
	var out []orCase
	for i := 0; len(out) < n; i++ {
		c := orCase{version: []string{"3.4.6", "3.8.0"}[rng.Intn(2)], reserve: rng.Intn(2), policy: policies[i%3], dcs: map[string]string{}}
		nDC := 1 + rng.Intn(3)
		dcs := []string{"a", "b", "c"}[:nDC]
		for _, d := range dcs {
			c.dcs[d] = fmt.Sprintf("%s/%d", classes[rng.Intn(len(classes))], 1+rng.Intn(3))
		}
		nCur := 1 + rng.Intn(7)
		obs := 0
		if rng.Intn(5) == 0 {
			obs = 1
		}
		span := nCur + obs + 2 + rng.Intn(4)
		ids := rng.Perm(span)
		if rng.Intn(6) == 0 {
			ids[rng.Intn(nCur)] = 255 - rng.Intn(2)
		}
		prefix := []string{"a", "m", "z"}
		name := func(k string, j int) string { return fmt.Sprintf("%s%s%d", prefix[rng.Intn(3)], k, j) }
		removed := 0
		for j := 0; j < nCur; j++ {
			rm := nCur > 1 && removed < 2 && rng.Intn(6) == 0
			if rm {
				removed++
			}
			c.hosts = append(c.hosts, hostSpec{name("h", j), dcs[rng.Intn(nDC)], "", ids[j], rm})
		}
		for j := 0; j < obs; j++ {
			c.hosts = append(c.hosts, hostSpec{name("o", j), dcs[rng.Intn(nDC)], "observer", ids[nCur+j], rng.Intn(4) == 0})
		}
		add := rng.Intn(4)
		if nCur-removed+add > 8 {
			add = 8 - (nCur - removed)
		}
		for j := 0; j < add; j++ {
			c.hosts = append(c.hosts, hostSpec{name("n", j), dcs[rng.Intn(nDC)], "", -1, false})
		}
		if rng.Intn(6) == 0 {
			c.hosts = append(c.hosts, hostSpec{name("w", 0), dcs[rng.Intn(nDC)], "observer", -1, false})
		}
		c.name = fmt.Sprintf("rand%04d-%s-r%d-v%d", i, c.policy, c.reserve, nCur)
		out = append(out, c)
	}
	return out
}

// orOutcome is one case's result.
type orOutcome struct {
	planned   bool
	classes   []string // disagreements (asserted)
	side      string   // the weaker side check, reported only
	sideClass string
	size      int
	// what the case exercises, for the coverage line
	features []string
}

var orDigits = regexp.MustCompile(`[0-9]+`)

// refusalClass names a refusal by its kind.
func refusalClass(msg string) string {
	m := strings.TrimPrefix(msg, `cannot plan cluster "t": `)
	kinds := []struct{ sub, name string }{
		{"renumbering", "rename stage refused"},
		{"no free id for new host", "assignment: no free id for new host"},
		{"no free id for new observer", "assignment: no free id for new observer"},
		{"no free id above", "assignment: no free id above the others for a preferred host"},
		{"no free id in", "assignment: no free id in the group's interval"},
		{"no free id", "assignment: no free id"},
		{"no id assignment fits", "assignment: no id assignment fits"},
		{"could hold the highest id", "assignment: no host for the highest id"},
		{"cannot grow", "grow refused"},
		{"adding observers", "adding observers refused"},
		{"removing", "shrink refused"},
	}
	for _, k := range kinds {
		if strings.Contains(m, k.sub) {
			return k.name
		}
	}
	if len(m) > 50 {
		m = m[:50]
	}
	return orDigits.ReplaceAllString(m, "N")
}

// orRun compares the planner with the brute force on one case.
func orRun(t *testing.T, c orCase, cl *schema.Cluster) orOutcome {
	p := orProblemOf(cl)
	// The spec's rule on top of the policy: no never-datacenter host may
	// win an election of the final configuration (healthy, one host or one
	// datacenter lost), unless policy.acceptNeverLeader.
	p.neverRule = !cl.Policy.AcceptNeverLeader
	asg, minRen := p.assignments()
	out := orOutcome{size: len(c.hosts)}
	out.features = append(out.features, "renumber "+c.policy, fmt.Sprintf("reserve %d", c.reserve), "version "+c.version)
	if minRen > 0 {
		out.features = append(out.features, "renames needed")
	}
	if minRen < 0 {
		out.features = append(out.features, "no allowed assignment")
	}
	for _, h := range p.hosts {
		switch {
		case h.remove:
			out.features = append(out.features, "removed hosts")
		case h.cur < 0 && h.voter:
			out.features = append(out.features, "new voters")
		case h.cur < 0:
			out.features = append(out.features, "new observers")
		case !h.voter:
			out.features = append(out.features, "current observers")
		}
	}
	plan, err := Compile(cl)
	if err != nil {
		for _, a := range asg {
			s := p.search(a)
			if s.within(0, 1<<10) {
				first := s.choice[0].kind
				class := fmt.Sprintf("refused (%s), brute force plans (first stage %s)", refusalClass(err.Error()), first)
				out.classes = append(out.classes, class)
				t.Errorf("%s\nspec: %s\nCompile refuses: %v\nbrute force plan (%d assignments, %d renames): %s",
					class, c.compact(), err, len(asg), minRen, s.describe())
				return out
			}
		}
		return out
	}
	out.planned = true
	// Every stage passes the oracle's checker for every starting leader.
	for k := 1; k < len(plan.Stages); k++ {
		st, v := orFromPlan(&plan.Stages[k-1], &plan.Stages[k])
		if v == "" {
			v = orCheck(st, c.reserve, p.safe)
		}
		if v != "" {
			rule := "other"
			for _, r := range [][2]string{{"rule 1", "rule 1"}, {"rule 2", "rule 2"}, {"election", "rule 3"}, {"two leaders", "two leaders"},
				{"at the end", "wrong end state"}, {"still run by", "id in use"}, {"not running", "step on a stopped host"},
				{"not its id", "step id differs from the stage's"}, {"can lead", "no live voter to lead"}} {
				if strings.Contains(v, r[0]) {
					rule = r[1]
					break
				}
			}
			class := fmt.Sprintf("plan fails the checker (%s stage, %s, leader rule %q)", plan.Stages[k].Kind, rule, plan.Stages[k].LeaderRule)
			out.classes = append(out.classes, class)
			t.Errorf("%s\nspec: %s\nstage %d %s: %s\nplan:\n  %s", class, c.compact(), k, plan.Stages[k].Name, v, strings.Join(summary(plan), "\n  "))
			break
		}
	}
	// The plan implements the spec: stage 0 is today's ensemble, the last
	// stage the policy's assignment with the fewest renames.
	final := map[string]int{}
	last := plan.Stages[len(plan.Stages)-1]
	for _, m := range last.Members {
		final[m.Host] = m.ID
	}
	var bad []string
	for _, m := range plan.Stages[0].Members {
		if h := cl.Hosts[m.Host]; h == nil || h.MyID == nil || *h.MyID != m.ID {
			bad = append(bad, fmt.Sprintf("stage 0 lists %s with id %d", m.Host, m.ID))
		}
	}
	if len(plan.Stages[0].Members) != len(p.occupied) {
		bad = append(bad, "stage 0 is not today's ensemble")
	}
	for _, m := range last.Members {
		if h := cl.Hosts[m.Host]; h == nil || (h.Role == schema.RoleObserver) != !m.Voter() {
			bad = append(bad, fmt.Sprintf("final member %s has the wrong role", m.Host))
		}
	}
	liveEnd := map[string]bool{}
	for _, h := range last.Live {
		liveEnd[h] = true
	}
	for h := range final {
		if !liveEnd[h] {
			bad = append(bad, fmt.Sprintf("final member %s never starts", h))
		}
	}
	if v := p.violates(final); v != "" {
		bad = append(bad, v)
	}
	if v := p.neverLeads(final); p.neverRule && v != "" {
		bad = append(bad, "a never-datacenter host could lead: "+v)
	}
	if len(bad) > 0 {
		class := "plan violates the spec or the policy"
		out.classes = append(out.classes, class)
		t.Errorf("%s\nspec: %s\n%s\nfinal: %v", class, c.compact(), strings.Join(bad, "\n"), final)
	} else if r := p.renames(final); minRen >= 0 && r > minRen {
		// More renames than the policy's fewest are right only when no
		// assignment with the fewest has a plan.
		for _, a := range asg {
			if s := p.search(a); s.within(0, 1<<10) {
				class := fmt.Sprintf("plan renames more hosts than %s needs", c.policy)
				out.classes = append(out.classes, class)
				t.Errorf("%s\nspec: %s\nplanner %d renames, fewest %d; final %v; with %v the brute force plans %s", class, c.compact(), r, minRen, final, a, s.describe())
				break
			}
		}
	} else if minRen < 0 {
		class := "plan exists, brute force finds no allowed assignment"
		out.classes = append(out.classes, class)
		t.Errorf("%s\nspec: %s\nfinal %v", class, c.compact(), final)
	}
	// The oracle's own completeness: a plan that passes the checker with an
	// allowed assignment is one the brute force must find too (for some
	// assignment), unless the planner uses a stage shape the brute force
	// does not build.
	// (The brute force lists only assignments with the fewest renames; a
	// plan with more, taken because none of those plans, is not its to find.)
	if len(out.classes) == 0 && p.renames(final) == minRen {
		found := false
		for _, a := range asg {
			if p.search(a).within(0, 1<<10) {
				found = true
				break
			}
		}
		if !found {
			class := "oracle incomplete: a valid plan the brute force does not find"
			out.classes = append(out.classes, class)
			t.Errorf("%s\nspec: %s\nplan:\n  %s", class, c.compact(), strings.Join(summary(plan), "\n  "))
		}
	}
	// Side check: is the plan no longer than the brute-force minimum?
	n := len(plan.Stages) - 1
	for _, a := range asg {
		s := p.search(a)
		if s.within(0, n-1) {
			best := n - 1
			for b := s.lowerBound(0); b < n-1; b++ {
				if s.within(0, b) {
					best = b
					break
				}
			}
			s.within(0, best)
			out.sideClass = fmt.Sprintf("planner longer than the brute-force minimum (brute force starts with %s)", s.choice[0].kind)
			out.side = fmt.Sprintf("planner %d stages, brute force %d: %s", n, best, s.describe())
			break
		}
	}
	return out
}

// orFromPlan turns two consecutive plan stages into a stage to check.
func orFromPlan(prev, st *Stage) (*orStage, string) {
	conv := func(ms []Member) []orMem {
		var out []orMem
		for _, m := range ms {
			out = append(out, orMem{host: m.Host, id: m.ID, voter: m.Voter()})
		}
		return out
	}
	o := &orStage{kind: st.Kind, a: conv(prev.Members), b: conv(st.Members), live: map[string]int{}, rule: st.LeaderRule}
	ids := map[string]int{}
	for _, m := range prev.Members {
		ids[m.Host] = m.ID
	}
	for _, h := range prev.Live {
		id, ok := ids[h]
		if !ok {
			return nil, fmt.Sprintf("live host %s is not a member of stage %d", h, prev.Index)
		}
		o.live[h] = id
	}
	for _, s := range st.Steps {
		o.steps = append(o.steps, orStep{act: s.Action, host: s.Host, id: s.ID})
	}
	return o, ""
}

func TestOracleAgreement(t *testing.T) {
	n := 2500
	if testing.Short() {
		n = 400
	}
	cases := append(orHandCases(), orRandomCases(n)...)
	type classInfo struct {
		count int
		repro orCase
		size  int
	}
	classes := map[string]*classInfo{}
	sides := map[string]int{}
	features := map[string]int{}
	var sideRepro []string
	planned, refused, skipped, agree := 0, 0, 0, 0
	for _, c := range cases {
		var out orOutcome
		ran, rejected := false, false
		t.Run(c.name, func(t *testing.T) {
			cl := c.spec(t)
			if cl == nil {
				rejected = true
				return
			}
			ran = true
			out = orRun(t, c, cl)
		})
		if rejected {
			skipped++
		}
		if !ran {
			continue
		}
		seen := map[string]bool{}
		for _, f := range out.features {
			if !seen[f] {
				seen[f] = true
				features[f]++
			}
		}
		if out.planned {
			planned++
		} else {
			refused++
		}
		if len(out.classes) == 0 {
			agree++
		}
		for _, k := range out.classes {
			ci := classes[k]
			if ci == nil {
				ci = &classInfo{size: 1 << 30}
				classes[k] = ci
			}
			ci.count++
			if out.size < ci.size {
				ci.size, ci.repro = out.size, c
			}
		}
		if out.side != "" {
			sides[out.sideClass]++
			if sides[out.sideClass] <= 2 {
				sideRepro = append(sideRepro, c.name+": "+c.compact()+"\n    "+out.side)
			}
		}
	}
	var names []string
	for k := range classes {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "oracle: %d cases (%d rejected by the schema): %d planned, %d refused; %d agree, %d disagree\n",
		planned+refused+skipped, skipped, planned, refused, agree, planned+refused-agree)
	var fs []string
	for _, f := range schema.SortedKeys(features) {
		fs = append(fs, fmt.Sprintf("%s %d", f, features[f]))
	}
	fmt.Fprintf(&b, "cases with: %s\n", strings.Join(fs, ", "))
	for _, k := range names {
		fmt.Fprintf(&b, "  %4d  %s\n        smallest: %s: %s\n", classes[k].count, k, classes[k].repro.name, classes[k].repro.compact())
	}
	nSide := 0
	for _, k := range schema.SortedKeys(sides) {
		nSide += sides[k]
	}
	fmt.Fprintf(&b, "side check (reported, not asserted): %d plans longer than the brute-force minimum\n", nSide)
	for _, k := range schema.SortedKeys(sides) {
		fmt.Fprintf(&b, "  %4d  %s\n", sides[k], k)
	}
	for _, s := range sideRepro {
		fmt.Fprintf(&b, "  %s\n", s)
	}
	t.Log(b.String())
}
