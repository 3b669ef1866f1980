package rollout

import (
	"fmt"

	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/render"
)

// reconfigPreview describes the roll of a reconfig stage: host steps run
// the executor, add and remove steps are reconfig calls the runner makes
// itself (no command, no environment).
func reconfigPreview(from, to *render.Manifest, dir string) *Preview {
	addr := map[string]string{}
	for _, ms := range [][]compiler.Member{from.Outside, from.Members, to.Outside, to.Members} {
		for _, m := range ms {
			addr[m.Host] = m.Address
		}
	}
	p := &Preview{Cluster: to.Cluster, Stage: to.Stage, StageName: to.Name, Kind: to.Kind, MinMargin: to.MinMargin, Steps: []PreviewStep{},
		Order: "plan order; the add and remove steps of one op are one reconfig call, conditioned on the /zookeeper/config version read just before"}
	// A host the stage before removed runs outside the configuration when
	// this stage restarts (renames) or stops it.
	outside := map[string]bool{}
	for _, m := range from.Outside {
		outside[m.Host] = true
	}
	for i, s := range to.Steps {
		env := []string{}
		if s.Action != compiler.Add && s.Action != compiler.Remove {
			env = StepEnv{Action: string(s.Action), Host: s.Host, Address: addr[s.Host], MyID: s.ID, Stage: to.Stage, Cluster: to.Cluster, Dir: dir,
				Outside: outside[s.Host] && s.Action != compiler.Start}.Environ()
		}
		p.Steps = append(p.Steps, PreviewStep{Plan: i + 1, Action: string(s.Action), Host: s.Host, Address: addr[s.Host],
			ID: s.ID, FromID: s.FromID, Margin: s.Margin, Expected: s.Expected, Rule: s.Rule, Env: env})
	}
	p.Before = []string{
		fmt.Sprintf("/zookeeper/config, read after a sync, holds stage %d's configuration (else the roll is refused: a concurrent change is never forced)", from.Stage),
		"the gate of the state so far holds (below); a refused step stops the roll before it runs",
		"before a reconfig call: /zookeeper/config still holds the configuration the runner expects; the call carries its version",
		"credentials: $" + EnvReconfigAuth + " (user:password of the superuser digest), never a flag; unset with skipACL",
		"before the first step: the leader accepts them (a setData on /zookeeper/config at a version it never has answers NoAuth, or BadVersion when reconfig would be allowed; the znode stays as it was); else the stage is refused before anything runs",
	}
	p.Gate = []string{
		"every running host serves under its id: members of the committed configuration as voters or observers, the others as non-voting followers",
		"conf on every running host lists the committed configuration",
		"exactly one leader, in a datacenter allowed to lead (" + joinOr(to.LeaderDatacenters) + "), whose mntr counts every other running host as a synced learner",
		"/zookeeper/config, read after a sync, lists the committed configuration",
		"a stopped host no longer listens on its client port",
		"a reconfig call that fails or does not answer within --step-timeout stops the roll; the runner then reads which configuration is in force",
	}
	return p
}
