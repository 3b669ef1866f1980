package compiler

import (
	"fmt"
	"math/rand"
	"testing"
)

// An independent checker for plans: it replays every stage for every host
// that may lead when the stage starts, in the runner's order, and after each
// step enumerates supporter sets to prove that two leaders cannot exist, and
// counts followers to prove each step keeps the planned margin. It shares no
// code with the simulator.

type bfHost struct {
	id, cfg int // cfg 0: the stage's old config, 1: its new one
	live    bool
}

func voterSet(ms []Member) map[int]bool {
	s := map[int]bool{}
	for _, m := range ms {
		if m.Voter() {
			s[m.ID] = true
		}
	}
	return s
}

// bfTwoLeaders enumerates every subset S of the live hosts as a quorum of
// config 0 and checks whether the rest can still hold a quorum of config 1.
func bfTwoLeaders(hosts []*bfHost, cfgs [2]map[int]bool) bool {
	var live []*bfHost
	runs := [2]bool{}
	for _, h := range hosts {
		if h.live {
			live = append(live, h)
			if cfgs[h.cfg][h.id] {
				runs[h.cfg] = true
			}
		}
	}
	if !runs[0] || !runs[1] {
		return false
	}
	q := [2]int{len(cfgs[0])/2 + 1, len(cfgs[1])/2 + 1}
	n := len(live)
	for mask := 0; mask < 1<<n; mask++ {
		inA, inB := 0, 0
		for i, h := range live {
			if mask&(1<<i) != 0 {
				if cfgs[0][h.id] {
					inA++
				}
			} else if cfgs[1][h.id] {
				inB++
			}
		}
		if inA >= q[0] && inB >= q[1] {
			return true
		}
	}
	return false
}

// checkStage replays one stage; it returns a description of the first
// violation or "".
func checkStage(prev, st *Stage, reserve int) string {
	// Start and stop stages do not change the configuration.
	cfgs := [2]map[int]bool{voterSet(prev.Members), voterSet(st.Members)}
	if st.Kind == KindGrowStart || st.Kind == KindShrinkStop {
		cfgs[0] = cfgs[1]
	}
	q := func(c int) int { return len(cfgs[c])/2 + 1 }
	startCfg := 0
	if st.Kind == KindGrowStart || st.Kind == KindShrinkStop {
		startCfg = 1
	}
	for _, leader := range prev.Live {
		hosts := map[string]*bfHost{}
		for _, m := range prev.Members {
			for _, l := range prev.Live {
				if l == m.Host {
					hosts[m.Host] = &bfHost{id: m.ID, cfg: startCfg, live: true}
				}
			}
		}
		if !cfgs[startCfg][hosts[leader].id] {
			continue // an observer cannot lead
		}
		// The runner's order: leader last among restarts/stops, or first
		// when its id changes in a rename stage.
		var order []Step
		var leaderStep *Step
		for i := range st.Steps {
			s := st.Steps[i]
			if s.Host == leader && s.Action != Start {
				leaderStep = &s
				continue
			}
			order = append(order, s)
		}
		if leaderStep != nil {
			if st.LeaderRule == LeaderFirst && leaderStep.ID != hosts[leader].id {
				order = append([]Step{*leaderStep}, order...)
			} else {
				pos := len(order)
				for i, s := range order {
					if s.Action == Start {
						pos = i
						break
					}
				}
				order = append(order[:pos], append([]Step{*leaderStep}, order[pos:]...)...)
			}
		}
		all := func() []*bfHost {
			var out []*bfHost
			for _, h := range hosts {
				out = append(out, h)
			}
			return out
		}
		L := leader
		for _, s := range order {
			h := hosts[s.Host]
			if h == nil {
				h = &bfHost{id: s.ID, cfg: 1}
				hosts[s.Host] = h
			}
			if s.Action != Start {
				h.live = false
				if s.Host == L {
					// Election among the others: the config whose live
					// voters reach quorum + reserve; highest id wins.
					best, bestID := "", -1
					for c := 0; c < 2; c++ {
						n, top, topName := 0, -1, ""
						for name, o := range hosts {
							if o.live && cfgs[c][o.id] {
								n++
								if o.cfg == c && o.id > top {
									top, topName = o.id, name
								}
							}
						}
						if topName != "" && n-q(c) >= reserve && top > bestID {
							best, bestID = topName, top
						}
					}
					if best == "" {
						return fmt.Sprintf("leader %s restarts: no election keeps reserve %d", leader, reserve)
					}
					L = best
				} else {
					lc := hosts[L].cfg
					n := 0
					for _, o := range hosts {
						if o.live && cfgs[lc][o.id] {
							n++
						}
					}
					if n-q(lc) < reserve {
						return fmt.Sprintf("leader %s (first %s): %s down leaves %d voters, quorum %d", L, leader, s.Host, n, q(lc))
					}
				}
			}
			if s.Action == Stop {
				continue
			}
			h.id, h.cfg, h.live = s.ID, 1, true
			if !cfgs[1][hosts[L].id] {
				return fmt.Sprintf("%s cannot follow leader %s (id %d not in new config)", s.Host, L, hosts[L].id)
			}
			others := 0
			for name, o := range hosts {
				if name != s.Host && o.live && cfgs[1][o.id] {
					others++
				}
			}
			if others-q(1) < reserve {
				return fmt.Sprintf("%s rejoins with %d others, quorum %d (first leader %s)", s.Host, others, q(1), leader)
			}
			if bfTwoLeaders(all(), cfgs) {
				return fmt.Sprintf("after %s %s two leaders are possible (first leader %s)", s.Action, s.Host, leader)
			}
		}
	}
	return ""
}

// TestRandomPlansBruteForce plans many random clusters and checks every
// plan with the independent checker. It also checks that each growth stage
// has the size the closed form predicts: the largest m with
// q(m) <= n - 1 - reserve.
func TestRandomPlansBruteForce(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	dcs := map[string]string{"a": "preferred", "b": "allowed/2", "c": "never"}
	dcNames := []string{"a", "b", "c"}
	planned, refused := 0, 0
	for iter := 0; iter < 400; iter++ {
		n := 1 + rng.Intn(9)
		add := rng.Intn(7)
		reserve := rng.Intn(2)
		policy := []string{"minimal", "strict", "none"}[rng.Intn(3)]
		var hosts []hostSpec
		ids := rng.Perm(20)
		for i := 0; i < n; i++ {
			dc := dcNames[rng.Intn(2)]
			if i > 0 && rng.Intn(6) == 0 {
				dc = "c"
			}
			hosts = append(hosts, hostSpec{fmt.Sprintf("h%d", i), dc, "", ids[i] + 1, n > 3 && rng.Intn(8) == 0})
		}
		for i := 0; i < add; i++ {
			hosts = append(hosts, hostSpec{fmt.Sprintf("n%d", i), dcNames[rng.Intn(3)], "", -1, false})
		}
		c := buildSpecLenient(t, dcs, hosts, fmt.Sprintf("reserve: %d, renumber: %q", reserve, policy))
		if c == nil {
			continue
		}
		p, err := Compile(c)
		if err != nil {
			refused++
			continue
		}
		planned++
		for k := 1; k < len(p.Stages); k++ {
			if v := checkStage(&p.Stages[k-1], &p.Stages[k], reserve); v != "" {
				t.Fatalf("iteration %d (%s, reserve %d): stage %d %s: %s\n%v", iter, policy, reserve, k, p.Stages[k].Name, v, summary(p))
			}
			st := &p.Stages[k]
			if st.Kind == KindGrowRoll {
				// A growth stage never goes beyond the closed form, the
				// largest m with q(m) <= n - 1 - reserve; in a plan with
				// growth only (no rename makes a joiner wait for its id,
				// no shrink comes between), it reaches it or the target.
				from, to := len(voterSet(p.Stages[k-1].Members)), len(voterSet(st.Members))
				bound := from
				for m := from + 1; m <= from+64; m++ {
					if Quorum(m) <= from-1-reserve {
						bound = m
					}
				}
				if to > bound {
					t.Errorf("iteration %d: grow %d -> %d beyond the closed form %d (reserve %d)", iter, from, to, bound, reserve)
				}
				pure := true
				target := to
				for _, s := range p.Stages {
					pure = pure && (s.Kind == KindCurrent || s.Kind == KindGrowRoll || s.Kind == KindGrowStart)
					if s.Kind == KindGrowRoll {
						target = len(voterSet(s.Members))
					}
				}
				if pure && from != to && to != min(bound, target) {
					t.Errorf("iteration %d: grow %d -> %d, closed form says %d (reserve %d)", iter, from, to, min(bound, target), reserve)
				}
			}
		}
	}
	t.Logf("%d plans checked, %d refused", planned, refused)
	if planned < 100 {
		t.Errorf("only %d random clusters could be planned", planned)
	}
}

// buildSpecLenient is buildSpec that returns nil for specs the schema
// rejects (for example every voter in a never-datacenter).
func buildSpecLenient(t *testing.T, dcs map[string]string, hosts []hostSpec, policy string) (c *Cluster) {
	defer func() {
		if recover() != nil {
			c = nil
		}
	}()
	ft := &fakeTB{TB: t}
	c2 := buildSpec(ft, "3.8.0", dcs, hosts, policy)
	if ft.failed {
		return nil
	}
	return c2
}

// TestDisjointQuorumsClosedForm compares the closed form used by the
// simulator with enumeration.
func TestDisjointQuorumsClosedForm(t *testing.T) {
	for onlyA := 0; onlyA <= 6; onlyA++ {
		for onlyB := 0; onlyB <= 6; onlyB++ {
			for both := 0; both <= 8; both++ {
				for qa := 1; qa <= 7; qa++ {
					for qb := 1; qb <= 7; qb++ {
						bf := false
						// Choose x of the shared hosts for A's quorum.
						for x := 0; x <= both; x++ {
							if onlyA+x >= qa && onlyB+both-x >= qb {
								bf = true
							}
						}
						if got := disjointQuorums(onlyA, onlyB, both, qa, qb); got != bf {
							t.Fatalf("disjointQuorums(%d,%d,%d,%d,%d) = %v, enumeration says %v", onlyA, onlyB, both, qa, qb, got, bf)
						}
					}
				}
			}
		}
	}
}
