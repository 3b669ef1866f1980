package rollout

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zkstage/zkstage/lab"
	"github.com/zkstage/zkstage/lab/labtest"
	"github.com/zkstage/zkstage/verify"
)

// untouched checks that no host in hosts was started after t0 (the lab's
// starts log and its process start time).
func (f *fixture) untouched(t *testing.T, t0 time.Time, before map[string]int, hosts ...string) {
	t.Helper()
	after := f.starts(t)
	for _, h := range hosts {
		if after[h] != before[h] {
			t.Errorf("%s was started %d time(s) during the roll; it comes after the failed step and must not be touched", h, after[h]-before[h])
		}
		if st := f.lab.HostStatus(context.Background(), h); st.StartedAt.After(t0) {
			t.Errorf("%s started at %s, after the roll began at %s", h, st.StartedAt, t0)
		}
	}
}

// rolled lists the hosts whose step ran, in order.
func rolled(res *Result) []string {
	var out []string
	for _, s := range res.Steps {
		if s.Status == StatusDone {
			out = append(out, s.Host)
		}
	}
	return out
}

func notRun(res *Result) []string {
	var out []string
	for _, s := range res.Steps {
		if s.Status == StatusNotRun {
			out = append(out, s.Host)
		}
	}
	return out
}

// TestCommandFails: the command exits 3 for one host. The CLI stops there
// with exit 1 naming the host; later hosts are untouched. Then the roll is
// refused without --resume (partly done) and completes with it, without
// restarting the host already done.
//
// It runs on every version: on 3.4 the step already done is known from the
// rollout journal, elsewhere from conf.
func TestCommandFails(t *testing.T) {
	for _, v := range labtest.Versions {
		t.Run(v, func(t *testing.T) { commandFails(t, v) })
	}
}

func commandFails(t *testing.T, version string) {
	f := newFixtureVersion(t, testDir, version, 0)
	source := "observed"
	if !verify.ShowsFor(version).Membership {
		source = "journal"
	}
	bin := zkstageBin(t)
	before := f.starts(t)
	t0 := time.Now()
	failing := `if [ "$ZKSTAGE_HOST" = zk3-dc1 ]; then echo "no route to $ZKSTAGE_HOST" >&2; exit 3; fi; ` + f.labCommand(t)
	cmd := exec.Command(bin, "roll", f.dir, "--stage", "1", "--exec", failing, "--step-timeout", "60s")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 {
		t.Fatalf("roll: %v, want exit 1\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	for _, want := range []string{"stopped at restart zk3-dc1: command exited with status 3", "no route to zk3-dc1", "[2/5] zk3-dc1 restart, id 2: FAILED"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	if !strings.Contains(stdout.String(), "STOPPED") {
		t.Errorf("summary lacks STOPPED:\n%s", stdout.String())
	}
	after := f.starts(t)
	if after["zk2-dc1"] != before["zk2-dc1"]+1 {
		t.Errorf("zk2-dc1 (step 1) started %d times during the roll, want 1", after["zk2-dc1"]-before["zk2-dc1"])
	}
	f.untouched(t, t0, before, "zk3-dc1", "zk4-dc1", "zk5-dc1", "zk1-dc1")

	// Without --resume the partly done stage is refused before any command.
	x := Shell{Command: f.labCommand(t)}
	o := f.opts(1, x)
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.OK || !strings.Contains(res.Message, "partly rolled out already (1 of 5 steps done: restart zk2-dc1 ("+source+"))") {
		t.Fatalf("without --resume: ok=%v %q, want a refusal naming restart zk2-dc1", res.OK, res.Message)
	}
	f.untouched(t, t0, before, "zk3-dc1", "zk4-dc1", "zk5-dc1", "zk1-dc1")

	// With --resume it continues from the live state.
	mid := f.starts(t)
	o.Resume = true
	res, err = Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK {
		t.Fatalf("resume: %s", res.Message)
	}
	if res.Steps[0].Host != "zk2-dc1" || res.Steps[0].Status != StatusAlreadyDone {
		t.Errorf("resume: first step %s %s, want zk2-dc1 already-done", res.Steps[0].Host, res.Steps[0].Status)
	}
	end := f.starts(t)
	if end["zk2-dc1"] != mid["zk2-dc1"] {
		t.Errorf("resume restarted zk2-dc1 again")
	}
	for _, h := range []string{"zk3-dc1", "zk4-dc1", "zk5-dc1", "zk1-dc1"} {
		if end[h] != mid[h]+1 {
			t.Errorf("resume: %s started %d times, want 1", h, end[h]-mid[h])
		}
	}
	f.verify(t, 1, 30*time.Second)
}

// TestHostNeverRejoins: the command stops the host instead of restarting it;
// the gate is never passed and the roll stops at that host.
func TestHostNeverRejoins(t *testing.T) {
	for _, v := range labtest.Versions {
		t.Run(v, func(t *testing.T) { hostNeverRejoins(t, v) })
	}
}

func hostNeverRejoins(t *testing.T, version string) {
	f := newFixtureVersion(t, testDir, version, 0)
	before := f.starts(t)
	t0 := time.Now()
	x := Shell{Command: `if [ "$ZKSTAGE_HOST" = zk3-dc1 ]; then ZKSTAGE_ACTION=stop; fi; ` + f.labCommand(t)}
	o := f.opts(1, x)
	o.StepTimeout = 15 * time.Second
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.OK || res.Failure == nil {
		t.Fatalf("roll passed; want a failed gate at zk3-dc1")
	}
	fl := res.Failure
	if fl.Host != "zk3-dc1" || fl.Status != StatusFailed || !strings.Contains(fl.Reason, "gate not passed within 15s") ||
		!strings.Contains(fl.Reason, "zk3-dc1: not running: srvr on 127.0.31.102:2181: connection refused") {
		t.Fatalf("failure %s %s: %s; want zk3-dc1 failed: gate not passed, not running", fl.Host, fl.Status, fl.Reason)
	}
	if got := strings.Join(rolled(res), ","); got != "zk2-dc1" {
		t.Errorf("hosts rolled: %s, want zk2-dc1", got)
	}
	if len(notRun(res)) != 3 {
		t.Errorf("steps not run: %v, want 3", notRun(res))
	}
	f.untouched(t, t0, before, "zk3-dc1", "zk4-dc1", "zk5-dc1", "zk1-dc1")
}

// TestFollowerKilled: a follower whose step is still to come is killed in
// the middle of the roll; the next step is refused before its command runs.
func TestFollowerKilled(t *testing.T) {
	for _, v := range labtest.Versions {
		t.Run(v, func(t *testing.T) { followerKilled(t, v) })
	}
}

func followerKilled(t *testing.T, version string) {
	f := newFixtureVersion(t, testDir, version, 0)
	before := f.starts(t)
	t0 := time.Now()
	x := Shell{Command: f.labCommand(t)}
	o := f.opts(1, x)
	var killed string
	var killErr error
	o.Progress = func(e Event) {
		if e.Kind != EventDone || e.K != 2 {
			return
		}
		// The last not-yet-rolled follower in plan order.
		st, _ := f.lab.Status(context.Background())
		byHost := map[string]lab.HostStatus{}
		for _, s := range st {
			byHost[s.Host] = s
		}
		for i := len(f.p.Stages[1].Steps) - 1; i >= 2; i-- {
			h := f.p.Stages[1].Steps[i].Host
			if s := byHost[h]; s.Mode == "follower" && s.Running && s.Pid > 0 {
				killed = h
				killErr = syscall.Kill(-s.Pid, syscall.SIGKILL)
				break
			}
		}
		if killed == "" {
			killErr = syscall.EINVAL
			return
		}
		// Let the port close before the next observation.
		time.Sleep(300 * time.Millisecond)
	}
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if killErr != nil || killed == "" {
		t.Fatalf("could not kill a follower: %v", killErr)
	}
	t.Logf("killed %s after step 2", killed)
	if res.OK || res.Failure == nil {
		t.Fatalf("roll passed with %s killed", killed)
	}
	fl := res.Failure
	if fl.K != 3 || fl.Status != StatusRefused || !strings.Contains(fl.Reason, killed+" is not running") {
		t.Fatalf("failure at step %d %s %s: %s; want step 3 refused because %s is not running", fl.K, fl.Host, fl.Status, fl.Reason, killed)
	}
	if len(rolled(res)) != 2 {
		t.Errorf("hosts rolled: %v, want 2", rolled(res))
	}
	f.untouched(t, t0, before, notRun(res)...)
	f.untouched(t, t0, before, killed, fl.Host)
}
