package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/zkstage/zkstage/render"
	"github.com/zkstage/zkstage/rollout"
)

func init() {
	var stage *int
	var execCmd, canary, output *string
	var dryRun, resume *bool
	var stepTimeout *time.Duration
	register(&Command{
		Name:    "roll",
		Usage:   "roll DIR --stage N --exec CMD [--dry-run] [--resume] [--step-timeout D] [--canary PATH] [-o text|json]",
		Example: "zkstage roll clusters/lab --stage 1 --dry-run --exec 'ssh \"$ZKSTAGE_HOST\" sudo systemctl $ZKSTAGE_ACTION zookeeper'",
		Short:   "execute one stage's steps on the live ensemble, gated on its live state",
		Long: `Runs the steps of stage N (N >= 1) on the live ensemble, in the plan's
order, deciding before every step from the live leader (srvr on every host)
whether it moves: the leader's step runs last, or first in a rename stage
when the leader's own id changes.

Each step runs CMD with sh -c. The step is described only by environment
variables, never pasted into the command:
  ZKSTAGE_ACTION   restart | start | stop
  ZKSTAGE_HOST     host name from the spec
  ZKSTAGE_ADDRESS  the host's address
  ZKSTAGE_MYID     the id the host runs after the step
  ZKSTAGE_STAGE    N
  ZKSTAGE_CLUSTER  the cluster's name
  ZKSTAGE_DIR      DIR
CMD must make the host run stage N's files (restart, start) or stop it.
For the lab (zkstage lab):
  zkstage roll clusters/lab --stage N --exec \
    'zkstage lab "$ZKSTAGE_ACTION" "$ZKSTAGE_DIR" "$ZKSTAGE_HOST" --stage "$ZKSTAGE_STAGE"'
(add --state DIR to the lab command if the lab does not use its default
state directory).

Before a step: every host that should run serves, runs the membership of
stage N-1 or N, and the step's margin computed on the live state is at least
the planned one (another host already down refuses the step). After it, the
gate: the host serves in its role's mode with stage N's membership and id
(conf), every live host serves, one leader in a datacenter allowed to lead,
whose mntr shows exactly the other live hosts as synced learners. A failed
command, refused step or gate not passed within --step-timeout stops the
roll at once (no other host is touched): the host and the reason are
printed and the exit code is 1.

--resume works out from the live state which steps are done (the host serves
with stage N's membership and id; a stopped host is down) and continues;
without it, a stage found partly done is refused. --dry-run prints the steps
and the checks without contacting the ensemble. --canary PATH runs a
background writer (sequential znodes under PATH) during the roll: the
summary shows per step the longest write stall and the failed writes; at the
end every acknowledged write must be present, then the znodes are deleted.

Progress: one line per step on stderr. Summary per step on stdout.`,
		Flags: func(fs *pflag.FlagSet) {
			stage = fs.Int("stage", -1, "stage to roll (1..last)")
			execCmd = fs.String("exec", "", "command run with sh -c for every step (see above)")
			dryRun = fs.Bool("dry-run", false, "print the steps and checks; touch nothing")
			resume = fs.Bool("resume", false, "skip the steps the live state shows done")
			stepTimeout = fs.Duration("step-timeout", 2*time.Minute, "time allowed to each step: command and gate")
			canary = fs.String("canary", "", "znode path for a background writer measuring write stalls")
			output = outputFlag(fs, "text", "json")
		},
		Run: func(env *Env, _ *pflag.FlagSet) error {
			if err := checkFormat(*output, "text", "json"); err != nil {
				return err
			}
			dir, err := oneDir(env, "roll")
			if err != nil {
				return err
			}
			if *stage < 0 {
				return usageErr("roll needs --stage N")
			}
			if !*dryRun && strings.TrimSpace(*execCmd) == "" {
				return usageErr("roll needs --exec CMD (or --dry-run)")
			}
			if *stepTimeout <= 0 {
				return usageErr("--step-timeout %s: want a positive duration such as 90s", *stepTimeout)
			}
			if *canary != "" && (!strings.HasPrefix(*canary, "/") || *canary == "/" || strings.HasSuffix(*canary, "/")) {
				return usageErr("--canary %q: want an absolute znode path such as /zkstage-canary", *canary)
			}
			c, p, _, err := loadPlan(env, dir)
			if err != nil {
				return err
			}
			if *stage >= len(p.Stages) {
				return usageErr("--stage %d: the plan has stages 0..%d", *stage, len(p.Stages)-1)
			}
			if *stage == 0 {
				return usageErr("--stage 0 is the ensemble as it is today: nothing to roll (stages 1..%d)", len(p.Stages)-1)
			}
			from, to := render.NewManifest(c, p, *stage-1), render.NewManifest(c, p, *stage)
			absDir, err := filepath.Abs(dir)
			if err != nil {
				return err
			}
			if *dryRun {
				pv, err := rollout.NewPreview(from, to, absDir)
				if err != nil {
					return err
				}
				if *output == "json" {
					return writeJSON(env.Stdout, pv)
				}
				printPreview(env, pv, *execCmd)
				return nil
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			res, err := rollout.Run(ctx, rollout.Options{
				From: from, To: to, Dir: absDir,
				Exec:        rollout.Shell{Command: *execCmd, Output: env.Stderr},
				StepTimeout: *stepTimeout, Resume: *resume, Canary: *canary,
				Progress: func(e rollout.Event) { printProgress(env, e) },
			})
			if err != nil {
				return err
			}
			if *output == "json" {
				if err := writeJSON(env.Stdout, res); err != nil {
					return err
				}
			} else {
				printRoll(env, res, *canary != "")
			}
			if !res.OK {
				if res.Failure != nil {
					for _, e := range res.Failure.Evidence {
						fmt.Fprintf(env.Stderr, "  %s\n", e)
					}
					return checkFailed("stopped at %s %s: %s", res.Failure.Action, res.Failure.Host, res.Failure.Reason)
				}
				return checkFailed("%s", res.Message)
			}
			return nil
		},
	})
}

func printProgress(env *Env, e rollout.Event) {
	lead := ""
	if e.Leader {
		lead = " (leader)"
	}
	switch e.Kind {
	case rollout.EventDone:
		fmt.Fprintf(env.Stderr, "[%d/%d] %s %s%s, id %d: done in %s (%s)\n", e.K, e.N, e.Step.Host, e.Step.Action, lead, e.Step.ID, e.Elapsed.Round(10*time.Millisecond), e.Message)
	case rollout.EventSkipped:
		fmt.Fprintf(env.Stderr, "[%d/%d] %s %s, id %d: already done\n", e.K, e.N, e.Step.Host, e.Step.Action, e.Step.ID)
	case rollout.EventFailed:
		fmt.Fprintf(env.Stderr, "[%d/%d] %s %s%s, id %d: FAILED after %s: %s\n", e.K, e.N, e.Step.Host, e.Step.Action, lead, e.Step.ID, e.Elapsed.Round(10*time.Millisecond), e.Message)
	}
}

func printPreview(env *Env, pv *rollout.Preview, cmd string) {
	w := env.Stdout
	fmt.Fprintf(w, "stage %02d %s (%s): %d steps, min margin %d\n", pv.Stage, pv.StageName, pv.Kind, len(pv.Steps), pv.MinMargin)
	fmt.Fprintf(w, "order: %s\n\n", pv.Order)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tACTION\tHOST\tADDRESS\tID\tMARGIN\tRULE")
	for _, s := range pv.Steps {
		id := fmt.Sprint(s.ID)
		if s.FromID != nil {
			id = fmt.Sprintf("%d -> %d", *s.FromID, s.ID)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\n", s.Plan, s.Action, s.Host, s.Address, id, s.Margin, s.Rule)
	}
	tw.Flush()
	if cmd != "" {
		fmt.Fprintf(w, "\ncommand for each step: sh -c %q\n", cmd)
	}
	if len(pv.Steps) > 0 {
		fmt.Fprintf(w, "environment of step 1: %s\n", strings.Join(pv.Steps[0].Env, " "))
	}
	fmt.Fprintln(w, "\nbefore each step:")
	for _, c := range pv.Before {
		fmt.Fprintf(w, "  - %s\n", c)
	}
	fmt.Fprintln(w, "gate after each step:")
	for _, c := range pv.Gate {
		fmt.Fprintf(w, "  - %s\n", c)
	}
}

func printRoll(env *Env, res *rollout.Result, canary bool) {
	w := env.Stdout
	verdict := "OK"
	if !res.OK {
		verdict = "STOPPED"
	}
	fmt.Fprintf(w, "stage %02d %s: %s in %s, %d election(s), leader %s\n", res.Stage, res.StageName, verdict,
		res.Duration.Round(10*time.Millisecond), res.Elections, orDash(res.Leader))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := "#\tHOST\tACTION\tID\tSTATUS\tDURATION\tGATE\tMARGIN\tELECTIONS"
	if canary {
		head += "\tSTALL\tFAILED WRITES"
	}
	fmt.Fprintln(tw, head)
	for _, s := range res.Steps {
		k := "-"
		if s.K > 0 {
			k = fmt.Sprint(s.K)
		}
		dur, gate := "-", "-"
		if s.Status == rollout.StatusDone || s.Status == rollout.StatusFailed || s.Status == rollout.StatusRefused {
			dur = s.Duration.Round(10 * time.Millisecond).String()
		}
		if s.Status == rollout.StatusDone {
			gate = s.GateTime.Round(10 * time.Millisecond).String()
		}
		margin := fmt.Sprintf("%d", s.PlannedMargin)
		if s.LiveMargin != nil {
			margin = fmt.Sprintf("%d (live %d)", s.PlannedMargin, *s.LiveMargin)
		}
		line := fmt.Sprintf("%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%d", k, s.Host, s.Action, s.ID, s.Status, dur, gate, margin, s.Elections)
		if canary {
			if s.Writes != nil {
				line += fmt.Sprintf("\t%s\t%d", s.Writes.Stall.Round(10*time.Millisecond), s.Writes.Failed)
			} else {
				line += "\t-\t-"
			}
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
	if res.Writes != nil {
		fmt.Fprintf(w, "writes: %d acknowledged, %d failed, longest stall %s", res.Writes.Acked, res.Writes.Failed, res.Writes.Stall.Round(10*time.Millisecond))
		if len(res.MissingWrites) > 0 {
			fmt.Fprintf(w, ", %d acknowledged writes MISSING", len(res.MissingWrites))
		}
		fmt.Fprintln(w)
	}
	for _, warn := range res.Warnings {
		fmt.Fprintf(env.Stderr, "warning: %s\n", warn)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
