package rollout

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zkstage/zkstage/internal/proctest"
)

// hangBound is how long a Shell.Exec may take before the test calls it
// hung; far above any grace period used here, it only detects a hang.
const hangBound = 20 * time.Second

// execBounded runs sh.Exec in a goroutine and fails the test if it has not
// returned within hangBound: the bug this guards against is a Wait that
// never returns, which would otherwise hang the whole test binary.
func execBounded(t *testing.T, ctx context.Context, sh Shell) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- sh.Exec(ctx, StepEnv{Host: "zk1"}) }()
	select {
	case err := <-done:
		return err
	case <-time.After(hangBound):
		t.Fatalf("Shell.Exec(%q) still running %s after it was started: the step timeout does not bound it", sh.Command, hangBound)
		return nil
	}
}

// A step timeout kills the command's whole process group, not only sh: a
// grandchild (a hung ssh) that holds sh's stdout would otherwise keep Wait
// from returning until it exits on its own. Each command writes its
// grandchild's pid so the test can check that the grandchild is gone.
func TestShellTimeoutKillsProcessGroup(t *testing.T) {
	tests := []struct {
		name, cmd string
	}{
		// sh waits on a background child that holds its stdout.
		{"background", `sleep 300 & echo $! > "$PIDFILE"; sleep 300; wait`},
		// A nested shell whose own child holds the output.
		{"nested sh", `sh -c 'sleep 300 & echo $! > "$PIDFILE"; wait'`},
		// A grandchild that ignores SIGTERM (and so does sh): only the
		// SIGKILL after the grace period ends it.
		{"ignores SIGTERM", `trap '' TERM; sleep 300 & echo $! > "$PIDFILE"; wait`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pidFile := filepath.Join(t.TempDir(), "pid")
			proctest.KillOnCleanup(t, pidFile)
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			var out bytes.Buffer
			err := execBounded(t, ctx, Shell{Command: tt.cmd, Output: &out, Env: []string{"PIDFILE=" + pidFile}, KillGrace: time.Second})
			var ee *ExitError
			if !errors.As(err, &ee) || !strings.Contains(err.Error(), "step timed out") {
				t.Fatalf("err = %v, want an *ExitError saying the step timed out", err)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err = %v, want it to wrap context.DeadlineExceeded", err)
			}
			pid := proctest.ReadPid(t, pidFile)
			if !proctest.WaitDead(pid) {
				t.Errorf("grandchild %d still runs after Exec returned", pid)
			}
		})
	}
}

// Cancelling the context (the CLI's SIGINT) kills the group the same way
// and says so, rather than calling it a timeout.
func TestShellCancelKillsProcessGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	proctest.KillOnCleanup(t, pidFile)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		// Cancel once the grandchild exists, so the test exercises the kill.
		for i := 0; i < 1000; i++ {
			if _, err := os.Stat(pidFile); err == nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
	}()
	err := execBounded(t, ctx, Shell{Command: `sleep 300 & echo $! > "$PIDFILE"; wait`, Env: []string{"PIDFILE=" + pidFile}})
	if err == nil || !strings.Contains(err.Error(), "cancelled") || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want a cancellation wrapping context.Canceled", err)
	}
	if pid := proctest.ReadPid(t, pidFile); !proctest.WaitDead(pid) {
		t.Errorf("grandchild %d still runs after Exec returned", pid)
	}
}

// A command that exits 0 while a child it started in the background keeps
// stdout open (a daemon that did not redirect its output) returns after
// the grace period, with its result: the child holding the pipe cannot hold
// the step. The child is left running: a step may legitimately start a
// server that way, and only a timeout or an interrupt kills the group.
func TestShellChildKeepsOutputOpen(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	proctest.KillOnCleanup(t, pidFile)
	var out bytes.Buffer
	err := execBounded(t, context.Background(), Shell{
		Command: `echo started; sleep 300 & echo $! > "$PIDFILE"; exit 0`,
		Output:  &out, Env: []string{"PIDFILE=" + pidFile}, KillGrace: time.Second,
	})
	if err != nil {
		t.Fatalf("err = %v, want success: the command exited 0", err)
	}
	if !strings.Contains(out.String(), "started") {
		t.Errorf("output = %q, want the command's output before it exited", out.String())
	}
	if pid := proctest.ReadPid(t, pidFile); !proctest.Alive(pid) {
		t.Errorf("background child %d was killed, want it left running after a successful step", pid)
	}
	// The same with a failing exit status keeps the status.
	pidFile2 := filepath.Join(t.TempDir(), "pid")
	proctest.KillOnCleanup(t, pidFile2)
	err = execBounded(t, context.Background(), Shell{
		Command: `sleep 300 & echo $! > "$PIDFILE"; exit 3`,
		Env:     []string{"PIDFILE=" + pidFile2}, KillGrace: time.Second,
	})
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != 3 {
		t.Errorf("err = %v, want exit status 3", err)
	}
}
