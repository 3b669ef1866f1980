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
}

// Environ returns the step as ZKSTAGE_* variables.
func (e StepEnv) Environ() []string {
	return []string{
		"ZKSTAGE_ACTION=" + e.Action,
		"ZKSTAGE_HOST=" + e.Host,
		"ZKSTAGE_ADDRESS=" + e.Address,
		"ZKSTAGE_MYID=" + strconv.Itoa(e.MyID),
		"ZKSTAGE_STAGE=" + strconv.Itoa(e.Stage),
		"ZKSTAGE_CLUSTER=" + e.Cluster,
		"ZKSTAGE_DIR=" + e.Dir,
	}
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
}

// ExitError is a command that failed: its exit status and last output lines.
type ExitError struct {
	Command string
	Code    int
	Err     error
	Tail    string
}

func (e *ExitError) Error() string {
	msg := fmt.Sprintf("command exited with status %d", e.Code)
	if e.Code < 0 {
		msg = fmt.Sprintf("command failed: %v", e.Err)
	}
	if e.Tail != "" {
		msg += "; last output:\n" + e.Tail
	}
	return msg
}

// Exec runs the command and waits for it.
func (s Shell) Exec(ctx context.Context, step StepEnv) error {
	if strings.TrimSpace(s.Command) == "" {
		return errors.New("no command to run (--exec)")
	}
	cmd := exec.CommandContext(ctx, "sh", "-c", s.Command)
	cmd.Env = append(append(os.Environ(), s.Env...), step.Environ()...)
	var tail tailBuffer
	var out io.Writer = &tail
	if s.Output != nil {
		out = io.MultiWriter(&tail, s.Output)
	}
	cmd.Stdout, cmd.Stderr = out, out
	err := cmd.Run()
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
