package lab

import (
	"os/exec"
	"testing"
	"time"
)

// For a JVM this process started, the reaper decides whether it died, not
// /proc: between Start and the kernel having loaded java, /proc/PID/cmdline
// reads empty and ours says "not ours", which once made a healthy server
// look dead during start-up.
func TestDiedTrustsTheReaper(t *testing.T) {
	cmd := exec.Command("sleep", "30") // alive, but not a ZooKeeper JVM: ours is false
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	pid := cmd.Process.Pid
	if ours(pid, "/nonexistent/zoo.cfg") {
		t.Fatal("ours: a sleep is not a lab JVM")
	}
	if dead, _ := died(pid, "/nonexistent/zoo.cfg"); !dead {
		t.Error("died: a pid this lab did not start falls back to ours, which says it is not our server")
	}
	ex := &exit{done: make(chan struct{})}
	exits.Store(pid, ex)
	defer exits.Delete(pid)
	if dead, how := died(pid, "/nonexistent/zoo.cfg"); dead {
		t.Errorf("died = true (%q) while the reaper has not seen the exit", how)
	}
	ex.how = "signal: killed"
	close(ex.done)
	if dead, how := died(pid, "/nonexistent/zoo.cfg"); !dead || how != "signal: killed" {
		t.Errorf("died = %v, %q after the reaper saw the exit", dead, how)
	}
}

// gone follows one process by pid and start time: running is not gone, a
// reaped process is, and so is another process that got the same pid.
func TestGone(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	state, start, ok := procStat(pid)
	if !ok || start == "" || state == 'Z' {
		t.Fatalf("procStat of a running sleep: %q %q %v", state, start, ok)
	}
	if gone(pid, start) {
		t.Error("gone: the sleep runs")
	}
	if !gone(pid, start+"0") {
		t.Error("gone: a process with another start time is another process")
	}
	_ = cmd.Process.Kill()
	// Not reaped yet: a zombie whose only thread has exited is gone.
	for i := 0; i < 100; i++ {
		if state, _, _ := procStat(pid); state == 'Z' {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if state, _, _ := procStat(pid); state != 'Z' || !gone(pid, start) {
		t.Errorf("gone: the killed, unreaped sleep (state %q) is gone", state)
	}
	_ = cmd.Wait()
	if !gone(pid, start) {
		t.Error("gone: the sleep was killed and reaped")
	}
	// A child of this process that the reaper has not seen end is not gone,
	// whatever /proc says.
	ex := &exit{done: make(chan struct{})}
	exits.Store(pid, ex)
	defer exits.Delete(pid)
	if gone(pid, start) {
		t.Error("gone: the reaper has not seen the exit")
	}
	close(ex.done)
	if !gone(pid, start) {
		t.Error("gone: reaped, and /proc has no such process")
	}
}
