package compiler

import (
	"fmt"
	"strings"

	"github.com/zkstage/zkstage/schema"
)

// neverLeaders refuses a plan in which a host of a never-datacenter could
// lead: in the final configuration's placement (healthy, one host lost,
// one datacenter lost) or after any stage, from the expected or any other
// starting leader. The spec may accept it (policy.acceptNeverLeader); the
// placement warnings then still say when.
func (p *planner) neverLeaders(plan *Plan) error {
	if p.c.Policy.AcceptNeverLeader {
		return nil
	}
	never := func(host string) bool {
		h := p.c.Hosts[host]
		return h != nil && p.c.Datacenters[h.DC].Leader == schema.LeaderNever
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
	for _, st := range plan.Stages[1:] {
		if never(st.LeaderAfter) {
			note(st.LeaderAfter, fmt.Sprintf("after stage %02d %s the plan expects %s to lead", st.Index, st.Name, st.LeaderAfter))
		}
		for _, a := range st.Alternatives {
			if never(a.LeaderAfter) {
				note(a.LeaderAfter, fmt.Sprintf("after stage %02d %s, %s leads if %s led at its start", st.Index, st.Name, a.LeaderAfter, a.Leaders[0]))
			}
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
