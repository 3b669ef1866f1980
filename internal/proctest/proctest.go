// Package proctest helps tests check that processes a command started in
// the background are gone: the command writes their pid to a file (echo $!
// > FILE) and the test reads it back once the command returned.
package proctest

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ReadPid reads the pid a command wrote to file, failing the test when
// there is none.
func ReadPid(t testing.TB, file string) int {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("the command did not write its background pid: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		t.Fatalf("pid file %s holds %q", file, b)
	}
	return pid
}

// Alive tells whether pid is a running process. A zombie counts as dead: it
// has exited and only waits to be reaped, which a container's init may
// never do (orphans of a killed sh are reparented to it). Linux only (it
// reads the state from /proc).
func Alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// "pid (comm) S ...": the state follows the last ')', since comm may
	// itself hold parentheses.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z'
	}
	return true
}

// WaitDead polls until pid has died or 5 s passed, and says which. SIGKILL
// is delivered asynchronously, so a process signalled just before the
// command returned may need a moment to finish dying; 5 s is far beyond
// that, so a process still alive then survived the kill.
func WaitDead(pid int) bool {
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if !Alive(pid) {
			return true
		}
	}
	return false
}

// KillOnCleanup SIGKILLs the process whose pid is in file when the test
// ends, if it still runs, so a failed test never leaks a sleep 300.
func KillOnCleanup(t testing.TB, file string) {
	t.Cleanup(func() {
		b, err := os.ReadFile(file)
		if err != nil {
			return
		}
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 && Alive(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
}
