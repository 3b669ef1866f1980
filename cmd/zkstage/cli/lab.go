package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/zkstage/zkstage/lab"
	"github.com/zkstage/zkstage/render"
)

// EnvLabState overrides the lab's default state directory.
const EnvLabState = "ZKSTAGE_LAB_STATE"

func init() {
	var stage, tick *int
	var state, zkHome, output *string
	register(&Command{
		Name:    "lab",
		Usage:   "lab (up DIR | down DIR | status DIR | start|stop|restart DIR HOST) [--stage N] [--state DIR] [--tick-time MS] [--zookeeper-home DIR] [-o text|json]",
		Example: "zkstage lab up clusters/lab\nzkstage lab restart clusters/lab zk1-dc1 --stage 1\nzkstage lab down clusters/lab",
		Short:   "run a real ZooKeeper ensemble on loopback from a stage's files",
		Long: `Runs one real ZooKeeper server per host live at the end of stage N
(default 0), each on its own 127.x address, from the stage's rendered
zoo.cfg and myid plus lab-only overrides: data, log and pid under the state
directory, clientPortAddress = the host's address, admin.enableServer=false,
4lw.commands.whitelist=*, and --tick-time. Addresses outside 127.0.0.0/8 are
refused.

  up       start the stage's hosts; hosts already running that config are
           kept (up twice starts nothing), hosts whose config changed are
           restarted, lab hosts not in the stage are stopped
  down     stop every server this lab started (data is kept)
  status   pid, mode (from srvr) and log of every host
  start, stop, restart HOST
           one host, with the files of --stage N (the rollout command:
           zkstage lab restart clusters/lab $ZKSTAGE_HOST --stage N)

ZooKeeper comes from Debian's zookeeper package (/usr/share/java), or from
an upstream install given by --zookeeper-home or ZKSTAGE_ZOOKEEPER_HOME.
The state directory defaults to $ZKSTAGE_LAB_STATE, else
$TMPDIR/zkstage-lab-<cluster name>. Servers are stopped with SIGTERM, then
SIGKILL after 10 s; only processes whose command line is this lab's server
with this lab's config are ever signalled.`,
		Flags: func(fs *pflag.FlagSet) {
			stage = fs.Int("stage", 0, "stage whose files the hosts run")
			state = fs.String("state", "", "state directory (data, logs, pids)")
			zkHome = fs.String("zookeeper-home", "", "upstream ZooKeeper install (default: $"+lab.EnvZooKeeperHome+", then Debian's package)")
			tick = fs.Int("tick-time", 200, "tickTime override in ms (0: keep the rendered one)")
			output = outputFlag(fs, "text", "json")
		},
		Run: func(env *Env, _ *pflag.FlagSet) error {
			if err := checkFormat(*output, "text", "json"); err != nil {
				return err
			}
			if len(env.Args) < 2 {
				return usageErr("lab needs an action and a cluster directory: lab up DIR")
			}
			action, dir := env.Args[0], env.Args[1]
			wantArgs := 2
			switch action {
			case "up", "down", "status":
			case "start", "stop", "restart":
				wantArgs = 3
			default:
				return usageErr("unknown lab action %q (want up, down, status, start, stop or restart)", action)
			}
			if len(env.Args) != wantArgs {
				return usageErr("lab %s takes %d argument(s) after the action, got %d", action, wantArgs-1, len(env.Args)-1)
			}
			c, p, _, err := loadPlan(env, dir)
			if err != nil {
				return err
			}
			if *stage < 0 || *stage >= len(p.Stages) {
				return usageErr("--stage %d: the plan has stages 0..%d", *stage, len(p.Stages)-1)
			}
			st := *state
			if st == "" {
				st = os.Getenv(EnvLabState)
			}
			if st == "" {
				st = filepath.Join(os.TempDir(), "zkstage-lab-"+c.Name)
			}
			l, err := lab.New(lab.Options{State: st, ZooKeeperHome: *zkHome, TickTime: *tick})
			if err != nil {
				var me *lab.MissingError
				if errors.As(err, &me) {
					return usageErr("%v", err)
				}
				return err
			}
			rendered, err := render.StageFiles(c, p, *stage)
			if err != nil {
				return err
			}
			files := make([]lab.File, len(rendered))
			for i, f := range rendered {
				files[i] = lab.File{Path: f.Path, Data: f.Data}
			}
			ctx := context.Background()
			var res []lab.HostStatus
			var one lab.HostStatus
			switch action {
			case "up":
				res, err = l.Up(ctx, files, *stage)
			case "down":
				res, err = l.Down(ctx)
			case "status":
				res, err = l.Status(ctx)
			case "start":
				one, err = l.Start(ctx, files, *stage, env.Args[2])
				res = []lab.HostStatus{one}
			case "stop":
				one, err = l.Stop(ctx, env.Args[2])
				res = []lab.HostStatus{one}
			case "restart":
				one, err = l.Restart(ctx, files, *stage, env.Args[2])
				res = []lab.HostStatus{one}
			}
			if *output == "json" {
				if res == nil {
					res = []lab.HostStatus{}
				}
				if werr := writeJSON(env.Stdout, map[string]interface{}{"state": l.State(), "zookeeper": l.Runtime().Source, "hosts": res}); werr != nil {
					return werr
				}
			} else {
				printLab(env, l, res)
			}
			if err != nil {
				return checkFailed("%v", err)
			}
			return nil
		},
	})
}

func printLab(env *Env, l *lab.Lab, res []lab.HostStatus) {
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tADDRESS\tID\tSTAGE\tPID\tMODE\tSTARTED\tACTION\tLOG")
	for _, s := range res {
		if s.Host == "" {
			continue
		}
		pid, started := "-", "-"
		if s.Running {
			pid = fmt.Sprint(s.Pid)
		}
		if !s.StartedAt.IsZero() {
			started = s.StartedAt.Local().Format(time.TimeOnly)
		}
		action := s.Action
		if action == "" {
			action = "-"
		}
		fmt.Fprintf(tw, "%s\t%s:%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\n", s.Host, s.Address, s.ClientPort, s.MyID, s.Stage, pid,
			strings.ReplaceAll(s.Mode, "\t", " "), started, action, s.Log)
	}
	tw.Flush()
	fmt.Fprintf(env.Stderr, "lab state: %s (ZooKeeper: %s)\n", l.State(), l.Runtime().Source)
}
