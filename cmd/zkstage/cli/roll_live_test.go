package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zkstage/zkstage/internal/proctest"
	"github.com/zkstage/zkstage/lab"
	"github.com/zkstage/zkstage/lab/labtest"
)

// liveCluster copies clusters/lab to a temporary folder with every address
// moved into 127.0.<net>.x (71, 72: ranges no other test uses), so this
// test can run beside the other packages' live tests: 127.0.1.N ->
// 127.0.<net>.N, 127.0.2.N -> 127.0.<net>.2N, 127.0.3.N -> 127.0.<net>.3N.
func liveCluster(t *testing.T, net int) string {
	t.Helper()
	src, err := os.ReadFile("../../../clusters/lab/cluster.cue")
	if err != nil {
		t.Fatal(err)
	}
	addr := regexp.MustCompile(`"127\.0\.([123])\.([0-9]+)"`)
	prefix := `"127.0.` + strconv.Itoa(net) + `.`
	moved := addr.ReplaceAllStringFunc(string(src), func(a string) string {
		m := addr.FindStringSubmatch(a)
		if m[1] == "1" {
			return prefix + m[2] + `"`
		}
		return prefix + m[1] + m[2] + `"`
	})
	if strings.Contains(moved, `"127.0.1.`) || !strings.Contains(moved, prefix+`21"`) {
		t.Fatalf("address rewrite missed some hosts:\n%s", moved)
	}
	dir := filepath.Join(t.TempDir(), "lab"+strconv.Itoa(net))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cluster.cue"), []byte(moved), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// zkstageCmd is the zkstage program: testscript.RunMain put a link to this
// test binary, which then runs Main, on PATH. It runs as its own process,
// so signals reach it exactly as they reach an installed zkstage.
func zkstageCmd(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	bin, err := exec.LookPath("zkstage")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	return cmd, &stdout, &stderr
}

// runBounded runs or waits for cmd (already started when started is true)
// and returns its exit code; a run longer than bound fails the test, which
// is how a hang shows, not a performance bound.
func runBounded(t *testing.T, cmd *exec.Cmd, started bool, bound time.Duration) int {
	t.Helper()
	if !started {
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(bound):
		_ = cmd.Process.Kill()
		t.Fatalf("%s still running after %s", strings.Join(cmd.Args, " "), bound)
		return -1
	}
}

// The roll's exit codes on a live ensemble: a command that cannot run
// exits 3, a step timeout with a hung grandchild exits 1 promptly with the
// grandchild gone, and SIGINT during a step exits 4 with the step's whole
// process group killed. Each case leaves the ensemble at stage 00 (no
// command does anything), so the next case's pre-step checks pass.
func TestLiveRollExitCodes(t *testing.T) {
	requireZooKeeper38(t)
	dir := liveCluster(t, 71)
	state := filepath.Join(t.TempDir(), "state")
	t.Cleanup(func() {
		if l, err := lab.New(lab.Options{State: state}); err == nil {
			if _, err := l.Down(context.Background()); err != nil {
				t.Errorf("lab down: %v", err)
			}
		}
	})
	up, _, upErr := zkstageCmd(t, "lab", "up", dir, "--state", state)
	if code := runBounded(t, up, false, 3*time.Minute); code != 0 {
		t.Fatalf("lab up exited %d:\n%s", code, upErr)
	}
	// roll refuses a step while any host is not yet serving; wait for all.
	ver, verOut, _ := zkstageCmd(t, "verify", dir, "--wait", "90s")
	if code := runBounded(t, ver, false, 3*time.Minute); code != 0 {
		t.Fatalf("stage 00 never verified (exit %d):\n%s", code, verOut)
	}
	roll := func(extra ...string) []string {
		return append([]string{"roll", dir, "--stage", "1"}, extra...)
	}

	t.Run("not runnable", func(t *testing.T) {
		cmd, _, stderr := zkstageCmd(t, roll("--exec", "zkstage-no-such-command-71")...)
		if code := runBounded(t, cmd, false, 2*time.Minute); code != ExitEnv {
			t.Fatalf("exit %d, want %d:\n%s", code, ExitEnv, stderr)
		}
		if !strings.Contains(stderr.String(), "command exited with status 127") {
			t.Errorf("stderr does not name sh's status 127:\n%s", stderr)
		}
	})

	t.Run("step timeout", func(t *testing.T) {
		pidFile := filepath.Join(t.TempDir(), "pid")
		proctest.KillOnCleanup(t, pidFile)
		cmd, _, stderr := zkstageCmd(t, roll("--step-timeout", "3s", "--exec", `sleep 300 & echo $! > "$PIDFILE"; wait`)...)
		cmd.Env = append(os.Environ(), "PIDFILE="+pidFile)
		start := time.Now()
		code := runBounded(t, cmd, false, 2*time.Minute)
		t.Logf("timed-out roll returned after %s", time.Since(start).Round(10*time.Millisecond))
		if code != ExitCheck {
			t.Fatalf("exit %d, want %d:\n%s", code, ExitCheck, stderr)
		}
		if !strings.Contains(stderr.String(), "command did not finish within the step timeout 3s: step timed out") {
			t.Errorf("stderr does not say the step timed out:\n%s", stderr)
		}
		if pid := proctest.ReadPid(t, pidFile); !proctest.WaitDead(pid) {
			t.Errorf("the step's grandchild %d still runs after zkstage exited", pid)
		}
	})

	t.Run("interrupted", func(t *testing.T) {
		pidFile := filepath.Join(t.TempDir(), "pid")
		proctest.KillOnCleanup(t, pidFile)
		cmd, stdout, stderr := zkstageCmd(t, roll("--exec", `sleep 300 & echo $! > "$PIDFILE"; wait`)...)
		cmd.Env = append(os.Environ(), "PIDFILE="+pidFile)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Interrupt once the first step's command runs (its grandchild
		// exists), the moment a Ctrl-C matters most.
		for end := time.Now().Add(2 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
			if b, err := os.ReadFile(pidFile); err == nil && len(bytes.TrimSpace(b)) > 0 {
				break
			}
			if time.Now().After(end) {
				_ = cmd.Process.Kill()
				t.Fatalf("the first step's command never started:\n%s", stderr)
			}
		}
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		code := runBounded(t, cmd, true, time.Minute)
		t.Logf("interrupted roll returned %s after SIGINT", time.Since(start).Round(10*time.Millisecond))
		if code != ExitInterrupted {
			t.Fatalf("exit %d, want %d:\n%s", code, ExitInterrupted, stderr)
		}
		if !regexp.MustCompile(`(?m)^zkstage roll: stopped at restart \S+: interrupted: cancelled: killed the command`).MatchString(stderr.String()) {
			t.Errorf("stderr does not report the interrupted step:\n%s", stderr)
		}
		if !strings.Contains(stdout.String(), "STOPPED") {
			t.Errorf("no summary on stdout:\n%s", stdout)
		}
		if pid := proctest.ReadPid(t, pidFile); !proctest.WaitDead(pid) {
			t.Errorf("the step's grandchild %d still runs after zkstage exited", pid)
		}
	})
}

// requireZooKeeper38 skips unless java and ZooKeeper 3.8 (clusters/lab's
// line) are here, failing instead in CI.
func requireZooKeeper38(t *testing.T) {
	t.Helper()
	labtest.Require(t)
	if _, err := lab.FindRuntime("", "", "3.8.0"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("live test needs ZooKeeper 3.8: %v", err)
		}
		t.Skipf("live test: %v", err)
	}
}

// SIGINT during a bench exits 4, not 1 (a failed measurement), and the
// bench still stops the lab it started.
func TestLiveBenchInterrupted(t *testing.T) {
	requireZooKeeper38(t)
	dir := liveCluster(t, 72)
	state := filepath.Join(t.TempDir(), "bench")
	t.Cleanup(func() {
		for _, m := range []string{"rolling", "naive"} {
			if l, err := lab.New(lab.Options{State: filepath.Join(state, m)}); err == nil {
				_, _ = l.Down(context.Background())
			}
		}
	})
	cmd, _, _ := zkstageCmd(t, "bench", dir, "--state", state)
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The first progress line says stage 1 was rolled: the bench is in the
	// middle of its rolling run, with a lab and a writer up.
	for end := time.Now().Add(4 * time.Minute); !strings.Contains(stderr.String(), "rolling stage 1 "); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(end) {
			_ = cmd.Process.Kill()
			t.Fatalf("bench never reported stage 1:\n%s", stderr)
		}
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if code := runBounded(t, cmd, true, 2*time.Minute); code != ExitInterrupted {
		t.Fatalf("exit %d, want %d:\n%s", code, ExitInterrupted, stderr)
	}
	if !regexp.MustCompile(`(?m)^zkstage bench: interrupted`).MatchString(stderr.String()) {
		t.Errorf("stderr does not say the bench was interrupted:\n%s", stderr)
	}
	l, err := lab.New(lab.Options{State: filepath.Join(state, "rolling")})
	if err != nil {
		t.Fatal(err)
	}
	st, err := l.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range st {
		if h.Running {
			t.Errorf("%s (pid %d) still runs after the interrupted bench", h.Host, h.Pid)
		}
	}
}

// lockedBuffer is a bytes.Buffer the test may read while the process it
// belongs to still writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
