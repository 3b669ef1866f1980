package compiler

import (
	"fmt"

	"github.com/zkstage/zkstage/schema"
)

// strictHint: renumber minimal renames as few hosts as possible, so the
// leader can end a stage outside the most preferred datacenter (and the
// runner then spends an election moving it back). When strict renumbering
// keeps it there after every stage for no more restarts, the plan says so:
// the operator may prefer it.
func strictHint(c *schema.Cluster, minimal *Plan) string {
	if c.Policy.Renumber != "minimal" || minimal.Policy.Method != "rolling" {
		return ""
	}
	pref := mostPreferred(c)
	misplaced := func(p *Plan) int {
		n := 0
		for _, st := range p.Stages[1:] {
			if st.MoveLeader != nil || (st.LeaderAfter != "" && c.Hosts[st.LeaderAfter].DC != pref) {
				n++
			}
		}
		return n
	}
	m := misplaced(minimal)
	if m == 0 {
		return ""
	}
	alt := *c
	alt.Policy.Renumber = "strict"
	sp, err := Compile(&alt)
	if err != nil || misplaced(sp) > 0 {
		return ""
	}
	rm, rs := planRestarts(minimal), planRestarts(sp)
	if rs > rm {
		return ""
	}
	return fmt.Sprintf("renumber \"strict\" would keep the leader in %s after every stage with %d restarts (this plan: %d, and the leader leaves %s in %d stage(s))", pref, rs, rm, pref, m)
}

// restarts counts the restarts a plan's story runs, leader moves included.
func planRestarts(p *Plan) int {
	n := 0
	for _, st := range p.Stages {
		for _, s := range st.Steps {
			if s.Action == Restart {
				n++
			}
		}
		if st.MoveLeader != nil {
			n++
		}
	}
	return n
}
