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
	"github.com/zkstage/zkstage/rollout"
)

// EnvLabState overrides the lab's default state directory.
const EnvLabState = "ZKSTAGE_LAB_STATE"

func init() {
	var stage, tick *int
	var state, zkHome, zkHomes, output, hostFiles *string
	var kill *bool
	register(&Command{
		Name:    "lab",
		Usage:   "lab (up DIR | down DIR | status DIR | start|stop|restart DIR HOST) [--stage N] [--state DIR] [--files HOSTDIR] [--kill] [--tick-time MS] [--zookeeper-home DIR] [--zookeeper-homes DIR] [-o text|json]",
		Example: "zkstage lab up clusters/lab\nzkstage lab restart clusters/lab zk1-dc1 --stage 1\nzkstage lab down clusters/lab",
		Short:   "run a real ZooKeeper ensemble on loopback from a stage's files",
		Long: `Runs one real ZooKeeper server per host live at the end of stage N
(default 0), each on its own 127.x address, from the stage's rendered
zoo.cfg and myid plus lab-only overrides: data, log and pid under the state
directory, clientPortAddress = the host's address, admin.enableServer=false
(3.5+), 4lw.commands.whitelist=* (3.4.10+), and --tick-time. Addresses outside 127.0.0.0/8 are
refused.

  up       start the stage's hosts; hosts already running that config are
           kept (up twice starts nothing), hosts whose config changed are
           restarted, lab hosts not in the stage are stopped
  down     stop every server this lab started (data is kept)
  status   pid, mode (from srvr) and log of every host
  start, stop, restart HOST
           one host, with the files of --stage N (the rollout command:
           zkstage lab restart clusters/lab $ZKSTAGE_HOST --stage N)

With --files HOSTDIR, start and restart run the host from the zoo.cfg and
myid in HOSTDIR instead of the stage's render: the lab then stands in for
the service manager of a host whose files config management installed
(examples/ansible does so). A static zoo.cfg is copied with the overrides;
one with a dynamicConfigFile (dynamic reconfiguration) is run in place, so
that ZooKeeper rewrites the installed zoo.cfg and writes its dynamic files
beside it as on a real host: the lab then edits only its override keys in
that file (config management must leave them alone) and points a
dynamicConfigFile outside HOSTDIR at the same name in HOSTDIR.

The servers run the spec's ZooKeeper release line (its version: 3.4.6
runs a 3.4 install, and so on): an upstream install given by
--zookeeper-home or ZKSTAGE_ZOOKEEPER_HOME (it must be of that line), else
the folder named by the version (3.4.6/, else the newest 3.4.x/) in
--zookeeper-homes or ZKSTAGE_ZOOKEEPER_HOMES, a folder of upstream installs,
else Debian's zookeeper package (/usr/share/java, 3.8). down, status and
stop need no ZooKeeper at all: they work whatever runtime is found, or none.
The state directory defaults to $ZKSTAGE_LAB_STATE, else
$TMPDIR/zkstage-lab-<cluster name>. $SERVER_JVMFLAGS, split on white
space as zkServer.sh does, is added to every server's java command line:
with policy.superDigestFrom "jvmflags" it carries
-Dzookeeper.DigestAuthenticationProvider.superDigest=user:digest, and it
must then be set for every lab and roll command that starts or restarts a
server. Servers are stopped with SIGTERM, then
SIGKILL after 10 s; with --kill (stop, restart), with SIGKILL at once, as
an operator may stop a host that runs outside the committed configuration
(zkstage roll sets ZKSTAGE_OUTSIDE=1 for its step): its clients then
reconnect elsewhere at once instead of after the JVM's exit (about 0.3 s
after SIGTERM). Only processes whose command line is this lab's server
with this lab's config are ever signalled.`,
		Flags: func(fs *pflag.FlagSet) {
			stage = fs.Int("stage", 0, "stage whose files the hosts run")
			state = fs.String("state", "", "state directory (data, logs, pids)")
			zkHome, zkHomes = zookeeperFlags(fs)
			kill = fs.Bool("kill", false, "stop|restart: stop the server with SIGKILL (for a host outside the configuration: ${ZKSTAGE_OUTSIDE:+--kill})")
			hostFiles = fs.String("files", "", "start|restart: the folder holding the host's installed zoo.cfg and myid, run in place under reconfiguration (default: the stage's render)")
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
			if *hostFiles != "" && action != "start" && action != "restart" {
				return usageErr("--files goes with lab start or lab restart")
			}
			if *kill && action != "stop" && action != "restart" {
				return usageErr("--kill goes with lab stop or lab restart")
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
			opts := lab.Options{State: st, ZooKeeperHome: *zkHome, Homes: *zkHomes, Version: c.Version.String(), TickTime: *tick, JVMFlags: labJVMFlags()}
			l, err := lab.New(opts)
			var noRuntime error
			if isRuntimeErr(err) && (action == "down" || action == "status" || action == "stop") {
				// Stopping and probing read the state directory only: a
				// missing or other runtime must never keep a lab running.
				noRuntime = err
				l, err = lab.Open(opts)
			}
			if err != nil {
				return runtimeErr(err)
			}
			var files []lab.File
			if *hostFiles == "" {
				if files, err = rollout.LabFiles(c, p, *stage); err != nil {
					return err
				}
			} else {
				for _, name := range []string{"zoo.cfg", "myid"} {
					if _, err := os.Stat(filepath.Join(*hostFiles, name)); err != nil {
						return usageErr("--files: %v", err)
					}
				}
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
			case "start", "restart":
				killed := ""
				if *kill {
					// restart --kill: SIGKILL, then a start.
					if one, err = l.Kill(ctx, env.Args[2]); err != nil {
						res = []lab.HostStatus{one}
						break
					}
					killed = one.Action
				}
				switch {
				case *hostFiles != "":
					one, err = l.RunInstalled(ctx, *hostFiles, *stage, env.Args[2], action == "restart")
				case action == "start":
					one, err = l.Start(ctx, files, *stage, env.Args[2])
				default:
					one, err = l.Restart(ctx, files, *stage, env.Args[2])
				}
				if killed == "killed" && one.Action == "started" {
					one.Action = "killed, then started"
				}
				res = []lab.HostStatus{one}
			case "stop":
				if *kill {
					one, err = l.Kill(ctx, env.Args[2])
				} else {
					one, err = l.Stop(ctx, env.Args[2])
				}
				res = []lab.HostStatus{one}
			}
			if *output == "json" {
				if res == nil {
					res = []lab.HostStatus{}
				}
				if werr := writeJSON(env.Stdout, labOutput{State: l.State(), ZooKeeper: jsonSource(l), Hosts: res}); werr != nil {
					return werr
				}
			} else {
				printLab(env, l, noRuntime, res)
			}
			if err != nil {
				return checkFailed("%v", err)
			}
			return nil
		},
	})
}

// runtimeErr maps a runtime the lab cannot use (java or ZooKeeper missing,
// or ZooKeeper of another release line than the spec's) to an environment
// error: installing the runtime fixes it, not changing the arguments.
func runtimeErr(err error) error {
	if isRuntimeErr(err) {
		return envErr("%v", err)
	}
	return err
}

// isRuntimeErr: java or ZooKeeper missing, or of another release line.
func isRuntimeErr(err error) bool {
	var me *lab.MissingError
	var ve *lab.VersionError
	return errors.As(err, &me) || errors.As(err, &ve)
}

func printLab(env *Env, l *lab.Lab, noRuntime error, res []lab.HostStatus) {
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
	fmt.Fprintf(env.Stderr, "lab state: %s (ZooKeeper: %s)\n", l.State(), runtimeSource(l, noRuntime))
}

// jsonSource is where ZooKeeper came from, "" when it was not looked up.
func jsonSource(l *lab.Lab) string {
	if rt := l.Runtime(); rt != nil {
		return rt.Source
	}
	return ""
}

// zookeeperFlags are the flags that say where ZooKeeper is, for lab and
// bench.
func zookeeperFlags(fs *pflag.FlagSet) (home, homes *string) {
	home = fs.String("zookeeper-home", "", "upstream ZooKeeper install of the spec's release line (default: $"+lab.EnvZooKeeperHome+", then --zookeeper-homes, then Debian's package)")
	homes = fs.String("zookeeper-homes", "", "folder of upstream ZooKeeper installs named by version, 3.4.6/, 3.5.10/ (default: $"+lab.EnvZooKeeperHomes+")")
	return home, homes
}

// runtimeSource says where ZooKeeper came from, or why there is none
// (down, status and stop run without one).
func runtimeSource(l *lab.Lab, noRuntime error) string {
	if rt := l.Runtime(); rt != nil {
		if rt.Version != "" {
			return rt.Version + " from " + rt.Source
		}
		return rt.Source
	}
	if noRuntime != nil {
		return "none, not needed to stop or probe: " + noRuntime.Error()
	}
	return "none"
}

// EnvJVMFlags holds extra JVM flags for the lab's servers, under the name
// zkServer.sh reads them from.
const EnvJVMFlags = "SERVER_JVMFLAGS"

// labJVMFlags are $SERVER_JVMFLAGS split on white space, as zkServer.sh
// passes them (unquoted) to java.
func labJVMFlags() []string { return strings.Fields(os.Getenv(EnvJVMFlags)) }
