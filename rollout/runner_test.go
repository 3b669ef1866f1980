package rollout

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/verify"
)

// fakeState builds an observation: every listed host serves as a follower
// of stage cfg ("from"/"to") under the id the plan gives it, the leader
// leads, the hosts in down are not running.
func fakeState(r *runner, leader string, onTo map[string]bool, down ...string) *state {
	st := &state{Hosts: map[string]*hostObs{}, Leader: leader}
	if leader != "" {
		st.Leaders = []string{leader}
	}
	isDown := map[string]bool{}
	for _, h := range down {
		isDown[h] = true
	}
	fromLive := map[string]bool{}
	for _, h := range r.from.Live {
		fromLive[h] = true
	}
	for _, h := range r.hosts {
		o := &hostObs{Host: h, ID: -1}
		wasLive := fromLive[h]
		switch {
		case isDown[h] || (!wasLive && !onTo[h]):
			o.Down, o.Err = true, "not running (connection refused on "+h+")"
		default:
			o.Serving, o.Mode = true, "follower"
			if h == leader {
				o.Mode = "leader"
			}
			o.ID, o.Config = r.fromID[h], cfgFrom
			if onTo[h] || sameMembers(r.from.Members, r.to.Members) {
				o.Config = cfgTo
				o.ID = r.members[h].ID
			}
		}
		st.Hosts[h] = o
	}
	return st
}

func labRunner(t *testing.T, k int) *runner {
	t.Helper()
	_, c, p := loadPlan(t)
	f := &fixture{c: c, p: p}
	r, err := newRunner(Options{From: f.manifest(k - 1), To: f.manifest(k)})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// liveCase is the lab runner of stage with the steps of onTo done, an
// observed state with leader and the down hosts, and host's step.
func liveCase(t *testing.T, stage int, leader string, onTo, down []string, host string) (*runner, *state, compiler.Step) {
	t.Helper()
	r := labRunner(t, stage)
	on := map[string]bool{}
	for _, h := range onTo {
		on[h] = true
		r.done[r.stepOf(h)] = true
	}
	st := fakeState(r, leader, on, down...)
	i := r.stepOf(host)
	if i < 0 {
		t.Fatalf("no step for %s", host)
	}
	return r, st, r.steps[i]
}

func TestLiveMargin(t *testing.T) {
	tests := []struct {
		name   string
		stage  int
		leader string
		onTo   []string
		down   []string
		host   string // the step's host
		want   int
		rule   string
	}{
		{name: "grow-roll first restart, healthy", stage: 2, leader: "zk1-dc1", host: "zk2-dc1", want: 0, rule: "rule 2: zk2-dc1 (id 1) rejoins with 4 other live voters"},
		{name: "grow-roll, another follower down", stage: 2, leader: "zk1-dc1", down: []string{"zk4-dc1"}, host: "zk2-dc1", want: -1, rule: "rule 2"},
		{name: "grow-roll leader last", stage: 2, leader: "zk1-dc1", onTo: []string{"zk2-dc1", "zk3-dc1", "zk4-dc1", "zk5-dc1"}, host: "zk1-dc1", want: 0, rule: "rule 3: 4 live voters of the 7-voter config elect a leader (zk5-dc1, id 4, wins)"},
		{name: "rename, follower restart keeps leader quorum", stage: 1, leader: "zk5-dc1", host: "zk2-dc1", want: 0},
		{name: "rename of a follower under a kept leader", stage: 1, leader: "zk5-dc1", onTo: []string{"zk2-dc1", "zk3-dc1", "zk4-dc1"}, host: "zk1-dc1", want: 1, rule: "rule 1"},
		{name: "start with everyone up", stage: 3, leader: "zk1-dc1", host: "zk1-dc2", want: 1},
		{name: "start with two old hosts down", stage: 3, leader: "zk1-dc1", down: []string{"zk2-dc1", "zk3-dc1"}, host: "zk1-dc2", want: -1},
		{name: "no leader", stage: 2, leader: "", host: "zk2-dc1", want: -1, rule: "no single live leader"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, st, s := liveCase(t, tt.stage, tt.leader, tt.onTo, tt.down, tt.host)
			got, rule := r.liveMargin(st, s)
			if got != tt.want || !strings.Contains(rule, tt.rule) {
				t.Errorf("margin %d (%s), want %d (%s)", got, rule, tt.want, tt.rule)
			}
		})
	}
}

// TestHandover: which restarts run as stop, the others' election, start.
func TestHandover(t *testing.T) {
	tests := []struct {
		name   string
		stage  int
		leader string
		onTo   []string
		down   []string
		host   string
		want   string
	}{
		{name: "grow-roll leader last: the other four elect", stage: 2, leader: "zk1-dc1", onTo: []string{"zk2-dc1", "zk3-dc1", "zk4-dc1", "zk5-dc1"}, host: "zk1-dc1", want: "zk5-dc1"},
		{name: "a follower's restart is plain", stage: 2, leader: "zk1-dc1", host: "zk2-dc1", want: ""},
		{name: "the others lack a quorum without it: plain restart", stage: 2, leader: "zk1-dc1", onTo: []string{"zk2-dc1", "zk3-dc1", "zk4-dc1", "zk5-dc1"}, down: []string{"zk2-dc1"}, host: "zk1-dc1", want: ""},
		{name: "rename stage, kept-id leader last: the renamed host wins", stage: 1, leader: "zk5-dc1", onTo: []string{"zk1-dc1", "zk2-dc1", "zk3-dc1", "zk4-dc1"}, host: "zk5-dc1", want: "zk1-dc1"},
		{name: "renamed leader first: the old-config hosts elect", stage: 1, leader: "zk1-dc1", host: "zk1-dc1", want: "zk5-dc1"},
		{name: "start steps never hand over", stage: 3, leader: "zk1-dc1", host: "zk1-dc2", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, st, s := liveCase(t, tt.stage, tt.leader, tt.onTo, tt.down, tt.host)
			if got := r.handover(st, s); got != tt.want {
				t.Errorf("handover %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNextOrder(t *testing.T) {
	tests := []struct {
		name   string
		stage  int
		leader string
		done   []string
		want   string
		first  bool
	}{
		{name: "leader not stepping: plan order", stage: 3, leader: "zk1-dc1", want: "zk1-dc2"},
		{name: "grow-roll: leader last", stage: 2, leader: "zk2-dc1", want: "zk3-dc1"},
		{name: "grow-roll: only the leader left", stage: 2, leader: "zk2-dc1", done: []string{"zk3-dc1", "zk4-dc1", "zk5-dc1", "zk1-dc1"}, want: "zk2-dc1", first: true},
		{name: "rename: kept-id leader last", stage: 1, leader: "zk5-dc1", want: "zk2-dc1"},
		{name: "rename: kept-id leader after the renamed host", stage: 1, leader: "zk5-dc1", done: []string{"zk2-dc1", "zk3-dc1", "zk4-dc1"}, want: "zk1-dc1"},
		{name: "rename: renamed leader first", stage: 1, leader: "zk1-dc1", want: "zk1-dc1", first: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := labRunner(t, tt.stage)
			onTo := map[string]bool{}
			for _, h := range tt.done {
				r.done[r.stepOf(h)] = true
				onTo[h] = true
			}
			st := fakeState(r, tt.leader, onTo)
			var remaining []int
			for i := range r.steps {
				if !r.done[i] {
					remaining = append(remaining, i)
				}
			}
			i, isLeader := r.next(remaining, st)
			if r.steps[i].Host != tt.want || isLeader != tt.first {
				t.Errorf("next = %s (leader step %v), want %s (%v)", r.steps[i].Host, isLeader, tt.want, tt.first)
			}
		})
	}
}

func TestGateProblems(t *testing.T) {
	r := labRunner(t, 2)
	r.done[r.stepOf("zk2-dc1")] = true
	onTo := map[string]bool{"zk2-dc1": true}
	step := r.steps[r.stepOf("zk2-dc1")]
	// 3.8: the leader zk1-dc1 still runs stage 1's five voters.
	healthy := map[string]string{"zk_learners": "4", "zk_synced_followers": "4", "zk_synced_observers": "0", "zk_quorum_size": "5"}
	tests := []struct {
		name   string
		mutate func(st *state)
		mntr   map[string]string
		want   string
	}{
		{name: "host still on the old config", mutate: func(st *state) { st.Hosts["zk2-dc1"].Config = cfgFrom }, mntr: healthy, want: "zk2-dc1 runs another config"},
		{name: "host not serving", mutate: func(st *state) {
			st.Hosts["zk2-dc1"].Serving, st.Hosts["zk2-dc1"].Mode, st.Hosts["zk2-dc1"].Err = false, "", "not currently serving requests (srvr on x)"
		}, mntr: healthy, want: "zk2-dc1: not currently serving requests"},
		{name: "wrong id", mutate: func(st *state) { st.Hosts["zk2-dc1"].ID = 7 }, mntr: healthy, want: "zk2-dc1: runs as id 7, expected 1"},
		{name: "two leaders", mutate: func(st *state) { st.Hosts["zk3-dc1"].Mode = "leader" }, mntr: healthy, want: "2 members say they lead"},
		{name: "no mntr", mutate: func(st *state) {}, want: "leader zk1-dc1: mntr unavailable"},
		{name: "a learner missing", mutate: func(st *state) {}, mntr: map[string]string{"zk_learners": "3", "zk_synced_followers": "3", "zk_synced_observers": "0", "zk_quorum_size": "5"},
			want: "leader zk1-dc1: zk_learners 3, expected 4"},
		{name: "leader on the wrong config size", mutate: func(st *state) {}, mntr: map[string]string{"zk_learners": "4", "zk_synced_followers": "4", "zk_synced_observers": "0", "zk_quorum_size": "7"},
			want: "zk_quorum_size 7, expected 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := fakeState(r, "zk1-dc1", onTo)
			tt.mutate(st)
			probesFrom(r, st, tt.mntr)
			got := strings.Join(r.gate(st, step), "\n")
			if !strings.Contains(got, tt.want) {
				t.Errorf("problems:\n%s\nwant one containing %q", got, tt.want)
			}
		})
	}
	t.Run("healthy", func(t *testing.T) {
		st := fakeState(r, "zk1-dc1", onTo)
		probesFrom(r, st, healthy)
		if p := r.gate(st, step); len(p) > 0 {
			t.Errorf("healthy state has problems: %v", p)
		}
	})
}

// TestGateVersions: the gate asks each version only for what it shows (the
// leader mntr keys of the real 3.4.6 and 3.5.10 answers under
// verify/testdata: zk_followers and zk_synced_followers, no zk_learners, no
// zk_synced_observers, no zk_quorum_size), and on 3.4, which shows no
// membership, takes it from the runner's own steps.
func TestGateVersions(t *testing.T) {
	for _, v := range []string{"3.4.6", "3.5.10"} {
		t.Run(v, func(t *testing.T) {
			r := labRunner(t, 2)
			r.to.Version, r.from.Version = v, v
			r.shows = verify.ShowsFor(v)
			r.done[r.stepOf("zk2-dc1")] = true
			step := r.steps[r.stepOf("zk2-dc1")]
			st := fakeState(r, "zk1-dc1", map[string]bool{"zk2-dc1": true})
			probesFrom(r, st, map[string]string{"zk_followers": "4", "zk_synced_followers": "4", "zk_server_state": "leader"})
			if p := r.gate(st, step); len(p) > 0 {
				t.Fatalf("healthy %s state has problems: %v", v, p)
			}
			probesFrom(r, st, map[string]string{"zk_followers": "3", "zk_synced_followers": "3", "zk_server_state": "leader"})
			got := strings.Join(r.gate(st, step), "\n")
			if !strings.Contains(got, "leader zk1-dc1: zk_followers 3, expected 4; zk_synced_followers 3, expected 4") {
				t.Errorf("a missing follower is not reported on %s: %s", v, got)
			}
			if v == "3.4.6" {
				// The membership is what the runner knows it did.
				exp, _ := r.expectation(st)
				for _, x := range exp.Hosts {
					if x.Source != verify.SourceRunner || x.Record == "" {
						t.Errorf("%s: source %q record %q, want the runner's", x.Member.Host, x.Source, x.Record)
					}
				}
			}
		})
	}
}

func TestWriterStats(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	w := &Writer{start: t0}
	for _, ms := range []int{10, 20, 30, 1500, 1510, 1520} {
		w.acks = append(w.acks, at(ms))
	}
	w.failures = []time.Time{at(100), at(900), at(2000)}
	tests := []struct {
		from, to int
		want     WriteStats
	}{
		{0, 2000, WriteStats{Acked: 6, Failed: 2, Stall: 1470 * time.Millisecond}},
		// A gap that began before the window counts from the last write before it.
		{1000, 1600, WriteStats{Acked: 3, Failed: 0, Stall: 1470 * time.Millisecond}},
		// A gap still open at the window's end counts up to the end.
		{1515, 3000, WriteStats{Acked: 1, Failed: 1, Stall: 1480 * time.Millisecond}},
	}
	for _, tt := range tests {
		if got := w.Stats(at(tt.from), at(tt.to)); got != tt.want {
			t.Errorf("Stats(%d, %d) = %+v, want %+v", tt.from, tt.to, got, tt.want)
		}
	}
}

// The step reaches the command only through its environment: a host name
// full of shell syntax is never evaluated.
func TestShellEnvironment(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "env")
	sh := Shell{Command: `printf '%s|%s|%s|%s|%s|%s|%s' "$ZKSTAGE_ACTION" "$ZKSTAGE_HOST" "$ZKSTAGE_ADDRESS" "$ZKSTAGE_MYID" "$ZKSTAGE_STAGE" "$ZKSTAGE_CLUSTER" "$ZKSTAGE_DIR" > ` + out}
	evil := "zk1;touch " + filepath.Join(dir, "pwned") + ";$(touch " + filepath.Join(dir, "pwned2") + ")"
	err := sh.Exec(context.Background(), StepEnv{Action: "restart", Host: evil, Address: "127.0.0.1", MyID: 100, Stage: 2, Cluster: "lab", Dir: "/c"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := "restart|" + evil + "|127.0.0.1|100|2|lab|/c"; string(b) != want {
		t.Errorf("env = %q, want %q", b, want)
	}
	for _, f := range []string{"pwned", "pwned2"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("the host name was evaluated by the shell (%s exists)", f)
		}
	}
	err = Shell{Command: `echo first; echo "failing on $ZKSTAGE_HOST" >&2; exit 7`}.Exec(context.Background(), StepEnv{Host: "zk9"})
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != 7 || !strings.Contains(ee.Error(), "failing on zk9") {
		t.Errorf("err = %v, want exit status 7 with the output's tail", err)
	}
}

func TestValidate(t *testing.T) {
	_, c, p := loadPlan(t)
	f := &fixture{c: c, p: p}
	tests := []struct {
		name     string
		from, to int
		want     string
	}{
		{"not consecutive", 1, 3, "stages 1 and 3 are not consecutive"},
		{"backwards", 2, 1, "not consecutive"},
	}
	for _, tt := range tests {
		_, err := Run(context.Background(), Options{From: f.manifest(tt.from), To: f.manifest(tt.to), Exec: Shell{Command: "true"}})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
	other := f.manifest(2)
	other.Fingerprint = "0000"
	if _, err := Run(context.Background(), Options{From: f.manifest(1), To: other, Exec: Shell{Command: "true"}}); err == nil || !strings.Contains(err.Error(), "different plans") {
		t.Errorf("different plans: err = %v", err)
	}
}

// TestGateRenameNonVoting: in the rename stage a renamed follower restarts
// under its new id before the leader, whose configuration does not list that
// id: a 3.6+ leader counts it as a synced non-voting follower (seen on 3.8),
// and the gate expects exactly that.
func TestGateRenameNonVoting(t *testing.T) {
	r := labRunner(t, 1)
	i := r.stepOf("zk1-dc1")
	if r.steps[i].FromID == nil {
		t.Fatalf("stage 1 does not rename zk1-dc1: %+v", r.steps[i])
	}
	r.done[i] = true
	st := fakeState(r, "zk5-dc1", map[string]bool{"zk1-dc1": true})
	mntr := map[string]string{"zk_learners": "4", "zk_synced_followers": "4", "zk_synced_observers": "0", "zk_quorum_size": "5", "zk_synced_non_voting_followers": "1"}
	probesFrom(r, st, mntr)
	if p := r.gate(st, r.steps[i]); len(p) > 0 {
		t.Fatalf("renamed follower under a leader on the old config: %v", p)
	}
	mntr["zk_synced_non_voting_followers"] = "0"
	probesFrom(r, st, mntr)
	if got := strings.Join(r.gate(st, r.steps[i]), "\n"); !strings.Contains(got, "zk_synced_non_voting_followers 0, expected 1") {
		t.Errorf("a renamed follower the leader counts as voting is not reported: %s", got)
	}
}

// The bench names the step whose window holds most of a stage's longest
// stall; an operation is named once (its hosts share one window).
func TestStallStep(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	r := &Result{Steps: []StepResult{
		{K: 1, Action: "restart", Host: "zk1-dc1", Started: at(0), Duration: ms(2000)},
		{K: 2, Action: "start", Host: "zk1-dc2", Started: at(2100), Duration: ms(1000)},
		{K: 3, Action: "add", Host: "zk1-dc2", Started: at(3200), Duration: ms(900)},
		{K: 3, Action: "add", Host: "zk2-dc2", Started: at(3200), Duration: ms(900)},
		{K: 0, Action: "start", Host: "zk3-dc2"}, // not run
	}}
	tests := []struct {
		from, to int
		want     string
	}{
		{1500, 1900, "1 restart zk1-dc1"},
		// A gap that outlasts its step (the client still reconnecting).
		{1800, 2400, "2 start zk1-dc2"},
		{1700, 2300, "1 restart zk1-dc1"},
		{3300, 3500, "3 add (one operation)"},
		{4200, 4300, ""}, // after every step
	}
	for _, tt := range tests {
		if got := stallStep(r, at(tt.from), at(tt.to)); got != tt.want {
			t.Errorf("stallStep(%d, %d) = %q, want %q", tt.from, tt.to, got, tt.want)
		}
	}
}

// deadlineOnly is a context whose deadline has passed before its Err says so,
// as a probe's timer can make it look.
type deadlineOnly struct {
	context.Context
	d time.Time
}

func (c deadlineOnly) Deadline() (time.Time, bool) { return c.d, true }

func TestCutShort(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		want bool
	}{
		{"no deadline", context.Background(), false},
		{"deadline ahead", deadlineOnly{context.Background(), time.Now().Add(time.Hour)}, false},
		{"deadline passed, Err not yet set", deadlineOnly{context.Background(), time.Now().Add(-time.Millisecond)}, true},
		{"canceled", canceled, true},
	} {
		if got := cutShort(tc.ctx); got != tc.want {
			t.Errorf("%s: cutShort %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestOrderedHosts: WriterOptions.First puts the session on one server,
// then the client goes round the others in order, and reports retryStart
// when it comes back to the server it last connected to.
func TestOrderedHosts(t *testing.T) {
	h := &orderedHosts{first: "b:1"}
	if err := h.Init([]string{"a:1", "b:1", "c:1"}); err != nil {
		t.Fatal(err)
	}
	var got []string
	next := func() {
		s, retry := h.Next()
		if retry {
			s += " retry"
		}
		got = append(got, s)
	}
	next() // b:1, the first connection
	h.Connected()
	next()
	next()
	next() // back to b:1 with no connection in between
	next()
	h.Connected() // connected to a:1
	next()
	next()
	next()
	want := "b:1, a:1, c:1, b:1 retry, a:1, c:1, b:1, a:1 retry"
	if s := strings.Join(got, ", "); s != want || h.Len() != 3 {
		t.Errorf("order %q (len %d), want %q", s, h.Len(), want)
	}
}
