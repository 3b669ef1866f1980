package render

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/compiler/compilertest"
	"github.com/zkstage/zkstage/schema"
)

var update = flag.Bool("update", false, "rewrite the golden stages under clusters/*/stages")

func plan(t testing.TB, dir string) (*schema.Cluster, *compiler.Plan) {
	t.Helper()
	return compilertest.Plan(t, dir)
}

// TestGolden renders every stage of the example clusters and compares them
// with the committed files under clusters/<name>/stages (go test -update
// rewrites them).
func TestGolden(t *testing.T) {
	for _, name := range []string{"reference", "lab", "reconfig"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("..", "clusters", name)
			c, p := plan(t, dir)
			tree, err := Render(c, p, -1)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join(dir, "stages")
			if *update {
				if err := Write(golden, tree, true); err != nil {
					t.Fatal(err)
				}
			}
			diffs, err := Check(golden, tree, true)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range diffs {
				t.Errorf("%s: %s (run go test ./render -update if the change is intended)", d.Path, d.Status)
			}
			// Render twice: the same bytes.
			again, _ := Render(c, p, -1)
			for dir, files := range tree {
				for i, f := range files {
					if string(again[dir][i].Data) != string(f.Data) {
						t.Errorf("%s/%s: rendering is not deterministic", dir, f.Path)
					}
				}
			}
		})
	}
}

func TestZooCfgVersions(t *testing.T) {
	c, p := plan(t, "../clusters/reference")
	st := &p.Stages[5]
	self := st.Members[0] // id 0, dc3
	cfg34 := string(ZooCfg(c, st.Members, self))
	for _, want := range []string{"clientPort=2181\n", "server.0=192.168.3.1:2555:3555\n", "server.100=192.168.1.100:2555:3555\n"} {
		if !strings.Contains(cfg34, want) {
			t.Errorf("3.4 zoo.cfg lacks %q:\n%s", want, cfg34)
		}
	}
	for _, not := range []string{"4lw.commands.whitelist", "admin.", ";", "reconfigEnabled"} {
		if strings.Contains(cfg34, not) {
			t.Errorf("3.4 zoo.cfg has %q, which 3.4 does not know:\n%s", not, cfg34)
		}
	}
	if c.Settings.ClientBind != "any" || strings.Contains(cfg34, "clientPortAddress") {
		t.Errorf("3.4 default clientBind %q: want \"any\", no clientPortAddress:\n%s", c.Settings.ClientBind, cfg34)
	}
	c.Settings.ClientBind = "address"
	if cfg := string(ZooCfg(c, st.Members, self)); !strings.Contains(cfg, "clientPort=2181\nclientPortAddress=192.168.3.1\n") {
		t.Errorf("3.4 clientBind address: no clientPortAddress:\n%s", cfg)
	}
	// 3.8 (where a spec's default clientBind is "address").
	c.Version = schema.Version{Major: 3, Minor: 8, Patch: 0}
	cfg38 := string(ZooCfg(c, st.Members, self))
	for _, want := range []string{"4lw.commands.whitelist=conf,mntr,ruok,srvr\n", "admin.enableServer=false\n", "reconfigEnabled=false\n",
		"server.0=192.168.3.1:2555:3555:participant;192.168.3.1:2181\n"} {
		if !strings.Contains(cfg38, want) {
			t.Errorf("3.8 zoo.cfg lacks %q:\n%s", want, cfg38)
		}
	}
	if strings.Contains(cfg38, "clientPort=") {
		t.Errorf("3.8 zoo.cfg must carry the client port in the server lines only (ZooKeeper rejects a different clientPortAddress):\n%s", cfg38)
	}
	c.Settings.ClientBind = "any"
	if got := ServerLine(c, self); got != "192.168.3.1:2555:3555:participant;2181" {
		t.Errorf("clientBind any: %s", got)
	}
	obs := self
	obs.Role = "observer"
	obs.Address = "fe80::1"
	if got := ServerLine(c, obs); got != "[fe80::1]:2555:3555:observer;2181" {
		t.Errorf("observer IPv6: %s", got)
	}
	c.Version = schema.Version{Major: 3, Minor: 4, Patch: 6}
	if got := ServerLine(c, obs); got != "[fe80::1]:2555:3555:observer" {
		t.Errorf("3.4 observer: %s", got)
	}
}

// TestStageFilesOnlyLiveHosts: a grow-roll stage must not write the new
// hosts' files (config management would start them too early).
func TestStageFilesOnlyLiveHosts(t *testing.T) {
	c, p := plan(t, "../clusters/reference")
	files, err := StageFiles(c, p, 2)
	if err != nil {
		t.Fatal(err)
	}
	var hosts []string
	for _, f := range files {
		if strings.HasSuffix(f.Path, "/myid") {
			hosts = append(hosts, strings.TrimSuffix(f.Path, "/myid"))
		}
	}
	if got := strings.Join(hosts, " "); got != "zk1-dc1 zk2-dc1 zk3-dc1 zk4-dc1 zk5-dc1" {
		t.Errorf("stage 2 hosts with files: %s", got)
	}
	m := NewManifest(c, p, 2)
	if m.Quorum != 4 || len(m.Members) != 7 || len(m.Live) != 5 || strings.Join(m.LeaderDatacenters, ",") != "dc1,dc2" {
		t.Errorf("manifest: quorum %d members %d live %d leaders %v", m.Quorum, len(m.Members), len(m.Live), m.LeaderDatacenters)
	}
}

// TestWriteKeepsPreviousOnError: a failed write leaves what was there.
func TestWriteKeepsPreviousOnError(t *testing.T) {
	c, p := plan(t, "../clusters/reference")
	tree, _ := Render(c, p, -1)
	out := t.TempDir()
	if err := Write(out, tree, true); err != nil {
		t.Fatal(err)
	}
	keep := filepath.Join(out, "notes.txt")
	os.WriteFile(keep, []byte("mine"), 0o644)
	// A tree with a file path that cannot be created (a file where a
	// folder must go) fails before anything is swapped in.
	bad := Tree{"00-current": append(tree["00-current"], File{Path: "zk1-dc1/myid/oops", Data: []byte("x")})}
	if err := Write(out, bad, true); err == nil {
		t.Fatal("write of an impossible tree succeeded")
	}
	diffs, err := Check(out, tree, true)
	if err != nil || len(diffs) != 0 {
		t.Errorf("previous render damaged: %v %v", diffs, err)
	}
	if b, _ := os.ReadFile(keep); string(b) != "mine" {
		t.Error("user file lost")
	}
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".zkstage") {
			t.Errorf("temporary folder left behind: %s", e.Name())
		}
	}
}

func TestCheckFindsDrift(t *testing.T) {
	c, p := plan(t, "../clusters/lab")
	tree, _ := Render(c, p, -1)
	out := t.TempDir()
	if err := Write(out, tree, true); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(out, "00-current", "zk1-dc1", "zoo.cfg")
	os.WriteFile(cfg, []byte("tickTime=1\n"), 0o644)
	os.Remove(filepath.Join(out, "01-rename-0-to-100", "zk2-dc1", "myid"))
	os.WriteFile(filepath.Join(out, "00-current", "zk1-dc1", "extra"), nil, 0o644)
	os.MkdirAll(filepath.Join(out, "09-old-stage"), 0o755)
	diffs, err := Check(out, tree, true)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range diffs {
		got = append(got, d.Status+" "+d.Path)
	}
	want := "extra 00-current/zk1-dc1/extra|changed 00-current/zk1-dc1/zoo.cfg|missing 01-rename-0-to-100/zk2-dc1/myid|extra 09-old-stage/"
	if strings.Join(got, "|") != want {
		t.Errorf("diffs:\n%s\nwant:\n%s", strings.Join(got, "|"), want)
	}
}
