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
		// The assignment is part of the search: a new host on an id a
		// renamed host gives up must wait for that rename, and a rename
		// may need the growth first. The same policy with new hosts kept
		// off every id run today may plan; the first refusal stands if not.
		alt, aerr := assignIDsWith(c, true)
		if aerr != nil || sameIDs(alt, a) {
			return nil, err
		}
		q := &planner{c: c, reserve: c.Policy.Reserve, assign: alt}
		if q.build() != nil {
			return nil, err
		}
		q.stages[0].Why = append(q.stages[0].Why, "new hosts take ids no host runs today, so that they can join before the renames")
		p = q
	}
	return p.result()
}

// result is the plan the planner's stages make, with what both methods
// add to it: the placement of the final configuration and its warnings,
// the never-leader rule, the story's warnings, the strict hint and the
// fingerprint.
func (p *planner) result() (*Plan, error) {
	c := p.c
	plan := &Plan{
		Cluster:  c.Name,
		Version:  c.Version.String(),
		Policy:   Policy{Renumber: c.Policy.Renumber, Reserve: c.Policy.Reserve, Method: c.Policy.Method},
		Stages:   p.stages,
		Warnings: p.warnings,
	}
	plan.Placement = placement(c, p.stages[len(p.stages)-1].Members)
	plan.Warnings = append(plan.Warnings, placementWarnings(plan.Placement)...)
	if err := p.neverLeaders(plan); err != nil {
		return nil, err
	}
	plan.Warnings = append(plan.Warnings, p.stageWarnings(plan)...)
	if h := strictHint(c, plan); h != "" {
		plan.Hints = append(plan.Hints, h)
	}
	plan.Fingerprint = fingerprint(plan)
	return plan, nil
}

type planner struct {
	c        *schema.Cluster
	reserve  int
	assign   *assignment
	stages   []Stage
	warnings []string
	// pref is the most preferred datacenter allowed to lead (where the
	// runner moves a misplaced leader), dc every host's datacenter.
	pref string
	dc   map[string]string
	// initial is stage 0's state; nested marks a search run only to find
	// the nearest change (it must not search again).
	initial state
	nested  bool
	// cur and live are the reconfig planner's state between its stages
	// (the rolling planner passes states through its search instead).
	cur  []Member
	live map[string]int
}

// state is where the ensemble is between two stages: the configuration
// every live host runs, the hosts running it under their ids, and the host
// the plan expects to lead.
type state struct {
	cur    []Member
	live   map[string]int
	leader string
}

func (s state) liveCopy() map[string]int {
	m := make(map[string]int, len(s.live))
	for h, id := range s.live {
		m[h] = id
	}
	return m
}

func sameIDs(a, b *assignment) bool {
	if len(a.ids) != len(b.ids) {
		return false
	}
	for h, id := range a.ids {
		if b.ids[h] != id {
			return false
		}
	}
	return true
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

// today is the ensemble as it runs now (the members with a myid and the
// ids they run); it also sets what the simulations need of the spec: each
// host's datacenter and the most preferred one. Both planners start here.
func (p *planner) today() state {
	st := state{live: map[string]int{}}
	for _, name := range schema.SortedHosts(p.c) {
		if h := p.c.Hosts[name]; h.MyID != nil {
			st.cur = append(st.cur, p.member(name, *h.MyID))
			st.live[name] = *h.MyID
		}
	}
	sortMembers(st.cur)
	p.dc = map[string]string{}
	for name, h := range p.c.Hosts {
		p.dc[name] = h.DC
	}
	p.pref = mostPreferred(p.c)
	return st
}

func (p *planner) build() error {
	st := p.today()
	if len(st.cur) > 0 && countVoters(st.cur) == 0 {
		h := st.cur[0].Host
		return p.refuseAt(p.c.Hosts[h].RolePos, []string{"hosts", h, "role"},
			"every current member is an observer: observers follow a leader of the voters, so no ensemble serves today, and zkstage cannot plan from it (declare the participants that run today)")
	}
	// With equal zxids the highest id wins an election: the plan's story
	// starts from that leader (the gate shows the live one).
	for _, m := range st.cur {
		if m.Voter() {
			st.leader = m.Host
		}
	}
	s0 := Stage{Name: "current", Kind: KindCurrent, Members: st.cur, Safe: true, Leader: st.leader, LeaderAfter: st.leader,
		Why: []string{"the ensemble as it is today"}}
	s0.Why = append(s0.Why, p.assign.why...)
	p.push(s0, st.live)
	if len(st.cur) == 0 {
		return p.bootstrap()
	}
	p.initial = st
	stages, err := p.search(st)
	if err != nil {
		return err
	}
	live := st.liveCopy()
	for _, s := range stages {
		applySteps(live, s.Steps)
		p.push(s, live)
	}
	var moved []Member
	for _, m := range p.stages[len(p.stages)-1].Members {
		if h := p.c.Hosts[m.Host]; h.MyID == nil || *h.MyID != m.ID {
			moved = append(moved, m)
		}
	}
	p.checkIDs(moved)
	return nil
}

// mostPreferred is the datacenter the runner moves a misplaced leader to:
// the most preferred one that may lead (render's leaderDatacenters[0]).
func mostPreferred(c *schema.Cluster) string {
	var best *schema.Datacenter
	for _, d := range c.Datacenters {
		if d.Leader != schema.LeaderNever && (best == nil || d.MorePreferred(best)) {
			best = d
		}
	}
	if best == nil {
		return ""
	}
	return best.Name
}

func (p *planner) push(s Stage, live map[string]int) {
	s.Index = len(p.stages)
	s.Live = sortedKeys(live)
	s.Safe = true
	s.MinMargin = 0
	for i, st := range s.Steps {
		if i == 0 || st.Margin < s.MinMargin {
			s.MinMargin = st.Margin
		}
	}
	p.stages = append(p.stages, s)
}

// applySteps updates who runs which id after a stage's steps.
func applySteps(live map[string]int, steps []Step) {
	for _, s := range steps {
		if s.Action == Stop {
			delete(live, s.Host)
		} else {
			live[s.Host] = s.ID
		}
	}
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
	live := map[string]int{}
	leader := ""
	for _, m := range ms {
		steps = append(steps, Step{Action: Start, Host: m.Host, ID: m.ID, Rule: "bootstrap: no ensemble serves yet"})
		live[m.Host] = m.ID
		if m.Voter() {
			leader = m.Host
		}
	}
	p.push(Stage{Name: fmt.Sprintf("bootstrap-%d", len(ms)), Kind: KindBootstrap, Members: ms, Steps: steps, Added: ms, LeaderAfter: leader,
		Why: []string{"no host runs ZooKeeper today: start every host with the final configuration (the ensemble serves once a quorum is up)"}}, live)
	p.warnings = append(p.warnings, "bootstrap: the ensemble is not serving until a quorum of hosts has started")
	p.checkIDs(ms)
	return nil
}

// candidate is one possible stage (or pair of stages) and its simulation.
type candidate struct {
	stages []Stage
	ok     bool
	reason string // why it is refused
	next   state  // the state once the stages are done
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

func describeRename(r Rename) string { return fmt.Sprintf("%s %d -> %d", r.Host, r.From, r.To) }

// sim builds a stage simulation with what the planner knows of the spec
// (datacenters, the most preferred one).
func (p *planner) sim(a, b []Member, live map[string]int, steps []Step, rule string, onB bool, expected string) *stageSim {
	return &stageSim{a: a, b: b, live: live, steps: steps, leaderRule: rule, onB: onB, expected: expected, pref: p.pref, dc: p.dc}
}

func (p *planner) renameStage(st state, rs []Rename) candidate {
	next := st.liveCopy()
	for _, r := range rs {
		next[r.Host] = r.To
	}
	var b []Member
	for _, m := range st.cur {
		b = append(b, p.member(m.Host, next[m.Host]))
	}
	sortMembers(b)
	var steps []Step
	for _, m := range b {
		steps = append(steps, Step{Action: Restart, Host: m.Host, ID: m.ID})
	}
	ss := p.sim(st.cur, b, st.live, steps, LeaderFirst, false, st.leader)
	out := simulate(ss, p.reserve)
	var names []string
	for _, r := range rs {
		names = append(names, fmt.Sprintf("%d-to-%d", r.From, r.To))
	}
	name := "rename-" + strings.Join(names, "-")
	if len(rs) > 3 {
		name = fmt.Sprintf("rename-%d-hosts", len(rs))
	}
	s := Stage{Name: name, Kind: KindRename, Members: b, LeaderRule: LeaderFirst, Renamed: rs}
	story(&s, ss, out)
	s.Why = append(s.Why, fmt.Sprintf("%d rename(s) in one rolling restart; min margin %d (reserve %d)", len(rs), out.min, p.reserve),
		"the live leader restarts first if its own id changes (the others could not follow it under the new config), otherwise last")
	c := p.judge(out, s)
	c.next = state{cur: b, live: next, leader: s.LeaderAfter}
	return c
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
	return "no rolling restart keeps a quorum here: use dynamic reconfiguration (policy.method \"reconfig\", ZooKeeper 3.5.3+: no election per change), or accept an outage"
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

func (p *planner) growStages(st state, add []Member) candidate {
	b := append(append([]Member{}, st.cur...), add...)
	sortMembers(b)
	from, to := countVoters(st.cur), countVoters(b)
	var roll []Step
	for _, m := range st.cur {
		roll = append(roll, Step{Action: Restart, Host: m.Host, ID: m.ID})
	}
	rs := p.sim(st.cur, b, st.live, roll, LeaderLast, false, st.leader)
	rollOut := simulate(rs, p.reserve)
	r := Stage{Kind: KindGrowRoll, Members: b, LeaderRule: LeaderLast, Added: add}
	story(&r, rs, rollOut)

	var start []Step
	sorted := append([]Member{}, add...)
	sortMembers(sorted)
	for _, m := range sorted {
		start = append(start, Step{Action: Start, Host: m.Host, ID: m.ID})
	}
	ss := p.sim(b, b, st.liveCopy(), start, "", true, r.LeaderAfter)
	startOut := simulate(ss, p.reserve)
	s := Stage{Kind: KindGrowStart, Members: b, Added: add}
	story(&s, ss, startOut)

	base := fmt.Sprintf("grow-%d-to-%d", from, to)
	if from == to {
		base = fmt.Sprintf("add-%d-%s", len(add), plural(len(add), "observer"))
	}
	r.Name, s.Name = base+"-roll", base+"-start"
	r.Why = []string{fmt.Sprintf("existing hosts onto the %d-member config one at a time, ascending id, leader last: a restarted host rejoins only if q(%d) = %d other voters follow the leader; min margin %d (reserve %d)",
		len(b), to, Quorum(to), rollOut.min, p.reserve),
		"the new hosts' files are not written yet: config management would start them before every old host runs the new config, and then two leaders would be possible"}
	s.Why = []string{fmt.Sprintf("every old host runs the %d-member config: the new hosts start in ascending id and join the leader; min margin %d", len(b), startOut.min)}
	c := p.judge(combine(rollOut, startOut), r, s)
	live := st.liveCopy()
	applySteps(live, start)
	c.next = state{cur: b, live: live, leader: s.LeaderAfter}
	return c
}

// shrinkRefusal explains why not even one more host can leave, with the
// closed form behind it when a voter leaves: once the leaving hosts stop,
// the leader of the n-voter config must keep q(n) while each of the m
// remaining voters restarts, so a rolling shrink needs q(n) <= m - 1 - reserve.
func (p *planner) shrinkRefusal(st state, earlier []string, m Member, refused *candidate) string {
	n := countVoters(st.cur)
	if !m.Voter() || refused.margin() >= 0 {
		return fmt.Sprintf("removing %s (id %d): %s; %s", m.Host, m.ID, refused.reason, p.suggest(refused))
	}
	after := ""
	if len(earlier) > 0 {
		after = fmt.Sprintf(", after earlier stages remove %s", strings.Join(earlier, ", "))
	}
	return fmt.Sprintf("removing %s (id %d) would take %d -> %d voters%s: %s; a rolling shrink n -> m needs q(n) <= m - 1 - reserve "+
		"(once the leaving hosts stop, the old leader must keep a quorum while each remaining voter restarts), and %d <= %d is false; "+
		"keep %d voters, or use dynamic reconfiguration (policy.method \"reconfig\", ZooKeeper 3.5.3+: no election per change), or accept an outage",
		m.Host, m.ID, n, n-1, after, refused.reason, Quorum(n), n-2-p.reserve, n)
}

func (p *planner) shrinkStages(st state, rm []Member) candidate {
	gone := map[string]bool{}
	for _, m := range rm {
		gone[m.Host] = true
	}
	var b []Member
	for _, m := range st.cur {
		if !gone[m.Host] {
			b = append(b, m)
		}
	}
	from, to := countVoters(st.cur), countVoters(b)
	var stops []Step
	sorted := append([]Member{}, rm...)
	sortMembers(sorted)
	for _, m := range sorted {
		stops = append(stops, Step{Action: Stop, Host: m.Host, ID: m.ID})
	}
	ss := p.sim(st.cur, st.cur, st.live, stops, LeaderLast, true, st.leader)
	stopOut := simulate(ss, p.reserve)
	stop := Stage{Kind: KindShrinkStop, Members: st.cur, LeaderRule: LeaderLast, Removed: rm}
	story(&stop, ss, stopOut)
	remaining := map[string]int{}
	for h, id := range st.live {
		if !gone[h] {
			remaining[h] = id
		}
	}
	var roll []Step
	for _, m := range b {
		roll = append(roll, Step{Action: Restart, Host: m.Host, ID: m.ID})
	}
	rs := p.sim(st.cur, b, remaining, roll, LeaderLast, false, stop.LeaderAfter)
	rollOut := simulate(rs, p.reserve)
	roll2 := Stage{Kind: KindShrinkRoll, Members: b, LeaderRule: LeaderLast, Removed: rm}
	story(&roll2, rs, rollOut)
	base := fmt.Sprintf("shrink-%d-to-%d", from, to)
	if from == to {
		base = fmt.Sprintf("remove-%d-%s", len(rm), plural(len(rm), "observer"))
	}
	stop.Name, roll2.Name = base+"-stop", base+"-roll"
	stop.Why = []string{fmt.Sprintf("the leaving hosts stop (their files are removed) while the others keep the %d-member config; min margin %d", len(st.cur), stopOut.min)}
	roll2.Why = []string{fmt.Sprintf("the remaining hosts onto the %d-member config, ascending id, leader last; min margin %d (reserve %d)", len(b), rollOut.min, p.reserve)}
	c := p.judge(combine(stopOut, rollOut), stop, roll2)
	c.next = state{cur: b, live: remaining, leader: roll2.LeaderAfter}
	return c
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
