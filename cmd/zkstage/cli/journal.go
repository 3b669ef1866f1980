package cli

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/zkstage/zkstage/journal"
	"github.com/zkstage/zkstage/render"
)

func init() {
	var stage *int
	var hosts *[]string
	var note, output *string
	var timeout *time.Duration
	register(&Command{
		Name:    "journal",
		Usage:   "journal show DIR [--stage N] [--timeout D] [-o text|json] | journal ack DIR --stage N [--host H]... [--note TEXT]",
		Short:   "read the rollout journal in the ensemble, or acknowledge steps done by hand",
		Example: "zkstage journal show clusters/reference --stage 2\nzkstage journal ack clusters/reference --stage 2 --host zk3-dc1 --note 'restarted by hand during the outage'",
		Long: `zkstage roll records every step whose gate passed in the rollout journal,
a znode in the ensemble itself (/zkstage/<cluster>/journal), so that it
outlives the runner: roll --resume, verify and gate read it. ZooKeeper 3.4
cannot show which membership a server runs, so there the journal is how a
restart is known to be done.

  journal show DIR      the records of the spec's plan (--stage N: of one
                        stage), read through a live member after a sync
  journal ack DIR --stage N
                        records the steps of stage N (or only --host H ...)
                        as done by hand, after you checked each host runs
                        the stage's zoo.cfg and myid; verify then reports
                        them as acknowledged, never as observed

The ensemble is reached through the client addresses of stage N's live
members (show: of the last stage, then stage 0).`,
		Flags: func(fs *pflag.FlagSet) {
			stage = fs.Int("stage", -1, "stage whose steps to show or acknowledge")
			hosts = fs.StringSlice("host", nil, "acknowledge only this host's step (repeatable)")
			note = fs.String("note", "", "why the step was done by hand (kept with the record)")
			timeout = fs.Duration("timeout", 5*time.Second, "deadline of each ZooKeeper call")
			output = outputFlag(fs, "text", "json")
		},
		Run: func(env *Env, _ *pflag.FlagSet) error {
			if err := checkFormat(*output, "text", "json"); err != nil {
				return err
			}
			if len(env.Args) != 2 || (env.Args[0] != "show" && env.Args[0] != "ack") {
				return usageErr("journal needs an action and a cluster directory: journal show DIR, journal ack DIR --stage N")
			}
			action, dir := env.Args[0], env.Args[1]
			c, p, _, err := loadPlan(env, dir)
			if err != nil {
				return err
			}
			last := len(p.Stages) - 1
			if *stage > last || (*stage < 1 && action == "ack") {
				return usageErr("--stage %d: the plan has stages 1..%d with steps", *stage, last)
			}
			if action == "show" && len(*hosts) > 0 {
				return usageErr("--host is for journal ack")
			}
			var servers []string
			seen := map[string]bool{}
			for _, k := range []int{max(*stage, 0), last, 0} {
				for _, mem := range render.NewManifest(c, p, k).LiveMembers() {
					if a := net.JoinHostPort(mem.Address, strconv.Itoa(mem.ClientPort)); !seen[a] {
						seen[a] = true
						servers = append(servers, a)
					}
				}
			}
			ctx := context.Background()
			if action == "ack" {
				m := render.NewManifest(c, p, *stage)
				want := map[string]bool{}
				for _, h := range *hosts {
					want[h] = true
				}
				var recs []journal.Record
				for _, s := range m.Steps {
					if len(want) > 0 && !want[s.Host] {
						continue
					}
					delete(want, s.Host)
					recs = append(recs, journal.Record{Fingerprint: m.Fingerprint, Stage: m.Stage, StageName: m.Name,
						Action: string(s.Action), Host: s.Host, ID: s.ID, FromID: s.FromID, At: time.Now().UTC(), By: journal.ByAck, Note: *note})
				}
				for h := range want {
					return usageErr("--host %s: stage %d has no step for it", h, *stage)
				}
				if len(recs) == 0 {
					return usageErr("stage %d has no steps to acknowledge", *stage)
				}
				if err := journal.Append(ctx, servers, c.Name, *timeout, recs...); err != nil {
					return envErr("%v", err)
				}
				for _, r := range recs {
					fmt.Fprintf(env.Stderr, "acknowledged: %s\n", r)
				}
				return nil
			}
			l, err := journal.Read(ctx, servers, c.Name, *timeout)
			if err != nil {
				return envErr("%v", err)
			}
			var recs []journal.Record
			for _, r := range l.Records {
				if r.Fingerprint == p.Fingerprint && (*stage < 0 || r.Stage == *stage) {
					recs = append(recs, r)
				}
			}
			if *output == "json" {
				return writeJSON(env.Stdout, struct {
					Format      int              `json:"format"`
					Path        string           `json:"path"`
					Fingerprint string           `json:"fingerprint"`
					Records     []journal.Record `json:"records"`
					Other       int              `json:"otherPlans"`
				}{journal.FormatVersion, journal.Path(c.Name), p.Fingerprint, recs, len(l.Records) - len(recs)})
			}
			fmt.Fprintf(env.Stdout, "journal %s: %d record(s) of this plan (%s), %d of others\n", journal.Path(c.Name), len(recs), p.Fingerprint, len(l.Records)-len(recs))
			tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "STAGE\tACTION\tHOST\tID\tBY\tAT\tNOTE")
			for _, r := range recs {
				fmt.Fprintf(tw, "%02d %s\t%s\t%s\t%d\t%s\t%s\t%s\n", r.Stage, r.StageName, r.Action, r.Host, r.ID, r.By, r.At.UTC().Format(time.RFC3339), r.Note)
			}
			return tw.Flush()
		},
	})
}
