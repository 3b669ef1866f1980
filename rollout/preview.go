package rollout

import (
	"fmt"

	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/render"
)

// PreviewStep is one planned step as --dry-run shows it.
type PreviewStep struct {
	Plan    int    `json:"plan"`
	Action  string `json:"action"`
	Host    string `json:"host"`
	Address string `json:"address"`
	ID      int    `json:"id"`
	FromID  *int   `json:"fromId,omitempty"`
	// Margin is the floor the runner checks live before the step (the
	// worst over every starting leader); Expected and Rule are the step in
	// the plan's story, from the expected leader, and LeaderAfter the
	// leader it predicts once the step is done.
	Margin      int      `json:"margin"`
	Expected    int      `json:"expectedMargin"`
	Rule        string   `json:"rule"`
	LeaderAfter string   `json:"leaderAfter,omitempty"`
	Env         []string `json:"env"`
}

// Preview is what a roll would do, without touching the ensemble.
type Preview struct {
	Cluster    string        `json:"cluster"`
	Stage      int           `json:"stage"`
	StageName  string        `json:"stageName"`
	Kind       string        `json:"kind"`
	LeaderRule string        `json:"leaderRule,omitempty"`
	MinMargin  int           `json:"minMargin"`
	Order      string        `json:"order"`
	Steps      []PreviewStep `json:"steps"`
	Before     []string      `json:"before"`
	Gate       []string      `json:"gate"`
}

// NewPreview describes the roll of stage `to` after stage `from`.
func NewPreview(from, to *render.Manifest, dir string) (*Preview, error) {
	if to != nil && from != nil && IsReconfigStage(to.Kind) {
		return reconfigPreview(from, to, dir), nil
	}
	r, err := newRunner(Options{From: from, To: to, Dir: dir})
	if err != nil {
		return nil, err
	}
	p := &Preview{Cluster: to.Cluster, Stage: to.Stage, StageName: to.Name, Kind: to.Kind, LeaderRule: to.LeaderRule, MinMargin: to.MinMargin, Steps: []PreviewStep{}}
	switch to.LeaderRule {
	case compiler.LeaderFirst:
		p.Order = "plan order; if the live leader's id changes in this stage its step runs first, otherwise last (decided from the live leader before every step)"
	default:
		p.Order = "plan order; the live leader's step runs last among restarts and stops (decided from the live leader before every step)"
	}
	if to.Leader != "" {
		p.Order += fmt.Sprintf("; listed as it runs when %s leads at the start, as the plan expects", to.Leader)
	}
	for i, s := range to.Steps {
		p.Steps = append(p.Steps, PreviewStep{Plan: i + 1, Action: string(s.Action), Host: s.Host, Address: r.members[s.Host].Address,
			ID: s.ID, FromID: s.FromID, Margin: s.Margin, Expected: s.Expected, Rule: s.Rule, LeaderAfter: s.LeaderAfter, Env: r.env(s).Environ()})
	}
	membership := fmt.Sprintf("each host runs the membership of stage %d or %d (conf), nothing else", from.Stage, to.Stage)
	if from.Stage == to.Stage {
		membership = fmt.Sprintf("each host runs the membership of stage %d (conf), nothing else: a settings roll does not change it", to.Stage)
	}
	p.Before = []string{
		"every host that should be running at that point answers srvr as leader, follower or observer",
		membership,
		"there is one leader, and the step's margin computed on the live state is at least the planned margin",
		"a refused step stops the roll before its command runs",
		"a restart of the live leader whose absence lets the others elect runs as stop, then start once another host leads (at most --handover-wait): the command gets ZKSTAGE_ACTION=stop, then start",
	}
	p.Gate = []string{
		"a restarted or started host serves in its role's mode (leader or follower; observer) with this stage's membership and id (conf)",
		"a stopped host no longer listens on its client port",
		"every other host that should run serves with the membership and id it should run at that point",
		"exactly one leader, in a datacenter allowed to lead (" + joinOr(to.LeaderDatacenters) + ")",
		"the leader's mntr: zk_learners = live hosts - 1, zk_synced_followers = live voters - 1, zk_synced_observers = live observers",
		"all of this in one observation, within --step-timeout of the step's start; otherwise the roll stops (exit 1)",
	}
	return p, nil
}

func joinOr(s []string) string {
	if len(s) == 0 {
		return "any"
	}
	out := s[0]
	for _, x := range s[1:] {
		out += ", " + x
	}
	return out
}
