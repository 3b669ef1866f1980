package cli

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/zkstage/zkstage/gitops/gitopstest"
)

func TestMain(m *testing.M) {
	os.Exit(testscript.RunMain(m, map[string]func() int{
		"zkstage": Main,
	}))
}

// TestScripts runs the CLI scripts under testdata/script. Each script gets
// $CLUSTERS, the repository's example clusters, to copy from, and $ZKBIN,
// the folder holding only the zkstage program: PATH=$ZKBIN runs zkstage on
// a PATH without java, sh or git.
func TestScripts(t *testing.T) {
	clusters, err := filepath.Abs("../../../clusters")
	if err != nil {
		t.Fatal(err)
	}
	// testscript.RunMain put a folder of links to this binary, one per
	// command, first on PATH.
	zk, err := exec.LookPath("zkstage")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("CLUSTERS", clusters)
			env.Setenv("ZKBIN", filepath.Dir(zk))
			return nil
		},
		UpdateScripts: os.Getenv("UPDATE_SCRIPTS") == "1",
		Cmds:          map[string]func(ts *testscript.TestScript, neg bool, args []string){"exits": exits, "githttp": githttp, "mkfifo": mkfifo, "lockdir": lockdir},
	})
}

// exits N PROG ARGS... runs PROG like exec and checks its exact exit code,
// so scripts can tell a failed check (1) from an input error (2).
func exits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE PROG [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: bad code %q", args[0])
	}
	code := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exits: %v", err)
		}
		code = ee.ExitCode()
	}
	if code != want {
		ts.Fatalf("%s exited %d, want %d", args[1], code, want)
	}
}

// githttp ROOT USER TOKEN serves the bare repositories under ROOT over smart
// HTTP, for clients that authenticate as USER with TOKEN, until the script
// ends; $GITURL is the server's address.
func githttp(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: githttp ROOT USER TOKEN")
	}
	srv, err := gitopstest.HTTPRemote(ts.MkAbs(args[0]), args[1], args[2])
	if err != nil {
		ts.Fatalf("githttp: %v", err)
	}
	ts.Defer(srv.Close)
	ts.Setenv("GITURL", srv.URL)
}

// mkfifo PATH makes a named pipe, for the inputs that must not be read.
func mkfifo(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: mkfifo PATH")
	}
	ts.Check(syscall.Mkfifo(ts.MkAbs(args[0]), 0o644))
}

// lockdir DIR holds an exclusive flock on DIR until the script ends, as a
// render writing beside DIR's entries would.
func lockdir(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: lockdir DIR")
	}
	f, err := os.Open(ts.MkAbs(args[0]))
	ts.Check(err)
	ts.Check(syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB))
	ts.Defer(func() { f.Close() })
}
