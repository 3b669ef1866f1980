package lab

import (
	"os/exec"
	"testing"
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
