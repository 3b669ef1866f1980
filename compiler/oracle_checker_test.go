package compiler

import (
	"fmt"
	"testing"
)

// TestOracleCheckerClosedForms checks the oracle's stage checker against the
// closed forms of docs/zookeeper-facts.md, so that an agreement with the
// planner is not an agreement of two broken models: growing n -> m by a
// rolling restart needs q(m) <= n - 1 - reserve, shrinking n -> m needs
// q(n) <= m - 1 - reserve, new hosts that start before the roll make two
// leaders possible, and a rename cannot keep a quorum of 4 voters.
func TestOracleCheckerClosedForms(t *testing.T) {
	safe := &orSafety{memo: map[[5]int]bool{}}
	mems := func(prefix string, ids ...int) []orMem {
		var ms []orMem
		for _, id := range ids {
			ms = append(ms, orMem{host: fmt.Sprintf("%s%d", prefix, id), id: id, voter: true})
		}
		return ms
	}
	seq := func(from, to int) []int {
		var s []int
		for i := from; i <= to; i++ {
			s = append(s, i)
		}
		return s
	}
	for reserve := 0; reserve <= 1; reserve++ {
		for n := 1; n <= 7; n++ {
			for m := n + 1; m <= 11; m++ {
				a := mems("h", seq(1, n)...)
				b := append(mems("h", seq(1, n)...), mems("h", seq(n+1, m)...)...)
				roll := &orStage{a: a, b: b, live: liveOf(a), steps: restarts(a), rule: LeaderLast}
				var starts []orStep
				for _, x := range b[n:] {
					starts = append(starts, orStep{act: Start, host: x.host, id: x.id})
				}
				start := &orStage{a: b, b: b, live: liveOf(a), steps: starts}
				got := orCheck(roll, reserve, safe) == "" && orCheck(start, reserve, safe) == ""
				if want := Quorum(m) <= n-1-reserve; got != want {
					t.Errorf("grow %d -> %d reserve %d: checker says %v, closed form %v (%s / %s)", n, m, reserve, got, want, orCheck(roll, reserve, safe), orCheck(start, reserve, safe))
				}
				// Starting the new hosts first (before the roll): two leaders
				// become possible once the new hosts can form B's quorum
				// beside a quorum of A.
				early := &orStage{a: a, b: b, live: liveOf(a), steps: append(append([]orStep{}, starts...), restarts(a)...), rule: LeaderLast}
				if v := orCheck(early, 0, safe); v == "" && m-n >= Quorum(m)-0 {
					t.Errorf("grow %d -> %d with the new hosts first: checker accepts it", n, m)
				}
			}
			for m := 1; m < n; m++ {
				a := mems("h", seq(1, n)...)
				b := mems("h", seq(n-m+1, n)...) // the lowest ids leave
				var stops []orStep
				for _, x := range a[:n-m] {
					stops = append(stops, orStep{act: Stop, host: x.host, id: x.id})
				}
				stop := &orStage{a: a, b: a, live: liveOf(a), steps: stops, rule: LeaderLast}
				roll := &orStage{a: a, b: b, live: liveOf(b), steps: restarts(b), rule: LeaderLast}
				got := orCheck(stop, reserve, safe) == "" && orCheck(roll, reserve, safe) == ""
				if want := Quorum(n) <= m-1-reserve; got != want {
					t.Errorf("shrink %d -> %d reserve %d: checker says %v, closed form %v (%s / %s)", n, m, reserve, got, want, orCheck(stop, reserve, safe), orCheck(roll, reserve, safe))
				}
			}
		}
	}
	// A rename of one host: 4 voters cannot keep a quorum, 5 can.
	for n, want := range map[int]bool{3: false, 4: false, 5: true, 6: true, 7: true} {
		a := mems("h", seq(1, n)...)
		b := append(mems("h", seq(2, n)...), orMem{host: "h1", id: 100, voter: true})
		st := &orStage{a: a, b: b, live: liveOf(a), steps: restarts(b), rule: LeaderFirst}
		if v := orCheck(st, 0, safe); (v == "") != want {
			t.Errorf("rename 1 of %d voters: checker says %q, want ok=%v", n, v, want)
		}
	}
	// In a rename stage a leader whose id changes goes first; listed last
	// (ascending new id) it still goes first in the runner's order.
	a := mems("h", 1, 2, 3, 4, 5)
	b := append(mems("h", 1, 2, 3, 4), orMem{host: "h5", id: 100, voter: true})
	st := &orStage{a: a, b: b, live: liveOf(a), steps: restarts(b), rule: LeaderFirst}
	if v := orCheck(st, 0, safe); v != "" {
		t.Errorf("rename of the highest id in 5 voters: %s", v)
	}
	// Without the rule, the renamed leader restarting last leaves the
	// others unable to follow it: refused.
	st.rule = LeaderLast
	if v := orCheck(st, 0, safe); v == "" {
		t.Errorf("rename with the renamed leader last: checker accepts it")
	}
}
