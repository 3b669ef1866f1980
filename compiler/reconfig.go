package compiler

import (
	"fmt"
	"sort"
	"strings"

	"github.com/zkstage/zkstage/schema"
)

// compileReconfig plans a membership change by dynamic reconfiguration
// (policy.method "reconfig", ZooKeeper 3.5.3+). Membership changes are
// `reconfig -add/-remove` operations that ZooKeeper commits only with a
// quorum of both the old and the new configuration, so no election is
// needed; the only rolling restart is the enabling stage, when the ensemble
// still runs static configs.
//
// Every stage is one commit, and config management reacts to files, so a
// stage's file changes must be safe the moment they land:
//
//   - reconfig-enable: every member restarts onto the same membership with
//     reconfigEnabled=true and a dynamic config file (one election);
//   - reconfig-remove: `-remove` of the leaving ids and of the old ids of
//     renamed hosts; no file changes (the removed hosts keep running,
//     non-voting, until a later stage stops or renames them);
//   - reconfig-add: renamed hosts restart under their new id, joiners start
//     (their files appear), each with the committed config plus itself;
//     once all of them serve, one `-add` of them all;
//   - reconfig-stop: the removed hosts stop (their files go).
func compileReconfig(c *schema.Cluster) (*Plan, error) {
	p := &planner{c: c, reserve: c.Policy.Reserve}
	if !c.Version.AtLeast(3, 5, 3) {
		return nil, p.refuseAt(c.MethodPos, []string{"policy", "method"},
			"policy.method \"reconfig\" needs ZooKeeper 3.5.3 or later: %s has no dynamic reconfiguration (3.4) or no reconfigEnabled switch (3.5.0-3.5.2); use method \"rolling\", or upgrade first", c.Version)
	}
	a, err := assignIDs(c)
	if err != nil {
		return nil, p.refuseAt(c.RenumberPos, []string{"policy", "renumber"}, "%v", err)
	}
	p.assign = a
	if err := p.buildReconfig(); err != nil {
		return nil, err
	}
	// Reconfig operations have no story to follow (ZooKeeper picks the
	// leader a removal hands over to): a step's expected margin is its
	// margin.
	for i := range p.stages {
		if p.stages[i].Leader != "" {
			continue
		}
		for j := range p.stages[i].Steps {
			st := &p.stages[i].Steps[j]
			st.Expected = st.Margin
		}
	}
	return p.result()
}

func (p *planner) buildReconfig() error {
	st := p.today()
	p.cur, p.live = st.cur, st.live
	p.push(Stage{Name: "current", Kind: KindCurrent, Members: p.cur, Safe: true,
		Why: []string{"the ensemble as it is today"}}, p.live)
	p.stages[0].Why = append(p.stages[0].Why, p.assign.why...)
	if len(p.cur) == 0 {
		if err := p.bootstrap(); err != nil {
			return err
		}
		// Every host boots with the whole configuration as its dynamic file.
		st := &p.stages[len(p.stages)-1]
		ids := idsOf(st.Members)
		for i := range st.Steps {
			st.Steps[i].Bootstrap = ids
		}
		return nil
	}
	if !p.c.Policy.ReconfigEnabled {
		if err := p.enableStage(); err != nil {
			return err
		}
	}
	if err := p.reconfigRemoves(); err != nil {
		return err
	}
	if err := p.reconfigAdds(); err != nil {
		return err
	}
	p.reconfigStops()
	var moved []Member
	for _, m := range p.cur {
		if h := p.c.Hosts[m.Host]; h.MyID == nil || *h.MyID != m.ID {
			moved = append(moved, m)
		}
	}
	p.checkIDs(moved)
	return nil
}

// enableStage is the rolling restart that turns reconfiguration on: the
// same membership, now in a dynamic file. It is a restart of every member,
// leader last, judged by the rolling simulator like any rolling stage.
func (p *planner) enableStage() error {
	var steps []Step
	leader := ""
	for _, m := range p.cur {
		steps = append(steps, Step{Action: Restart, Host: m.Host, ID: m.ID})
		if m.Voter() {
			leader = m.Host // the highest id wins at equal zxids
		}
	}
	ss := p.sim(p.cur, p.cur, p.live, steps, LeaderLast, false, leader)
	out := simulate(ss, p.reserve)
	st := Stage{Name: "enable-reconfig", Kind: KindReconfigEnable, Members: p.cur, LeaderRule: LeaderLast,
		Why: []string{fmt.Sprintf("the ensemble runs static configs: one rolling restart, ascending id, leader last, onto reconfigEnabled=true, standaloneEnabled=false, a dynamic config file and %s; the membership does not change; min margin %d (reserve %d); this stage costs one election",
			authText(p.c.Policy), out.min, p.reserve),
			"set policy.reconfigEnabled: true instead if the ensemble already runs with reconfiguration on"}}
	story(&st, ss, out)
	ids := idsOf(p.cur)
	for i := range st.Steps {
		st.Steps[i].Bootstrap = ids
	}
	c := p.judge(out, st)
	if !c.ok {
		return p.refuseAt(p.c.ReservePos, []string{"policy", "reserve"}, "the rolling restart that turns reconfiguration on cannot keep reserve %d: %s; set policy.reserve lower, or turn reconfiguration on by hand and set policy.reconfigEnabled: true", p.reserve, c.reason)
	}
	p.applyReconfig(c.stages[0])
	return nil
}

func authText(p schema.Policy) string {
	switch {
	case p.ReconfigAuth == schema.AuthSkipACL:
		return "skipACL=yes"
	case p.DigestInJVMFlags():
		return "the superuser digest from the servers' JVM flags (-Dzookeeper.DigestAuthenticationProvider.superDigest, set before this stage)"
	}
	return "the superuser digest"
}

// reconfigRemoves removes, in as few operations as the reserve allows, the
// ids that leave the configuration: hosts with remove: true, and the old
// ids of renamed hosts (a renamed host then restarts under its new id in
// the add stage). Each operation is its own stage (one commit, no file
// change): a batch is as large as keeps both the old and the new
// configuration at or above quorum + reserve with every live host up.
func (p *planner) reconfigRemoves() error {
	type leaving struct {
		m      Member
		rename bool
	}
	var todo []leaving
	for _, r := range p.assign.renames {
		todo = append(todo, leaving{m: p.curMember(r.Host), rename: true})
	}
	for _, m := range p.cur {
		if p.c.Hosts[m.Host].Remove {
			todo = append(todo, leaving{m: m})
		}
	}
	// Observers first (they cost no quorum), then renames (their hosts
	// come back), then leavers in ascending id.
	sort.SliceStable(todo, func(i, j int) bool {
		oi, oj := !todo[i].m.Voter(), !todo[j].m.Voter()
		if oi != oj {
			return oi
		}
		return todo[i].rename && !todo[j].rename
	})
	for len(todo) > 0 {
		try := func(k int) candidate {
			var rm []Member
			for _, l := range todo[:k] {
				rm = append(rm, l.m)
			}
			return p.removeStage(rm)
		}
		k, chosen, refused := largest(len(todo), try)
		if k == 0 {
			l := todo[0]
			h := p.c.Hosts[l.m.Host]
			if l.rename {
				return p.refuseAt(h.MyIDPos, []string{"hosts", l.m.Host, "myid"}, "renaming %s (id %d) by reconfiguration: removing its old id first is refused (%s); set policy.reserve lower, or policy.renumber: \"none\"", l.m.Host, l.m.ID, refused.reason)
			}
			return p.refuseAt(h.RemovePos, []string{"hosts", l.m.Host, "remove"}, "removing %s (id %d) by reconfiguration: %s; keep more voters or set policy.reserve lower", l.m.Host, l.m.ID, refused.reason)
		}
		if refused != nil {
			chosen.stages[0].Why = append(chosen.stages[0].Why, fmt.Sprintf("removing %d ids in one operation refused: %s", k+1, refused.reason))
		}
		p.applyReconfig(chosen.stages[0])
		todo = todo[k:]
	}
	return nil
}

// curMember is the member a host is in the current configuration.
func (p *planner) curMember(host string) Member {
	for _, m := range p.cur {
		if m.Host == host {
			return m
		}
	}
	return p.member(host, p.live[host])
}

func (p *planner) removeStage(rm []Member) candidate {
	gone := map[int]bool{}
	for _, m := range rm {
		gone[m.ID] = true
	}
	var b []Member
	for _, m := range p.cur {
		if !gone[m.ID] {
			b = append(b, m)
		}
	}
	sorted := append([]Member{}, rm...)
	sortMembers(sorted)
	sim := newReconfigSim(p.cur, p.live)
	var steps []Step
	margin, rule, bad := sim.op(b)
	for _, m := range sorted {
		steps = append(steps, Step{Action: Remove, Host: m.Host, ID: m.ID, Op: 1, Margin: margin, Rule: rule})
	}
	var names []string
	for _, m := range sorted {
		names = append(names, fmt.Sprint(m.ID))
	}
	st := Stage{Name: "remove-" + strings.Join(names, "-"), Kind: KindReconfigRemove, Members: b, Steps: steps, Removed: sorted,
		Why: []string{fmt.Sprintf("one reconfig -remove of %s, conditioned on the config version: it commits only with a quorum of the %d-voter and of the %d-voter configuration, so no election; min margin %d (reserve %d)",
			strings.Join(names, ","), countVoters(p.cur), countVoters(b), margin, p.reserve),
			"no file changes: the removed hosts keep running, non-voting, until a later stage stops or renames them (ZooKeeper owns the dynamic config file)"}}
	st.Why = append(st.Why, removedLeaderWhy(b, mostPreferred(p.c)))
	for _, m := range b {
		if m.Voter() && p.c.Datacenters[m.Datacenter].Leader == schema.LeaderNever {
			st.Why = append(st.Why, fmt.Sprintf("if the leader is removed here, %s (id %d, %s, leader: never) may take over: the verifier then fails the leader's datacenter until it is moved", m.Host, m.ID, m.Datacenter))
			break
		}
	}
	return p.judgeReconfig(margin, bad, rule, st)
}

func (p *planner) judgeReconfig(margin int, bad, rule string, st Stage) candidate {
	c := candidate{stages: []Stage{st}, ok: bad == "" && margin >= p.reserve}
	switch {
	case bad != "":
		c.reason = bad
	case margin < p.reserve:
		c.reason = fmt.Sprintf("margin %d < reserve %d (%s)", margin, p.reserve, rule)
	}
	return c
}

// reconfigAdds restarts the renamed hosts under their new ids, starts the
// joiners, and adds them: as many per operation as the reserve allows,
// voters of the most preferred datacenters first, observers with the last
// batch.
func (p *planner) reconfigAdds() error {
	var add []Member
	for _, r := range p.assign.renames {
		add = append(add, p.member(r.Host, r.To))
	}
	voters, observers := p.newHosts()
	add = append(add, voters...)
	n := len(add)
	for n > 0 || len(observers) > 0 {
		try := func(k int) candidate {
			batch := append([]Member{}, add[:k]...)
			if k == n {
				batch = append(batch, observers...)
			}
			return p.addStage(batch)
		}
		var k int
		var chosen candidate
		var refused *candidate
		if n == 0 {
			chosen = try(0)
			if !chosen.ok {
				o := observers[0].Host
				return p.refuseAt(p.c.Hosts[o].RolePos, []string{"hosts", o, "role"}, "adding observers by reconfiguration: %s", chosen.reason)
			}
		} else {
			k, chosen, refused = largest(n, try)
			if k == 0 {
				return p.refuseAt(p.c.ReservePos, []string{"policy", "reserve"}, "reserve %d: adding %s (id %d) by reconfiguration is refused: %s; set policy.reserve lower",
					p.reserve, add[0].Host, add[0].ID, refused.reason)
			}
		}
		if refused != nil {
			chosen.stages[0].Why = append(chosen.stages[0].Why, fmt.Sprintf("adding %d in one operation refused: %s", k+1, refused.reason))
		}
		p.applyReconfig(chosen.stages[0])
		add = add[k:]
		n = len(add)
		if n == 0 {
			observers = nil
		}
	}
	return nil
}

func (p *planner) addStage(batch []Member) candidate {
	sim := newReconfigSim(p.cur, p.live)
	committed := idsOf(p.cur)
	var steps []Step
	bad := ""
	sorted := append([]Member{}, batch...)
	sortMembers(sorted)
	// Renamed hosts restart before any joiner starts: a joiner may take the
	// old id a rename frees (dc3 gets 0 in the reference scenario).
	sort.SliceStable(sorted, func(i, j int) bool {
		_, ri := p.live[sorted[i].Host]
		_, rj := p.live[sorted[j].Host]
		return ri && !rj
	})
	for _, m := range sorted {
		action := Start
		var from *int
		if id, ok := p.live[m.Host]; ok {
			action = Restart
			f := id
			from = &f
		}
		margin, rule, why := sim.start(m)
		if bad == "" {
			bad = why
		}
		steps = append(steps, Step{Action: action, Host: m.Host, ID: m.ID, FromID: from, Margin: margin, Rule: rule,
			Bootstrap: append(append([]int{}, committed...), m.ID)})
	}
	b := append(append([]Member{}, p.cur...), batch...)
	sortMembers(b)
	margin, rule, why := sim.op(b)
	if bad == "" {
		bad = why
	}
	for _, m := range sorted {
		steps = append(steps, Step{Action: Add, Host: m.Host, ID: m.ID, Op: 1, Margin: margin, Rule: rule})
	}
	from, to := countVoters(p.cur), countVoters(b)
	name := fmt.Sprintf("add-%d-to-%d", from, to)
	if from == to {
		name = fmt.Sprintf("add-%d-%s", len(batch), plural(len(batch), "observer"))
	}
	var renamed []Rename
	for _, s := range steps {
		if s.FromID != nil && s.Action == Restart {
			renamed = append(renamed, Rename{Host: s.Host, From: *s.FromID, To: s.ID})
		}
	}
	st := Stage{Name: name, Kind: KindReconfigAdd, Members: b, Steps: steps, Added: sorted, Renamed: renamed,
		Why: []string{fmt.Sprintf("the joiners start (renamed hosts restart under their new id), each with the committed %d-member config plus itself, and follow the leader without a vote; once every one serves, one reconfig -add of all %d, conditioned on the config version: it commits only with a quorum of the %d-voter and of the %d-voter configuration, so no election; min margin %d (reserve %d)",
			len(p.cur), len(batch), from, to, min(margin, minStepMargin(steps)), p.reserve),
			"ZooKeeper refuses the -add (NewConfigNoQuorum) unless a quorum of the new configuration is connected and synced: the runner adds only once every joiner serves"}}
	return p.judgeReconfig(min(margin, minStepMargin(steps)), bad, rule, st)
}

func minStepMargin(steps []Step) int {
	m := 1 << 20
	for _, s := range steps {
		m = min(m, s.Margin)
	}
	return m
}

// reconfigStops stops, in one stage, every host a remove stage left running
// outside the configuration and no later stage renamed.
func (p *planner) reconfigStops() {
	in := map[string]bool{}
	for _, m := range p.cur {
		in[m.Host] = true
	}
	var steps []Step
	var removed []Member
	sim := newReconfigSim(p.cur, p.live)
	for _, h := range sortedKeys(p.live) {
		if in[h] {
			continue
		}
		margin, rule := sim.slack()
		steps = append(steps, Step{Action: Stop, Host: h, ID: p.live[h], Margin: margin, Rule: rule})
		removed = append(removed, p.member(h, p.live[h]))
	}
	if len(steps) == 0 {
		return
	}
	p.applyReconfig(Stage{Name: fmt.Sprintf("stop-%d-removed", len(steps)), Kind: KindReconfigStop, Members: p.cur, Steps: steps, Removed: removed,
		Why: []string{"the hosts reconfiguration removed stop; their files go, so config management stops them too; no member's configuration changes"}})
}

// applyReconfig makes a reconfig stage the new current state.
func (p *planner) applyReconfig(st Stage) {
	for _, s := range st.Steps {
		switch s.Action {
		case Stop:
			delete(p.live, s.Host)
		case Start, Restart:
			p.live[s.Host] = s.ID
		}
	}
	p.cur = st.Members
	p.push(st, p.live)
}

func idsOf(ms []Member) []int {
	var ids []int
	for _, m := range ms {
		ids = append(ids, m.ID)
	}
	sort.Ints(ids)
	return ids
}
