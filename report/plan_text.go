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
	return nil
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
	if len(s.Steps) > 0 {
		fmt.Fprintf(w, "  steps (%s):\n", LeaderRuleText(s.LeaderRule))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for i, st := range s.Steps {
			fmt.Fprintf(tw, "    %d.\t%s\t%s\t%s\tmargin %d\t%s\n", i+1, st.Action, st.Host, stepID(st), st.Margin, st.Rule)
		}
		tw.Flush()
	}
	for _, y := range s.Why {
		fmt.Fprintf(w, "  why: %s\n", y)
	}
}

// LeaderRuleText explains a stage's leader rule in words.
func LeaderRuleText(rule string) string {
	switch rule {
	case compiler.LeaderLast:
		return "ascending id, the live leader last"
	case compiler.LeaderFirst:
		return "ascending id; the live leader first if its id changes, else last"
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
