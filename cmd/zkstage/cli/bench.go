package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/zkstage/zkstage/lab"
	"github.com/zkstage/zkstage/rollout"
)

func init() {
	var state, zkHome, zkHomes, output *string
	var tick *int
	var stepTimeout, handoverWait *time.Duration
	var killOutside *bool
	var methods *[]string
	register(&Command{
		Name:    "bench",
		Usage:   "bench DIR [--state DIR] [--methods M,...] [--kill-outside] [--step-timeout D] [--handover-wait D] [--tick-time MS] [--zookeeper-home DIR] [--zookeeper-homes DIR] [-o text|json]",
		Example: "zkstage bench clusters/lab --state /tmp/bench",
		Short:   "measure rolling, reconfig and stop-all/start-all on the lab",
		Long: `Runs the change of DIR three times on fresh lab ensembles (zkstage lab: one
real ZooKeeper per host on its loopback address), with a client writing
sequential znodes the whole time on its own session:

  rolling   stage 00 up, then every stage of the rolling plan rolled by the
            runner (zkstage roll's gates, leader last)
  reconfig  stage 00 up, then every stage of the dynamic-reconfiguration
            plan (3.5.3+; skipACL in the lab): the enabling rolling restart,
            then reconfig -remove/-add; "after enabling" sums the change
            proper
  naive     stage 00 up, then every server stopped, the final config written
            and every server started

The spec's own method is one of the two plans; the other is planned from
the same spec (a method that cannot plan the change is skipped, with why).
It prints, per stage and for the naive method: duration, longest write
stall (the longest gap between two acknowledged writes), failed writes,
leader elections (from the leader's epoch; "2 (plan 1)" when the plan
predicted another number), the step that held the stall and the leader at
the end, plus
any acknowledged write missing at the end. The spec must use loopback
addresses (clusters/lab). ZooKeeper is found as by zkstage lab: the
spec's release line, from --zookeeper-home, --zookeeper-homes or Debian's
package. The labs live under --state (default: a new temporary folder,
removed afterwards); they are stopped at the end.

--methods runs only the named methods. --kill-outside stops a host that
runs outside the committed configuration (under reconfig: the rename's
restart, the stop of a removed host) with SIGKILL, as zkstage lab --kill
does for ${ZKSTAGE_OUTSIDE:+--kill}: its clients then reconnect at once
instead of waiting out the JVM's exit (about 0.3 s after SIGTERM).`,
		Flags: func(fs *pflag.FlagSet) {
			state = fs.String("state", "", "folder for the labs (rolling/, reconfig/, naive/); must not hold them yet")
			zkHome, zkHomes = zookeeperFlags(fs)
			tick = fs.Int("tick-time", 200, "tickTime override in ms (0: keep the rendered one)")
			stepTimeout = fs.Duration("step-timeout", 2*time.Minute, "time allowed to each step and to the naive restart")
			handoverWait = fs.Duration("handover-wait", 10*time.Second, "as zkstage roll: how long a leader's restart waits, stopped, for the others to elect")
			methods = fs.StringSlice("methods", nil, "run only these methods: "+strings.Join(rollout.BenchMethods, ", ")+" (default: all)")
			killOutside = fs.Bool("kill-outside", false, "stop hosts outside the committed configuration with SIGKILL")
			output = outputFlag(fs, "text", "json")
		},
		Run: func(env *Env, _ *pflag.FlagSet) error {
			if err := checkFormat(*output, "text", "json"); err != nil {
				return err
			}
			dir, err := oneDir(env, "bench")
			if err != nil {
				return err
			}
			for _, m := range *methods {
				if !slices.Contains(rollout.BenchMethods, m) {
					return usageErr("--methods: unknown method %q (want %s)", m, strings.Join(rollout.BenchMethods, ", "))
				}
			}
			c, p, _, err := loadPlan(env, dir)
			if err != nil {
				return err
			}
			st := *state
			if st == "" {
				tmp, err := os.MkdirTemp("", "zkstage-bench-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(tmp)
				st = tmp
			}
			// Both labs run the spec's release line, as zkstage lab does.
			lo := lab.Options{ZooKeeperHome: *zkHome, Homes: *zkHomes, Version: c.Version.String(), TickTime: *tick, StopTimeout: 10 * time.Second, JVMFlags: labJVMFlags()}
			if _, err := lab.FindRuntime(lo.ZooKeeperHome, lo.Homes, lo.Version); err != nil {
				return runtimeErr(err)
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			res, err := rollout.Bench(ctx, rollout.BenchOptions{Cluster: c, Plan: p, State: st,
				Lab:         lo,
				StepTimeout: *stepTimeout, HandoverWait: *handoverWait, KillOutside: *killOutside, Methods: *methods,
				Progress: func(s string) { fmt.Fprintln(env.Stderr, s) }})
			if res != nil {
				if *output == "json" {
					if werr := writeJSON(env.Stdout, res); werr != nil {
						return werr
					}
				} else {
					printBench(env, res)
				}
			}
			// A signal cancels ctx, and Bench then fails on it: report the
			// interrupt (4), not a failed measurement (1).
			if ctx.Err() != nil {
				msg := "interrupted"
				if err != nil {
					msg += ": " + err.Error()
				}
				return interrupted("%s", msg)
			}
			if isRuntimeErr(err) {
				return envErr("%v", err)
			}
			if err != nil {
				return checkFailed("%v", err)
			}
			for m, n := range res.Lost {
				if n > 0 {
					return checkFailed("%s: %d acknowledged writes lost", m, n)
				}
			}
			return nil
		},
	})
}

func printBench(env *Env, res *rollout.BenchResult) {
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "METHOD\tSTAGE\tSTEPS\tDURATION\tLONGEST STALL\tSTALL IN STEP\tFAILED WRITES\tACKED WRITES\tELECTIONS\tLEADER AFTER")
	for _, r := range res.Rows {
		stage := fmt.Sprintf("%02d %s", r.Stage, r.Name)
		if r.Stage < 0 {
			stage = r.Name
		}
		if r.Method == "naive" {
			stage = r.Name
		}
		elections := strconv.Itoa(r.Elections)
		if r.Method != "naive" && r.Elections != r.PlannedElections {
			elections += fmt.Sprintf(" (plan %d)", r.PlannedElections)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", r.Method, stage, r.Steps, r.Duration.Round(10*time.Millisecond),
			r.Stall.Round(10*time.Millisecond), orDash(r.StallStep), r.Failed, r.Acked, elections, orDash(r.Leader))
	}
	tw.Flush()
	for _, m := range []string{"rolling", "reconfig", "naive"} {
		if n, ok := res.Lost[m]; ok {
			fmt.Fprintf(env.Stdout, "%s: %d acknowledged writes lost\n", m, n)
		}
	}
	for _, s := range res.Skipped {
		fmt.Fprintf(env.Stdout, "skipped %s\n", s)
	}
	if res.KillOutside {
		fmt.Fprintln(env.Stdout, "hosts outside the configuration were stopped with SIGKILL (--kill-outside)")
	}
}
