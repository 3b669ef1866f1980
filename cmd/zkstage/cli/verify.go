package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/zkstage/zkstage/render"
	"github.com/zkstage/zkstage/verify"
)

func init() {
	var stage *int
	var manifest, rendered, canaryPath, output *string
	var wait, timeout *time.Duration
	var strict, acceptUnknown *bool
	var tolerance *int64
	register(&Command{
		Name:    "verify",
		Usage:   "verify [DIR] [--stage N | --rendered DIR | --manifest FILE] [--wait D] [--timeout D] [--zxid-tolerance N] [--strict-leader] [--accept-unknown] [--canary PATH] [-o text|json|junit]",
		Example: "zkstage verify clusters/lab --stage 1 --wait 1m -o junit",
		Short:   "check that the live ensemble is at a stage",
		Long: `Probes every server live at the end of the stage (srvr, mntr and conf,
in parallel, each within --timeout) and checks: each member serves in its
expected mode; exactly one leader, in a datacenter allowed to lead (a
warning, or a failure with --strict-leader, when a more preferred
datacenter has serving members); the leader's synced followers, observers,
learners and quorum size (3.6+); zxid agreement within --zxid-tolerance;
membership through every member's conf and through /zookeeper/config after
a sync (3.5+). ZooKeeper 3.4 cannot show membership: there the check reads
the rollout journal that zkstage roll keeps in the ensemble (znode
/zkstage/<cluster>/journal) for each host's last step, and a host with no
step since stage 0 runs the files the spec declares; the report names the
source of each such fact. A step that nothing records (done by hand) is
"unknown", which fails unless acknowledged with zkstage journal ack (or
--accept-unknown); the settings every member shows in conf (initLimit,
syncLimit, and maxClientCnxns, minSessionTimeout, maxSessionTimeout when
settings.extra sets them) against the stage's zoo.cfg, so a host that was
not restarted onto new settings fails (tickTime and the directories are
not compared: the lab replaces them); with --canary PATH, a
znode written through the leader, read back from every member after a
sync, then deleted.

The expected stage comes from --manifest FILE (a stage.json), else from the
spec in DIR: stage --stage N, or the stage whose stage.json is in the
--rendered folder (the stage a GitOps branch is at), else stage 0.

--wait D polls until every check passes or D has passed, with progress on
stderr. Exit 0 when the stage verifies, 1 when a check fails, 2 on usage or
input errors.`,
		Flags: func(fs *pflag.FlagSet) {
			stage = fs.Int("stage", -1, "stage to verify (default: --rendered's stage, else 0)")
			manifest = fs.String("manifest", "", "stage manifest (stage.json) to verify against instead of the spec")
			rendered = fs.String("rendered", "", "rendered stage folder (or a folder with one NN-*/stage.json): verify its stage")
			wait = fs.Duration("wait", 0, "poll until the stage verifies or this long has passed")
			timeout = fs.Duration("timeout", 2*time.Second, "deadline of each probe")
			strict = fs.Bool("strict-leader", false, "fail when the leader is not in the most preferred datacenter available")
			canaryPath = fs.String("canary", "", "znode path for a write/sync/read-back/delete check")
			tolerance = fs.Int64("zxid-tolerance", 100, "transactions a member may lag and still agree")
			acceptUnknown = fs.Bool("accept-unknown", false, "do not fail on checks that cannot be observed (membership on 3.4)")
			output = outputFlag(fs, "text", "json", "junit")
		},
		Run: func(env *Env, _ *pflag.FlagSet) error {
			if err := checkFormat(*output, "text", "json", "junit"); err != nil {
				return err
			}
			m, err := verifyManifest(env, *manifest, *rendered, *stage)
			if err != nil {
				return err
			}
			opts := verify.Options{Timeout: *timeout, StrictLeader: *strict, ZxidTolerance: *tolerance,
				Canary: *canaryPath, AcceptUnknown: *acceptUnknown}
			if len(env.Args) == 1 {
				opts.Dir = env.Args[0]
			}
			var r *verify.Report
			if *wait > 0 {
				ctx, cancel := context.WithTimeout(context.Background(), *wait)
				defer cancel()
				start := time.Now()
				r, err = verify.RunWait(ctx, m, opts, time.Second, func(r *verify.Report) {
					var probs []string
					for _, c := range r.Problems() {
						probs = append(probs, c.Title()+": "+c.Message)
					}
					fmt.Fprintf(env.Stderr, "verify: waiting %s/%s: %d problem(s): %s\n",
						time.Since(start).Round(time.Second), *wait, len(probs), strings.Join(probs, "; "))
				})
			} else {
				ctx, cancel := context.WithTimeout(context.Background(), 10*(*timeout)+30*time.Second)
				defer cancel()
				r, err = verify.Run(ctx, m, opts)
			}
			if err != nil {
				return usageErr("%v", err)
			}
			switch *output {
			case "json":
				err = writeJSON(env.Stdout, verifyOutput{r.OK(), r})
			case "junit":
				err = r.WriteJUnit(env.Stdout)
			default:
				err = r.WriteText(env.Stdout)
			}
			if err != nil {
				return err
			}
			if !r.OK() {
				return checkFailed("stage %02d %s does not verify: %d problem(s)", r.Stage, r.StageName, len(r.Problems()))
			}
			return nil
		},
	})
}

// verifyManifest picks the stage manifest: --manifest, else the spec's stage
// (--stage, the --rendered folder's stage, or 0).
func verifyManifest(env *Env, manifest, rendered string, stage int) (*render.Manifest, error) {
	if manifest != "" {
		if len(env.Args) > 1 {
			return nil, usageErr("verify takes at most one cluster directory")
		}
		m, err := render.ReadManifest(manifest)
		if err != nil {
			return nil, usageErr("%v", err)
		}
		return m, nil
	}
	dir, err := oneDir(env, "verify")
	if err != nil {
		return nil, err
	}
	if rendered != "" {
		path, err := findManifest(rendered)
		if err != nil {
			return nil, err
		}
		rm, err := render.ReadManifest(path)
		if err != nil {
			return nil, usageErr("%v", err)
		}
		if stage >= 0 && stage != rm.Stage {
			return nil, usageErr("--stage %d but %s is stage %d", stage, path, rm.Stage)
		}
		stage = rm.Stage
	}
	if stage < 0 {
		stage = 0
	}
	c, p, _, err := loadPlan(env, dir)
	if err != nil {
		return nil, err
	}
	if stage >= len(p.Stages) {
		return nil, usageErr("--stage %d: the plan has stages 0..%d", stage, len(p.Stages)-1)
	}
	return render.NewManifest(c, p, stage), nil
}

// findManifest finds DIR/stage.json, or the single DIR/*/stage.json.
func findManifest(dir string) (string, error) {
	p := filepath.Join(dir, render.ManifestFile)
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "*", render.ManifestFile))
	switch len(matches) {
	case 1:
		return matches[0], nil
	case 0:
		return "", usageErr("--rendered %s: no %s in it or in a stage folder under it", dir, render.ManifestFile)
	}
	return "", usageErr("--rendered %s: %d stage folders (%s ...): name one", dir, len(matches), matches[0])
}
