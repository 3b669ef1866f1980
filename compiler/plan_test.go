package compiler

import (
	"fmt"
	"strings"
	"testing"

	"github.com/zkstage/zkstage/schema"
)

// spec builds a cluster spec in CUE for table tests.
type hostSpec struct {
	name, dc, role string
	myid           int // -1: new host
	remove         bool
}

func buildSpec(t testing.TB, version string, dcs map[string]string, hosts []hostSpec, policy string) *schema.Cluster {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "name: \"t\"\nversion: %q\n", version)
	fmt.Fprintln(&b, "datacenters: {")
	for _, name := range schema.SortedKeys(dcs) {
		parts := strings.SplitN(dcs[name], "/", 2)
		prio := ""
		if len(parts) == 2 {
			prio = ", priority: " + parts[1]
		}
		fmt.Fprintf(&b, "  %s: {leader: %q%s}\n", name, parts[0], prio)
	}
	fmt.Fprintln(&b, "}\nhosts: {")
	for i, h := range hosts {
		fmt.Fprintf(&b, "  %q: {address: \"10.0.%d.%d\", dc: %q", h.name, i/200, i%200+1, h.dc)
		if h.myid >= 0 {
			fmt.Fprintf(&b, ", myid: %d", h.myid)
		}
		if h.role != "" {
			fmt.Fprintf(&b, ", role: %q", h.role)
		}
		if h.remove {
			fmt.Fprint(&b, ", remove: true")
		}
		fmt.Fprintln(&b, "}")
	}
	fmt.Fprintln(&b, "}")
	if policy != "" {
		fmt.Fprintf(&b, "policy: {%s}\n", policy)
	}
	c, _, err := schema.LoadBytes("test.cue", []byte(b.String()))
	if err != nil {
		t.Fatalf("spec: %v\n%s", err, b.String())
	}
	return c
}

func loadCluster(t testing.TB, dir string) *schema.Cluster {
	t.Helper()
	c, _, err := schema.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// summary is a compact, comparable form of a plan: per stage its name, the
// voter ids and the steps as "action host id".
func summary(p *Plan) []string {
	var out []string
	for _, s := range p.Stages {
		line := fmt.Sprintf("%02d %s ids=%s", s.Index, s.Name, idList(s.Members))
		var steps []string
		for _, st := range s.Steps {
			steps = append(steps, fmt.Sprintf("%s:%s:%d", st.Action, st.Host, st.ID))
		}
		if len(steps) > 0 {
			line += " steps=" + strings.Join(steps, ",")
		}
		out = append(out, line)
	}
	return out
}

func idList(ms []Member) string {
	var s []string
	for _, m := range ms {
		x := fmt.Sprint(m.ID)
		if !m.Voter() {
			x += "o"
		}
		s = append(s, x)
	}
	return strings.Join(s, ",")
}

func TestReferencePlan(t *testing.T) {
	p, err := Compile(loadCluster(t, "../clusters/reference"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"00 current ids=0,1,2,3,4",
		"01 rename-0-to-100 ids=1,2,3,4,100 steps=restart:zk2-dc1:1,restart:zk3-dc1:2,restart:zk4-dc1:3,restart:zk1-dc1:100,restart:zk5-dc1:4",
		"02 grow-5-to-7-roll ids=1,2,3,4,5,6,100 steps=restart:zk2-dc1:1,restart:zk3-dc1:2,restart:zk4-dc1:3,restart:zk5-dc1:4,restart:zk1-dc1:100",
		"03 grow-5-to-7-start ids=1,2,3,4,5,6,100 steps=start:zk1-dc2:5,start:zk2-dc2:6",
		"04 grow-7-to-11-roll ids=0,1,2,3,4,5,6,7,8,9,100 steps=restart:zk2-dc1:1,restart:zk3-dc1:2,restart:zk4-dc1:3,restart:zk1-dc2:5,restart:zk2-dc2:6,restart:zk1-dc1:100,restart:zk5-dc1:4",
		"05 grow-7-to-11-start ids=0,1,2,3,4,5,6,7,8,9,100 steps=start:zk1-dc3:0,start:zk3-dc2:7,start:zk4-dc2:8,start:zk5-dc2:9",
	}
	got := summary(p)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The story: the leader each stage starts with and ends with, as the lab
	// shows it (docs/zookeeper-facts.md, where the leader goes): the highest
	// id leads today; restarting it last in the rename elects 100; in the
	// 5 -> 7 roll 100 restarts last and 4 wins (5 and 6 are not started);
	// in the 7 -> 11 roll 4 restarts last and 100 wins again.
	chain := []string{"zk5-dc1", "zk1-dc1", "zk5-dc1", "zk5-dc1", "zk1-dc1", "zk1-dc1"}
	for i, s := range p.Stages {
		if s.LeaderAfter != chain[i] || (i > 0 && s.Leader != chain[i-1]) {
			t.Errorf("stage %d: leader %s -> %s, want %s", i, s.Leader, s.LeaderAfter, chain[i])
		}
		if s.MoveLeader != nil {
			t.Errorf("stage %d: the story needs no leader move: %+v", i, s.MoveLeader)
		}
		// A start stage keeps the leader it starts with; another start
		// differs only when the runner then moves a dc2 leader to dc1.
		for _, a := range s.Alternatives {
			if s.Kind == KindGrowStart && Interesting(&s, a) && (a.MoveLeader == "" || a.LeaderAfter != "zk1-dc1") {
				t.Errorf("stage %d: alternative %+v", i, a)
			}
		}
	}
	// Elections in the story: one per rolling stage, none for the starts.
	for i, want := range []int{0, 1, 1, 0, 1, 0} {
		if p.Stages[i].Elections != want {
			t.Errorf("stage %d: %d elections, want %d", i, p.Stages[i].Elections, want)
		}
	}
	// dc2 holds 5..9, dc3 holds 0.
	for _, m := range p.Stages[5].Members {
		switch m.Datacenter {
		case "dc2":
			if m.ID < 5 || m.ID > 9 {
				t.Errorf("dc2 host %s got id %d, want 5..9", m.Host, m.ID)
			}
		case "dc3":
			if m.ID != 0 {
				t.Errorf("dc3 host %s got id %d, want 0", m.Host, m.ID)
			}
		}
	}
	wantMargins := []int{0, 0, 0, 1, 0, 1}
	for i, s := range p.Stages {
		if s.MinMargin != wantMargins[i] {
			t.Errorf("stage %d min margin %d, want %d", i, s.MinMargin, wantMargins[i])
		}
	}
	if r := p.Stages[1].LeaderRule; r != LeaderFirst {
		t.Errorf("rename stage leader rule %q", r)
	}
	if !strings.Contains(strings.Join(p.Stages[2].Why, "\n"), "5 -> 8 refused") {
		t.Errorf("grow stage does not explain why not 5 -> 8: %q", p.Stages[2].Why)
	}
	// Placement: healthy -> 100 in dc1; 100 lost -> 9 in dc2; every
	// datacenter loss keeps a quorum.
	sc := p.Placement.Scenarios
	if *sc[0].WinnerID != 100 || sc[0].Verdict != "preferred" {
		t.Errorf("healthy winner %+v", sc[0])
	}
	if sc[1].Lost != "host zk1-dc1 (id 100)" || *sc[1].WinnerID != 9 || sc[1].WinnerDC != "dc2" {
		t.Errorf("100 lost: %+v", sc[1])
	}
	for _, d := range p.Placement.Datacenters {
		if !d.Survives {
			t.Errorf("losing %s should keep a quorum in 5+5+1", d.Datacenter)
		}
	}
}

func TestPolicies(t *testing.T) {
	ref := loadCluster(t, "../clusters/reference")
	tests := []struct {
		name      string
		edit      func(c *schema.Cluster)
		renames   int
		stages    int
		finalTop  int // highest id in the final config
		wantErr   string
		wantWarns []string
	}{
		{name: "minimal", edit: func(c *schema.Cluster) {}, renames: 1, stages: 6, finalTop: 100},
		{name: "strict", edit: func(c *schema.Cluster) { c.Policy.Renumber = "strict" }, renames: 5, stages: 8, finalTop: 10},
		{name: "none", edit: func(c *schema.Cluster) { c.Policy.Renumber = "none" },
			wantErr: "datacenter dc3 may never lead, yet with these ids one of its hosts could: when datacenter dc2 is lost, zk1-dc3 (id 5) wins"},
		{name: "none accepted", edit: func(c *schema.Cluster) { c.Policy.Renumber = "none"; c.Policy.AcceptNeverLeader = true }, renames: 0, stages: 5, finalTop: 10,
			wantWarns: []string{"healthy ensemble would elect zk5-dc2 (id 10) in dc2", "never-datacenter dc3 would lead"}},
		{name: "reserve 1", edit: func(c *schema.Cluster) { c.Policy.Reserve = 1 },
			wantErr: "reserve 1"},
		{name: "reconfig", edit: func(c *schema.Cluster) { c.Policy.Method = "reconfig" },
			wantErr: "policy.method \"reconfig\" needs ZooKeeper 3.5.3 or later: 3.4.6"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := *ref
			tt.edit(&c)
			p, err := Compile(&c)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			renames := 0
			for _, s := range p.Stages {
				renames += len(s.Renamed)
			}
			if renames != tt.renames || len(p.Stages) != tt.stages {
				t.Errorf("renames %d stages %d, want %d and %d\n%s", renames, len(p.Stages), tt.renames, tt.stages, strings.Join(summary(p), "\n"))
			}
			final := p.Stages[len(p.Stages)-1].Members
			if top := final[len(final)-1].ID; top != tt.finalTop {
				t.Errorf("highest final id %d, want %d", top, tt.finalTop)
			}
			all := strings.Join(p.Warnings, "\n")
			for _, w := range tt.wantWarns {
				if !strings.Contains(all, w) {
					t.Errorf("warnings %q lack %q", all, w)
				}
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	dcs := map[string]string{"a": "preferred"}
	three := []hostSpec{{"h1", "a", "", 1, false}, {"h2", "a", "", 2, false}, {"h3", "a", "", 3, false}, {"h4", "a", "", -1, false}, {"h5", "a", "", -1, false}}
	_, err := Compile(buildSpec(t, "3.8.0", dcs, three, ""))
	if err == nil || !strings.Contains(err.Error(), "reserve 0 cannot grow a 3-server ensemble by rolling restarts") || !strings.Contains(err.Error(), "dynamic reconfiguration") {
		t.Errorf("3 -> 5: %v", err)
	}
	five := []hostSpec{{"h1", "a", "", 1, false}, {"h2", "a", "", 2, false}, {"h3", "a", "", 3, false}, {"h4", "a", "", 4, false}, {"h5", "a", "", 5, false}, {"h6", "a", "", -1, false}}
	_, err = Compile(buildSpec(t, "3.8.0", dcs, five, "reserve: 1"))
	if err == nil || !strings.Contains(err.Error(), "reserve 1 cannot grow a 5-server ensemble by rolling restarts") || !strings.Contains(err.Error(), "set policy.reserve to 0 (the best rolling plan here keeps no margin above quorum)") {
		t.Errorf("5 -> 6 reserve 1: %v", err)
	}
	if err != nil && !strings.HasPrefix(err.Error(), "cannot plan cluster") {
		t.Errorf("refusal should name the cluster: %v", err)
	}
}

func TestShrinkObserversBootstrap(t *testing.T) {
	dcs := map[string]string{"a": "preferred", "b": "allowed/2"}
	tests := []struct {
		name  string
		hosts []hostSpec
		want  []string
	}{
		{
			name: "shrink 7 to 5",
			hosts: []hostSpec{{"h1", "a", "", 1, false}, {"h2", "a", "", 2, false}, {"h3", "a", "", 3, false}, {"h4", "a", "", 4, false},
				{"h5", "b", "", 5, true}, {"h6", "b", "", 6, true}, {"h7", "a", "", 7, false}},
			want: []string{
				"00 current ids=1,2,3,4,5,6,7",
				// Stopping two of seven leaves 5 >= q(7) = 4; a host of the
				// five then restarts with the leader keeping 4 of 7.
				"01 shrink-7-to-5-stop ids=1,2,3,4,5,6,7 steps=stop:h5:5,stop:h6:6",
				"02 shrink-7-to-5-roll ids=1,2,3,4,7 steps=restart:h1:1,restart:h2:2,restart:h3:3,restart:h4:4,restart:h7:7",
			},
		},
		{
			// 5 -> 3: after two stops the leader of 5 keeps 3 = q(5), and
			// the first restart leaves it 2: refused; one at a time works
			// for 5 -> 4, then 4 -> 3 needs 3 live of 4 while one restarts.
			name: "shrink 5 to 4",
			hosts: []hostSpec{{"h1", "a", "", 1, false}, {"h2", "a", "", 2, false}, {"h3", "a", "", 3, false}, {"h4", "a", "", 4, false},
				{"h5", "b", "", 5, true}},
			want: []string{
				"00 current ids=1,2,3,4,5",
				"01 shrink-5-to-4-stop ids=1,2,3,4,5 steps=stop:h5:5",
				"02 shrink-5-to-4-roll ids=1,2,3,4 steps=restart:h1:1,restart:h2:2,restart:h3:3,restart:h4:4",
			},
		},
		{
			name: "add an observer",
			hosts: []hostSpec{{"h1", "a", "", 1, false}, {"h2", "a", "", 2, false}, {"h3", "a", "", 3, false},
				{"o1", "b", "observer", -1, false}},
			want: []string{
				"00 current ids=1,2,3",
				"01 add-1-observer-roll ids=1,2,3,4o steps=restart:h1:1,restart:h2:2,restart:h3:3",
				"02 add-1-observer-start ids=1,2,3,4o steps=start:o1:4",
			},
		},
		{
			name:  "bootstrap",
			hosts: []hostSpec{{"h1", "a", "", -1, false}, {"h2", "a", "", -1, false}, {"h3", "b", "", -1, false}},
			want: []string{
				"00 current ids=",
				"01 bootstrap-3 ids=1,2,3 steps=start:h3:1,start:h1:2,start:h2:3",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Compile(buildSpec(t, "3.8.0", dcs, tt.hosts, ""))
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(summary(p), "\n")
			if got != strings.Join(tt.want, "\n") {
				t.Errorf("plan:\n%s\nwant:\n%s", got, strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestShrinkClosedForm: a rolling shrink n -> m (stop the leaving voters,
// then roll the rest) needs q(n) <= m - 1 - reserve. Each shrink stage the
// planner picks is the largest that fits, and when not even one more voter
// can leave the refusal states the inequality.
func TestShrinkClosedForm(t *testing.T) {
	for n := 3; n <= 9; n++ {
		for r := 1; r < n; r++ {
			for reserve := 0; reserve <= 1; reserve++ {
				var hosts []hostSpec
				for id := 1; id <= n; id++ {
					hosts = append(hosts, hostSpec{fmt.Sprintf("h%d", id), "a", "", id, id <= r})
				}
				c := buildSpec(t, "3.8.0", map[string]string{"a": "preferred"}, hosts, fmt.Sprintf("reserve: %d", reserve))
				p, err := Compile(c)
				// Simulate the closed form: remove as many as fit, repeatedly.
				cur, left, want := n, r, []string{}
				refusal := ""
				for left > 0 {
					k := 0
					for j := left; j >= 1; j-- {
						if Quorum(cur) <= cur-j-1-reserve {
							k = j
							break
						}
					}
					if k == 0 {
						if slack := cur - 2 - Quorum(cur); slack >= 0 {
							// Only the reserve is in the way: say how low it must go.
							refusal = fmt.Sprintf("set policy.reserve to %d or less", slack)
							if slack == 0 {
								refusal = "set policy.reserve to 0 (the best rolling plan here keeps no margin above quorum)"
							}
						} else {
							refusal = fmt.Sprintf("would take %d -> %d voters|and %d <= %d is false", cur, cur-1, Quorum(cur), cur-2-reserve)
						}
						break
					}
					want = append(want, fmt.Sprintf("shrink-%d-to-%d", cur, cur-k))
					cur, left = cur-k, left-k
				}
				name := fmt.Sprintf("%d->%d reserve %d", n, n-r, reserve)
				if refusal != "" {
					if err == nil {
						t.Errorf("%s: planned %v, closed form refuses (%s)", name, summary(p), refusal)
					} else {
						for _, part := range strings.Split(refusal, "|") {
							if !strings.Contains(err.Error(), part) {
								t.Errorf("%s: refusal %q does not say %q", name, err, part)
							}
						}
					}
					continue
				}
				if err != nil {
					t.Errorf("%s: refused (%v), closed form plans %v", name, err, want)
					continue
				}
				var got []string
				for _, st := range p.Stages {
					if st.Kind == KindShrinkRoll {
						got = append(got, strings.TrimSuffix(st.Name, "-roll"))
					}
				}
				if strings.Join(got, " ") != strings.Join(want, " ") {
					t.Errorf("%s: shrink stages %v, closed form %v", name, got, want)
				}
			}
		}
	}
}
