package compiler

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// The fingerprint names a plan in every stage manifest, and the gate and
// `zkstage stage` compare it to tell "the next stage of the same plan" from
// "a re-plan". So it must change exactly when what the plan does changes:
// who is in each configuration under which id, which hosts are live, which
// steps run in which order, and the margins they keep. It hashes explicit
// canonical structs, never the plan's own types, so that prose (the stage's
// Why, a step's Rule), labels (stage names) and fields added later for
// display cannot turn every stack in progress into a re-plan. The
// ZooKeeper version is in: the same steps are not equally safe on every
// release (ZOOKEEPER-3829), and an upgrade gets its own re-plan commit.
// Settings change the rendered files, not the plan.

type fpMember struct {
	ID         int
	Host       string
	Address    string
	Datacenter string
	Role       string
	ClientPort int
	QuorumPort int
	ElectPort  int
}

type fpStep struct {
	Action Action
	Host   string
	ID     int
	FromID *int
	Margin int
}

type fpPlan struct {
	Version string
	Stages  []fpStage
}

type fpStage struct {
	Kind       string
	Members    []fpMember
	Live       []string
	LeaderRule string
	Steps      []fpStep
	MinMargin  int
}

// fingerprint is the first 8 bytes of the SHA-256 of the plan's canonical
// form, in hex.
func fingerprint(p *Plan) string {
	b, _ := json.Marshal(canonical(p))
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

func canonical(p *Plan) fpPlan {
	out := fpPlan{Version: p.Version, Stages: make([]fpStage, 0, len(p.Stages))}
	for _, s := range p.Stages {
		st := fpStage{Kind: s.Kind, Live: s.Live, LeaderRule: s.LeaderRule, MinMargin: s.MinMargin}
		for _, m := range s.Members {
			st.Members = append(st.Members, fpMember{m.ID, m.Host, m.Address, m.Datacenter, m.Role, m.ClientPort, m.QuorumPort, m.ElectPort})
		}
		for _, x := range s.Steps {
			st.Steps = append(st.Steps, fpStep{x.Action, x.Host, x.ID, x.FromID, x.Margin})
		}
		out.Stages = append(out.Stages, st)
	}
	return out
}
