// Package report renders a plan for people: a text view for terminals and a
// markdown view for pull requests. JSON is the plan itself. Views are
// separate renderers of one result; none of them computes anything.
package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/zkstage/zkstage/compiler"
)

// PlanText writes the human report of a plan.
func PlanText(w io.Writer, p *compiler.Plan) error {
	fmt.Fprintf(w, "cluster %s: ZooKeeper %s, renumber %s, reserve %d, method %s\n",
		p.Cluster, p.Version, p.Policy.Renumber, p.Policy.Reserve, p.Policy.Method)
	fmt.Fprintf(w, "plan %s: %d stages after today\n", p.Fingerprint, len(p.Stages)-1)
	if c := LeaderChain(p); c != "" {
		fmt.Fprintf(w, "expected leader after each stage: %s\n", c)
	}
	for i := range p.Stages {
		fmt.Fprintln(w)
		stageText(w, &p.Stages[i])
	}
	fmt.Fprintln(w)
	placementText(w, p)
	if len(p.Warnings) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "warnings:")
		for _, s := range p.Warnings {
			fmt.Fprintf(w, "  - %s\n", s)
		}
	}
	if len(p.Hints) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "hints:")
		for _, s := range p.Hints {
			fmt.Fprintf(w, "  - %s\n", s)
		}
	}
	return nil
}

// LeaderChain is the story's leader from today through every stage:
// "zk5-dc1 (today) -> 01 zk1-dc1 -> ...".
func LeaderChain(p *compiler.Plan) string {
	// The story is the rolling planner's: under reconfig ZooKeeper picks
	// the leader a removal hands over to.
	if len(p.Stages) < 2 || p.Policy.Method != "rolling" {
		return ""
	}
	var parts []string
	for _, s := range p.Stages {
		l := s.LeaderAfter
		if l == "" {
			l = "none"
		}
		if s.Index == 0 {
			parts = append(parts, l+" (today)")
		} else {
			parts = append(parts, fmt.Sprintf("%02d %s", s.Index, l))
		}
	}
	return strings.Join(parts, " -> ")
}

// StoryText says which leader a stage's listed order starts from and ends
// with: the order is what zkstage roll runs when that host leads.
func StoryText(s *compiler.Stage) string {
	if s.Leader == "" {
		return fmt.Sprintf("no leader at the start; expected leader after: %s", orNone(s.LeaderAfter))
	}
	t := fmt.Sprintf("expected leader at the start %s, after %s; %d %s", s.Leader, orNone(s.LeaderAfter), s.Elections, plural(s.Elections, "election"))
	return t
}

// AlternativeText is one other starting leader's run, in words.
func AlternativeText(a compiler.Alternative) string {
	t := fmt.Sprintf("if %s leads at the start: %s", strings.Join(a.Leaders, " or "), strings.Join(a.Order, ", "))
	if a.MoveLeader != "" {
		t += fmt.Sprintf(", then move-leader %s", a.MoveLeader)
	}
	return t + "; leader after: " + orNone(a.LeaderAfter)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func plural(n int, w string) string {
	if n == 1 {
		return w
	}
	return w + "s"
}

func stageText(w io.Writer, s *compiler.Stage) {
	voters := s.Voters()
	fmt.Fprintf(w, "stage %02d %s: %d members (%d voters, quorum %d), ids %s",
		s.Index, s.Name, len(s.Members), len(voters), compiler.Quorum(len(voters)), ids(s.Members))
	if len(s.Steps) > 0 {
		fmt.Fprintf(w, ", min margin %d", s.MinMargin)
	}
	fmt.Fprintln(w)
	for _, r := range s.Renamed {
		fmt.Fprintf(w, "  renamed: %s %d -> %d\n", r.Host, r.From, r.To)
	}
	if s.Kind == compiler.KindGrowRoll || s.Kind == compiler.KindShrinkRoll || s.Kind == compiler.KindBootstrap {
		for _, m := range s.Added {
			fmt.Fprintf(w, "  added:   %s id %d (%s, %s)\n", m.Host, m.ID, m.Datacenter, m.Role)
		}
		for _, m := range s.Removed {
			fmt.Fprintf(w, "  removed: %s id %d (%s)\n", m.Host, m.ID, m.Datacenter)
		}
	}
	if s.Index > 0 && s.Leader != "" {
		fmt.Fprintf(w, "  leader: %s\n", StoryText(s))
	}
	if len(s.Steps) > 0 {
		fmt.Fprintf(w, "  steps, in the order zkstage roll runs them (%s):\n", LeaderRuleText(s.LeaderRule))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for i, st := range s.Steps {
			if s.Leader == "" {
				// No story (reconfig operations): the margin and its rule.
				fmt.Fprintf(tw, "    %d.\t%s\t%s\t%s\tmargin %d\t%s\n", i+1, st.Action, st.Host, stepID(st), st.Margin, st.Rule)
				continue
			}
			fmt.Fprintf(tw, "    %d.\t%s\t%s\t%s\tmargin %d\tleader %s\t%s\n", i+1, st.Action, st.Host, stepID(st), st.Expected, orNone(st.LeaderAfter), st.Rule)
		}
		if m := s.MoveLeader; m != nil {
			fmt.Fprintf(tw, "    %d.\tmove-leader\t%s\t%s\tmargin %d\tleader %s\t%s\n", len(s.Steps)+1, m.Host, stepID(*m), m.Expected, orNone(m.LeaderAfter), m.Rule)
		}
		tw.Flush()
		for i, st := range s.Steps {
			if st.Worst != "" {
				fmt.Fprintf(w, "    worst case of step %d: %s\n", i+1, st.Worst)
			}
		}
		if m := s.MoveLeader; m != nil {
			fmt.Fprintf(w, "    step %d: the leader ends outside the most preferred datacenter and a host there holds the highest live id, so zkstage roll restarts it (roll --keep-leader skips this)\n", len(s.Steps)+1)
		}
		for _, a := range s.Alternatives {
			if compiler.Interesting(s, a) {
				fmt.Fprintf(w, "  %s\n", AlternativeText(a))
			}
		}
	}
	for _, y := range s.Why {
		fmt.Fprintf(w, "  why: %s\n", y)
	}
}

// LeaderRuleText explains a stage's leader rule in words.
func LeaderRuleText(rule string) string {
	switch rule {
	case compiler.LeaderLast:
		return "ascending id, the live leader last, decided again before every step"
	case compiler.LeaderFirst:
		return "ascending id; the live leader first if its id changes, else last, decided again before every step"
	}
	return "ascending id"
}

func stepID(st compiler.Step) string {
	if st.FromID != nil {
		return fmt.Sprintf("id %d -> %d", *st.FromID, st.ID)
	}
	return fmt.Sprintf("id %d", st.ID)
}

func ids(ms []compiler.Member) string {
	var s []string
	for _, m := range ms {
		id := fmt.Sprint(m.ID)
		if !m.Voter() {
			id += "(obs)"
		}
		s = append(s, id)
	}
	return strings.Join(s, ",")
}

func placementText(w io.Writer, p *compiler.Plan) {
	fmt.Fprintln(w, "leader placement in the final configuration (equal zxid: the highest live id wins):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  lost\tlive/quorum\twinner\tverdict")
	for _, s := range p.Placement.Scenarios {
		fmt.Fprintf(tw, "  %s\t%d/%d\t%s\t%s\n", s.Lost, s.LiveVoters, s.Quorum, winner(s), s.Verdict)
	}
	tw.Flush()
	fmt.Fprintf(w, "after a stage's last step: %s\n", LeaderMoveText)
	fmt.Fprintln(w, "datacenter loss:")
	for _, d := range p.Placement.Datacenters {
		verdict := "quorum kept"
		if !d.Survives {
			verdict = "NO QUORUM"
		}
		fmt.Fprintf(w, "  %s (%d voters): %s\n", d.Datacenter, d.Voters, verdict)
	}
}

// LeaderMoveText says what the runner does with a misplaced leader at the end
// of a stage (rollout's placeLeader), for the plan and the pull request.
const LeaderMoveText = "zkstage roll restarts a leader it finds outside the most preferred datacenter when a host there holds the highest live id (one more election, reported as a move-leader step; roll --keep-leader turns it off)"

func winner(s compiler.Scenario) string {
	if s.WinnerID == nil {
		return "-"
	}
	return fmt.Sprintf("%s (id %d, %s)", s.Winner, *s.WinnerID, s.WinnerDC)
}
