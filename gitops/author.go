package gitops

import (
	"regexp"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
)

// Signature is a commit author.
type Signature struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

func (s Signature) String() string { return s.Name + " <" + s.Email + ">" }

// DefaultAuthor is used when neither the flag nor git config names one.
var DefaultAuthor = Signature{Name: "zkstage", Email: "zkstage@localhost"}

var authorRE = regexp.MustCompile(`^\s*([^<>]*?)\s*<([^<>]*)>\s*$`)

// ParseAuthor parses "Name <mail>".
func ParseAuthor(s string) (Signature, error) {
	m := authorRE.FindStringSubmatch(s)
	if m == nil || m[1] == "" || m[2] == "" {
		return Signature{}, inputErr("--author %q: want \"Name <mail>\"", s)
	}
	return Signature{Name: m[1], Email: m[2]}, nil
}

// configAuthor reads user.name and user.email from the repository's config,
// then the global one; where names the source.
func configAuthor(r *git.Repository) (Signature, string, bool) {
	local, err := r.Config()
	if err == nil && local.User.Name != "" && local.User.Email != "" {
		return Signature{local.User.Name, local.User.Email}, "repository git config", true
	}
	global, err := config.LoadConfig(config.GlobalScope)
	if err == nil && global.User.Name != "" && global.User.Email != "" {
		return Signature{global.User.Name, global.User.Email}, "global git config", true
	}
	return Signature{}, "", false
}
