package compiler

import (
	"fmt"
	"strings"

	"github.com/zkstage/zkstage/schema"
)

// SettingsRoll is the rolling restart that brings changed settings (the
// zoo.cfg keys that are not membership: tickTime, limits, directories,
// settings.extra, ...) to the hosts of stage k, the membership unchanged:
// every live member restarts once, ascending id, the live leader last,
// judged by the rolling simulator against policy.reserve like any stage.
// No plan holds it, since the compiler cannot know which settings the hosts
// run: gitops sees the change in the files and commits it on its own, so
// that a membership stage never changes the zoo.cfg of a host it does not
// restart. Under reconfig the new settings reach each member as edits made
// in place in the zoo.cfg ZooKeeper keeps (zoocfg.Edits), and a stage with
// removed hosts still running is refused. The stage keeps stage k's index;
// its Kind is KindSettings.
func SettingsRoll(c *schema.Cluster, p *Plan, k int) (*Stage, error) {
	if k < 0 || k >= len(p.Stages) {
		return nil, fmt.Errorf("stage %d: the plan has stages 0..%d", k, len(p.Stages)-1)
	}
	base := p.Stages[k]
	q := &planner{c: c, reserve: c.Policy.Reserve}
	q.today() // the datacenters and the preferred one, for the simulator
	live := map[string]int{}
	var steps []Step
	for _, h := range base.Live {
		for _, m := range base.Members {
			if m.Host == h {
				live[h] = m.ID
			}
		}
	}
	for _, m := range base.Members {
		if _, ok := live[m.Host]; ok {
			steps = append(steps, Step{Action: Restart, Host: m.Host, ID: m.ID})
		}
	}
	var outside []string
	for _, h := range base.Live {
		if _, ok := live[h]; !ok {
			outside = append(outside, h)
		}
	}
	if len(outside) > 0 {
		// Removed by reconfig, still running: no step of this roll
		// restarts them, and their files go or change with a later one.
		verb, them := "run", "them"
		if len(outside) == 1 {
			verb, them = "runs", "it"
		}
		return nil, fmt.Errorf("stage %d %s: %s %s outside the configuration until a later stage stops or renames %s; roll the settings from that stage on", k, base.Name, strings.Join(outside, ", "), verb, them)
	}
	if len(steps) == 0 {
		return nil, fmt.Errorf("stage %d %s: no member runs, nothing to restart", k, base.Name)
	}
	ss := q.sim(base.Members, base.Members, live, steps, LeaderLast, false, base.LeaderAfter)
	out := simulate(ss, q.reserve)
	st := Stage{Index: k, Name: SettingsName(base.Name), Kind: KindSettings, Members: base.Members, Live: base.Live,
		LeaderRule: LeaderLast, Safe: true}
	story(&st, ss, out)
	st.Why = append([]string{fmt.Sprintf("the settings changed, the membership did not: every member restarts once onto its new zoo.cfg, ascending id, the live leader last; min margin %d (reserve %d); %d %s",
		out.min, q.reserve, st.Elections, plural(st.Elections, "election"))}, st.Why...)
	if c := q.judge(out, st); !c.ok {
		return nil, fmt.Errorf("the settings roll of stage %d cannot keep policy.reserve %d: %s", k, q.reserve, c.reason)
	}
	for i, s := range st.Steps {
		if i == 0 || s.Margin < st.MinMargin {
			st.MinMargin = s.Margin
		}
	}
	return &st, nil
}

// SettingsName names the settings roll of the stage called name.
func SettingsName(name string) string { return name + "-settings" }
