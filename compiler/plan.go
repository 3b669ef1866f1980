package compiler

import (
	"fmt"
	"sort"
	"strings"

	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/token"

	"github.com/zkstage/zkstage/schema"
)

// Compile plans every stage from the ensemble as it is today (stage 0) to the
// spec's target. A plan that cannot keep the policy's reserve is refused
// with the reason and the smallest change that would make it possible; the
// error is positioned at the spec's policy.
func Compile(c *schema.Cluster) (*Plan, error) {
	p := &planner{c: c, reserve: c.Policy.Reserve}
	if c.Policy.Method == schema.MethodReconfig {
		return compileReconfig(c)
	}
	if c.Policy.Method != "rolling" {
		return nil, p.refuseAt(c.MethodPos, []string{"policy", "method"}, "policy.method %q is not implemented yet: only \"rolling\" (static configs, rolling restarts) is", c.Policy.Method)
	}
	a, err := assignIDs(c)
	if err != nil {
		return nil, p.refuseAt(c.RenumberPos, []string{"policy", "renumber"}, "%v", err)
	}
	p.assign = a
	if err := p.build(); err != nil {
		return nil, err
	}
	plan := &Plan{
		Cluster:  c.Name,
		Version:  c.Version.String(),
		Policy:   Policy{Renumber: c.Policy.Renumber, Reserve: c.Policy.Reserve, Method: c.Policy.Method},
		Stages:   p.stages,
		Warnings: p.warnings,
	}
	plan.Placement = placement(c, p.stages[len(p.stages)-1].Members)
	plan.Warnings = append(plan.Warnings, placementWarnings(plan.Placement)...)
	plan.Fingerprint = fingerprint(plan)
	return plan, nil
}

type planner struct {
	c        *schema.Cluster
	reserve  int
	assign   *assignment
	stages   []Stage
	warnings []string
	// cur is the configuration every live host runs now; live the hosts
	// running it.
	cur  []Member
	live map[string]int
}

// refuseAt is refuse positioned at the field the refusal is about.
func (p *planner) refuseAt(pos token.Pos, field []string, format string, args ...interface{}) error {
	return &Refusal{pos: pos, field: field, msg: fmt.Sprintf("cannot plan cluster %q: "+format, append([]interface{}{p.c.Name}, args...)...)}
}

// Refusal is a plan the compiler will not make: a cue error positioned at
// the spec field it is about (Path), whose text is the reason.
type Refusal struct {
	pos   token.Pos
	field []string
	msg   string
}

var _ cueerrors.Error = (*Refusal)(nil)

func (r *Refusal) Error() string                { return r.msg }
func (r *Refusal) Position() token.Pos          { return r.pos }
func (r *Refusal) InputPositions() []token.Pos  { return nil }
func (r *Refusal) Path() []string               { return r.field }
func (r *Refusal) Msg() (string, []interface{}) { return "%s", []interface{}{r.msg} }

func (p *planner) member(host string, id int) Member {
	h := p.c.Hosts[host]
	return Member{
		ID: id, Host: host, Address: h.Address, Datacenter: h.DC, Role: h.Role,
		ClientPort: h.Ports.Client, QuorumPort: h.Ports.Quorum, ElectPort: h.Ports.Election,
	}
}

func (p *planner) build() error {
	p.live = map[string]int{}
	for _, name := range schema.SortedHosts(p.c) {
		if h := p.c.Hosts[name]; h.MyID != nil {
			p.cur = append(p.cur, p.member(name, *h.MyID))
			p.live[name] = *h.MyID
		}
	}
	sortMembers(p.cur)
	p.push(Stage{Name: "current", Kind: KindCurrent, Members: p.cur, Safe: true,
		Why: []string{"the ensemble as it is today"}})
	p.stages[0].Why = append(p.stages[0].Why, p.assign.why...)
	if len(p.cur) == 0 {
		return p.bootstrap()
	}
	if err := p.renames(); err != nil {
		return err
	}
	if err := p.grow(); err != nil {
		return err
	}
	if err := p.shrink(); err != nil {
		return err
	}
	var moved []Member
	for _, m := range p.cur {
		if h := p.c.Hosts[m.Host]; h.MyID == nil || *h.MyID != m.ID {
			moved = append(moved, m)
		}
	}
	p.checkIDs(moved)
	return nil
}

func (p *planner) push(s Stage) {
	s.Index = len(p.stages)
	s.Live = sortedKeys(p.live)
	s.Safe = true
	s.MinMargin = 0
	for i, st := range s.Steps {
		if i == 0 || st.Margin < s.MinMargin {
			s.MinMargin = st.Margin
		}
	}
	p.stages = append(p.stages, s)
}

// bootstrap: no ensemble runs yet, every host starts with the final config.
func (p *planner) bootstrap() error {
	var ms []Member
	for _, name := range schema.SortedHosts(p.c) {
		if id, ok := p.assign.ids[name]; ok {
			ms = append(ms, p.member(name, id))
		}
	}
	sortMembers(ms)
	var steps []Step
	for _, m := range ms {
		steps = append(steps, Step{Action: Start, Host: m.Host, ID: m.ID, Rule: "bootstrap: no ensemble serves yet"})
		p.live[m.Host] = m.ID
	}
	p.cur = ms
	p.push(Stage{Name: fmt.Sprintf("bootstrap-%d", len(ms)), Kind: KindBootstrap, Members: ms, Steps: steps, Added: ms,
		Why: []string{"no host runs ZooKeeper today: start every host with the final configuration (the ensemble serves once a quorum is up)"}})
	p.warnings = append(p.warnings, "bootstrap: the ensemble is not serving until a quorum of hosts has started")
	p.checkIDs(ms)
	return nil
}

// candidate is one possible stage (or pair of stages) and its simulation.
type candidate struct {
	stages []Stage
	ok     bool
	reason string // why it is refused
}

// largest finds the largest k in 1..n whose candidate is ok, assuming that a
// larger change never has a larger margin (true for the rules: more renames,
// joiners or leavers only lower the counts). Returns the chosen candidate and
// the refused k+1 candidate (nil when k == n).
func largest(n int, try func(k int) candidate) (int, candidate, *candidate) {
	lo, hi := 1, n
	best := 0
	var bestC candidate
	for lo <= hi {
		mid := (lo + hi) / 2
		c := try(mid)
		if c.ok {
			best, bestC = mid, c
			lo = mid + 1
		} else {
			hi = mid - 1
		}
	}
	if best == n {
		return best, bestC, nil
	}
	next := try(best + 1)
	return best, bestC, &next
}

func (p *planner) renames() error {
	todo := p.assign.renames
	for len(todo) > 0 {
		k, chosen, refused := largest(len(todo), func(k int) candidate { return p.renameStage(todo[:k]) })
		if k == 0 {
			h := todo[0].Host
			return p.refuseAt(p.c.Hosts[h].MyIDPos, []string{"hosts", h, "myid"}, "renumbering %s: %s; %s", describeRename(todo[0]), refused.reason, p.suggest(refused))
		}
		if refused != nil {
			chosen.stages[0].Why = append(chosen.stages[0].Why, fmt.Sprintf("%d renames in one stage refused: %s", k+1, refused.reason))
		}
		p.apply(chosen.stages)
		todo = todo[k:]
	}
	return nil
}

func describeRename(r Rename) string { return fmt.Sprintf("%s %d -> %d", r.Host, r.From, r.To) }

func (p *planner) renameStage(rs []Rename) candidate {
	next := map[string]int{}
	for h, id := range p.live {
		next[h] = id
	}
	for _, r := range rs {
		next[r.Host] = r.To
	}
	var b []Member
	for _, m := range p.cur {
		b = append(b, p.member(m.Host, next[m.Host]))
	}
	sortMembers(b)
	var steps []simStep
	for _, m := range b {
		steps = append(steps, simStep{action: Restart, host: m.Host, newID: m.ID})
	}
	ss := &stageSim{a: p.cur, b: b, live: p.live, steps: steps, leaderRule: LeaderFirst}
	out := ss.run(p.reserve)
	var names []string
	for _, r := range rs {
		names = append(names, fmt.Sprintf("%d-to-%d", r.From, r.To))
	}
	name := "rename-" + strings.Join(names, "-")
	if len(rs) > 3 {
		name = fmt.Sprintf("rename-%d-hosts", len(rs))
	}
	st := Stage{Name: name, Kind: KindRename, Members: b, Steps: toSteps(ss, out, p.live), LeaderRule: LeaderFirst, Renamed: rs}
	st.Why = append(st.Why, fmt.Sprintf("%d rename(s) in one rolling restart; min margin %d (reserve %d)", len(rs), out.min, p.reserve),
		"the live leader restarts first if its own id changes (the others could not follow it under the new config), otherwise last")
	return p.judge(out, st)
}

// judge turns a simulation into an accepted or refused candidate.
func (p *planner) judge(out simOutcome, stages ...Stage) candidate {
	c := candidate{stages: stages, ok: out.unsafe == "" && out.min >= p.reserve}
	switch {
	case out.unsafe != "":
		c.reason = out.unsafe
	case out.min < p.reserve:
		c.reason = fmt.Sprintf("margin %d < reserve %d at %s", out.firstFailMargin, p.reserve, out.firstFail)
	}
	return c
}

func (p *planner) suggest(refused *candidate) string {
	if refused == nil {
		return ""
	}
	if m := refused.margin(); m == 0 && p.reserve > 0 {
		return "set policy.reserve to 0 (the best rolling plan here keeps no margin above quorum)"
	} else if m > 0 && m < p.reserve {
		return fmt.Sprintf("set policy.reserve to %d or less", m)
	}
	return "no rolling restart keeps a quorum here: use dynamic reconfiguration (3.5.3+, method \"reconfig\", not yet supported), or accept an outage"
}

// margin is the lowest step margin of a candidate's stages.
func (c *candidate) margin() int {
	m := 1 << 20
	for _, st := range c.stages {
		for _, s := range st.Steps {
			m = min(m, s.Margin)
		}
	}
	return m
}

// toSteps converts simulated steps into plan steps with margins and rules.
func toSteps(ss *stageSim, out simOutcome, live map[string]int) []Step {
	var steps []Step
	for i, st := range ss.steps {
		s := Step{Action: st.action, Host: st.host, ID: st.newID, Margin: out.steps[i].margin, Rule: out.steps[i].rule}
		if old, ok := live[st.host]; ok && old != st.newID && st.action == Restart {
			o := old
			s.FromID = &o
		}
		steps = append(steps, s)
	}
	return steps
}

// apply makes the chosen stages the new current state.
func (p *planner) apply(stages []Stage) {
	for _, st := range stages {
		for _, s := range st.Steps {
			if s.Action == Stop {
				delete(p.live, s.Host)
			} else {
				p.live[s.Host] = s.ID
			}
		}
		p.cur = st.Members
		p.push(st)
	}
}

// newHosts lists the hosts that join, in the order they are added: voters of
// the most preferred datacenters first (a never-datacenter tie-breaker comes
// last), then by id; observers after all voters.
func (p *planner) newHosts() (voters, observers []Member) {
	for _, name := range schema.SortedHosts(p.c) {
		h := p.c.Hosts[name]
		if h.MyID != nil || h.Remove {
			continue
		}
		m := p.member(name, p.assign.ids[name])
		if m.Voter() {
			voters = append(voters, m)
		} else {
			observers = append(observers, m)
		}
	}
	sort.SliceStable(voters, func(i, j int) bool {
		di, dj := p.c.Datacenters[voters[i].Datacenter], p.c.Datacenters[voters[j].Datacenter]
		if di != dj {
			return di.MorePreferred(dj)
		}
		return voters[i].ID < voters[j].ID
	})
	sortMembers(observers)
	return voters, observers
}

func (p *planner) grow() error {
	voters, observers := p.newHosts()
	for len(voters) > 0 || len(observers) > 0 {
		n := len(voters)
		try := func(k int) candidate {
			add := append([]Member{}, voters[:k]...)
			if k == n {
				add = append(add, observers...)
			}
			return p.growStages(add)
		}
		var k int
		var chosen candidate
		var refused *candidate
		if n == 0 {
			k, chosen = 0, try(0)
			if !chosen.ok {
				o := observers[0].Host
				return p.refuseAt(p.c.Hosts[o].RolePos, []string{"hosts", o, "role"}, "adding observers: %s; %s", chosen.reason, p.suggest(&chosen))
			}
		} else {
			k, chosen, refused = largest(n, try)
			if k == 0 {
				return p.refuseAt(p.c.ReservePos, []string{"policy", "reserve"}, "reserve %d cannot grow a %d-server ensemble by rolling restarts: adding one voter is refused (%s); %s",
					p.reserve, countVoters(p.cur), refused.reason, p.suggest(refused))
			}
		}
		if refused != nil {
			chosen.stages[0].Why = append(chosen.stages[0].Why, fmt.Sprintf("%d -> %d refused: %s",
				countVoters(p.cur), countVoters(p.cur)+k+1, refused.reason))
		}
		p.apply(chosen.stages)
		voters = voters[k:]
		if k == n {
			observers = nil
		}
	}
	return nil
}

func (p *planner) growStages(add []Member) candidate {
	b := append(append([]Member{}, p.cur...), add...)
	sortMembers(b)
	from, to := countVoters(p.cur), countVoters(b)
	var roll []simStep
	for _, m := range p.cur {
		roll = append(roll, simStep{action: Restart, host: m.Host, newID: m.ID})
	}
	rs := &stageSim{a: p.cur, b: b, live: p.live, steps: roll, leaderRule: LeaderLast}
	rollOut := rs.run(p.reserve)

	live := map[string]int{}
	for h, id := range p.live {
		live[h] = id
	}
	var start []simStep
	sorted := append([]Member{}, add...)
	sortMembers(sorted)
	for _, m := range sorted {
		start = append(start, simStep{action: Start, host: m.Host, newID: m.ID})
	}
	ss := &stageSim{a: b, b: b, live: live, steps: start, onB: true}
	startOut := ss.run(p.reserve)

	base := fmt.Sprintf("grow-%d-to-%d", from, to)
	if from == to {
		base = fmt.Sprintf("add-%d-%s", len(add), plural(len(add), "observer"))
	}
	r := Stage{Name: base + "-roll", Kind: KindGrowRoll, Members: b, Steps: toSteps(rs, rollOut, p.live), LeaderRule: LeaderLast, Added: add,
		Why: []string{fmt.Sprintf("existing hosts onto the %d-member config one at a time, ascending id, leader last: a restarted host rejoins only if q(%d) = %d other voters follow the leader; min margin %d (reserve %d)",
			len(b), to, Quorum(to), rollOut.min, p.reserve),
			"the new hosts' files are not written yet: config management would start them before every old host runs the new config, and then two leaders would be possible"}}
	s := Stage{Name: base + "-start", Kind: KindGrowStart, Members: b, Steps: toSteps(ss, startOut, live), Added: add,
		Why: []string{fmt.Sprintf("every old host runs the %d-member config: the new hosts start in ascending id and join the leader; min margin %d", len(b), startOut.min)}}
	out := combine(rollOut, startOut)
	return p.judge(out, r, s)
}

func (p *planner) shrink() error {
	var leaving []Member
	for _, m := range p.cur {
		if p.c.Hosts[m.Host].Remove {
			leaving = append(leaving, m)
		}
	}
	// Observers leave first (free), then voters in ascending id.
	sort.SliceStable(leaving, func(i, j int) bool { return !leaving[i].Voter() && leaving[j].Voter() })
	for len(leaving) > 0 {
		k, chosen, refused := largest(len(leaving), func(k int) candidate { return p.shrinkStages(leaving[:k]) })
		if k == 0 {
			return p.refuseAt(p.c.Hosts[leaving[0].Host].RemovePos, []string{"hosts", leaving[0].Host, "remove"}, "%s", p.shrinkRefusal(leaving[0], refused))
		}
		if refused != nil {
			chosen.stages[0].Why = append(chosen.stages[0].Why, fmt.Sprintf("removing %d at once refused: %s", k+1, refused.reason))
		}
		p.apply(chosen.stages)
		leaving = leaving[k:]
	}
	return nil
}

// shrinkRefusal explains why not even one more host can leave, with the
// closed form behind it when a voter leaves: once the leaving hosts stop,
// the leader of the n-voter config must keep q(n) while each of the m
// remaining voters restarts, so a rolling shrink needs q(n) <= m - 1 - reserve.
func (p *planner) shrinkRefusal(m Member, refused *candidate) string {
	n := countVoters(p.cur)
	if !m.Voter() || refused.margin() >= 0 {
		return fmt.Sprintf("removing %s (id %d): %s; %s", m.Host, m.ID, refused.reason, p.suggest(refused))
	}
	var earlier []string
	for _, st := range p.stages {
		if st.Kind == KindShrinkRoll {
			for _, r := range st.Removed {
				earlier = append(earlier, r.Host)
			}
		}
	}
	after := ""
	if len(earlier) > 0 {
		after = fmt.Sprintf(", after earlier stages remove %s", strings.Join(earlier, ", "))
	}
	return fmt.Sprintf("removing %s (id %d) would take %d -> %d voters%s: %s; a rolling shrink n -> m needs q(n) <= m - 1 - reserve "+
		"(once the leaving hosts stop, the old leader must keep a quorum while each remaining voter restarts), and %d <= %d is false; "+
		"keep %d voters, or use dynamic reconfiguration (3.5.3+, method \"reconfig\", not yet supported), or accept an outage",
		m.Host, m.ID, n, n-1, after, refused.reason, Quorum(n), n-2-p.reserve, n)
}

func (p *planner) shrinkStages(rm []Member) candidate {
	gone := map[string]bool{}
	for _, m := range rm {
		gone[m.Host] = true
	}
	var b []Member
	for _, m := range p.cur {
		if !gone[m.Host] {
			b = append(b, m)
		}
	}
	from, to := countVoters(p.cur), countVoters(b)
	var stops []simStep
	sorted := append([]Member{}, rm...)
	sortMembers(sorted)
	for _, m := range sorted {
		stops = append(stops, simStep{action: Stop, host: m.Host, newID: m.ID})
	}
	ss := &stageSim{a: p.cur, b: p.cur, live: p.live, steps: stops, onB: true, leaderRule: LeaderLast}
	stopOut := ss.run(p.reserve)
	remaining := map[string]int{}
	for h, id := range p.live {
		if !gone[h] {
			remaining[h] = id
		}
	}
	var roll []simStep
	for _, m := range b {
		roll = append(roll, simStep{action: Restart, host: m.Host, newID: m.ID})
	}
	rs := &stageSim{a: p.cur, b: b, live: remaining, steps: roll, leaderRule: LeaderLast}
	rollOut := rs.run(p.reserve)
	base := fmt.Sprintf("shrink-%d-to-%d", from, to)
	if from == to {
		base = fmt.Sprintf("remove-%d-%s", len(rm), plural(len(rm), "observer"))
	}
	stop := Stage{Name: base + "-stop", Kind: KindShrinkStop, Members: p.cur, Steps: toSteps(ss, stopOut, p.live), LeaderRule: LeaderLast, Removed: rm,
		Why: []string{fmt.Sprintf("the leaving hosts stop (their files are removed) while the others keep the %d-member config; min margin %d", len(p.cur), stopOut.min)}}
	roll2 := Stage{Name: base + "-roll", Kind: KindShrinkRoll, Members: b, Steps: toSteps(rs, rollOut, remaining), LeaderRule: LeaderLast, Removed: rm,
		Why: []string{fmt.Sprintf("the remaining hosts onto the %d-member config, ascending id, leader last; min margin %d (reserve %d)", len(b), rollOut.min, p.reserve)}}
	out := combine(stopOut, rollOut)
	return p.judge(out, stop, roll2)
}

func (p *planner) checkIDs(ms []Member) {
	for _, m := range ms {
		if m.ID == 0 {
			// The spec's own myid 0 is the loader's warning; this is the id
			// zkstage hands out, said once, with why.
			p.warnings = append(p.warnings, fmt.Sprintf("zkstage gives host %s myid 0, the lowest id, so that with equal zxids it loses every election; 0 is outside the documented range 1..255 but works in practice", m.Host))
		}
	}
}

func countVoters(ms []Member) int {
	n := 0
	for _, m := range ms {
		if m.Voter() {
			n++
		}
	}
	return n
}

func sortMembers(ms []Member) {
	sort.Slice(ms, func(i, j int) bool { return ms[i].ID < ms[j].ID })
}

// combine joins the outcomes of two stages that are judged together.
func combine(first, second simOutcome) simOutcome {
	out := simOutcome{min: min(first.min, second.min), unsafe: first.unsafe, firstFail: first.firstFail, firstFailMargin: first.firstFailMargin}
	out.steps = append(append([]stepResult{}, first.steps...), second.steps...)
	if out.unsafe == "" {
		out.unsafe = second.unsafe
	}
	if out.firstFail == "" {
		out.firstFail, out.firstFailMargin = second.firstFail, second.firstFailMargin
	}
	return out
}

// plural gives "observer" for 1 and "observers" otherwise, for stage names.
func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
