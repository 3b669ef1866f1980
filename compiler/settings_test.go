package compiler

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/zkstage/zkstage/schema"
)

// planCluster compiles one of the example clusters.
func planCluster(t *testing.T, name string) (*schema.Cluster, *Plan) {
	t.Helper()
	c, _, err := schema.Load(filepath.Join("..", "clusters", name))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Compile(c)
	if err != nil {
		t.Fatal(err)
	}
	return c, p
}

// A settings roll restarts every live member of the stage once, ascending
// id, the leader last, and keeps the stage's membership.
func TestSettingsRoll(t *testing.T) {
	c, p := planCluster(t, "reference")
	for k := range p.Stages {
		st, err := SettingsRoll(c, p, k)
		if err != nil {
			t.Fatalf("stage %d: %v", k, err)
		}
		base := p.Stages[k]
		if st.Kind != KindSettings || st.Index != k || len(st.Members) != len(base.Members) || strings.Join(st.Live, ",") != strings.Join(base.Live, ",") {
			t.Errorf("stage %d: %+v", k, st)
		}
		var hosts []string
		for _, s := range st.Steps {
			if s.Action != Restart {
				t.Errorf("stage %d: step %+v", k, s)
			}
			hosts = append(hosts, s.Host)
		}
		if len(hosts) != len(base.Live) {
			t.Errorf("stage %d: restarts %v, want every live host %v", k, hosts, base.Live)
		}
		if last := st.Steps[len(st.Steps)-1].Host; last != base.LeaderAfter {
			t.Errorf("stage %d: the last restart is %s, want the leader %s", k, last, base.LeaderAfter)
		}
		// One election for the leader's restart, and one more where the
		// runner then moves a leader elected outside dc1 back.
		if st.MinMargin < c.Policy.Reserve || st.Elections < 1 || st.Elections > 2 || c.Hosts[st.LeaderAfter].DC != "dc1" {
			t.Errorf("stage %d: min margin %d, elections %d, leader after %s", k, st.MinMargin, st.Elections, st.LeaderAfter)
		}
	}
	if _, err := SettingsRoll(c, p, len(p.Stages)); err == nil {
		t.Error("a stage past the plan was accepted")
	}
}

// Under dynamic reconfiguration: planned like any stage, except a stage
// whose removed hosts still run outside the configuration.
func TestSettingsRollUnderReconfig(t *testing.T) {
	c, p := planCluster(t, "reconfig")
	for _, k := range []int{1, 3} {
		if st, err := SettingsRoll(c, p, k); err != nil || len(st.Steps) != len(p.Stages[k].Live) {
			t.Errorf("stage %d: %v %+v", k, err, st)
		}
	}
	if _, err := SettingsRoll(c, p, 2); err == nil || !strings.Contains(err.Error(), "stage 2 remove-0: zk1-dc1 runs outside the configuration") {
		t.Errorf("stage 2: %v", err)
	}
}

// The settings roll's why counts the elections of its story: the leader's
// restart, and the move back to dc1 where one follows.
func TestSettingsRollWhy(t *testing.T) {
	c, p := planCluster(t, "reference")
	for k, want := range map[int]string{3: "; 1 election", 4: "; 2 elections"} {
		st, err := SettingsRoll(c, p, k)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(st.Why[0], want) {
			t.Errorf("stage %d: why %q, want it to end %q", k, st.Why[0], want)
		}
	}
}
