package gitops

import (
	"fmt"
	"io"
	"strings"
)

func stageLabel(k int) string {
	if k < 0 {
		return "none"
	}
	return fmt.Sprintf("%02d", k)
}

// WriteText prints what Stage did, one line per branch.
func (r *StageResult) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "cluster %s (%s): plan %s, base %s at %s is at stage %s", r.Cluster, r.Dir, r.Fingerprint, r.Base, short(r.BaseCommit), stageLabel(r.BaseStage))
	if r.BaseFingerprint != "" && r.BaseFingerprint != r.Fingerprint {
		fmt.Fprintf(w, " of plan %s (the spec changed)", r.BaseFingerprint)
	}
	fmt.Fprintln(w)
	if len(r.Branches) == 0 {
		fmt.Fprintln(w, "nothing to stage: the base is at the plan's last stage")
	}
	for _, b := range r.Branches {
		fmt.Fprintf(w, "%-8s %s %s  %s\n", b.Action, short(b.Commit), b.Name, b.Title)
		if b.Action == Updated {
			fmt.Fprintf(w, "         was %s: %s\n", short(b.Previous), b.Reason)
			for _, c := range b.Changed {
				fmt.Fprintf(w, "           %s %s\n", c.Status, c.Path)
			}
		}
	}
	for _, n := range r.Merged {
		fmt.Fprintf(w, "merged   %s (the base holds this stage; left alone)\n", n)
	}
	for _, n := range r.Stale {
		fmt.Fprintf(w, "stale    %s (not in this plan; not deleted)\n", n)
	}
	fmt.Fprintf(w, "author %s (%s)\n", r.Author, r.AuthorSource)
	if r.Remote != "" {
		fmt.Fprintf(w, "pushed %d branch(es) to %s\n", len(r.Pushed), r.Remote)
	}
	return nil
}

// WriteText prints the gate's verdict for a terminal or a CI log.
func (r *GateResult) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "gate %s: head (%s) stage %s plan %s onto base %s stage %s plan %s\n",
		r.Dir, r.Head, stageLabel(r.HeadStage), orDash(r.HeadFingerprint), r.Base, stageLabel(r.BaseStage), orDash(r.BaseFingerprint))
	for i, c := range r.Checks {
		fmt.Fprintf(w, "%d. %-7s %s: %s\n", i+1, strings.ToUpper(c.Status), c.Name, c.Message)
		for _, d := range c.Details {
			fmt.Fprintf(w, "     %s\n", d)
		}
	}
	verdict := "PASS"
	if !r.OK() {
		verdict = "FAIL"
	} else if r.Offline {
		verdict = "PASS (offline: the live ensemble was not checked)"
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
	fmt.Fprintf(w, "gate: %s\n", verdict)
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

var statusIcon = map[string]string{GatePass: "✅ pass", GateFail: "❌ fail", GateSkipped: "⏭️ skipped"}

// WriteMarkdown writes the verdict as a pull request comment.
func (r *GateResult) WriteMarkdown(w io.Writer) error {
	verdict := "✅ passed"
	if !r.OK() {
		verdict = "❌ failed"
	} else if r.Offline {
		verdict = "✅ passed (offline: the live ensemble was not checked)"
	}
	cluster := r.Cluster
	if cluster == "" {
		cluster = r.Dir
	}
	fmt.Fprintf(w, "### zkstage gate %s: `%s` stage %s onto `%s` stage %s\n\n", verdict, cluster, stageLabel(r.HeadStage), r.Base, stageLabel(r.BaseStage))
	fmt.Fprintf(w, "Head plan `%s`, base plan `%s`, spec compiles to `%s`.\n\n", orDash(r.HeadFingerprint), orDash(r.BaseFingerprint), orDash(r.PlanFingerprint))
	fmt.Fprintln(w, "| # | check | result | |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for i, c := range r.Checks {
		fmt.Fprintf(w, "| %d | %s | %s | %s |\n", i+1, c.Title, statusIcon[c.Status], mdCell(c.Message))
	}
	for i, c := range r.Checks {
		if len(c.Details) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n<details><summary>%d. %s: %d detail(s)</summary>\n\n", i+1, c.Name, len(c.Details))
		for _, d := range c.Details {
			fmt.Fprintf(w, "- `%s`\n", strings.ReplaceAll(d, "`", "'"))
		}
		fmt.Fprintln(w, "\n</details>")
	}
	if len(r.Warnings) > 0 {
		fmt.Fprintln(w, "\n**Warnings** (they do not fail the gate):")
		fmt.Fprintln(w)
		for _, warn := range r.Warnings {
			fmt.Fprintf(w, "- %s\n", mdCell(warn))
		}
	}
	return nil
}

func mdCell(s string) string {
	return strings.NewReplacer("|", "\\|", "\n", " ").Replace(s)
}
