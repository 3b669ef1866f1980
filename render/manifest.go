package render

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/zkstage/zkstage/compiler"
)

// ManifestFile is the stage manifest's name inside a rendered stage folder.
const ManifestFile = "stage.json"

// ManifestFormat is the version of stage.json's layout. Bump it when a field
// is removed, renamed or changes meaning: readers of other tools (inventory
// scripts, dashboards) key on it, and ReadManifest refuses a newer one
// rather than misread it. Adding a field keeps the version.
const ManifestFormat = 1

// Manifest is the machine-readable description of one stage: what the live
// ensemble must look like once the stage is rolled out. The verifier, the
// rollout runner and the GitOps gate read it; it is rendered with the files.
type Manifest struct {
	// Format is ManifestFormat when rendered; 0 in manifests written before
	// the layout was versioned (the same layout as format 1).
	Format int `json:"format"`
	// Spec identifies the spec the stage was rendered from (a hash of its
	// decoded content: settings, hosts with their ports, policy), so that
	// two renders of specs that plan alike are told apart.
	Spec        string `json:"spec,omitempty"`
	Cluster     string `json:"cluster"`
	Version     string `json:"version"`
	Fingerprint string `json:"fingerprint"`
	Stage       int    `json:"stage"`
	Name        string `json:"name"`
	Kind        string `json:"kind"`
	Stages      int    `json:"stages"` // number of stages in the plan, stage 0 included
	// Members is the configuration every live host runs once the stage is
	// done (ids, addresses, ports, roles).
	Members []compiler.Member `json:"members"`
	// Live names the hosts that run (have files) once the stage is done; in a
	// grow-roll stage the new members are listed but not yet live.
	Live       []string        `json:"live"`
	Quorum     int             `json:"quorum"`
	LeaderRule string          `json:"leaderRule,omitempty"`
	Steps      []compiler.Step `json:"steps"`
	MinMargin  int             `json:"minMargin"`
	// Leader is the host the plan expects to lead when the stage starts:
	// the steps are listed in the order the runner takes from it.
	// LeaderAfter is the leader the plan predicts once the stage is done.
	Leader      string `json:"leader,omitempty"`
	LeaderAfter string `json:"leaderAfter,omitempty"`
	// Alternatives are the runs from other starting leaders that differ
	// from the listed one (the runner reports which it is in).
	Alternatives []compiler.Alternative `json:"alternatives,omitempty"`
	// LeaderDatacenters lists the datacenters allowed to lead, most
	// preferred first; a leader elsewhere fails the gate.
	LeaderDatacenters []string `json:"leaderDatacenters"`
	// Datacenters maps each host to its datacenter (for every live host).
	Datacenters map[string]string `json:"datacenters"`
	// LastStep maps each host that had a step in stages 1..this one to the
	// stage of its last step. ZooKeeper 3.4 cannot show which membership a
	// server runs; the verifier then looks up that step in the rollout
	// journal (a host absent here runs stage 0's files, as declared).
	LastStep map[string]int `json:"lastStep,omitempty"`
	// Settings are the values the stage's zoo.cfg gives to the settings a
	// server shows in conf (initLimit, syncLimit, and maxClientCnxns,
	// minSessionTimeout, maxSessionTimeout when settings.extra sets them),
	// so that verify sees a host that did not restart onto new settings.
	// tickTime and the directories are not among them: the lab replaces
	// them, and conf shows dataDir with version-2 appended.
	Settings map[string]string `json:"settings,omitempty"`
	// Method is the plan's policy.method when it is not rolling.
	Method string `json:"method,omitempty"`
	// Under reconfig: Outside are the hosts that run (are live) but are not
	// members, with the id they run (removed by reconfig, not yet stopped
	// or renamed), and ServerLines the dynamic-config server line of each
	// member id, what reconfig -add sends.
	Outside     []compiler.Member `json:"outside,omitempty"`
	ServerLines map[int]string    `json:"serverLines,omitempty"`
	// Dynamic: at the end of this stage the hosts run with reconfiguration
	// on (a dynamic config file); /zookeeper/config then holds the
	// committed configuration, whose version is never 0.
	Dynamic bool `json:"dynamic,omitempty"`
}

// ReadManifest reads a stage.json.
func ReadManifest(path string) (*Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := ParseManifest(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// ParseManifest decodes a stage.json, refusing a format newer than this
// zkstage knows.
func ParseManifest(b []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	if m.Format > ManifestFormat {
		return nil, fmt.Errorf("format %d is newer than this zkstage reads (%d): upgrade zkstage", m.Format, ManifestFormat)
	}
	return &m, nil
}

// LiveMembers returns the members whose host is live at the end of the stage.
func (m *Manifest) LiveMembers() []compiler.Member {
	live := map[string]bool{}
	for _, h := range m.Live {
		live[h] = true
	}
	var out []compiler.Member
	for _, mem := range m.Members {
		if live[mem.Host] {
			out = append(out, mem)
		}
	}
	return out
}
