package compiler

import (
	"fmt"
	"strings"

	"github.com/zkstage/zkstage/schema"
)

// neverLeaders refuses a plan in which a host of a never-datacenter could
// lead the final configuration: healthy, or with one host or one
// datacenter lost (the placement table). The spec may accept it
// (policy.acceptNeverLeader); the placement warnings then still say when.
// A never host that the story expects to lead after an intermediate stage
// (its id is high until its own rename) is a warning, see stageWarnings.
func (p *planner) neverLeaders(plan *Plan) error {
	if p.c.Policy.AcceptNeverLeader {
		return nil
	}
	var cases []string
	dc := ""
	note := func(host, s string) {
		if dc == "" {
			dc = p.c.Hosts[host].DC
		}
		cases = append(cases, s)
	}
	for _, s := range plan.Placement.Scenarios {
		if s.Verdict != "violation" {
			continue
		}
		if s.Lost == "nothing" {
			note(s.Winner, fmt.Sprintf("the healthy ensemble elects %s (id %d)", s.Winner, *s.WinnerID))
		} else {
			note(s.Winner, fmt.Sprintf("when %s is lost, %s (id %d) wins", s.Lost, s.Winner, *s.WinnerID))
		}
	}
	if len(cases) == 0 {
		return nil
	}
	more := ""
	if len(cases) > 3 {
		more = fmt.Sprintf(" (and %d more)", len(cases)-3)
		cases = cases[:3]
	}
	d := p.c.Datacenters[dc]
	return p.refuseAt(d.LeaderPos, []string{"datacenters", dc, "leader"},
		"datacenter %s may never lead, yet with these ids one of its hosts could: %s%s; renumber \"minimal\" or \"strict\" gives never-datacenters the lowest ids, or set policy.acceptNeverLeader: true to accept it",
		dc, strings.Join(cases, "; "), more)
}

// stageWarnings: the story's leader after a stage in a never-datacenter.
// Only stages count whose starting leader was elsewhere (a never host that
// already leads keeps leading until an election; that is the past, not the
// plan).
func (p *planner) stageWarnings(plan *Plan) []string {
	never := func(host string) bool {
		h := p.c.Hosts[host]
		return h != nil && p.c.Datacenters[h.DC].Leader == schema.LeaderNever
	}
	var w []string
	for _, st := range plan.Stages[1:] {
		if never(st.LeaderAfter) && !never(st.Leader) {
			w = append(w, fmt.Sprintf("after stage %02d %s the plan expects %s of never-datacenter %s to lead (its id is still high): the next election moves the leadership",
				st.Index, st.Name, st.LeaderAfter, p.c.Hosts[st.LeaderAfter].DC))
		}
	}
	return w
}
