package gitops

import (
	"context"
	"errors"
	"fmt"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
)

// PushAuth is the credential for http(s) remotes: a token sent as the
// password of HTTP basic authentication, which is what GitHub, GitLab and
// Gitea accept (GitHub Actions: the job's GITHUB_TOKEN). ssh remotes use the
// ssh agent instead, go-git's default.
type PushAuth struct {
	// User defaults to "x-access-token" (any non-empty name works on GitHub).
	User  string
	Token string
}

// ErrPushAuth wraps a push that the remote refused for want of credentials.
var ErrPushAuth = errors.New("the remote wants credentials")

// push force-pushes the stage branches (never the base) to the remote:
// stage branches belong to zkstage and are rebuilt when the plan changes.
func (rp *repo) push(ctx context.Context, remote string, branches []string, auth *PushAuth) error {
	rem, err := rp.r.Remote(remote)
	if err != nil {
		return inputErr("--push %s: %v", remote, err)
	}
	var specs []config.RefSpec
	for _, b := range branches {
		specs = append(specs, config.RefSpec(fmt.Sprintf("+refs/heads/%s:refs/heads/%s", b, b)))
	}
	po := &git.PushOptions{RemoteName: remote, RefSpecs: specs}
	url := ""
	if urls := rem.Config().URLs; len(urls) > 0 {
		url = urls[0]
	}
	ep, err := transport.NewEndpoint(url)
	if err != nil {
		return inputErr("--push %s: remote URL %q: %v", remote, url, err)
	}
	if auth != nil && auth.Token != "" && (ep.Protocol == "http" || ep.Protocol == "https") {
		user := auth.User
		if user == "" {
			user = "x-access-token"
		}
		po.Auth = &githttp.BasicAuth{Username: user, Password: auth.Token}
	}
	err = rem.PushContext(ctx, po)
	switch {
	case err == nil, errors.Is(err, git.NoErrAlreadyUpToDate):
		return nil
	case errors.Is(err, transport.ErrAuthenticationRequired), errors.Is(err, transport.ErrAuthorizationFailed):
		how := "no credentials were given"
		switch {
		case po.Auth != nil:
			how = "the token was refused"
		case ep.User != "":
			how = "the user and password in the remote's URL were refused"
		}
		// go-git's own text repeats the server's body; the cause is enough.
		return fmt.Errorf("push to %s (%s): %w: %s", remote, redact(ep), ErrPushAuth, how)
	}
	return fmt.Errorf("push to %s (%s): %w", remote, redact(ep), err)
}

// redact gives the endpoint without a password that the URL may carry.
func redact(ep *transport.Endpoint) string {
	e := *ep
	if e.Password != "" {
		e.Password = "xxxxx"
	}
	return e.String()
}
