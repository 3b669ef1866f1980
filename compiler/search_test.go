package compiler

import (
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/zkstage/zkstage/schema"
)

// The cases of issue 12 that a fixed recipe refused or told wrongly.

// Four voters cannot roll a rename and keep a quorum, but growing 4 -> 5
// first and then renaming does: the search must find that order.
func TestGrowBeforeRename(t *testing.T) {
	dcs := map[string]string{"a": "preferred", "b": "allowed/2"}
	hosts := []hostSpec{{"h1", "a", "", 1, false}, {"h2", "a", "", 2, false}, {"h3", "a", "", 3, false}, {"h4", "b", "", 4, false}, {"n1", "b", "", -1, false}}
	p, err := Compile(buildSpec(t, "3.8.0", dcs, hosts, ""))
	if err != nil {
		t.Fatalf("refused though growing first works: %v", err)
	}
	var kinds []string
	for _, s := range p.Stages {
		kinds = append(kinds, s.Kind)
	}
	if got, want := strings.Join(kinds, ","), "current,grow-roll,grow-start,rename"; got != want {
		t.Errorf("stages %s, want %s\n%s", got, want, strings.Join(summary(p), "\n"))
	}
	// Without the joiner the rename alone is refused, at the renamed host.
	_, err = Compile(buildSpec(t, "3.8.0", dcs, hosts[:4], ""))
	var r *Refusal
	if !errors.As(err, &r) || strings.Join(r.Path(), ".") != "hosts.h3.myid" || !strings.Contains(err.Error(), "renumbering h3 3 -> 100") ||
		!strings.Contains(err.Error(), "or add 1 voter(s) to the spec first: with 5 voters one rename per stage keeps a quorum") {
		t.Errorf("4 voters, rename only: %v", err)
	}
}

// A cluster whose members are all observers has no leader to plan from.
func TestObserversOnlyRefused(t *testing.T) {
	dcs := map[string]string{"a": "preferred"}
	hosts := []hostSpec{{"o1", "a", "observer", 1, false}, {"o2", "a", "observer", 2, false}, {"n1", "a", "", -1, false}}
	_, err := Compile(buildSpec(t, "3.8.0", dcs, hosts, ""))
	var r *Refusal
	if !errors.As(err, &r) || strings.Join(r.Path(), ".") != "hosts.o1.role" || !strings.Contains(err.Error(), "every current member is an observer") {
		t.Fatalf("got %v, want a refusal at hosts.o1.role", err)
	}
}

// policy.acceptNeverLeader, written in the spec, lets the plan through
// with the placement warning.
func TestAcceptNeverLeader(t *testing.T) {
	spec := `name: "r"
version: "3.8.0"
datacenters: {
	dc1: {leader: "preferred"}
	dc3: {leader: "never"}
}
hosts: {
	a: {address: "10.0.0.1", dc: "dc1", myid: 1}
	b: {address: "10.0.0.2", dc: "dc1", myid: 2}
	d: {address: "10.0.0.4", dc: "dc3", myid: 9}
}
policy: {renumber: "none", acceptNeverLeader: true}
`
	c, _, err := schema.LoadBytes("cluster.cue", []byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Compile(c)
	if err != nil {
		t.Fatalf("accepted never-leader refused: %v", err)
	}
	if w := strings.Join(p.Warnings, "\n"); !strings.Contains(w, "never-datacenter dc3 would lead") {
		t.Errorf("warnings %q lack the never-datacenter leader", w)
	}
}

// minimal renames one host, and the 5 -> 6 roll then ends with dc b's
// id 12 leading (the runner moves it back: one more restart); strict
// puts a's hosts above b's with as many restarts and no move.
func TestStrictHint(t *testing.T) {
	dcs := map[string]string{"a": "preferred", "b": "allowed/2"}
	hosts := []hostSpec{{"h0", "a", "", 9, false}, {"h1", "a", "", 4, false}, {"h2", "b", "", 3, false}, {"h3", "a", "", 7, false}, {"h4", "b", "", 12, false}, {"n0", "b", "", -1, false}}
	p, err := Compile(buildSpec(t, "3.8.0", dcs, hosts, ""))
	if err != nil {
		t.Fatal(err)
	}
	moved := false
	for _, s := range p.Stages {
		if s.MoveLeader != nil {
			moved = true
			if s.MoveLeader.Host != "h4" || s.MoveLeader.LeaderAfter != "h0" || s.LeaderAfter != "h0" {
				t.Errorf("stage %d move %+v, leader after %s", s.Index, s.MoveLeader, s.LeaderAfter)
			}
		}
	}
	if !moved {
		t.Errorf("no leader move predicted\n%s", strings.Join(summary(p), "\n"))
	}
	if h := strings.Join(p.Hints, "\n"); !strings.Contains(h, `renumber "strict" would keep the leader in a after every stage with 11 restarts (this plan: 11`) {
		t.Errorf("hints %q", h)
	}
	strict := buildSpec(t, "3.8.0", dcs, hosts, `renumber: "strict"`)
	sp, err := Compile(strict)
	if err != nil {
		t.Fatal(err)
	}
	if len(sp.Hints) != 0 {
		t.Errorf("strict plan hints %q", sp.Hints)
	}
}

// TestPlanIsTheRoll: over random clusters, every stage starts with the
// leader the previous one ends with, and its steps are listed in exactly
// the order NextStep (the runner's rule) picks from the leader the plan
// predicts before each step.
func TestPlanIsTheRoll(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	dcs := map[string]string{"a": "preferred", "b": "allowed/2", "c": "never"}
	checked := 0
	for iter := 0; iter < 300; iter++ {
		n := 1 + rng.Intn(8)
		var hosts []hostSpec
		ids := rng.Perm(16)
		for i := 0; i < n; i++ {
			dc := []string{"a", "b"}[rng.Intn(2)]
			if i > 0 && rng.Intn(6) == 0 {
				dc = "c"
			}
			hosts = append(hosts, hostSpec{fmt.Sprintf("h%d", i), dc, "", ids[i] + 1, n > 3 && rng.Intn(6) == 0})
		}
		for i := 0; i < rng.Intn(6); i++ {
			hosts = append(hosts, hostSpec{fmt.Sprintf("n%d", i), []string{"a", "b", "c"}[rng.Intn(3)], "", -1, false})
		}
		policy := fmt.Sprintf("renumber: %q, reserve: %d", []string{"minimal", "strict", "none"}[rng.Intn(3)], rng.Intn(2))
		c := buildSpecLenient(t, dcs, hosts, policy)
		if c == nil {
			continue
		}
		p, err := Compile(c)
		if err != nil {
			continue
		}
		checked++
		for k := 1; k < len(p.Stages); k++ {
			st, prev := &p.Stages[k], &p.Stages[k-1]
			if st.Leader != prev.LeaderAfter {
				t.Fatalf("iteration %d stage %d starts with leader %q, stage %d ended with %q", iter, k, st.Leader, k-1, prev.LeaderAfter)
			}
			running := map[string]int{}
			for _, m := range prev.Members {
				running[m.Host] = m.ID
			}
			leader := st.Leader
			remaining := make([]int, len(st.Steps))
			for i := range remaining {
				remaining[i] = i
			}
			for want := range st.Steps {
				id, ok := running[leader]
				if !ok {
					id = -1
				}
				got, _ := NextStep(st.Steps, remaining, st.LeaderRule, leader, id)
				if got != want {
					t.Fatalf("iteration %d stage %d %s: the runner would take step %d (%s) before step %d (%s) from leader %q\n%s",
						iter, k, st.Name, got+1, st.Steps[got].Host, want+1, st.Steps[want].Host, leader, strings.Join(summary(p), "\n"))
				}
				remaining = remaining[1:]
				running[st.Steps[want].Host] = st.Steps[want].ID
				leader = st.Steps[want].LeaderAfter
			}
			if st.MoveLeader != nil {
				leader = st.MoveLeader.LeaderAfter
			}
			if len(st.Steps) > 0 && leader != st.LeaderAfter {
				t.Fatalf("iteration %d stage %d: steps end with leader %q, stage says %q", iter, k, leader, st.LeaderAfter)
			}
		}
	}
	if checked < 100 {
		t.Errorf("only %d plans checked", checked)
	}
	t.Logf("%d plans checked", checked)
}
