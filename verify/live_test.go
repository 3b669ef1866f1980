package verify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/journal"
	"github.com/zkstage/zkstage/lab"
	"github.com/zkstage/zkstage/lab/labtest"
	"github.com/zkstage/zkstage/render"
	"github.com/zkstage/zkstage/verify"
)

// The verify package's live tests use 127.0.21.x .. 127.0.29.x only.
//
// stage0: five voters (ids 1..5; 3, 4, 5 in dc1: any three voters include
// one of them, and with equal zxids the highest id taking part leads, so the
// leader is in dc1) and one observer.
var stage0 = labtest.Ensemble{Name: "vtest", Stage: 0, Hosts: []labtest.Host{
	{Name: "v1-dc2", Address: "127.0.21.1", ID: 1, DC: "dc2"},
	{Name: "v2-dc2", Address: "127.0.21.2", ID: 2, DC: "dc2"},
	{Name: "v3-dc1", Address: "127.0.21.3", ID: 3, DC: "dc1"},
	{Name: "v4-dc1", Address: "127.0.21.4", ID: 4, DC: "dc1"},
	{Name: "v5-dc1", Address: "127.0.21.5", ID: 5, DC: "dc1"},
	{Name: "o6-dc3", Address: "127.0.21.6", ID: 6, DC: "dc3", Role: "observer"},
}}

// stage1 grows the voters to seven: ids 7 and 8 are listed, not yet live
// (a grow-roll stage).
func stage1(version string) labtest.Ensemble {
	e := at(version)
	e.Stage = 1
	e.Hosts = append(append([]labtest.Host{}, e.Hosts...),
		labtest.Host{Name: "v7-dc2", Address: "127.0.21.7", ID: 7, DC: "dc2", Down: true},
		labtest.Host{Name: "v8-dc2", Address: "127.0.21.8", ID: 8, DC: "dc2", Down: true})
	return e
}

// stage1Manifest is stage 1's manifest with the steps a grow-roll stage has:
// every live host restarts onto the bigger config.
func stage1Manifest(version string) *render.Manifest {
	m := stage1(version).Manifest()
	for _, h := range stage0.Hosts {
		m.Steps = append(m.Steps, compiler.Step{Action: compiler.Restart, Host: h.Name, ID: h.ID})
	}
	return m
}

// at is stage0 on a ZooKeeper version.
func at(version string) labtest.Ensemble {
	e := stage0
	e.Version = version
	e.Hosts = append([]labtest.Host{}, stage0.Hosts...)
	return e
}

func run(t *testing.T, m *render.Manifest, opts verify.Options) *verify.Report {
	t.Helper()
	if opts.Timeout == 0 {
		opts.Timeout = 2 * time.Second
	}
	// Sessions (ours included) are transactions: followers may trail the
	// leader by a few while the probes run, as in the CLI's default.
	if opts.ZxidTolerance == 0 {
		opts.ZxidTolerance = 100
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	r, err := verify.Run(ctx, m, opts)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("verify took %s", d)
	}
	return r
}

func text(r *verify.Report) string {
	var b strings.Builder
	_ = r.WriteText(&b)
	return b.String()
}

// expect asserts the check's status and that its message and evidence
// contain every want.
func expect(t *testing.T, r *verify.Report, name, host string, status verify.Status, wants ...string) {
	t.Helper()
	c := r.Find(name, host)
	if c == nil {
		t.Fatalf("no check %s %s in:\n%s", name, host, text(r))
	}
	all := c.Message + "\n" + strings.Join(c.Evidence, "\n")
	if c.Status != status {
		t.Errorf("%s %s: status %s, want %s\n%s", name, host, c.Status, status, text(r))
	}
	for _, w := range wants {
		if !strings.Contains(all, w) {
			t.Errorf("%s %s: %q lacks %q", name, host, all, w)
		}
	}
}

// TestLiveVerify runs the verifier against real ensembles of every version
// of the matrix: what each version shows differs (verify.Shows), the verdicts
// must not.
func TestLiveVerify(t *testing.T) {
	for _, v := range labtest.Versions {
		t.Run(v, func(t *testing.T) { liveVerify(t, v) })
	}
}

func liveVerify(t *testing.T, version string) {
	shows := verify.ShowsFor(version)
	e0 := at(version)
	l := labtest.NewLabVersion(t, version, nil)
	labtest.Up(t, l, e0, 90*time.Second)
	ctx := context.Background()
	m0 := e0.Manifest()

	t.Run("healthy", func(t *testing.T) {
		r := run(t, m0, verify.Options{Canary: "/zkstage-canary"})
		if !r.OK() {
			t.Fatalf("healthy ensemble does not verify:\n%s", text(r))
		}
		expect(t, r, verify.CheckLeader, "", verify.Pass, "leader is v")
		if shows.Learners {
			expect(t, r, verify.CheckLeaderSync, "", verify.Pass, "zk_synced_followers\t4", "zk_synced_observers\t1", "zk_quorum_size\t5", "zk_learners\t5")
		} else {
			// 3.4 and 3.5: zk_followers counts the observer too.
			expect(t, r, verify.CheckLeaderSync, "", verify.Pass, "zk_synced_followers\t4", "zk_followers\t5")
		}
		if shows.Membership {
			expect(t, r, verify.CheckConf, "", verify.Pass, "all 6 live members list the 6 expected servers")
			expect(t, r, verify.CheckZNodeConfig, "", verify.Pass, "after sync")
		} else {
			// Stage 0 is the ensemble as declared: 3.4 cannot show it, and
			// the report says where the fact comes from.
			expect(t, r, verify.CheckConf, "", verify.Pass, "cannot show membership", "taken from the spec's stage 0", "no step since stage 0")
			if c := r.Find(verify.CheckConf, ""); c.Source != verify.SourceDeclared {
				t.Errorf("membership source %q, want %q", c.Source, verify.SourceDeclared)
			}
			if r.Find(verify.CheckZNodeConfig, "") != nil {
				t.Errorf("3.4 has no /zookeeper/config, yet the report checks it:\n%s", text(r))
			}
		}
		expect(t, r, verify.CheckCanary, "", verify.Pass, "read back from all 6 members")
		expect(t, r, verify.CheckMember, "o6-dc3", verify.Pass, "serving as observer")
		if !strings.HasSuffix(r.Leader, "-dc1") {
			t.Errorf("leader %q, want one in dc1", r.Leader)
		}
	})

	t.Run("wrong stage", func(t *testing.T) {
		r := run(t, stage1Manifest(version), verify.Options{})
		if r.OK() {
			t.Fatalf("stage 0 ensemble verifies as stage 1:\n%s", text(r))
		}
		if shows.Membership {
			expect(t, r, verify.CheckConf, "", verify.Fail, "6 member(s) do not run the stage's membership", "missing id 7 (v7-dc2 127.0.21.7)", "missing id 8")
			expect(t, r, verify.CheckZNodeConfig, "", verify.Warn, "missing id 7")
		} else {
			// Nothing shows or records that the members run stage 1.
			expect(t, r, verify.CheckConf, "", verify.Unknown, "cannot show membership", "nothing records the step of", "zkstage journal ack")
		}
		if shows.QuorumSize {
			expect(t, r, verify.CheckLeaderSync, "", verify.Fail, "zk_quorum_size 5, expected 7")
		}
	})

	if !shows.Membership {
		t.Run("journal", func(t *testing.T) { liveJournal(t, m0) })
	}

	t.Run("leader outside preferred datacenter", func(t *testing.T) {
		// dc2 preferred: the leader (dc1) is allowed, not preferred.
		m := e0.Manifest()
		m.LeaderDatacenters = []string{"dc2", "dc1"}
		r := run(t, m, verify.Options{})
		expect(t, r, verify.CheckLeaderDC, "", verify.Warn, "leader "+r.Leader+" is in dc1, but dc2 is more preferred")
		if !r.OK() {
			t.Errorf("a warning fails the report:\n%s", text(r))
		}
		r = run(t, m, verify.Options{StrictLeader: true})
		expect(t, r, verify.CheckLeaderDC, "", verify.Fail, "dc2 is more preferred")
		if r.OK() {
			t.Error("strict leader passes")
		}
		m.LeaderDatacenters = []string{"dc2"}
		r = run(t, m, verify.Options{})
		expect(t, r, verify.CheckLeaderDC, "", verify.Fail, "leader "+r.Leader+" is in dc1, which may not lead (allowed: dc2)")
	})

	t.Run("observer expected as participant", func(t *testing.T) {
		e := at(version)
		e.Hosts[5].Role = ""
		r := run(t, e.Manifest(), verify.Options{})
		expect(t, r, verify.CheckMember, "o6-dc3", verify.Fail, "mode observer, expected leader or follower (role participant)")
		if shows.Membership {
			expect(t, r, verify.CheckConf, "", verify.Fail, "id 6: role observer, expected participant")
		}
		if shows.Learners {
			expect(t, r, verify.CheckLeaderSync, "", verify.Fail, "zk_synced_followers 4, expected 5", "zk_synced_observers 1, expected 0")
		} else {
			expect(t, r, verify.CheckLeaderSync, "", verify.Fail, "zk_synced_followers 4, expected 5")
		}
	})

	t.Run("garbage listener and silent listener", func(t *testing.T) {
		verify.FakeServer(t, "127.0.22.1:2181", func(string) string { return "HTTP/1.1 400 Bad Request\r\n\r\n" })
		verify.FakeServer(t, "127.0.22.2:2181", nil) // accepts, never answers
		e := at(version)
		e.Hosts[0].Address = "127.0.22.1"
		e.Hosts[1].Address = "127.0.22.2"
		start := time.Now()
		r := run(t, e.Manifest(), verify.Options{Timeout: 500 * time.Millisecond})
		expect(t, r, verify.CheckMember, "v1-dc2", verify.Fail, "garbage answer", "HTTP/1.1 400")
		expect(t, r, verify.CheckMember, "v2-dc2", verify.Fail, "timeout")
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("took %s", d)
		}
	})

	t.Run("whitelist lacks mntr", func(t *testing.T) {
		if !shows.Whitelist {
			t.Skipf("ZooKeeper %s has no four-letter-word whitelist: every word is answered", version)
		}
		l2, err := lab.New(lab.Options{State: l.State(), TickTime: 200, DieWithParent: true, Homes: labtest.Homes(), Version: version,
			Overrides: map[string]map[string]string{"v2-dc2": {"4lw.commands.whitelist": "srvr,conf,ruok"}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l2.Restart(ctx, e0.Files(), 0, "v2-dc2"); err != nil {
			t.Fatal(err)
		}
		labtest.WaitServing(t, l, 30*time.Second)
		r := run(t, m0, verify.Options{})
		expect(t, r, verify.CheckMember, "v2-dc2", verify.Fail, "add mntr to 4lw.commands.whitelist")
		if r.OK() {
			t.Error("passes")
		}
		if _, err := l.Restart(ctx, e0.Files(), 0, "v2-dc2"); err != nil {
			t.Fatal(err)
		}
		labtest.WaitServing(t, l, 30*time.Second)
	})

	t.Run("host running another stage's config", func(t *testing.T) {
		// v1 rolls onto stage 1; the others still run stage 0.
		if _, err := l.Restart(ctx, stage1(version).Files(), 1, "v1-dc2"); err != nil {
			t.Fatal(err)
		}
		labtest.WaitServing(t, l, 30*time.Second)
		if shows.Membership {
			r := run(t, m0, verify.Options{})
			expect(t, r, verify.CheckConf, "", verify.Fail, "1 member(s) do not run", "v1-dc2 runs another config", "unexpected id 7")
			r = run(t, stage1Manifest(version), verify.Options{})
			expect(t, r, verify.CheckConf, "", verify.Fail, "5 member(s) do not run", "v2-dc2 runs another config", "missing id 7")
		} else {
			// 3.4 cannot see it: stage 0 still verifies on what it shows,
			// and stage 1 is not taken on trust.
			r := run(t, stage1Manifest(version), verify.Options{})
			expect(t, r, verify.CheckConf, "", verify.Unknown, "cannot show membership")
		}
		if _, err := l.Restart(ctx, e0.Files(), 0, "v1-dc2"); err != nil {
			t.Fatal(err)
		}
		labtest.WaitServing(t, l, 30*time.Second)
	})

	t.Run("host stopped, then wait", func(t *testing.T) {
		// v2 (dc2, id 2) never leads here: stopping it needs no election.
		if _, err := l.Stop(ctx, "v2-dc2"); err != nil {
			t.Fatal(err)
		}
		r := run(t, m0, verify.Options{})
		expect(t, r, verify.CheckMember, "v2-dc2", verify.Fail, "connection refused")
		expect(t, r, verify.CheckLeaderSync, "", verify.Fail, "zk_synced_followers 3, expected 4")
		if r.OK() {
			t.Fatal("passes with a host stopped")
		}
		go func() {
			time.Sleep(time.Second)
			_, _ = l.Start(context.Background(), e0.Files(), 0, "v2-dc2")
		}()
		wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		rounds := 0
		r, err := verify.RunWait(wctx, m0, verify.Options{Timeout: time.Second}, 500*time.Millisecond, func(*verify.Report) { rounds++ })
		if err != nil {
			t.Fatal(err)
		}
		if !r.OK() || rounds == 0 {
			t.Fatalf("wait: ok=%v after %d failing rounds\n%s", r.OK(), rounds, text(r))
		}
	})
}

// liveJournal: on 3.4 a stage whose restarts cannot be observed verifies
// once the rollout journal in the ensemble records them, and says so.
func liveJournal(t *testing.T, m0 *render.Manifest) {
	m := *m0
	m.Stage, m.Name, m.Fingerprint = 1, "restart-v1", "fp-journal-test"
	m.Steps = []compiler.Step{{Action: compiler.Restart, Host: "v1-dc2", ID: 1}}
	opts := verify.Options{Dir: "clusters/vtest"}
	r := run(t, &m, opts)
	expect(t, r, verify.CheckConf, "", verify.Unknown, "nothing records the step of v1-dc2", "zkstage journal ack clusters/vtest --stage 1", journal.Path("vtest"))
	if r.OK() {
		t.Fatalf("an unrecorded restart verifies:\n%s", text(r))
	}
	var servers []string
	for _, mem := range m.LiveMembers() {
		servers = append(servers, mem.Address+":2181")
	}
	ctx := context.Background()
	// A record of another plan does not count.
	other := journal.Record{Fingerprint: "fp-other", Stage: 1, Action: "restart", Host: "v1-dc2", ID: 1, At: time.Now(), By: journal.ByRoll}
	if err := journal.Append(ctx, servers, "vtest", 5*time.Second, other); err != nil {
		t.Fatal(err)
	}
	r = run(t, &m, opts)
	expect(t, r, verify.CheckConf, "", verify.Unknown, "from another plan, fingerprint fp-other")
	rec := other
	rec.Fingerprint = "fp-journal-test"
	if err := journal.Append(ctx, servers, "vtest", 5*time.Second, rec); err != nil {
		t.Fatal(err)
	}
	r = run(t, &m, opts)
	if !r.OK() {
		t.Fatalf("a recorded restart does not verify:\n%s", text(r))
	}
	expect(t, r, verify.CheckConf, "", verify.Pass, "v1-dc2: stage 1 restart v1-dc2 (id 1) recorded by zkstage roll", "(journal)", "v2-dc2: no step since stage 0, the ensemble as the spec declares it today (declared)")
	if c := r.Find(verify.CheckConf, ""); c.Source != "declared,journal" {
		t.Errorf("membership source %q, want declared,journal", c.Source)
	}
}
