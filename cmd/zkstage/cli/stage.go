package cli

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/pflag"

	"github.com/zkstage/zkstage/gitops"
)

func init() {
	var repo, base, prefix, author, push, output *string
	register(&Command{
		Name:    "stage",
		Usage:   "stage DIR [--repo PATH] [--base BRANCH] [--branch-prefix P] [--author \"Name <mail>\"] [--push REMOTE] [-o text|json]",
		Example: "zkstage stage clusters/prod --push origin",
		Short:   "write one stacked branch and commit per remaining stage",
		Long: `Writes, from the stage the base branch is at (its DIR/rendered/stage.json),
one branch per remaining stage, named <prefix><cluster>/NN-<stage>, each
holding one commit on top of the previous stage's that moves DIR/rendered to
that stage. The commit message is the pull request's description. A base
without rendered files gets a stage 00 branch first (the ensemble as it runs
today).

Safe by default: refuses uncommitted changes under DIR (exit 2), never
touches the base branch, the worktree or HEAD; a branch that already holds
exactly the commit to write is kept, one that differs is moved to the new
commit (the old commit is reported), nothing is deleted. Author: --author,
else git config user.name/user.email (repository, then global), else
"zkstage <zkstage@localhost>". --push force-pushes the stage branches only:
https remotes authenticate with the token in $ZKSTAGE_GIT_TOKEN (user name
$ZKSTAGE_GIT_USER, default x-access-token; in GitHub Actions the job's
GITHUB_TOKEN), ssh remotes with the ssh agent.`,
		Flags: func(fs *pflag.FlagSet) {
			repo = fs.String("repo", "", "repository (default: the one holding DIR)")
			base = fs.String("base", "", "base branch (default: the branch HEAD is on)")
			prefix = fs.String("branch-prefix", gitops.DefaultBranchPrefix, "prefix of the stage branches")
			author = fs.String("author", "", `commit author, "Name <mail>"`)
			push = fs.String("push", "", "remote to push the stage branches to")
			output = outputFlag(fs, "text", "json")
		},
		Run: func(env *Env, _ *pflag.FlagSet) error {
			if err := checkFormat(*output, "text", "json"); err != nil {
				return err
			}
			dir, err := oneDir(env, "stage")
			if err != nil {
				return err
			}
			opts := gitops.StageOptions{Repo: *repo, Dir: dir, Base: *base, BranchPrefix: *prefix, Push: *push}
			if tok := os.Getenv(EnvGitToken); tok != "" {
				// From the environment, never a flag: argv is visible to
				// every user of the machine and lands in shell history.
				opts.PushAuth = &gitops.PushAuth{User: os.Getenv(EnvGitUser), Token: tok}
			}
			if *author != "" {
				a, err := gitops.ParseAuthor(*author)
				if err != nil {
					return usageErr("%v", err)
				}
				opts.Author = &a
			}
			c, p, warns, err := loadPlan(env, dir)
			if err != nil {
				return err
			}
			opts.SpecWarnings = warns
			res, err := gitops.Stage(context.Background(), c, p, opts)
			if res != nil {
				if *output == "json" {
					if werr := writeJSON(env.Stdout, res); werr != nil {
						return werr
					}
				} else {
					res.WriteText(env.Stdout)
				}
			}
			return gitopsErr(err)
		},
	})
}

// gitopsErr maps gitops errors to exit codes: input problems (a bad or
// dirty repository, an unknown ref or remote) exit 2; anything else that
// stopped the command is the environment's (3): the push was refused for
// credentials or did not reach the remote, or git storage failed.
func gitopsErr(err error) error {
	if err == nil {
		return nil
	}
	var ie *gitops.InputError
	if errors.As(err, &ie) {
		return usageErr("%s", ie.Msg)
	}
	if errors.Is(err, gitops.ErrPushAuth) {
		return envErr("%v\nhttps remotes: set %s to a token allowed to push (and %s if the host wants a user name); ssh remotes use the ssh agent", err, EnvGitToken, EnvGitUser)
	}
	return envErr("%s", fmt.Sprint(err))
}

// The push credential for http(s) remotes.
const (
	EnvGitToken = "ZKSTAGE_GIT_TOKEN"
	EnvGitUser  = "ZKSTAGE_GIT_USER"
)
