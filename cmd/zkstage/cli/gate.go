package cli

import (
	"context"
	"time"

	"github.com/spf13/pflag"

	"github.com/zkstage/zkstage/gitops"
	"github.com/zkstage/zkstage/verify"
)

func init() {
	var repo, base, head, output *string
	var offline *bool
	var wait, timeout *time.Duration
	var tolerance *int64
	register(&Command{
		Name:    "gate",
		Usage:   "gate DIR --base REF [--head REF] [--repo PATH] [--offline] [--wait D] [--timeout D] [--zxid-tolerance N] [-o text|json|markdown]",
		Example: "zkstage gate clusters/prod --base origin/main --offline -o markdown",
		Short:   "check a stage's pull request: files, sequence, live ensemble",
		Long: `The CI gate of a stage's pull request. Checks:
  1. the files under DIR/rendered (in the working tree, or in --head REF)
     are exactly what DIR/cluster.cue compiles to for their stage;
  2. the head's stage is the base's stage + 1 of the same plan (a base
     without rendered files takes stage 00; a changed spec first takes the
     stage of the new plan that describes the base's ensemble);
  3. unless --offline, the live ensemble verifies as the base's stage
     (zkstage verify), so a stage merges only once the previous one is
     rolled out. --wait retries it until it passes or the time is up.
Exit 0 when every check passes (check 3 excepted with --offline), 1 when one
fails, 2 on usage or input errors. -o markdown fits a pull request comment.`,
		Flags: func(fs *pflag.FlagSet) {
			repo = fs.String("repo", "", "repository (default: the one holding DIR)")
			base = fs.String("base", "", "revision the pull request merges into (required)")
			head = fs.String("head", "", "revision of the pull request (default: the working tree)")
			offline = fs.Bool("offline", false, "skip check 3, the live ensemble")
			wait = fs.Duration("wait", 0, "retry check 3 for up to this long")
			timeout = fs.Duration("timeout", 2*time.Second, "timeout of each probe of check 3")
			// The same default as verify: a serving ensemble under client
			// writes always shows a few transactions of lag between probes.
			tolerance = fs.Int64("zxid-tolerance", 100, "transactions a member may lag and still agree (check 3)")
			output = outputFlag(fs, "text", "json", "markdown")
		},
		Run: func(env *Env, _ *pflag.FlagSet) error {
			if err := checkFormat(*output, "text", "json", "markdown"); err != nil {
				return err
			}
			dir, err := oneDir(env, "gate")
			if err != nil {
				return err
			}
			if *base == "" {
				return usageErr("gate needs --base REF")
			}
			res, err := gitops.Gate(context.Background(), gitops.GateOptions{Repo: *repo, Dir: dir, Base: *base, Head: *head,
				Offline: *offline, Wait: *wait, Verify: verify.Options{Timeout: *timeout, ZxidTolerance: *tolerance}})
			if err != nil {
				return gitopsErr(err)
			}
			switch *output {
			case "json":
				err = writeJSON(env.Stdout, res)
			case "markdown":
				err = res.WriteMarkdown(env.Stdout)
			default:
				err = res.WriteText(env.Stdout)
			}
			if err != nil {
				return err
			}
			if !res.OK() {
				return checkFailed("")
			}
			return nil
		},
	})
}
