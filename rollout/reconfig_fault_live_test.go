package rollout

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/lab/labtest"
)

// TestReconfigShrink: five servers to three by reconfig -remove, then the
// removed hosts stop, under a client write load.
func TestReconfigShrink(t *testing.T) {
	for _, v := range []string{"3.5.10", "3.8.0"} {
		t.Run(v, func(t *testing.T) { reconfigShrink(t, v) })
	}
}

func reconfigShrink(t *testing.T, version string) {
	f := newReconfigFixture(t, version, true)
	if k := planKinds(f.p); k != "reconfig-enable reconfig-remove reconfig-stop" {
		t.Fatalf("plan kinds %s", k)
	}
	ctx := context.Background()
	w, err := StartWriter(ctx, f.servers()[:3], "/zkstage-canary-reconfig", WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	results := f.roll(t, w)
	missing, err := w.Check(ctx, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) > 0 {
		t.Fatalf("%d acknowledged writes missing", len(missing))
	}
	// The stops of the removed hosts, and nothing else, ran outside the
	// configuration.
	if got := strings.Join(f.outside, ", "); got != "stop zk4-dc1, stop zk5-dc1" {
		t.Errorf("steps told they run outside the configuration: %q, want the stops of zk4-dc1 and zk5-dc1", got)
	}
	remove := results[1]
	// Removing ids the leader does not run costs no election; a removed
	// leader hands over (a new epoch), which the result counts.
	if !remove.Steps[0].WasLeader && !remove.Steps[1].WasLeader && remove.Elections != 0 {
		t.Errorf("remove stage: %d elections without removing the leader", remove.Elections)
	}
	cfg, err := readConfig(ctx, f.servers()[0], 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ids() != "0,1,2" {
		t.Errorf("%s lists %s", ConfigZnode, cfg.ids())
	}
	for _, h := range []string{"zk4-dc1", "zk5-dc1"} {
		if st := f.lab.HostStatus(ctx, h); st.Running {
			t.Errorf("%s still runs", h)
		}
	}
}

// TestReconfigJoinerNeverUp: a joiner's start "succeeds" but the server
// never comes up. The start's gate times out, the roll stops before the
// -add, and the old configuration stays in force.
func TestReconfigJoinerNeverUp(t *testing.T) {
	for _, v := range []string{"3.5.10", "3.8.0"} {
		t.Run(v, func(t *testing.T) { reconfigJoinerNeverUp(t, v) })
	}
}

func reconfigJoinerNeverUp(t *testing.T, version string) {
	f := newReconfigFixture(t, version, false)
	for k := 1; k <= 2; k++ {
		res, err := Run(context.Background(), f.opts(k, nil))
		if err != nil || !res.OK {
			t.Fatalf("stage %d: %v %+v", k, err, res)
		}
	}
	lx := LabExec(f.lab, f.c, f.p)
	dead := "zk3-dc2"
	x := ExecFunc(func(ctx context.Context, s StepEnv) error {
		if s.Host == dead && s.Action == string(compiler.Start) {
			return nil // config management "started" it; nothing runs
		}
		return lx.Exec(ctx, s)
	})
	o := f.opts(3, nil)
	o.Exec, o.StepTimeout = x, 15*time.Second
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	logResult(t, res)
	if res.OK || res.Failure == nil || res.Failure.Host != dead || res.Failure.Action != "start" || res.Failure.Status != StatusFailed {
		t.Fatalf("want the start of %s to fail, got ok=%v failure %+v (%s)", dead, res.OK, res.Failure, res.Message)
	}
	if !strings.Contains(res.Failure.Reason, "gate not passed") || !strings.Contains(res.Failure.Reason, dead) {
		t.Errorf("reason %q", res.Failure.Reason)
	}
	for _, s := range res.Steps {
		if s.Action == "add" && s.Status != StatusNotRun {
			t.Errorf("add %s: %s", s.Host, s.Status)
		}
	}
	cfg, err := readConfig(context.Background(), "127.0.81.101:2181", 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ids() != "1,2,3,4" {
		t.Errorf("%s lists %s, want the old 1,2,3,4", ConfigZnode, cfg.ids())
	}
}

// TestReconfigNoNewQuorum: every joiner dies after the pre-step check and
// before the -add (4 old voters, 11 new of which 5 run, the renamed host
// included: no quorum of the new config can be reached). ZooKeeper refuses; the runner reports that the old
// configuration is in force and stops the roll.
func TestReconfigNoNewQuorum(t *testing.T) {
	for _, v := range []string{"3.5.10", "3.8.0"} {
		t.Run(v, func(t *testing.T) { reconfigNoNewQuorum(t, v) })
	}
}

func reconfigNoNewQuorum(t *testing.T, version string) {
	f := newReconfigFixture(t, version, false)
	for k := 1; k <= 2; k++ {
		res, err := Run(context.Background(), f.opts(k, nil))
		if err != nil || !res.OK {
			t.Fatalf("stage %d: %v %+v", k, err, res)
		}
	}
	joiners := []string{"zk1-dc2", "zk2-dc2", "zk3-dc2", "zk4-dc2", "zk5-dc2", "zk1-dc3"}
	kill := func(ctx context.Context) {
		for _, h := range joiners {
			if _, err := f.lab.Stop(ctx, h); err != nil {
				t.Errorf("stop %s: %v", h, err)
			}
		}
		// The leader drops a learner when its connection closes.
		time.Sleep(2 * time.Second)
	}
	o := f.opts(3, nil)
	o.StepTimeout = 20 * time.Second
	start := time.Now()
	res, err := runReconfig(context.Background(), o, kill)
	if err != nil {
		t.Fatal(err)
	}
	logResult(t, res)
	t.Logf("roll stopped after %s", time.Since(start).Round(time.Millisecond))
	if res.OK || res.Failure == nil || res.Failure.Action != "add" || res.Failure.Status != StatusFailed {
		t.Fatalf("want the add to fail, got ok=%v failure %+v (%s)", res.OK, res.Failure, res.Message)
	}
	if !strings.Contains(res.Failure.Reason, "old configuration") || !strings.Contains(res.Failure.Reason, "still in force") {
		t.Errorf("reason %q", res.Failure.Reason)
	}
	cfg, err := readConfig(context.Background(), "127.0.81.101:2181", 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ids() != "1,2,3,4" {
		t.Errorf("%s lists %s, want the old 1,2,3,4", ConfigZnode, cfg.ids())
	}
	// The old four still serve (and the renamed host, non-voting).
	labtest.WaitServing(t, f.lab, 30*time.Second)
}

// TestReconfigFrozenJoiners: every joiner freezes (SIGSTOP) right after the
// pre-step check, still connected, so the -add is proposed but no quorum of
// the new configuration acknowledges it. ZooKeeper cannot fall back to the
// old configuration here (seen on 3.5.10 and 3.8.0): the leader gives up, and the old
// members cannot elect one while the proposed configuration lacks a
// quorum, so the ensemble stops serving until the joiners return. The
// runner's call must time out, the roll stop with the configuration in
// force unknown; once the joiners are back the ensemble serves again with
// one configuration on every member.
func TestReconfigFrozenJoiners(t *testing.T) {
	for _, v := range []string{"3.5.10", "3.8.0"} {
		t.Run(v, func(t *testing.T) { reconfigFrozenJoiners(t, v) })
	}
}

func reconfigFrozenJoiners(t *testing.T, version string) {
	f := newReconfigFixture(t, version, false)
	for k := 1; k <= 2; k++ {
		res, err := Run(context.Background(), f.opts(k, nil))
		if err != nil || !res.OK {
			t.Fatalf("stage %d: %v %+v", k, err, res)
		}
	}
	joiners := []string{"zk1-dc2", "zk2-dc2", "zk3-dc2", "zk4-dc2", "zk5-dc2", "zk1-dc3"}
	var frozen []int
	thaw := func() {
		for _, pid := range frozen {
			_ = syscall.Kill(pid, syscall.SIGCONT)
		}
		frozen = nil
	}
	t.Cleanup(thaw)
	freeze := func(ctx context.Context) {
		for _, h := range joiners {
			st := f.lab.HostStatus(ctx, h)
			if st.Pid <= 0 {
				t.Errorf("%s: no pid", h)
				continue
			}
			if err := syscall.Kill(st.Pid, syscall.SIGSTOP); err != nil {
				t.Errorf("freeze %s: %v", h, err)
			}
			frozen = append(frozen, st.Pid)
		}
	}
	o := f.opts(3, nil)
	o.StepTimeout = 20 * time.Second
	start := time.Now()
	res, err := runReconfig(context.Background(), o, freeze)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("roll stopped after %s: %s", time.Since(start).Round(time.Millisecond), res.Message)
	if res.OK || res.Failure == nil || res.Failure.Action != "add" || res.Failure.Status != StatusFailed {
		t.Fatalf("want the add to fail, got ok=%v failure %+v (%s)", res.OK, res.Failure, res.Message)
	}
	for _, s := range res.Steps {
		if s.Status == StatusDone && s.Action == "add" {
			t.Errorf("add %s reported done", s.Host)
		}
	}
	// While the joiners are frozen, the old members do not serve.
	st, _ := f.lab.Status(context.Background())
	serving := 0
	for _, s := range st {
		if s.Mode == "leader" || s.Mode == "follower" {
			serving++
		}
	}
	t.Logf("while frozen: %d hosts serve", serving)
	thaw()
	labtest.WaitServing(t, f.lab, 60*time.Second)
	var versions []string
	for _, addr := range []string{"127.0.81.101:2181", "127.0.81.102:2181", "127.0.82.1:2181"} {
		cfg, err := readConfig(context.Background(), addr, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		versions = append(versions, cfg.Version+" ids "+cfg.ids())
	}
	t.Logf("after the joiners returned: %v", versions)
	if versions[0] != versions[1] || versions[1] != versions[2] {
		t.Fatalf("members disagree on the configuration: %v", versions)
	}
	// Rolling the stage again picks up from what ZooKeeper did: done if the
	// operation committed, else the add runs again.
	res, err = Run(context.Background(), f.opts(3, nil))
	if err != nil {
		t.Fatal(err)
	}
	logResult(t, res)
	if !res.OK {
		t.Fatalf("stage 3 again: %s", res.Message)
	}
	f.verify(t, 3)
}
