package rollout

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// reconfigLeaderSpec: three servers in dc1 (ids 4, 5 and 6, of which 6
// leaves) and three in dc2 (ids 1, 2, 3), reconfiguration already on.
// Removing the leader's id 6 makes ZooKeeper hand the leadership over to
// the lowest id that acknowledged the change (Leader.getDesignatedLeader
// takes the first of a HashSet of small longs, in id order); any quorum (3)
// of the new voters 1..5 holds one of 1, 2, 3, so the leadership lands in
// dc2 every time.
func reconfigLeaderSpec(version string) string {
	b := twoDCSpec("rcl", version)
	for i := 1; i <= 3; i++ {
		rm := ""
		if i == 3 {
			rm = ", remove: true"
		}
		fmt.Fprintf(b, "\t\"zk%d-dc1\": {address: \"127.0.81.%d\", dc: \"dc1\", myid: %d%s}\n", i, i, i+3, rm)
		fmt.Fprintf(b, "\t\"zk%d-dc2\": {address: \"127.0.82.%d\", dc: \"dc2\", myid: %d}\n", i, i, i)
	}
	return endSpec(b, `renumber: "none"`)
}

// twoDCSpec starts a reconfig spec of dc1 (preferred) and dc2 (allowed),
// up to the opening of hosts; endSpec closes it with reconfiguration on,
// the test's digest and the extra policy fields.
func twoDCSpec(name, version string) *strings.Builder {
	b := &strings.Builder{}
	fmt.Fprintf(b, "name: %q\nversion: %q\nports: {client: 2181, quorum: 2555, election: 3555}\n", name, version)
	b.WriteString("datacenters: {\n\tdc1: {leader: \"preferred\", priority: 1}\n\tdc2: {leader: \"allowed\", priority: 2}\n}\nhosts: {\n")
	return b
}

func endSpec(b *strings.Builder, policy string) string {
	b.WriteString("}\nsettings: {tickTime: 200, initLimit: 10, syncLimit: 5}\n")
	if policy != "" {
		policy = ", " + policy
	}
	fmt.Fprintf(b, "policy: {method: \"reconfig\", reconfigEnabled: true, superDigest: %q%s}\n", superDigest(reconfigPassword), policy)
	return b.String()
}

// TestReconfigLeaderMovesBack: a reconfig stage that removes the leader's
// id leaves the leadership where ZooKeeper puts it (dc2 here); the runner
// then moves it to the most preferred datacenter the rolling way, as a
// handover (stop, the others elect the highest id, start), so that the
// stage ends with zk2-dc1 (id 5) leading. No reconfig operation can pick
// the successor; this is the fallback the README promises.
func TestReconfigLeaderMovesBack(t *testing.T) {
	for _, v := range []string{"3.5.10", "3.8.0"} {
		t.Run(v, func(t *testing.T) { reconfigLeaderMovesBack(t, v) })
	}
}

func reconfigLeaderMovesBack(t *testing.T, version string) {
	f := newReconfigFixtureSpec(t, version, reconfigLeaderSpec(version))
	if k := planKinds(f.p); k != "reconfig-remove reconfig-stop" {
		t.Fatalf("plan stages %s", k)
	}
	f.leaderTo(t, "zk3-dc1")
	res, err := Run(context.Background(), f.opts(1, nil))
	if err != nil {
		t.Fatal(err)
	}
	logResult(t, res)
	if !res.OK {
		t.Fatalf("stage 1: %s", res.Message)
	}
	rm := res.Steps[0]
	if !rm.WasLeader || rm.Status != StatusDone {
		t.Fatalf("remove step: %+v", rm)
	}
	// The ZooKeeper fact the test stands on: the successor is in dc2.
	if f.c.Hosts[rm.LeaderAfter].DC != "dc2" {
		t.Errorf("after removing the leader's id, %q leads; ZooKeeper's designated leader was expected in dc2 (the lowest acknowledging id)", rm.LeaderAfter)
	}
	mv := res.LeaderMove
	if mv == nil {
		t.Fatalf("no leader move; leader %s", res.Leader)
	}
	if mv.Status != StatusDone || !strings.Contains(mv.Handover, "once zk2-dc1 led") || !strings.Contains(mv.Handover, "as predicted") {
		t.Errorf("leader move: status %s, handover %q", mv.Status, mv.Handover)
	}
	if mv.Elections != 1 {
		t.Errorf("leader move: %d elections, want 1", mv.Elections)
	}
	t.Logf("removal: leader %s -> %s; move: %s", "zk3-dc1", rm.LeaderAfter, mv.Handover)
	if res.Leader != "zk2-dc1" {
		t.Errorf("leader after the stage %s, want zk2-dc1 (id 5, dc1)", res.Leader)
	}
	f.verify(t, 1)
	res, err = Run(context.Background(), f.opts(2, nil))
	if err != nil || !res.OK {
		t.Fatalf("stage 2: %v %+v", err, res)
	}
	f.verify(t, 2)
}

// leaderTo restarts the leader of stage 0 until host leads (with equal
// zxids the highest live id wins, so each restart moves the leadership up).
func (f *reconfigFixture) leaderTo(t *testing.T, host string) {
	t.Helper()
	ctx := context.Background()
	files, err := LabFiles(f.c, f.p, 0)
	if err != nil {
		t.Fatal(err)
	}
	for attempt := 0; ; attempt++ {
		L := f.verify(t, 0).Leader
		t.Logf("stage 00: %s leads (want %s)", L, host)
		if L == host {
			return
		}
		if attempt == 6 {
			t.Fatalf("%s leads, not %s, after %d leader restarts", L, host, attempt)
		}
		if _, err := f.lab.Stop(ctx, L); err != nil {
			t.Fatal(err)
		}
		// The others elect before it comes back, so that it cannot win
		// again (the race the runner's handover avoids).
		deadline := time.Now().Add(30 * time.Second)
		for {
			if st := f.lab.HostStatus(ctx, host); st.Mode == "leader" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s did not take over from %s", host, L)
			}
			time.Sleep(200 * time.Millisecond)
		}
		if _, err := f.lab.Start(ctx, files, 0, L); err != nil {
			t.Fatal(err)
		}
	}
}

// reconfigResumeSpec: three servers in dc1 with reconfiguration on, one
// renamed 2 -> 100, and two joiners in dc2: a remove stage, then an add
// stage of five host and op steps.
func reconfigResumeSpec(version string) string {
	b := twoDCSpec("rcr", version)
	for i := 1; i <= 3; i++ {
		fmt.Fprintf(b, "\t\"zk%d-dc1\": {address: \"127.0.81.%d\", dc: \"dc1\", myid: %d}\n", i, i, i-1)
	}
	for i := 1; i <= 2; i++ {
		fmt.Fprintf(b, "\t\"zk%d-dc2\": {address: \"127.0.82.%d\", dc: \"dc2\"}\n", i, i)
	}
	return endSpec(b, "")
}

// TestReconfigResume: an add stage stopped after its first host steps (the
// renamed host restarted under its new id, one joiner started) is refused
// on a second run without --resume, touching nothing, and with --resume
// continues from the live state: the done steps are reported as already
// done and not run again (the renamed host keeps its process), the rest
// runs, and /zookeeper/config ends with the stage's members.
func TestReconfigResume(t *testing.T) {
	for _, v := range []string{"3.5.10", "3.8.0"} {
		t.Run(v, func(t *testing.T) { reconfigResume(t, v) })
	}
}

func reconfigResume(t *testing.T, version string) {
	f := newReconfigFixtureSpec(t, version, reconfigResumeSpec(version))
	if k := planKinds(f.p); k != "reconfig-remove reconfig-add" {
		t.Fatalf("plan stages %s", k)
	}
	ctx := context.Background()
	res, err := Run(ctx, f.opts(1, nil))
	if err != nil || !res.OK {
		t.Fatalf("stage 1: %v %+v", err, res)
	}
	f.verify(t, 1)

	// The second run of stage 2 "dies" at the second joiner's start: the
	// command fails before it does anything.
	add := f.p.Stages[2]
	var joiners []string
	for _, s := range add.Steps {
		if s.Action == "start" {
			joiners = append(joiners, s.Host)
		}
	}
	if len(joiners) != 2 || add.Steps[0].Action != "restart" || add.Steps[0].Host != "zk3-dc1" {
		t.Fatalf("add stage steps %+v", add.Steps)
	}
	inner := LabExec(f.lab, f.c, f.p)
	o := f.opts(2, nil)
	o.Exec = ExecFunc(func(ctx context.Context, s StepEnv) error {
		if s.Host == joiners[1] {
			return fmt.Errorf("killed (test)")
		}
		return inner.Exec(ctx, s)
	})
	res, err = Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	logResult(t, res)
	if res.OK || res.Failure == nil || res.Failure.Host != joiners[1] {
		t.Fatalf("interrupted run: ok=%v failure %+v", res.OK, res.Failure)
	}
	pid := f.lab.HostStatus(ctx, "zk3-dc1").Pid

	res, err = Run(ctx, f.opts(2, nil))
	if err != nil {
		t.Fatal(err)
	}
	if res.OK || !strings.Contains(res.Message, "partly rolled out already (2 of") || !strings.Contains(res.Message, "--resume") {
		t.Fatalf("second run without --resume: ok=%v %s", res.OK, res.Message)
	}
	if st := f.lab.HostStatus(ctx, joiners[1]); st.Running {
		t.Fatalf("the refused run started %s", joiners[1])
	}
	t.Logf("without --resume: %s", res.Message)

	o = f.opts(2, nil)
	o.Resume = true
	res, err = Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	logResult(t, res)
	if !res.OK {
		t.Fatalf("resumed run: %s", res.Message)
	}
	for _, s := range res.Steps {
		want := StatusDone
		if s.Action == "restart" && s.Host == "zk3-dc1" || s.Action == "start" && s.Host == joiners[0] {
			want = StatusAlreadyDone
		}
		if s.Status != want {
			t.Errorf("resumed run: %s %s %s, want %s", s.Action, s.Host, s.Status, want)
		}
	}
	if now := f.lab.HostStatus(ctx, "zk3-dc1").Pid; now != pid {
		t.Errorf("zk3-dc1 restarted again on resume (pid %d -> %d)", pid, now)
	}
	f.verify(t, 2)
	cfg, err := readConfig(ctx, f.servers()[0], 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ids() != "0,1,3,4,100" {
		t.Errorf("%s lists %s, want 0,1,3,4,100", ConfigZnode, cfg.ids())
	}
}
