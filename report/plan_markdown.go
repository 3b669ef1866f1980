package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/zkstage/zkstage/compiler"
)

// PlanMarkdown writes the plan as markdown (for a pull request or a wiki).
func PlanMarkdown(w io.Writer, p *compiler.Plan) error {
	fmt.Fprintf(w, "# zkstage plan for `%s`\n\n", p.Cluster)
	fmt.Fprintf(w, "ZooKeeper %s · renumber `%s` · reserve %d · method `%s` · plan `%s`\n\n",
		p.Version, p.Policy.Renumber, p.Policy.Reserve, p.Policy.Method, p.Fingerprint)
	fmt.Fprintln(w, "| stage | name | voters | quorum | ids | min margin |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, s := range p.Stages {
		v := s.Voters()
		fmt.Fprintf(w, "| %02d | %s | %d | %d | %s | %s |\n", s.Index, s.Name, len(v), compiler.Quorum(len(v)), ids(s.Members), marginCell(&s))
	}
	fmt.Fprintln(w)
	if c := LeaderChain(p); c != "" {
		fmt.Fprintf(w, "Expected leader after each stage: %s.\n\n", c)
	}
	fmt.Fprintln(w, MermaidStages(p, -1))
	for i := 1; i < len(p.Stages); i++ {
		fmt.Fprintln(w)
		StageMarkdown(w, p, i, 3)
	}
	fmt.Fprintln(w)
	PlacementMarkdown(w, p, 2)
	if len(p.Warnings) > 0 {
		fmt.Fprintln(w, "\n## Warnings")
		fmt.Fprintln(w)
		for _, s := range p.Warnings {
			fmt.Fprintf(w, "- %s\n", s)
		}
	}
	if len(p.Hints) > 0 {
		fmt.Fprintln(w, "\n## Hints")
		fmt.Fprintln(w)
		for _, s := range p.Hints {
			fmt.Fprintf(w, "- %s\n", s)
		}
	}
	return nil
}

func marginCell(s *compiler.Stage) string {
	if len(s.Steps) == 0 {
		return "–"
	}
	return fmt.Sprint(s.MinMargin)
}

// StageMarkdown describes stage k: what changes, the steps and their margins,
// and why. level is the heading level.
func StageMarkdown(w io.Writer, p *compiler.Plan, k, level int) {
	s := &p.Stages[k]
	h := strings.Repeat("#", level)
	v := s.Voters()
	fmt.Fprintf(w, "%s Stage %02d: %s\n\n", h, s.Index, s.Name)
	fmt.Fprintf(w, "%d members, %d voters, quorum %d. Ids: %s.\n\n", len(s.Members), len(v), compiler.Quorum(len(v)), ids(s.Members))
	for _, r := range s.Renamed {
		fmt.Fprintf(w, "- renamed: `%s` %d → %d\n", r.Host, r.From, r.To)
	}
	if s.Kind != compiler.KindGrowStart && s.Kind != compiler.KindShrinkStop {
		for _, m := range s.Added {
			fmt.Fprintf(w, "- added to the config: `%s` id %d (%s, %s)\n", m.Host, m.ID, m.Datacenter, m.Role)
		}
	}
	if s.Kind == compiler.KindShrinkStop {
		for _, m := range s.Removed {
			fmt.Fprintf(w, "- stopped and removed: `%s` id %d (%s)\n", m.Host, m.ID, m.Datacenter)
		}
	}
	if len(s.Steps) > 0 {
		if s.Leader != "" {
			fmt.Fprintf(w, "\nLeader: %s.\n", StoryText(s))
		}
		fmt.Fprintf(w, "\nSteps, in the order `zkstage roll` runs them (%s):\n\n", LeaderRuleText(s.LeaderRule))
		fmt.Fprintln(w, "| # | action | host | id | margin | leader after | rule |")
		fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
		for i, st := range s.Steps {
			margin, leader := st.Expected, orNone(st.LeaderAfter)
			if s.Leader == "" {
				// No story (reconfig operations): the margin and its rule.
				margin, leader = st.Margin, "–"
			}
			fmt.Fprintf(w, "| %d | %s | `%s` | %s | %d | %s | %s |\n", i+1, st.Action, st.Host, stepID(st), margin, leader, st.Rule)
		}
		if m := s.MoveLeader; m != nil {
			fmt.Fprintf(w, "| %d | move-leader | `%s` | %s | %d | %s | %s |\n", len(s.Steps)+1, m.Host, stepID(*m), m.Expected, orNone(m.LeaderAfter), m.Rule)
		}
		var notes []string
		for i, st := range s.Steps {
			if st.Worst != "" {
				notes = append(notes, fmt.Sprintf("worst case of step %d: %s", i+1, st.Worst))
			}
		}
		if s.MoveLeader != nil {
			notes = append(notes, fmt.Sprintf("step %d: the leader ends outside the most preferred datacenter and a host there holds the highest live id, so `zkstage roll` restarts it (`roll --keep-leader` skips this)", len(s.Steps)+1))
		}
		for _, a := range s.Alternatives {
			if compiler.Interesting(s, a) {
				notes = append(notes, AlternativeText(a))
			}
		}
		if len(notes) > 0 {
			fmt.Fprintln(w)
			for _, n := range notes {
				fmt.Fprintf(w, "- %s\n", n)
			}
		}
	}
	if len(s.Why) > 0 {
		fmt.Fprintln(w, "\nWhy:")
		fmt.Fprintln(w)
		for _, y := range s.Why {
			fmt.Fprintf(w, "- %s\n", y)
		}
	}
}

// PlacementMarkdown is the leader-placement and datacenter-loss tables.
func PlacementMarkdown(w io.Writer, p *compiler.Plan, level int) {
	h := strings.Repeat("#", level)
	fmt.Fprintf(w, "%s Leader placement (final configuration)\n\n", h)
	fmt.Fprintln(w, "With equal zxid the highest live id wins the election. After a stage's last step, "+LeaderMoveText+".")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| lost | live/quorum | winner | verdict |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, s := range p.Placement.Scenarios {
		fmt.Fprintf(w, "| %s | %d/%d | %s | %s |\n", s.Lost, s.LiveVoters, s.Quorum, winner(s), s.Verdict)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| datacenter lost | voters | quorum kept |")
	fmt.Fprintln(w, "|---|---|---|")
	for _, d := range p.Placement.Datacenters {
		fmt.Fprintf(w, "| %s | %d | %v |\n", d.Datacenter, d.Voters, d.Survives)
	}
}

// MermaidStages draws the chain of stages; current (>= 0) is highlighted.
func MermaidStages(p *compiler.Plan, current int) string {
	var b strings.Builder
	b.WriteString("```mermaid\nflowchart LR\n")
	for i, s := range p.Stages {
		fmt.Fprintf(&b, "  s%d[\"%02d %s<br/>%d voters\"]\n", i, i, s.Name, len(s.Voters()))
		if i > 0 {
			fmt.Fprintf(&b, "  s%d --> s%d\n", i-1, i)
		}
	}
	if current >= 0 {
		fmt.Fprintf(&b, "  style s%d stroke-width:4px\n", current)
	}
	b.WriteString("```")
	return b.String()
}
