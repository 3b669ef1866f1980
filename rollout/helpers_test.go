package rollout

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/compiler/compilertest"
	"github.com/zkstage/zkstage/journal"
	"github.com/zkstage/zkstage/lab"
	"github.com/zkstage/zkstage/lab/labtest"
	"github.com/zkstage/zkstage/render"
	"github.com/zkstage/zkstage/schema"
	"github.com/zkstage/zkstage/verify"
)

// testDir is the lab topology on this package's own loopback range.
const testDir = "testdata/lab31"

type fixture struct {
	dir   string
	c     *schema.Cluster
	p     *compiler.Plan
	lab   *lab.Lab
	state string
}

func loadPlan(t testing.TB) (string, *schema.Cluster, *compiler.Plan) {
	t.Helper()
	return loadPlanAt(t, testDir)
}

func loadPlanAt(t testing.TB, rel string) (string, *schema.Cluster, *compiler.Plan) {
	t.Helper()
	dir, err := filepath.Abs(rel)
	if err != nil {
		t.Fatal(err)
	}
	c, p := compilertest.Plan(t, dir)
	return dir, c, p
}

// newFixtureAt starts the cluster in rel at stage k and waits until it
// verifies.
func newFixtureAt(t *testing.T, rel string, k int) *fixture {
	t.Helper()
	return newFixtureVersion(t, rel, "", k)
}

// newFixtureVersion is newFixtureAt with the spec's ZooKeeper version set to
// version ("" keeps the spec's), run by the lab from that release.
func newFixtureVersion(t *testing.T, rel, version string, k int) *fixture {
	t.Helper()
	if version != "" {
		labtest.RequireVersion(t, version)
		abs, err := filepath.Abs(rel)
		if err != nil {
			t.Fatal(err)
		}
		rel = labtest.ClusterAtVersion(t, abs, version)
		// The zkstage lab commands the runner executes find the release
		// the same way.
		if h := labtest.Homes(); h != "" {
			t.Setenv(lab.EnvZooKeeperHomes, h)
		}
	}
	dir, c, p := loadPlanAt(t, rel)
	var l *lab.Lab
	if version != "" {
		l = labtest.NewLabVersion(t, version, nil)
	} else {
		l = labtest.NewLab(t, nil)
	}
	f := &fixture{dir: dir, c: c, p: p, lab: l, state: l.State()}
	files, err := LabFiles(c, p, k)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Up(context.Background(), files, k); err != nil {
		t.Fatalf("lab up stage %d: %v", k, err)
	}
	if !verify.ShowsFor(c.Version.String()).Membership && k > 0 {
		// The lab started at stage k directly, as if an operator had rolled
		// stages 1..k by hand: 3.4 cannot show it, so acknowledge it.
		f.acknowledge(t, k)
	}
	f.verify(t, k, 90*time.Second)
	return f
}

func (f *fixture) manifest(k int) *render.Manifest { return render.NewManifest(f.c, f.p, k) }

// acknowledge records the steps of stages 1..k in the rollout journal as
// done by hand, waiting for the ensemble to take the write.
func (f *fixture) acknowledge(t *testing.T, k int) {
	t.Helper()
	var recs []journal.Record
	for j := 1; j <= k; j++ {
		m := f.manifest(j)
		for _, s := range m.Steps {
			recs = append(recs, journal.Record{Fingerprint: m.Fingerprint, Stage: j, StageName: m.Name, Action: string(s.Action),
				Host: s.Host, ID: s.ID, FromID: s.FromID, At: time.Now().UTC(), By: journal.ByAck, Note: "lab started at stage " + strconv.Itoa(k)})
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := journal.Append(context.Background(), f.servers(), f.c.Name, 2*time.Second, recs...)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("acknowledge stages 1..%d: %v", k, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// verify waits until the live ensemble verifies as stage k (zxids may differ:
// a writer may be running).
func (f *fixture) verify(t *testing.T, k int, wait time.Duration) *verify.Report {
	t.Helper()
	return verifyWait(t, f.manifest(k), wait)
}

// verifyWait waits until the live ensemble verifies as manifest m (zxids
// may differ: a writer may be running), failing the test after wait.
func verifyWait(t testing.TB, m *render.Manifest, wait time.Duration) *verify.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	r, err := verify.RunWait(ctx, m, verify.Options{Timeout: 2 * time.Second, ZxidTolerance: 1 << 40}, 300*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() {
		var b strings.Builder
		_ = r.WriteText(&b)
		t.Fatalf("stage %d %s does not verify after %s:\n%s", m.Stage, m.Name, wait, b.String())
	}
	return r
}

// opts are the runner options for stage k.
func (f *fixture) opts(k int, x Executor) Options {
	return Options{From: f.manifest(k - 1), To: f.manifest(k), Dir: f.dir, Exec: x, StepTimeout: 60 * time.Second}
}

// starts returns how many times the lab started each host (starts.log lines).
func (f *fixture) starts(t *testing.T) map[string]int {
	t.Helper()
	out := map[string]int{}
	for h := range f.c.Hosts {
		b, err := os.ReadFile(f.lab.StartsLog(h))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		out[h] = strings.Count(string(b), "\n")
	}
	return out
}

// servers is every host's client address.
func (f *fixture) servers() []string {
	var out []string
	for _, h := range f.c.Hosts {
		out = append(out, net.JoinHostPort(h.Address, strconv.Itoa(f.c.Ports.Client)))
	}
	return out
}

// The zkstage binary, built once for the tests that roll through the CLI.
var (
	binOnce sync.Once
	binPath string
	binErr  error
)

func zkstageBin(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "zkstage-rollout-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "zkstage")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/zkstage/zkstage/cmd/zkstage").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// finalMembership checks that every member of the final stage answers conf
// with its own id and (3.5+) exactly the final membership, that one of them
// leads, from dc, and that the leader's mntr counts every other voter as a
// synced follower.
func (f *fixture) finalMembership(t *testing.T, dc string) {
	t.Helper()
	ctx := context.Background()
	final := f.manifest(len(f.p.Stages) - 1)
	shows := verify.ShowsFor(final.Version)
	leaders, voters := 0, 0
	for _, m := range final.Members {
		if m.Voter() {
			voters++
		}
	}
	for _, m := range final.Members {
		p := verify.ProbeHost(ctx, m.Address, m.ClientPort, 2*time.Second)
		if p.ConfErr != nil {
			t.Errorf("%s: conf: %v", m.Host, p.ConfErr)
			continue
		}
		if p.Conf.ServerID != m.ID {
			t.Errorf("%s: conf shows id %d, want %d", m.Host, p.Conf.ServerID, m.ID)
		}
		if shows.Membership && !sameMembership(final.Members, p.Conf.Members) {
			t.Errorf("%s: conf shows %v, want the final membership", m.Host, p.Conf.Members)
		}
		if p.Mode() == "leader" {
			leaders++
			if got := f.c.Hosts[m.Host].DC; got != dc {
				t.Errorf("the leader %s is in %s, want %s", m.Host, got, dc)
			}
			if n, ok := p.Mntr.Int("zk_synced_followers"); !ok || n != int64(voters-1) {
				t.Errorf("the leader %s has %d synced followers (mntr %v), want %d", m.Host, n, p.MntrErr, voters-1)
			}
		}
	}
	if leaders != 1 {
		t.Errorf("%d leaders at the end, want 1", leaders)
	}
}

// labCommand is the documented --exec form for this fixture's lab.
func (f *fixture) labCommand(t *testing.T) string {
	return fmt.Sprintf(`%q lab "$ZKSTAGE_ACTION" "$ZKSTAGE_DIR" "$ZKSTAGE_HOST" --stage "$ZKSTAGE_STAGE" --state %q`, zkstageBin(t), f.state)
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}
