package lab

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const mainClass = "org.apache.zookeeper.server.quorum.QuorumPeerMain"

// spawn starts one ZooKeeper JVM of rt in its own process group (so stop
// can signal the whole group and a terminal's ^C does not reach it), with
// stdout and stderr appended to logPath.
func (l *Lab) spawn(rt *Runtime, cfgPath, logPath, logDir string) (int, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 0, err
	}
	defer logf.Close()
	args := []string{
		// Small, quick-starting JVMs: a lab runs up to a dozen on 2 cores.
		"-Xms32m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
		"-Dzookeeper.log.dir=" + logDir,
		// Upstream homes log through log4j 1.2 (3.4, 3.5) or logback (3.6+)
		// with the home's conf/ first on the classpath; their files read
		// the root logger from this property (zkServer.sh sets it the same
		// way) and CONSOLE is stdout: the host's log file.
		"-Dzookeeper.root.logger=INFO,CONSOLE",
		// Debian's classpath logs through slf4j-simple, to stderr.
		"-Dorg.slf4j.simpleLogger.showDateTime=true",
		"-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSS",
	}
	args = append(append(args, l.opts.JVMFlags...), "-cp", rt.Classpath, mainClass, cfgPath)
	cmd := exec.Command(rt.Java, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = filepath.Dir(cfgPath)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	start := cmd.Start
	if l.opts.DieWithParent {
		// Tests: the JVM dies with the test binary even if cleanup never runs.
		cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
		start = func() error { return onForkThread(cmd.Start) }
	}
	if err := start(); err != nil {
		return 0, fmt.Errorf("start %s: %w", rt.Java, err)
	}
	pid := cmd.Process.Pid
	// Reap it when it exits, so a stopped server does not linger as a zombie
	// while this process lives on (tests, the rollout runner), and keep how
	// it ended for the error about a server that died during start-up.
	ex := &exit{done: make(chan struct{})}
	exits.Store(pid, ex)
	go func() {
		_ = cmd.Wait()
		ex.how = cmd.ProcessState.String() // "exit status 3", "signal: killed"
		close(ex.done)
	}()
	return pid, nil
}

// exit is how a JVM this process started ended, once done is closed.
type exit struct {
	done chan struct{}
	how  string
}

// exits maps the pid of every JVM this process started to its *exit.
var exits sync.Map

// died reports whether the JVM with pid has ended, and how when this
// process started it. For its own children the reaper is the only reliable
// witness: right after Start returns, the kernel may still be loading the
// new program, and /proc/PID/cmdline reads empty (seen: for up to ~100µs
// here, longer on a cold machine), so ours would call a healthy JVM dead.
func died(pid int, cfgPath string) (bool, string) {
	if v, ok := exits.Load(pid); ok {
		ex := v.(*exit)
		select {
		case <-ex.done:
			return true, ex.how
		default:
			return false, ""
		}
	}
	return !ours(pid, cfgPath), ""
}

// Linux sends Pdeathsig when the thread that forked the child exits, not
// when the process does. The Go runtime ends a thread when a goroutine that
// locked it returns still locked (a dependency under go-git,
// filepath-securejoin, locks threads), and that SIGKILLs every JVM forked
// from the thread (TestLabServerOutlivesTheStartingThread shows it). So
// every fork with Pdeathsig runs on one goroutine that locks its thread and
// never returns: that thread lives as long as the process.
var (
	forkOnce sync.Once
	forkReqs chan func()
)

// onForkThread runs start on the fork thread and returns its error.
func onForkThread(start func() error) error {
	forkOnce.Do(func() {
		forkReqs = make(chan func())
		go func() {
			runtime.LockOSThread() // never unlocked: the thread must not exit
			for f := range forkReqs {
				f()
			}
		}()
	})
	done := make(chan error, 1)
	forkReqs <- func() { done <- start() }
	return <-done
}

// ours reports whether pid is alive and is the ZooKeeper JVM this lab started
// with cfgPath: a pid file alone could name a recycled pid.
func ours(pid int, cfgPath string) bool {
	if pid <= 0 {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || len(b) == 0 {
		return false // gone, or a zombie
	}
	args := strings.Split(string(bytes.TrimRight(b, "\x00")), "\x00")
	hasMain, hasCfg := false, false
	for _, a := range args {
		hasMain = hasMain || a == mainClass
		hasCfg = hasCfg || a == cfgPath
	}
	if !hasMain || !hasCfg {
		return false
	}
	state, _, ok := procStat(pid)
	return ok && state != 'Z'
}

// terminate sends SIGTERM to the process group, then SIGKILL after timeout,
// and returns once the process is gone. Gone is not "no longer ours": once
// an exiting JVM has dropped its memory, /proc/PID/cmdline reads empty while
// it still closes its files, sockets included (seen under load: a stopped
// server still alive right after Down returned), so a start right after
// could find its ports taken.
func terminate(pid int, cfgPath string, timeout time.Duration) error {
	return signalAndWait(pid, cfgPath, syscall.SIGTERM, timeout)
}

// kill is terminate with SIGKILL first: the JVM ends at once, without
// its shutdown hooks and without HotSpot's wait (up to 300 ms) for
// threads blocked in native I/O, during which the server answers no
// client but keeps their connections open.
func kill(pid int, cfgPath string) error {
	return signalAndWait(pid, cfgPath, syscall.SIGKILL, 5*time.Second)
}

func signalAndWait(pid int, cfgPath string, sig syscall.Signal, timeout time.Duration) error {
	if !ours(pid, cfgPath) {
		return nil
	}
	_, start, ok := procStat(pid)
	if !ok {
		return nil
	}
	if err := syscall.Kill(-pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stop pid %d: %w", pid, err)
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if gone(pid, start) {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	for i := 0; i < 100; i++ {
		if gone(pid, start) {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("pid %d did not exit after SIGKILL", pid)
}

// gone reports whether the process that had pid and start time start has
// ended entirely. A JVM this process started and has not reaped is not gone
// (Wait returns once every thread has exited). Otherwise /proc says: no
// entry, another process under the recycled pid, or a zombie without
// threads left (a zombie thread-group leader lingers while its other
// threads still exit).
func gone(pid int, start string) bool {
	if v, ok := exits.Load(pid); ok {
		select {
		case <-v.(*exit).done:
			// Reaped: the pid may belong to another process by now.
		default:
			return false
		}
	}
	state, st, ok := procStat(pid)
	if !ok || st != start {
		return true
	}
	if state != 'Z' && state != 'X' {
		return false
	}
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	return err != nil || len(tasks) <= 1
}

// procStat returns the state and start time (clock ticks after boot, as
// text) of pid from /proc/PID/stat; ok is false when there is none.
func procStat(pid int) (state byte, start string, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, "", false
	}
	// The fields after the ")" closing the command name: state is the 3rd
	// field of the line, starttime the 22nd.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, "", false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return 0, "", false
	}
	return f[0][0], f[19], true
}

func readPid(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}

// tail returns the exception lines (up to three) and the last n lines of a
// log, for errors about a JVM that died: the cause is usually a few lines up.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	var out []string
	for _, l := range lines {
		if len(out) < 3 && (strings.Contains(l, "Exception:") || strings.Contains(l, "ERROR")) {
			out = append(out, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	if len(out) > 0 {
		out = append(out, "...")
	}
	return strings.Join(append(out, lines...), "\n")
}
