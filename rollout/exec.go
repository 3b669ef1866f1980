package rollout

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// StepEnv describes one step to the command that performs it. It reaches a
// shell command only through environment variables: nothing from the spec is
// pasted into the command string, so a host name can never inject shell.
type StepEnv struct {
	Action  string // restart | start | stop
	Host    string
	Address string
	MyID    int
	Stage   int
	Cluster string
	// Dir is the cluster directory (the one holding cluster.cue).
	Dir string
	// Outside: the host runs outside the committed configuration (under
	// reconfig, a host whose id was removed: the rename's restart, the
	// stop of a removed host). No quorum counts it and it holds nothing
	// the ensemble needs, so the command may stop it at once (SIGKILL)
	// instead of paying the JVM's exit with its clients still connected.
	Outside bool
}

// EnvOutside is set to 1, only for a step whose host runs outside the
// committed configuration (StepEnv.Outside).
const EnvOutside = "ZKSTAGE_OUTSIDE"

// Environ returns the step as ZKSTAGE_* variables.
func (e StepEnv) Environ() []string {
	env := []string{
		"ZKSTAGE_ACTION=" + e.Action,
		"ZKSTAGE_HOST=" + e.Host,
		"ZKSTAGE_ADDRESS=" + e.Address,
		"ZKSTAGE_MYID=" + strconv.Itoa(e.MyID),
		"ZKSTAGE_STAGE=" + strconv.Itoa(e.Stage),
		"ZKSTAGE_CLUSTER=" + e.Cluster,
		"ZKSTAGE_DIR=" + e.Dir,
	}
	if e.Outside {
		env = append(env, EnvOutside+"=1")
	}
	return env
}

// Executor performs one step on one host (restart it with the stage's
// files, start it, or stop it). It returns once the action was issued; the
// runner's gate decides whether the host came back.
type Executor interface {
	Exec(ctx context.Context, step StepEnv) error
}

// ExecFunc adapts a function to an Executor.
type ExecFunc func(ctx context.Context, step StepEnv) error

// Exec calls f.
func (f ExecFunc) Exec(ctx context.Context, step StepEnv) error { return f(ctx, step) }

// Shell runs a command through `sh -c` with the step in its environment.
type Shell struct {
	Command string
	// Output receives the command's stdout and stderr (nil: discarded). The
	// runner's own output stays clean: the CLI passes its stderr here.
	Output io.Writer
	// Env is added to the process environment (after os.Environ()).
	Env []string
	// KillGrace (default DefaultKillGrace) is how long, once the step's
	// context ends, the command's process group has between SIGTERM and
	// SIGKILL; and how long Exec waits, after sh exited, for a background
	// child still holding stdout or stderr before it stops reading them.
	KillGrace time.Duration
}

// DefaultKillGrace is Shell's default KillGrace: long enough for ssh to
// tear down its connection on SIGTERM.
const DefaultKillGrace = 5 * time.Second

// ExitError is a command that failed: its exit status and last output lines.
type ExitError struct {
	Command string
	Code    int
	Err     error
	Tail    string
	// Killed says why the command's process group was killed ("step timed
	// out", "cancelled"); "" when the command ended on its own.
	Killed string
}

// NotRunnable tells whether the command could not be run at all rather
// than failing: sh did not start, or sh's own statuses for a command it
// could not execute (126) or find (127). That is the environment's fault
// (a missing binary, a PATH without it), not the step's.
func (e *ExitError) NotRunnable() bool {
	if e.Killed != "" {
		return false
	}
	return e.Code == 126 || e.Code == 127 || e.Code < 0
}

// Unwrap gives the cause: the context's error for a killed command, so
// callers can tell a timeout (context.DeadlineExceeded) from an interrupt.
func (e *ExitError) Unwrap() error { return e.Err }

func (e *ExitError) Error() string {
	msg := fmt.Sprintf("command exited with status %d", e.Code)
	switch {
	case e.Killed != "":
		msg = e.Killed + ": killed the command and every process it started (SIGTERM, then SIGKILL)"
	case e.Code < 0:
		msg = fmt.Sprintf("command failed: %v", e.Err)
	}
	if e.Tail != "" {
		msg += "; last output:\n" + e.Tail
	}
	return msg
}

// Exec runs the command and waits for it. When ctx ends first (the step
// timeout, or an interrupt), the whole process group is killed, not only
// sh: exec.CommandContext alone kills sh, and a grandchild (a hung ssh)
// that inherited sh's stdout then keeps Wait from returning until it exits
// on its own, which may be never.
func (s Shell) Exec(ctx context.Context, step StepEnv) error {
	if strings.TrimSpace(s.Command) == "" {
		return errors.New("no command to run (--exec)")
	}
	grace := s.KillGrace
	if grace <= 0 {
		grace = DefaultKillGrace
	}
	cmd := exec.CommandContext(ctx, "sh", "-c", s.Command)
	cmd.Env = append(append(os.Environ(), s.Env...), step.Environ()...)
	// sh leads a process group of its own, which every child inherits unless
	// it makes its own: one signal to -pgid reaches them all.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var cancelled sync.Once
	var killAt time.Time // when SIGKILL is due; written by Cancel before Wait returns
	cmd.Cancel = func() error {
		cancelled.Do(func() { killAt = time.Now().Add(grace) })
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	}
	// After ctx ends (or sh exits), Wait gives the group this long to exit
	// and close the output pipes; then it SIGKILLs sh and stops reading, so
	// a child that keeps the pipes open cannot hold the step.
	cmd.WaitDelay = grace
	var tail tailBuffer
	var out io.Writer = &tail
	if s.Output != nil {
		out = io.MultiWriter(&tail, s.Output)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return &ExitError{Command: s.Command, Code: -1, Err: err}
	}
	err := cmd.Wait()
	if ctxErr := ctx.Err(); ctxErr != nil && err != nil {
		cancelled.Do(func() { killAt = time.Now().Add(grace) })
		killGroup(cmd.Process.Pid, killAt)
		why := "cancelled"
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			why = "step timed out"
		}
		return &ExitError{Command: s.Command, Code: -1, Err: ctxErr, Tail: tail.last(6), Killed: why}
	}
	if errors.Is(err, exec.ErrWaitDelay) {
		// sh exited 0 but a background child still holds its output (a
		// daemon that did not redirect it): the step's command is done.
		return nil
	}
	if err == nil {
		return nil
	}
	code := -1
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	}
	return &ExitError{Command: s.Command, Code: code, Err: err, Tail: tail.last(6)}
}

// killGroup waits until process group pgid is empty or the deadline passed,
// then SIGKILLs whatever is left: what ignored the SIGTERM, or was still
// cleaning up, and did not hold the output pipes (Wait already returned).
// A group whose members exited but were not reaped (an orphan's new parent
// may be a container init that never reaps) still answers signal 0, so the
// wait then lasts until the deadline; SIGKILL to zombies is harmless.
func killGroup(pgid int, deadline time.Time) {
	for time.Now().Before(deadline) {
		if err := syscall.Kill(-pgid, 0); errors.Is(err, syscall.ESRCH) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

// tailBuffer keeps the last 16 KiB written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 16<<10 {
		t.buf = t.buf[len(t.buf)-16<<10:]
	}
	return len(p), nil
}

func (t *tailBuffer) last(n int) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := strings.Split(strings.TrimRight(string(bytes.TrimSpace(t.buf)), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}
