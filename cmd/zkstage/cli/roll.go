package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/render"
	"github.com/zkstage/zkstage/rollout"
)

func init() {
	var stage *int
	var execCmd, canary, output *string
	var dryRun, resume, keepLeader, noJournal, settings *bool
	var stepTimeout, handoverWait *time.Duration
	register(&Command{
		Name:    "roll",
		Usage:   "roll DIR --stage N --exec CMD [--settings] [--dry-run] [--resume] [--keep-leader] [--no-journal] [--step-timeout D] [--handover-wait D] [--canary PATH] [-o text|json]",
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
printed and the exit code is 1; 3 when the command could not run at all
(no sh, or sh's status 126 or 127). When --step-timeout ends a command, or
SIGINT/SIGTERM interrupts the roll, the command's whole process group (sh
and everything it started, such as ssh) gets SIGTERM, then SIGKILL 5s
later; an interrupted roll exits 4. See zkstage help exit-codes.

Every step whose gate passed is recorded in the rollout journal, a znode
in the ensemble itself (/zkstage/<cluster>/journal; see zkstage journal),
so that it outlives this process. --resume works out which steps are done
(the host serves with stage N's membership and id; a stopped host is down;
on ZooKeeper 3.4, which cannot show membership, a restart counts as done
only when the journal records it) and continues; without it, a stage found
partly done is refused. --no-journal neither reads nor writes it.

A restart of the live leader whose absence lets the others elect (the
plan's story: the leader goes, the others elect, it comes back and
follows) runs as two commands: ZKSTAGE_ACTION=stop, then, once another
host leads (at most --handover-wait), ZKSTAGE_ACTION=start. A plain
restart would race that election, and a leader back in time would win it
again. The summary prints each such handover.

After the last step, when the leader is outside the most preferred
datacenter while a host there holds the highest live id, the runner
restarts the leader once (one election, gated like a step) so that the
election puts it back; --keep-leader leaves it where it is. --dry-run prints the steps
and the checks without contacting the ensemble. --canary PATH runs a
background writer (sequential znodes under PATH) during the roll: the
summary shows per step the longest write stall and the failed writes; at the
end every acknowledged write must be present, then the znodes are deleted.

--settings rolls changed settings instead of a stage's steps: stage N
(0 included) is the stage the ensemble runs, and every live member
restarts once onto the files of stage N rendered from the current spec,
ascending id, the live leader last, gated like any step (the membership
does not change). zkstage stage commits such a change on its own, before
the next membership stage, and its runbook runs this. Its journal records
carry the spec's hash, so --resume tells them from the stage's own earlier
restarts. Under policy.method "reconfig" ZooKeeper owns each member's
zoo.cfg: the new settings must be edited into it in place (the settings
commit lists the edits; zkstage lab makes them), and a stage whose removed
hosts still run outside the configuration is refused.

Progress: one line per step on stderr. Summary per step on stdout.`,
		Flags: func(fs *pflag.FlagSet) {
			stage = fs.Int("stage", -1, "stage to roll (1..last)")
			execCmd = fs.String("exec", "", "command run with sh -c for every step (see above)")
			dryRun = fs.Bool("dry-run", false, "print the steps and checks; touch nothing")
			resume = fs.Bool("resume", false, "skip the steps the live state (or, on 3.4, the journal) shows done")
			keepLeader = fs.Bool("keep-leader", false, "do not restart a leader found outside the preferred datacenter at the end")
			noJournal = fs.Bool("no-journal", false, "do not read or write the rollout journal in the ensemble")
			settings = fs.Bool("settings", false, "restart every member of stage N onto its changed settings (same membership)")
			stepTimeout = fs.Duration("step-timeout", 2*time.Minute, "time allowed to each step: command and gate")
			handoverWait = fs.Duration("handover-wait", 10*time.Second, "how long a leader's restart waits, stopped, for the others to elect before it starts again")
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
			var from, to *render.Manifest
			switch {
			case *settings:
				st, err := compiler.SettingsRoll(c, p, *stage)
				if err != nil {
					return usageErr("%v", err)
				}
				from, to = render.NewManifest(c, p, *stage), render.SettingsManifest(c, p, *stage, st)
			case *stage == 0:
				return usageErr("--stage 0 is the ensemble as it is today: nothing to roll (stages 1..%d; --settings rolls new settings onto it)", len(p.Stages)-1)
			default:
				from, to = render.NewManifest(c, p, *stage-1), render.NewManifest(c, p, *stage)
			}
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
			// Every step runs sh -c: without sh no step can run, which is
			// the machine's fault, not the spec's; say so before touching
			// the ensemble.
			if _, err := exec.LookPath("sh"); err != nil {
				return envErr("--exec needs sh to run the command: %v", err)
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			x := &lastErrExec{x: rollout.Shell{Command: *execCmd, Output: env.Stderr}}
			res, err := rollout.Run(ctx, rollout.Options{
				From: from, To: to, Dir: absDir,
				Exec:        x,
				StepTimeout: *stepTimeout, HandoverWait: *handoverWait, Resume: *resume, Canary: *canary, KeepLeader: *keepLeader, NoJournal: *noJournal,
				Progress: func(e rollout.Event) { printProgress(env, e) },
			})
			// A signal cancels ctx; whatever Run made of that (a step failed
			// "interrupted: ...", or an error), the roll was interrupted
			// (4), which is not a failed gate (1). The summary still prints.
			sig := ctx.Err() != nil
			if err != nil {
				if sig {
					return interrupted("interrupted: %v", err)
				}
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
				fail := checkFailed
				switch {
				case sig:
					fail = interrupted
				case x.notRunnable():
					fail = envErr
				}
				if res.Failure != nil {
					for _, e := range res.Failure.Evidence {
						fmt.Fprintf(env.Stderr, "  %s\n", e)
					}
					return fail("stopped at %s %s: %s", res.Failure.Action, res.Failure.Host, res.Failure.Reason)
				}
				return fail("%s", res.Message)
			}
			// A signal after the last gate passed and Run verified the end
			// leaves the stage done: that is success, whatever came late.
			return nil
		},
	})
}

// lastErrExec runs the steps with x and keeps the last step's error, so the
// CLI can tell a command that could not run at all (exit 3) from one that
// failed (exit 1) without the runner's result carrying error types.
type lastErrExec struct {
	x    rollout.Executor
	mu   sync.Mutex
	last error
}

func (l *lastErrExec) Exec(ctx context.Context, step rollout.StepEnv) error {
	err := l.x.Exec(ctx, step)
	l.mu.Lock()
	l.last = err
	l.mu.Unlock()
	return err
}

// notRunnable tells whether the last step's command could not be run.
func (l *lastErrExec) notRunnable() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	var ee *rollout.ExitError
	return errors.As(l.last, &ee) && ee.NotRunnable()
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
	fmt.Fprintln(tw, "#\tACTION\tHOST\tADDRESS\tID\tMARGIN\tFLOOR\tLEADER\tRULE")
	for _, s := range pv.Steps {
		id := fmt.Sprint(s.ID)
		if s.FromID != nil {
			id = fmt.Sprintf("%d -> %d", *s.FromID, s.ID)
		}
		leader := s.LeaderAfter
		if leader == "" {
			leader = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", s.Plan, s.Action, s.Host, s.Address, id, s.Expected, s.Margin, leader, s.Rule)
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
	if mv := res.LeaderMove; mv != nil {
		line := fmt.Sprintf("%d\t%s\t%s\t%d\t%s\t%s\t%s\t%d\t%d", mv.K, mv.Host, mv.Action, mv.ID, mv.Status,
			mv.Duration.Round(10*time.Millisecond), mv.GateTime.Round(10*time.Millisecond), mv.PlannedMargin, mv.Elections)
		if canary {
			line += "\t-\t-"
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
	steps := res.Steps
	if res.LeaderMove != nil {
		steps = append(slices.Clone(steps), *res.LeaderMove)
	}
	for _, s := range steps {
		if s.Handover != "" {
			fmt.Fprintf(w, "leader handover at step %d (%s): %s\n", s.K, s.Host, s.Handover)
		}
	}
	if mv := res.LeaderMove; mv != nil {
		fmt.Fprintf(w, "leader moved: %s (leader now %s)\n", mv.Reason, orDash(mv.LeaderAfter))
	}
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
