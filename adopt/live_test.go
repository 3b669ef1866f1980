package adopt_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/zkstage/zkstage/adopt"
	"github.com/zkstage/zkstage/cmd/zkstage/cli"
	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/lab"
	"github.com/zkstage/zkstage/lab/labtest"
	"github.com/zkstage/zkstage/render"
	"github.com/zkstage/zkstage/schema"
	"github.com/zkstage/zkstage/zoocfg"
)

// The live tests of package adopt use 127.0.51.0/24 only.
const liveSpec = `name: "adoptlive"
version: "3.8.0"
ports: {client: 2181, quorum: 2555, election: 3555}
datacenters: dc1: {leader: "preferred", priority: 1}
hosts: {
	"a1": {address: "127.0.51.1", dc: "dc1", myid: 1}
	"a2": {address: "127.0.51.2", dc: "dc1", myid: 2}
	"a3": {address: "127.0.51.3", dc: "dc1", myid: 3}
}
settings: tickTime: 200
`

// A real 3.8 ensemble of three servers is imported over the wire; the spec
// loads, lists the right ids, addresses and ports, and `zkstage verify
// --stage 0` passes against the same ensemble.
func TestImportLive(t *testing.T) {
	labtest.Require(t)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "src", "cluster.cue"), []byte(liveSpec))
	c, _, err := schema.Load(filepath.Join(dir, "src"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := compiler.Compile(c)
	if err != nil {
		t.Fatal(err)
	}
	files, err := render.StageFiles(c, p, 0)
	if err != nil {
		t.Fatal(err)
	}
	var lf []lab.File
	for _, f := range files {
		lf = append(lf, lab.File{Path: f.Path, Data: f.Data})
	}
	l := labtest.NewLab(t, nil)
	if _, err := l.Up(context.Background(), lf, 0); err != nil {
		t.Fatalf("lab up: %v", err)
	}
	labtest.WaitServing(t, l, 90*time.Second)

	addrs := []string{"127.0.51.1:2181", "127.0.51.2:2181", "127.0.51.3:2181"}
	res, err := adopt.ImportLive(context.Background(), addrs, adopt.Options{Name: "adoptlive",
		// The lab gives every server its own data directory.
		Ignore: []string{"dataDir", "dataLogDir"}}, 5*time.Second)
	if err != nil {
		t.Fatalf("import --live: %v", err)
	}
	out := filepath.Join(dir, "imported")
	write(t, filepath.Join(out, "cluster.cue"), res.CUE)
	ic, _, err := schema.Load(out)
	if err != nil {
		t.Fatalf("imported spec does not load: %v\n%s", err, res.CUE)
	}
	if ic.Version.String() != "3.8.0" || ic.Settings.TickTime != 200 || ic.Settings.InitLimit != 10 || ic.Settings.SyncLimit != 5 {
		t.Errorf("version %s tickTime %d initLimit %d syncLimit %d, want 3.8.0 200 10 5", ic.Version, ic.Settings.TickTime, ic.Settings.InitLimit, ic.Settings.SyncLimit)
	}
	type member struct {
		Address                  string
		Client, Quorum, Election int
		Role                     string
	}
	got := map[int]member{}
	for _, h := range ic.Hosts {
		if h.MyID == nil {
			t.Fatalf("host %s has no myid", h.Name)
		}
		got[*h.MyID] = member{h.Address, h.Ports.Client, h.Ports.Quorum, h.Ports.Election, h.Role}
	}
	want := map[int]member{
		1: {"127.0.51.1", 2181, 2555, 3555, "participant"},
		2: {"127.0.51.2", 2181, 2555, 3555, "participant"},
		3: {"127.0.51.3", 2181, 2555, 3555, "participant"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("imported members\n got %v\nwant %v\n%s", got, want, res.CUE)
	}

	// /zookeeper/config (the fallback when conf is not whitelisted) tells
	// the same membership.
	data, err := adopt.ReadConfigZnode(addrs[0], 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	zc, err := zoocfg.ParseDynamic("/zookeeper/config", data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if len(zc.Servers) != 3 {
		t.Fatalf("/zookeeper/config lists %d servers, want 3:\n%s", len(zc.Servers), data)
	}
	for _, s := range zc.Servers {
		w := want[s.ID]
		if s.Address != w.Address || s.QuorumPort != w.Quorum || s.ElectionPort != w.Election || s.ClientPort != w.Client {
			t.Errorf("/zookeeper/config server.%d = %s, want %+v", s.ID, s.Value(), w)
		}
	}

	// The imported spec verifies as stage 0 against the same ensemble.
	var stdout, stderr bytes.Buffer
	if code := cli.Run([]string{"verify", out, "--stage", "0"}, &stdout, &stderr); code != 0 {
		t.Errorf("zkstage verify --stage 0 exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	t.Logf("zkstage verify --stage 0:\n%s", stdout.String())
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
