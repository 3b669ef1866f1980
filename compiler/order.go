package compiler

// NextStep is the one rule for which step of a stage runs next, shared by
// the planner's simulation and the rollout runner, so that the order the
// plan lists is the order `zkstage roll` runs. remaining holds indexes into
// steps in plan order; leader is the live leader now (it changes after an
// election, so the rule is applied again before every step) and leaderID
// the id it runs now.
//
// The live leader's restart or stop goes last among the restarts and stops
// (each follower restart then keeps the leader, and the stage costs one
// election); in a rename stage a leader whose own id changes goes first
// instead, because the hosts already on the new config could not follow it
// (docs/zookeeper-facts.md, renumbering). The second result reports that the
// chosen step is the leader's.
func NextStep(steps []Step, remaining []int, rule, leader string, leaderID int) (int, bool) {
	li := -1
	for _, i := range remaining {
		if steps[i].Host == leader && steps[i].Action != Start {
			li = i
		}
	}
	if li < 0 {
		return remaining[0], false
	}
	if rule == LeaderFirst && leaderID != steps[li].ID {
		return li, true
	}
	for _, i := range remaining {
		if i != li && steps[i].Action != Start {
			return i, false
		}
	}
	return li, true
}
