package render

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"

	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/schema"
)

// File is one rendered file, its path relative to the stage folder.
type File struct {
	Path string
	Data []byte
}

// StageDir is the folder name of stage k: NN-<name>.
func StageDir(p *compiler.Plan, k int) string {
	return fmt.Sprintf("%02d-%s", k, p.Stages[k].Name)
}

// StageFiles renders stage k: <host>/zoo.cfg and <host>/myid for every host
// live at the end of the stage, and the manifest. Hosts that are not live
// get no files, because config management starts a host as soon as its
// files appear.
func StageFiles(c *schema.Cluster, p *compiler.Plan, k int) ([]File, error) {
	if k < 0 || k >= len(p.Stages) {
		return nil, fmt.Errorf("stage %d does not exist: the plan has stages 0..%d", k, len(p.Stages)-1)
	}
	st := &p.Stages[k]
	live := map[string]bool{}
	for _, h := range st.Live {
		live[h] = true
	}
	var files []File
	if dynamicStage(c, p, k) {
		files = dynamicFiles(c, p, k)
	} else {
		for _, m := range st.Members {
			if !live[m.Host] {
				continue
			}
			files = append(files,
				File{Path: m.Host + "/myid", Data: MyID(m.ID)},
				File{Path: m.Host + "/zoo.cfg", Data: ZooCfg(c, st.Members, m)})
		}
	}
	man, err := json.MarshalIndent(NewManifest(c, p, k), "", "  ")
	if err != nil {
		return nil, err
	}
	files = append(files, File{Path: ManifestFile, Data: append(man, '\n')})
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}

// NewManifest describes stage k for the verifier, the runner and the gate.
func NewManifest(c *schema.Cluster, p *compiler.Plan, k int) *Manifest {
	st := &p.Stages[k]
	m := &Manifest{
		Format: ManifestFormat, Spec: SpecHash(c), Cluster: c.Name, Version: c.Version.String(), Fingerprint: p.Fingerprint,
		Stage: k, Name: st.Name, Kind: st.Kind, Stages: len(p.Stages),
		Members: st.Members, Live: st.Live, Quorum: compiler.Quorum(len(st.Voters())),
		LeaderRule: st.LeaderRule, Steps: st.Steps, MinMargin: st.MinMargin,
		Leader: st.Leader, LeaderAfter: st.LeaderAfter, Alternatives: st.Alternatives,
		Datacenters: map[string]string{},
	}
	if m.Steps == nil {
		m.Steps = []compiler.Step{}
	}
	for _, h := range st.Live {
		m.Datacenters[h] = c.Hosts[h].DC
	}
	for j := 1; j <= k; j++ {
		for _, s := range p.Stages[j].Steps {
			if m.LastStep == nil {
				m.LastStep = map[string]int{}
			}
			m.LastStep[s.Host] = j
		}
	}
	m.Settings = confSettings(c)
	if p.Policy.Method == schema.MethodReconfig {
		reconfigManifest(c, p, k, m)
	}
	var dcs []*schema.Datacenter
	for _, d := range c.Datacenters {
		if d.Leader != schema.LeaderNever {
			dcs = append(dcs, d)
		}
	}
	sort.Slice(dcs, func(i, j int) bool { return dcs[i].MorePreferred(dcs[j]) })
	for _, d := range dcs {
		m.LeaderDatacenters = append(m.LeaderDatacenters, d.Name)
	}
	return m
}

// confShown are the settings.extra keys a server's conf answer shows.
var confShown = []string{"maxClientCnxns", "minSessionTimeout", "maxSessionTimeout"}

// confSettings is Manifest.Settings for the spec.
func confSettings(c *schema.Cluster) map[string]string {
	out := map[string]string{
		"initLimit": strconv.Itoa(c.Settings.InitLimit),
		"syncLimit": strconv.Itoa(c.Settings.SyncLimit),
	}
	for _, k := range confShown {
		if v, ok := c.Settings.Extra[k]; ok {
			out[k] = v
		}
	}
	return out
}

// SettingsManifest describes the settings roll st of stage k
// (compiler.SettingsRoll): stage k's manifest, whose membership and files
// it keeps, with the roll's name, kind, steps and leaders. LastStep is
// stage k's: the membership each host runs is the same.
func SettingsManifest(c *schema.Cluster, p *compiler.Plan, k int, st *compiler.Stage) *Manifest {
	m := NewManifest(c, p, k)
	m.Name, m.Kind, m.LeaderRule, m.Steps, m.MinMargin = st.Name, st.Kind, st.LeaderRule, st.Steps, st.MinMargin
	m.Leader, m.LeaderAfter, m.Alternatives = st.Leader, st.LeaderAfter, st.Alternatives
	return m
}

// SpecHash is a short hash of the decoded spec: everything the renderer
// reads, positions and file name aside. encoding/json sorts map keys, so it
// is the same for the same spec.
func SpecHash(c *schema.Cluster) string {
	h := sha256.New()
	enc := json.NewEncoder(h)
	_ = enc.Encode(c)
	// Per-host ports are not in the Host's JSON (they are effective values).
	for _, name := range schema.SortedHosts(c) {
		_ = enc.Encode(struct {
			Host  string
			Ports schema.Ports
		}{name, c.Hosts[name].Ports})
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
