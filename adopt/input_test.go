package adopt

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/compiler/compilertest"
	"github.com/zkstage/zkstage/render"
	"github.com/zkstage/zkstage/schema"
)

const threeServers = "server.1=10.0.0.1:2888:3888\nserver.2=10.0.0.2:2888:3888\nserver.3=10.0.0.3:2888:3888\n"

// Every file an import cannot take as it is refused with file:line and
// the key; nothing is guessed (issue 11).
func TestImportRefusesInput(t *testing.T) {
	for _, tc := range []struct {
		name, version string
		files         map[string]string
		want          string // {dir} is the folder of the files
	}{
		{"duplicate key", "3.8.0", map[string]string{"zoo.cfg": "tickTime=2000\ntickTime=3000\n" + threeServers},
			"{dir}/zoo.cfg:2: tickTime: duplicate key (also line 1): the last one wins, as in ZooKeeper; keep one before importing"},
		{"junk line", "3.8.0", map[string]string{"zoo.cfg": "tickTime=2000\ngarbage\n" + threeServers},
			"{dir}/zoo.cfg:2: garbage: no value: a stray line"},
		{"bad extra key", "3.8.0", map[string]string{"zoo.cfg": "tickTime=2000\nserver.x.y=1\n" + threeServers},
			"{dir}/zoo.cfg:2: server.x.y:"},
		{"binary", "3.8.0", map[string]string{"zoo.cfg": "tickTime=2000\n\x7fELF\x02\x01\x00\x00"},
			"{dir}/zoo.cfg:2: binary data (byte 0x00): not a config file, which is text"},
		{"absolute dynamic file not read here", "3.8.0", map[string]string{"zoo.cfg": "dynamicConfigFile={dir}/elsewhere/zoo.cfg.dynamic\n",
			"elsewhere/zoo.cfg.dynamic": threeServers},
			"{dir}/zoo.cfg:1: dynamicConfigFile: dynamic config file not found (looked for {dir}/zoo.cfg.dynamic)"},
		{"climbing dynamic file not followed", "3.8.0", map[string]string{"conf/zoo.cfg": "dynamicConfigFile=../../../secret/zoo.cfg.dynamic\n",
			"secret/zoo.cfg.dynamic": threeServers},
			"{dir}/conf/zoo.cfg:1: dynamicConfigFile: dynamic config file not found (looked for {dir}/conf/zoo.cfg.dynamic)"},
		{"3.4 clientPortAddress of another server", "3.4.14", map[string]string{"zoo.cfg": "clientPort=2181\nclientPortAddress=10.0.0.2\n" + threeServers, "myid": "1\n"},
			"{dir}/zoo.cfg:2: clientPortAddress: 10.0.0.2 is not the address of server.1 (10.0.0.1)"},
		{"3.4 clientPortAddress without myid", "3.4.14", map[string]string{"zoo.cfg": "clientPort=2181\nclientPortAddress=10.0.0.1\n" + threeServers},
			"{dir}/zoo.cfg:2: clientPortAddress: no myid for this zoo.cfg: cannot tell whether 10.0.0.1 is its server's own address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{}
			dir := t.TempDir()
			for k, v := range tc.files {
				files[k] = strings.ReplaceAll(v, "{dir}", dir)
			}
			for name, data := range files {
				p := filepath.Join(dir, name)
				os.MkdirAll(filepath.Dir(p), 0o755)
				os.WriteFile(p, []byte(data), 0o644)
			}
			cfg := filepath.Join(dir, "zoo.cfg")
			if _, ok := files["conf/zoo.cfg"]; ok {
				cfg = filepath.Join(dir, "conf", "zoo.cfg")
			}
			_, err := ImportFiles([]string{cfg}, Options{Version: tc.version})
			want := strings.ReplaceAll(tc.want, "{dir}", dir)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("error\n%v\nwant\n%s", err, want)
			}
		})
	}
}

// A named pipe as the zoo.cfg, the dynamic file or the myid is refused at
// once; reading it would block for ever.
func TestImportRefusesFIFO(t *testing.T) {
	for _, name := range []string{"zoo.cfg", "zoo.cfg.dynamic", "myid"} {
		t.Run(name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"zoo.cfg": "dynamicConfigFile=zoo.cfg.dynamic\n", "zoo.cfg.dynamic": threeServers, "myid": "1\n"})
			p := filepath.Join(dir, name)
			os.Remove(p)
			if err := syscall.Mkfifo(p, 0o644); err != nil {
				t.Skip(err)
			}
			_, err := ImportFiles([]string{filepath.Join(dir, "zoo.cfg")}, Options{Version: "3.8.0"})
			if err == nil || !strings.Contains(err.Error(), p+": not a regular file (named pipe)") {
				t.Fatalf("error %v, want a refusal of %s", err, p)
			}
		})
	}
}

// --dc: the first datacenter is the preferred leader site, the others may
// lead in flag order; so the plan keeps the leader where the flags say.
func TestImportLeaderRules(t *testing.T) {
	dir := writeFiles(t, map[string]string{"zoo.cfg": "clientPort=2181\n" + threeServers +
		"server.4=10.1.0.4:2888:3888\nserver.5=10.1.0.5:2888:3888\n"})
	for _, tc := range []struct {
		dcs  []string
		want string
	}{
		{nil, "dc1: {leader: \"preferred\", priority: 1}"},
		{[]string{"10.0.0.0/8=east"}, "east: {leader: \"preferred\", priority: 1}"},
		{[]string{"10.0.0.0/16=east", "10.1.0.0/16=west"}, "east: {leader: \"preferred\", priority: 1}\n\twest: {leader: \"allowed\", priority: 2}"},
	} {
		var opts Options
		opts.Version = "3.8.0"
		for _, d := range tc.dcs {
			r, err := ParseDC(d)
			if err != nil {
				t.Fatal(err)
			}
			opts.DCs = append(opts.DCs, r)
		}
		res, err := ImportFiles([]string{filepath.Join(dir, "zoo.cfg")}, opts)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(res.CUE), tc.want) {
			t.Errorf("--dc %v:\n%s\nwant %q", tc.dcs, res.CUE, tc.want)
		}
		if len(tc.dcs) < 2 {
			continue
		}
		// The plan puts the leader (the highest id, today in west) in the
		// first --dc, east.
		_, p := planCUE(t, res.CUE)
		final := p.Stages[len(p.Stages)-1].Members
		top := final[0]
		for _, m := range final {
			if m.ID > top.ID {
				top = m
			}
		}
		if top.Datacenter != "east" {
			t.Errorf("highest id %d is in %s, want east", top.ID, top.Datacenter)
		}
	}
}

// Java escapes in a zoo.cfg are decoded on import and written again on
// render: C:\\zk\\keystore.jks stays C:\zk\keystore.jks.
func TestImportRenderEscapes(t *testing.T) {
	dir := writeFiles(t, map[string]string{"zoo.cfg": `clientPort=2181
dataDir=C:\\zk\\data
ssl.keyStore.location=C:\\zk\\keystore.jks
` + threeServers, "myid": "1\n"})
	res, err := ImportFiles([]string{filepath.Join(dir, "zoo.cfg")}, Options{Version: "3.8.0"})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Spec.Settings.Extra["ssl.keyStore.location"]; got != `C:\zk\keystore.jks` {
		t.Fatalf("imported %q", got)
	}
	c, p := planCUE(t, res.CUE)
	cfg := string(render.ZooCfg(c, p.Stages[0].Members, p.Stages[0].Members[0]))
	for _, line := range []string{`dataDir=C:\\zk\\data`, `ssl.keyStore.location=C:\\zk\\keystore.jks`} {
		if !strings.Contains(cfg, line+"\n") {
			t.Errorf("rendered zoo.cfg lacks %s:\n%s", line, cfg)
		}
	}
}

// planCUE loads and plans an imported spec.
func planCUE(t *testing.T, src []byte) (*schema.Cluster, *compiler.Plan) {
	t.Helper()
	return compilertest.PlanBytes(t, "imported/cluster.cue", src)
}
