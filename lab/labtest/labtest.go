// Package labtest builds small ensembles for live tests: the per-host files
// in the renderer's layout ("<host>/zoo.cfg", "<host>/myid") and the stage
// manifest, from a table, and starts them with the lab, stopping them when
// the test ends.
package labtest

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/lab"
	"github.com/zkstage/zkstage/render"
	"github.com/zkstage/zkstage/schema"
)

// Host is one server of a test ensemble.
type Host struct {
	Name    string
	Address string
	ID      int
	DC      string
	Role    string // "" or participant, observer
	// Down: listed in the config but not live (a grow stage's new member).
	Down bool
}

// Ensemble is a test configuration: every host runs the same membership.
type Ensemble struct {
	Name    string
	Version string // default 3.8.0
	Stage   int
	Hosts   []Host
	// LeaderDCs: allowed to lead, most preferred first (default dc1, dc2).
	LeaderDCs []string
}

const (
	ClientPort = 2181
	QuorumPort = 2555
	ElectPort  = 3555
)

// Members returns the configuration as compiler members.
func (e Ensemble) Members() []compiler.Member {
	var out []compiler.Member
	for _, h := range e.Hosts {
		role := h.Role
		if role == "" {
			role = "participant"
		}
		out = append(out, compiler.Member{ID: h.ID, Host: h.Name, Address: h.Address, Datacenter: h.DC,
			Role: role, ClientPort: ClientPort, QuorumPort: QuorumPort, ElectPort: ElectPort})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Files renders zoo.cfg and myid for every live host, like the renderer
// does for the version: 3.5+ has the client port on the server lines, the
// whitelist, no AdminServer and a static config; 3.4 has none of these keys
// (its server lines end at the role).
func (e Ensemble) Files() []lab.File {
	modern := !strings.HasPrefix(e.version(), "3.4.")
	var b strings.Builder
	b.WriteString("tickTime=200\ninitLimit=10\nsyncLimit=5\ndataDir=/var/lib/zookeeper\n")
	fmt.Fprintf(&b, "clientPort=%d\n", ClientPort)
	if modern {
		b.WriteString("4lw.commands.whitelist=conf,mntr,ruok,srvr\nadmin.enableServer=false\nreconfigEnabled=false\nstandaloneEnabled=false\n")
	}
	for _, m := range e.Members() {
		role := ""
		if m.Role == "observer" {
			role = ":observer"
		}
		fmt.Fprintf(&b, "server.%d=%s:%d:%d%s", m.ID, m.Address, m.QuorumPort, m.ElectPort, role)
		if modern {
			fmt.Fprintf(&b, ";%d", m.ClientPort)
		}
		b.WriteString("\n")
	}
	var out []lab.File
	for _, h := range e.Hosts {
		if h.Down {
			continue
		}
		cfg := b.String()
		if h.Role == "observer" {
			cfg += "peerType=observer\n"
		}
		out = append(out, lab.File{Path: h.Name + "/zoo.cfg", Data: []byte(cfg)},
			lab.File{Path: h.Name + "/myid", Data: []byte(fmt.Sprintf("%d\n", h.ID))})
	}
	return out
}

func (e Ensemble) version() string {
	if e.Version == "" {
		return "3.8.0"
	}
	return e.Version
}

// Manifest is the stage manifest the renderer would write for the ensemble.
func (e Ensemble) Manifest() *render.Manifest {
	v := e.version()
	dcs := e.LeaderDCs
	if dcs == nil {
		dcs = []string{"dc1", "dc2"}
	}
	m := &render.Manifest{Cluster: e.Name, Version: v, Stage: e.Stage, Name: fmt.Sprintf("stage-%d", e.Stage),
		Members: e.Members(), LeaderDatacenters: dcs, Datacenters: map[string]string{}}
	voters := 0
	for _, mem := range m.Members {
		if mem.Voter() {
			voters++
		}
	}
	m.Quorum = compiler.Quorum(voters)
	for _, h := range e.Hosts {
		if !h.Down {
			m.Live = append(m.Live, h.Name)
			m.Datacenters[h.Name] = h.DC
		}
	}
	return m
}

// Require skips the test when java or ZooKeeper is missing, except in CI
// (CI=true), where a missing runtime is a failure.
func Require(t testing.TB) {
	t.Helper()
	RequireVersion(t, "")
}

// NewLab returns a lab in a temporary state dir whose JVMs are stopped when
// the test ends (and die with the test binary if it is killed).
func NewLab(t testing.TB, overrides map[string]map[string]string) *lab.Lab {
	t.Helper()
	return NewLabVersion(t, "", overrides)
}

// Up starts the ensemble and waits until every live host serves (leader,
// follower or observer), failing the test after timeout.
func Up(t testing.TB, l *lab.Lab, e Ensemble, timeout time.Duration) {
	t.Helper()
	ctx := context.Background()
	if _, err := l.Up(ctx, e.Files(), e.Stage); err != nil {
		t.Fatalf("lab up: %v", err)
	}
	WaitServing(t, l, timeout)
}

// WaitServing waits until every running lab host reports a serving mode.
func WaitServing(t testing.TB, l *lab.Lab, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		st, err := l.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		ok := true
		var modes []string
		for _, s := range st {
			if !s.Running {
				continue
			}
			modes = append(modes, s.Host+"="+s.Mode)
			switch s.Mode {
			case "leader", "follower", "observer":
			default:
				ok = false
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("ensemble not serving after %s: %s", timeout, strings.Join(modes, " "))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// RenderStage loads a spec (cluster.cue's text), compiles it and returns
// the renderer's own files of the stage, for tests that start what zkstage
// really writes rather than Ensemble's hand-made files.
func RenderStage(t testing.TB, spec string, stage int) []lab.File {
	t.Helper()
	c, _, err := schema.LoadBytes("cluster.cue", []byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	p, err := compiler.Compile(c)
	if err != nil {
		t.Fatal(err)
	}
	rendered, err := render.StageFiles(c, p, stage)
	if err != nil {
		t.Fatal(err)
	}
	files := make([]lab.File, len(rendered))
	for i, f := range rendered {
		files[i] = lab.File{Path: f.Path, Data: f.Data}
	}
	return files
}
