// Package gitopstest serves git repositories over smart HTTP for the tests
// of zkstage's pushes: git's own http-backend behind basic authentication,
// as a hosted forge answers.
package gitopstest

import (
	"fmt"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
)

// HTTPRemote serves every bare repository under root (GIT_PROJECT_ROOT),
// pushes included, to clients that authenticate as user with token as the
// password; others get 401. Close the server when done.
func HTTPRemote(root, user, token string) (*httptest.Server, error) {
	out, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		return nil, fmt.Errorf("git --exec-path: %w", err)
	}
	backend := &cgi.Handler{
		Path: filepath.Join(strings.TrimSpace(string(out)), "git-http-backend"),
		// REMOTE_USER tells http-backend the client authenticated, which
		// is what it wants before it accepts a push.
		Env: []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1", "REMOTE_USER=" + user},
	}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if u, p, ok := req.BasicAuth(); !ok || u != user || p != token {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		backend.ServeHTTP(w, req)
	})), nil
}
