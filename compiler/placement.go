package compiler

import (
	"fmt"
	"sort"

	"github.com/zkstage/zkstage/schema"
)

// placement evaluates the final configuration: with equal zxid the highest
// live voter id wins an election, so the winner of every failure scenario
// follows from the ids alone.
func placement(c *schema.Cluster, final []Member) Placement {
	var voters []Member
	for _, m := range final {
		if m.Voter() {
			voters = append(voters, m)
		}
	}
	sort.Slice(voters, func(i, j int) bool { return voters[i].ID > voters[j].ID })
	q := Quorum(len(voters))
	var pl Placement
	pl.Scenarios = append(pl.Scenarios, scenario(c, voters, q, "nothing", func(Member) bool { return false }))
	for _, v := range voters {
		v := v
		pl.Scenarios = append(pl.Scenarios, scenario(c, voters, q, fmt.Sprintf("host %s (id %d)", v.Host, v.ID),
			func(m Member) bool { return m.Host == v.Host }))
	}
	perDC := map[string]int{}
	for _, v := range voters {
		perDC[v.Datacenter]++
	}
	for _, dc := range sortedDCs(c, perDC) {
		dc := dc
		pl.Scenarios = append(pl.Scenarios, scenario(c, voters, q, "datacenter "+dc,
			func(m Member) bool { return m.Datacenter == dc }))
		pl.Datacenters = append(pl.Datacenters, DCTolerance{Datacenter: dc, Voters: perDC[dc], Survives: len(voters)-perDC[dc] >= q})
	}
	return pl
}

// sortedDCs orders datacenters from the most to the least preferred.
func sortedDCs(c *schema.Cluster, perDC map[string]int) []string {
	var dcs []string
	for dc := range perDC {
		dcs = append(dcs, dc)
	}
	sort.Slice(dcs, func(i, j int) bool { return c.Datacenters[dcs[i]].MorePreferred(c.Datacenters[dcs[j]]) })
	return dcs
}

func scenario(c *schema.Cluster, voters []Member, q int, lost string, down func(Member) bool) Scenario {
	s := Scenario{Lost: lost, Quorum: q}
	var top, best *schema.Datacenter // most preferred site: of all voters, of the live ones
	var winner *Member
	for i, v := range voters {
		d := c.Datacenters[v.Datacenter]
		if d.Leader != schema.LeaderNever && (top == nil || d.MorePreferred(top)) {
			top = d
		}
		if down(v) {
			continue
		}
		s.LiveVoters++
		if winner == nil {
			winner = &voters[i] // voters are sorted by id, highest first
		}
		if d.Leader != schema.LeaderNever && (best == nil || d.MorePreferred(best)) {
			best = d
		}
	}
	s.HasQuorum = s.LiveVoters >= q
	if !s.HasQuorum || winner == nil {
		s.Verdict = "no-quorum"
		return s
	}
	id := winner.ID
	s.Winner, s.WinnerID, s.WinnerDC = winner.Host, &id, winner.Datacenter
	switch d := c.Datacenters[winner.Datacenter]; {
	case d.Leader == schema.LeaderNever:
		s.Verdict = "violation"
	case d == top:
		s.Verdict = "preferred"
	case d == best:
		// The most preferred datacenter is down (or has no live voter):
		// the best site left leads, which is what the priorities ask for.
		s.Verdict = "fallback"
	default:
		s.Verdict = "allowed"
	}
	return s
}

func placementWarnings(pl Placement) []string {
	var w []string
	for _, s := range pl.Scenarios {
		switch {
		case s.Verdict == "violation":
			w = append(w, fmt.Sprintf("when %s is lost, %s (id %d) in never-datacenter %s would lead", s.Lost, s.Winner, *s.WinnerID, s.WinnerDC))
		case s.Lost == "nothing" && s.Verdict != "preferred":
			w = append(w, fmt.Sprintf("the healthy ensemble would elect %s (id %d) in %s, not the most preferred datacenter", s.Winner, *s.WinnerID, s.WinnerDC))
		}
	}
	for _, d := range pl.Datacenters {
		if !d.Survives && len(pl.Datacenters) > 1 {
			w = append(w, fmt.Sprintf("losing datacenter %s (%d voters) leaves no quorum", d.Datacenter, d.Voters))
		}
	}
	return w
}
