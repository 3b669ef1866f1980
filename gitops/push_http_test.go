package gitops

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/zkstage/zkstage/gitops/gitopstest"
)

// gitHTTPRemote makes a bare repository served over smart HTTP that wants
// user and token, and returns its clone URL and folder.
func gitHTTPRemote(t *testing.T, r *testRepo, user, token string) (url, bare string) {
	t.Helper()
	root := t.TempDir()
	bare = filepath.Join(root, "config.git")
	r.git("init", "-q", "--bare", bare)
	srv, err := gitopstest.HTTPRemote(root, user, token)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv.URL + "/config.git", bare
}

func TestStagePushesOverHTTPWithAToken(t *testing.T) {
	r := newTestRepo(t)
	_, p := r.plan()
	url, bare := gitHTTPRemote(t, r, "x-access-token", "s3cret-token")
	r.git("remote", "add", "origin", url)
	remote := &testRepo{t: t, dir: bare}

	for _, tc := range []struct {
		name string
		auth *PushAuth
		how  string
	}{
		{"no token", nil, "no credentials were given"},
		{"wrong token", &PushAuth{Token: "guess"}, "the token was refused"},
		{"wrong user", &PushAuth{User: "bob", Token: "s3cret-token"}, "the token was refused"},
	} {
		res, err := r.stage(StageOptions{Push: "origin", PushAuth: tc.auth})
		if !errors.Is(err, ErrPushAuth) || !strings.Contains(err.Error(), tc.how) || !strings.Contains(err.Error(), url) {
			t.Errorf("%s: got %v, want %v naming %s and %q", tc.name, err, ErrPushAuth, url, tc.how)
		}
		t.Logf("%s: %v", tc.name, err)
		if err != nil && strings.Contains(err.Error(), "s3cret-token") {
			t.Errorf("%s: the error shows the token: %v", tc.name, err)
		}
		// The local branches are made before the push and stay.
		if res == nil || len(res.Branches) != len(p.Stages) || len(res.Pushed) != 0 {
			t.Errorf("%s: result %+v", tc.name, res)
		}
		if refs := remote.lines("for-each-ref"); len(refs) != 0 {
			t.Errorf("%s: the remote got refs: %q", tc.name, refs)
		}
	}

	res := r.mustStage(StageOptions{Push: "origin", PushAuth: &PushAuth{Token: "s3cret-token"}})
	got := remote.lines("for-each-ref", "--format=%(refname:short) %(objectname)")
	var want []string
	for _, b := range res.Branches {
		want = append(want, b.Name+" "+b.Commit)
	}
	if !reflect.DeepEqual(got, want) || len(res.Pushed) != len(p.Stages) {
		t.Errorf("remote refs (the base must not be pushed):\n got %q\nwant %q\npushed %q", got, want, res.Pushed)
	}
}

// A password in the remote's URL is never repeated in an error.
func TestPushErrorHidesTheURLPassword(t *testing.T) {
	r := newTestRepo(t)
	url, _ := gitHTTPRemote(t, r, "x-access-token", "s3cret-token")
	r.git("remote", "add", "origin", strings.Replace(url, "http://", "http://bob:hunter2@", 1))
	_, err := r.stage(StageOptions{Push: "origin"})
	if !errors.Is(err, ErrPushAuth) || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "bob") ||
		!strings.Contains(err.Error(), "the user and password in the remote's URL were refused") {
		t.Errorf("got %v, want %v naming user bob without the password", err, ErrPushAuth)
	}
}
