package rollout

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/render"
	"github.com/zkstage/zkstage/schema"
	"github.com/zkstage/zkstage/verify"
	"github.com/zkstage/zkstage/zoocfg"
)

// TestSettingsRoll: a settings change rolled onto the running stage
// (zkstage roll --settings) restarts every member once, the leader last,
// under a write load; every member then runs the new setting (conf), the
// journal records the restarts with the spec's hash, and a second run finds
// them done (3.4.6, which cannot show membership, included).
func TestSettingsRoll(t *testing.T) {
	for _, v := range []string{"3.4.6", "3.5.10", "3.8.0"} {
		t.Run(v, func(t *testing.T) { settingsRoll(t, v) })
	}
}

func settingsRoll(t *testing.T, version string) {
	f := newFixtureVersion(t, testDir, version, 0)
	c := *f.c
	c.Settings.Extra = map[string]string{"maxClientCnxns": "77"}
	p, err := compiler.Compile(&c)
	if err != nil {
		t.Fatal(err)
	}
	if p.Fingerprint != f.p.Fingerprint {
		t.Fatalf("a settings change changed the plan: %s -> %s", f.p.Fingerprint, p.Fingerprint)
	}
	st, err := compiler.SettingsRoll(&c, p, 0)
	if err != nil {
		t.Fatal(err)
	}
	from, to := render.NewManifest(&c, p, 0), render.SettingsManifest(&c, p, 0, st)
	if to.Spec == render.SpecHash(f.c) {
		t.Fatal("the new settings did not change the spec hash")
	}
	// Before the roll the new settings are merged, not run: verify names
	// every host that still runs the old ones.
	rep, err := verify.Run(context.Background(), from, verify.Options{Timeout: 2 * time.Second, ZxidTolerance: 1 << 40})
	if err != nil {
		t.Fatal(err)
	}
	if sc := rep.Find(verify.CheckSettings, ""); sc == nil || sc.Status != verify.Fail || len(sc.Problems) != len(from.Live) ||
		!strings.Contains(sc.Problems[0], "maxClientCnxns=60 (the stage's zoo.cfg: 77)") {
		t.Fatalf("settings check before the roll: %+v", sc)
	}
	w, err := StartWriter(context.Background(), f.servers(), "/zkstage-settings", WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{From: from, To: to, Dir: f.dir, Exec: LabExec(f.lab, &c, p), StepTimeout: 60 * time.Second, Writer: w}
	res, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	logResult(t, res)
	if !res.OK {
		t.Fatalf("settings roll: %s", res.Message)
	}
	if res.Elections != 1 {
		t.Errorf("%d elections, want 1 (the leader's restart)", res.Elections)
	}
	last := res.Steps[0]
	for _, s := range res.Steps {
		if s.Status != StatusDone || s.Action != string(compiler.Restart) {
			t.Errorf("step %s %s: %s", s.Action, s.Host, s.Status)
		}
		if s.K > last.K {
			last = s
		}
	}
	if !last.WasLeader {
		t.Errorf("the last restart, %s, was not of the leader", last.Host)
	}
	if len(res.Steps) != len(from.Live) {
		t.Errorf("%d restarts, want one per live host (%d)", len(res.Steps), len(from.Live))
	}
	for _, m := range from.Members {
		got := confSetting(t, m.Address+":"+strconv.Itoa(m.ClientPort), "maxClientCnxns")
		if got != "77" {
			t.Errorf("%s: conf maxClientCnxns=%s, want 77", m.Host, got)
		}
	}
	verifyWait(t, from, 60*time.Second)

	// The journal knows these restarts: a second run is refused as done,
	// and with --resume it restarts nothing.
	opts.Writer = nil
	again, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if again.OK || !strings.Contains(again.Message, "partly rolled out already (5 of 5 steps done") {
		t.Errorf("second run: ok=%v %s", again.OK, again.Message)
	}
	opts.Resume = true
	again, err = Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if !again.OK {
		t.Fatalf("resume: %s", again.Message)
	}
	for _, s := range again.Steps {
		if s.Status != StatusAlreadyDone || s.Source != verify.SourceJournal {
			t.Errorf("resume: step %s %s: %s (%s)", s.Action, s.Host, s.Status, s.Source)
		}
	}
}

// confSetting reads one setting from a server's conf answer.
func confSetting(t *testing.T, addr, key string) string {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write([]byte("conf")); err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(conn)
	if err != nil {
		t.Fatal(err)
	}
	c, err := verify.ParseConf(string(out))
	if err != nil {
		t.Fatalf("%s: %v:\n%s", addr, err, out)
	}
	return c.Settings[key]
}

// settingsReconfigSpec: three servers under dynamic reconfiguration
// (127.0.88.x, a range no other test uses).
func settingsReconfigSpec(version, settings string) string {
	var b strings.Builder
	b.WriteString("name: \"set88\"\nversion: \"" + version + "\"\nports: {client: 2181, quorum: 2555, election: 3555}\n")
	b.WriteString("datacenters: dc1: {leader: \"preferred\", priority: 1}\nhosts: {\n")
	for i := 1; i <= 3; i++ {
		b.WriteString("\t\"zk" + strconv.Itoa(i) + "\": {address: \"127.0.88." + strconv.Itoa(i) + "\", dc: \"dc1\", myid: " + strconv.Itoa(i) + "}\n")
	}
	b.WriteString("}\nsettings: {tickTime: 200, initLimit: 10" + settings + "}\n")
	b.WriteString("policy: {method: \"reconfig\", superDigest: \"" + superDigest(reconfigPassword) + "\"}\n")
	return b.String()
}

// TestSettingsRollUnderReconfig: new settings for members whose zoo.cfg
// ZooKeeper owns reach them as edits made in place (the lab does what
// config management must), and the settings roll restarts each once: every
// member then runs them, and still runs the committed configuration from
// ZooKeeper's own dynamic file (3.5.10, 3.8.0).
func TestSettingsRollUnderReconfig(t *testing.T) {
	for _, v := range []string{"3.5.10", "3.8.0"} {
		t.Run(v, func(t *testing.T) { settingsRollUnderReconfig(t, v) })
	}
}

func settingsRollUnderReconfig(t *testing.T, version string) {
	f := newReconfigFixtureSpec(t, version, settingsReconfigSpec(version, ", syncLimit: 5"))
	if res, err := Run(context.Background(), f.opts(1, nil)); err != nil || !res.OK {
		t.Fatalf("enabling stage: %v %+v", err, res)
	}
	f.verify(t, 1)
	cfg0, err := readConfig(context.Background(), "127.0.88.1:2181", 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}

	c, _, err := schema.LoadBytes("cluster.cue", []byte(settingsReconfigSpec(version, `, syncLimit: 6, extra: maxClientCnxns: "77"`)))
	if err != nil {
		t.Fatal(err)
	}
	p, err := compiler.Compile(c)
	if err != nil {
		t.Fatal(err)
	}
	if p.Fingerprint != f.p.Fingerprint {
		t.Fatalf("a settings change changed the plan")
	}
	st, err := compiler.SettingsRoll(c, p, 1)
	if err != nil {
		t.Fatal(err)
	}
	ownCfg := func(host string) []byte {
		b, err := os.ReadFile(filepath.Join(f.lab.State(), host, "zoo.cfg"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// What each member's own zoo.cfg must become: ZooKeeper's file, its
	// order and its dynamicConfigFile kept, with the two edits made.
	want := map[string]string{}
	for h := 1; h <= 3; h++ {
		host := "zk" + strconv.Itoa(h)
		want[host] = string(zoocfg.Apply(ownCfg(host), []zoocfg.Edit{{Key: "maxClientCnxns", New: "77", Added: true}, {Key: "syncLimit", Old: "5", New: "6"}}))
	}
	from, to := render.NewManifest(c, p, 1), render.SettingsManifest(c, p, 1, st)
	res, err := Run(context.Background(), Options{From: from, To: to, Dir: f.dir, Exec: LabExec(f.lab, c, p), StepTimeout: 60 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	logResult(t, res)
	if !res.OK || res.Elections != 1 {
		t.Fatalf("settings roll: ok=%v elections %d: %s", res.OK, res.Elections, res.Message)
	}
	verifyWait(t, from, 60*time.Second)
	cfg1, err := readConfig(context.Background(), "127.0.88.1:2181", 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if cfg1.Version != cfg0.Version || cfg1.ids() != "1,2,3" {
		t.Errorf("%s: version %s ids %s, want version %s ids 1,2,3 (the configuration in force, untouched)", ConfigZnode, cfg1.Version, cfg1.ids(), cfg0.Version)
	}
	for h := 1; h <= 3; h++ {
		host := "zk" + strconv.Itoa(h)
		if own := string(ownCfg(host)); own != want[host] || !strings.Contains(own, "zoo.cfg.dynamic.") {
			t.Errorf("%s/zoo.cfg:\n%s\nwant ZooKeeper's own file with the edits made in place:\n%s", host, own, want[host])
		}
		if got := confSetting(t, "127.0.88."+strconv.Itoa(h)+":2181", "syncLimit"); got != "6" {
			t.Errorf("%s: conf syncLimit=%s, want 6", host, got)
		}
	}
}
