package rollout

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/lab"
	"github.com/zkstage/zkstage/lab/labtest"
	"github.com/zkstage/zkstage/render"
	"github.com/zkstage/zkstage/schema"
	"github.com/zkstage/zkstage/verify"
)

// The reconfig live tests use 127.0.81.x (dc1), 127.0.82.x (dc2) and
// 127.0.83.x (dc3), a range no other test uses.

const reconfigPassword = "super:zkstage-test"

func superDigest(userPassword string) string {
	user, _, _ := strings.Cut(userPassword, ":")
	sum := sha1.Sum([]byte(userPassword))
	return user + ":" + base64.StdEncoding.EncodeToString(sum[:])
}

// reconfigSpec is the reference topology (five servers in dc1 with ids
// 0..4, five joiners in dc2, one in dc3) or, with shrink, five servers in
// dc1 of which two leave.
func reconfigSpec(version string, shrink bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "name: \"rc\"\nversion: %q\nports: {client: 2181, quorum: 2555, election: 3555}\n", version)
	b.WriteString("datacenters: {\n\tdc1: {leader: \"preferred\", priority: 1}\n\tdc2: {leader: \"allowed\", priority: 2}\n\tdc3: {leader: \"never\"}\n}\nhosts: {\n")
	for i := 0; i < 5; i++ {
		rm := ""
		if shrink && i >= 3 {
			rm = ", remove: true"
		}
		fmt.Fprintf(&b, "\t\"zk%d-dc1\": {address: \"127.0.81.%d\", dc: \"dc1\", myid: %d%s}\n", i+1, 100+i, i, rm)
	}
	if !shrink {
		for i := 1; i <= 5; i++ {
			fmt.Fprintf(&b, "\t\"zk%d-dc2\": {address: \"127.0.82.%d\", dc: \"dc2\"}\n", i, i)
		}
		b.WriteString("\t\"zk1-dc3\": {address: \"127.0.83.1\", dc: \"dc3\"}\n")
	}
	b.WriteString("}\nsettings: {tickTime: 200, initLimit: 10, syncLimit: 5}\n")
	renumber := ""
	if shrink {
		renumber = ", renumber: \"none\""
	}
	fmt.Fprintf(&b, "policy: {method: \"reconfig\", superDigest: %q%s}\n", superDigest(reconfigPassword), renumber)
	return b.String()
}

type reconfigFixture struct {
	c   *schema.Cluster
	p   *compiler.Plan
	lab *lab.Lab
	dir string
	// outside lists, as "action host", the steps the runner told its
	// executor run on a host outside the committed configuration.
	outside []string
}

func newReconfigFixture(t testing.TB, version string, shrink bool) *reconfigFixture {
	t.Helper()
	return newReconfigFixtureSpec(t, version, reconfigSpec(version, shrink))
}

// newReconfigFixtureSpec is the lab of spec (at version) up at stage 0.
func newReconfigFixtureSpec(t testing.TB, version, spec string) *reconfigFixture {
	t.Helper()
	return newReconfigFixtureLab(t, spec, lab.Options{Version: version})
}

// newReconfigFixtureLab is newReconfigFixtureSpec with lab options (the
// version among them).
func newReconfigFixtureLab(t testing.TB, spec string, lo lab.Options) *reconfigFixture {
	t.Helper()
	version := lo.Version
	labtest.RequireVersion(t, version)
	if h := labtest.Homes(); h != "" {
		t.Setenv(lab.EnvZooKeeperHomes, h)
	}
	t.Setenv(EnvReconfigAuth, reconfigPassword)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cluster.cue"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	c, _, err := schema.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	p, err := compiler.Compile(c)
	if err != nil {
		t.Fatal(err)
	}
	f := &reconfigFixture{c: c, p: p, lab: labtest.NewLabOptions(t, lo), dir: dir}
	files, err := LabFiles(c, p, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.lab.Up(context.Background(), files, 0); err != nil {
		t.Fatalf("lab up stage 0: %v", err)
	}
	f.verify(t, 0)
	return f
}

func (f *reconfigFixture) verify(t testing.TB, k int) *verify.Report {
	t.Helper()
	return verifyWait(t, render.NewManifest(f.c, f.p, k), 90*time.Second)
}

func (f *reconfigFixture) opts(k int, w *Writer) Options {
	x := LabExec(f.lab, f.c, f.p)
	rec := ExecFunc(func(ctx context.Context, s StepEnv) error {
		if s.Outside {
			f.outside = append(f.outside, s.Action+" "+s.Host)
		}
		return x.Exec(ctx, s)
	})
	return Options{From: render.NewManifest(f.c, f.p, k-1), To: render.NewManifest(f.c, f.p, k), Dir: f.dir, Exec: rec,
		StepTimeout: 60 * time.Second, Writer: w}
}

// roll runs every stage from 1, under one writer, and returns the results.
func (f *reconfigFixture) roll(t testing.TB, w *Writer) []*Result {
	t.Helper()
	var out []*Result
	for k := 1; k < len(f.p.Stages); k++ {
		res, err := Run(context.Background(), f.opts(k, w))
		if err != nil {
			t.Fatal(err)
		}
		logResult(t, res)
		if !res.OK {
			t.Fatalf("stage %d %s: %s", k, res.StageName, res.Message)
		}
		f.verify(t, k)
		out = append(out, res)
	}
	return out
}

func logResult(t testing.TB, res *Result) {
	t.Helper()
	ws := WriteStats{}
	if res.Writes != nil {
		ws = *res.Writes
	}
	t.Logf("stage %d %s (%s): ok=%v %s, elections %d, writes acked %d failed %d, longest stall %s, leader %s",
		res.Stage, res.StageName, res.Kind, res.OK, res.Duration.Round(time.Millisecond), res.Elections, ws.Acked, ws.Failed, ws.Stall.Round(time.Millisecond), res.Leader)
	for _, s := range res.Steps {
		w := ""
		if s.Writes != nil {
			w = fmt.Sprintf(" (writes failed %d, stall %s)", s.Writes.Failed, s.Writes.Stall.Round(time.Millisecond))
		}
		t.Logf("  %d %s %s id %d: %s %s%s %s", s.K, s.Action, s.Host, s.ID, s.Status, s.Duration.Round(time.Millisecond), w, s.Reason)
	}
}

// TestReconfigExpansion: the reference expansion, with the rename 0 -> 100,
// by dynamic reconfiguration under a client write load.
func TestReconfigExpansion(t *testing.T) {
	for _, v := range []string{"3.5.10", "3.8.0"} {
		t.Run(v, func(t *testing.T) { reconfigExpansion(t, v) })
	}
}

func reconfigExpansion(t *testing.T, version string) {
	f := newReconfigFixture(t, version, false)
	ctx := context.Background()
	w, err := StartWriter(ctx, f.servers(), "/zkstage-canary-reconfig", WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	results := f.roll(t, w)
	missing, err := w.Check(ctx, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) > 0 {
		t.Fatalf("%d acknowledged writes missing: %v", len(missing), missing)
	}
	// Only the rename's restart ran on a host outside the configuration
	// (its id 0 removed the stage before): ZKSTAGE_OUTSIDE=1.
	if got := strings.Join(f.outside, ", "); got != "restart zk1-dc1" {
		t.Errorf("steps told they run outside the configuration: %q, want the rename's restart of zk1-dc1", got)
	}
	// After the enabling stage the membership changes cost no election
	// (the leader 4 stays: the renamed id 0 does not lead).
	for _, res := range results[1:] {
		if res.Elections != 0 {
			t.Errorf("stage %d %s: %d elections", res.Stage, res.StageName, res.Elections)
		}
	}
	last := len(f.p.Stages) - 1
	rep := f.verify(t, last)
	if rep.Leader == "" || f.c.Hosts[rep.Leader].DC != "dc1" {
		t.Errorf("leader %q not in dc1", rep.Leader)
	}
	// Every member lists the 11 servers, and so does /zookeeper/config.
	cfg, err := readConfig(ctx, f.servers()[0], 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ids() != "0,1,2,3,4,5,6,7,8,9,100" {
		t.Errorf("%s lists %s", ConfigZnode, cfg.ids())
	}
	for _, s := range f.servers() {
		p := verify.ProbeHost(ctx, strings.Split(s, ":")[0], 2181, 2*time.Second)
		if p.Conf == nil || len(p.Conf.Members) != 11 {
			t.Errorf("%s: conf %+v", s, p.Conf)
		}
	}
}

// planKinds is the kinds of the plan's stages after stage 0.
func planKinds(p *compiler.Plan) string {
	var kinds []string
	for _, st := range p.Stages[1:] {
		kinds = append(kinds, st.Kind)
	}
	return strings.Join(kinds, " ")
}

func (f *reconfigFixture) servers() []string {
	var out []string
	for _, name := range schema.SortedHosts(f.c) {
		out = append(out, fmt.Sprintf("%s:%d", f.c.Hosts[name].Address, f.c.Ports.Client))
	}
	return out
}
