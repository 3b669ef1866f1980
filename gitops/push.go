package gitops

import (
	"context"
	"errors"
	"fmt"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
)

// push force-pushes the stage branches (never the base) to the remote:
// stage branches belong to zkstage and are rebuilt when the plan changes.
func (rp *repo) push(ctx context.Context, remote string, branches []string) error {
	rem, err := rp.r.Remote(remote)
	if err != nil {
		return inputErr("--push %s: %v", remote, err)
	}
	var specs []config.RefSpec
	for _, b := range branches {
		specs = append(specs, config.RefSpec(fmt.Sprintf("+refs/heads/%s:refs/heads/%s", b, b)))
	}
	err = rem.PushContext(ctx, &git.PushOptions{RemoteName: remote, RefSpecs: specs})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return fmt.Errorf("push to %s: %w", remote, err)
	}
	return nil
}
