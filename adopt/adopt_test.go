package adopt

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// 3.4 files carry the client port in clientPort only: with myid files each
// server gets its own, and the odd one out becomes a ports override.
func TestClientPortsFromMyID(t *testing.T) {
	lines := "server.1=10.0.0.1:2888:3888\nserver.2=10.0.0.2:2888:3888\nserver.3=10.0.0.3:2888:3888\n"
	dir := writeFiles(t, map[string]string{
		"1/zoo.cfg": "clientPort=2181\n" + lines, "1/myid": "1\n",
		"2/zoo.cfg": "clientPort=2181\n" + lines, "2/myid": "2\n",
		"3/zoo.cfg": "clientPort=2182\n" + lines, "3/myid": "3\n",
	})
	res, err := ImportFiles([]string{dir + "/1/zoo.cfg", dir + "/2/zoo.cfg", dir + "/3/zoo.cfg"}, Options{Version: "3.4.14"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Spec.Ports.Client != 2181 {
		t.Errorf("cluster client port %d, want 2181", res.Spec.Ports.Client)
	}
	var overrides []int
	for _, h := range res.Spec.Hosts {
		overrides = append(overrides, h.Client)
	}
	if !reflect.DeepEqual(overrides, []int{0, 0, 2182}) {
		t.Errorf("client overrides %v, want [0 0 2182]", overrides)
	}
	// Without the myid files nothing tells which server listens on 2182.
	for _, id := range []string{"1", "2", "3"} {
		os.Remove(filepath.Join(dir, id, "myid"))
	}
	_, err = ImportFiles([]string{dir + "/1/zoo.cfg", dir + "/3/zoo.cfg"}, Options{Version: "3.4.14"})
	if err == nil || !strings.Contains(err.Error(), "client port unknown: "+dir+"/1/zoo.cfg:1 has clientPort=2181, "+dir+"/3/zoo.cfg:1 has clientPort=2182") {
		t.Errorf("error = %v", err)
	}
}

func TestHostNames(t *testing.T) {
	tests := []struct {
		addr map[int]string
		want map[int]string
	}{
		{map[int]string{1: "192.168.1.100", 2: "2001:db8::7", 3: "zoo3.example.com"},
			map[int]string{1: "zk-192-168-1-100", 2: "zk-2001-db8--7", 3: "zoo3"}},
		{map[int]string{1: "zoo1.east.example.com", 2: "zoo1.west.example.com", 3: "zoo3.east.example.com"},
			map[int]string{1: "zoo1.east.example.com", 2: "zoo1.west.example.com", 3: "zoo3"}},
		{map[int]string{1: "localhost", 2: "localhost", 3: "_odd_name"},
			map[int]string{1: "localhost-1", 2: "localhost-2", 3: "zk-odd-name"}},
		// The rules give one name twice: a host called like a generated
		// name, letter case, an IP and a host name that read alike.
		{map[int]string{1: "a-2", 2: "a", 3: "a"},
			map[int]string{1: "a-2-1", 2: "a-2-2", 3: "a-3"}},
		{map[int]string{1: "ZK1.east", 2: "zk1.west", 3: "Zk3"},
			map[int]string{1: "zk1.east", 2: "zk1.west", 3: "zk3"}},
		{map[int]string{1: "zk-10-0-0-1", 2: "10.0.0.1", 3: "10.0.0.3"},
			map[int]string{1: "zk-10-0-0-1-1", 2: "zk-10-0-0-1-2", 3: "zk-10-0-0-3"}},
	}
	for _, tt := range tests {
		got := hostNames([]int{1, 2, 3}, tt.addr)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("hostNames(%v) = %v, want %v", tt.addr, got, tt.want)
		}
		for _, n := range got {
			if !hostNameRE.MatchString(n) {
				t.Errorf("%q does not match the schema's host-name pattern", n)
			}
		}
	}
}

func TestParseDC(t *testing.T) {
	tests := []struct {
		in, addr string
		match    bool
		err      string
	}{
		{"10.1.0.0/16=east", "10.1.2.3", true, ""},
		{"10.1.0.0/16=east", "10.2.0.1", false, ""},
		{"10.1.0.7=east", "10.1.0.7", true, ""},
		{"2001:db8::/32=v6", "2001:db8::7", true, ""},
		{"zk*.west.example.com=west", "zk4.west.example.com", true, ""},
		{"10.1.0.0/16", "", false, `--dc "10.1.0.0/16": want CIDR=NAME, e.g. 192.168.1.0/24=dc1`},
		{"10.1.0.0/40=x", "", false, `--dc "10.1.0.0/40=x": "10.1.0.0/40" is not a valid CIDR range`},
		{"10.1.0.0/16=d c", "", false, `--dc "10.1.0.0/16=d c": datacenter name "d c" must be letters, digits, '-' or '_'`},
	}
	for _, tt := range tests {
		r, err := ParseDC(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("ParseDC(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("ParseDC(%q): %v", tt.in, err)
		}
		if r.match(tt.addr) != tt.match {
			t.Errorf("ParseDC(%q).match(%q) = %v, want %v", tt.in, tt.addr, !tt.match, tt.match)
		}
	}
}

// conf of a 3.8 server (captured by the verify package) parses into a view;
// 3.4 conf has no membership and is refused with advice.
func TestParseConfView(t *testing.T) {
	data, err := os.ReadFile("../verify/testdata/3.8.0-leader.conf")
	if err != nil {
		t.Fatal(err)
	}
	v, err := parseConfView("conf on x", string(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(v.servers) != 3 || v.servers[2].Role != "observer" || v.myid == nil || *v.myid != 2 {
		t.Errorf("servers %+v myid %v", v.servers, v.myid)
	}
	if e, _ := v.get("dataDir"); e.Value != "/tmp/zkx/d2" {
		t.Errorf("dataDir %q, want /version-2 stripped", e.Value)
	}
	conf34 := "clientPort=2181\ndataDir=/var/lib/zookeeper/version-2\ntickTime=2000\nserverId=1\nelectionAlg=3\n"
	_, err = parseConfView("conf on y", conf34)
	want := "conf on y: no membership section (ZooKeeper 3.4?): import the zoo.cfg files instead"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}

// The generated spec is the same bytes for the same input, whatever the
// order of map iteration.
func TestDeterministic(t *testing.T) {
	dir := writeFiles(t, map[string]string{"zoo.cfg": "tickTime=2000\nb.key=1\na.key=2\nz=3\nserver.3=c:1:2\nserver.1=a:1:2\nserver.2=b:1:2:observer\n"})
	first, err := ImportFiles([]string{dir + "/zoo.cfg"}, Options{Version: "3.4.6"})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		again, err := ImportFiles([]string{dir + "/zoo.cfg"}, Options{Version: "3.4.6"})
		if err != nil || string(again.CUE) != string(first.CUE) {
			t.Fatalf("run %d differs:\n%s\nvs\n%s", i, again.CUE, first.CUE)
		}
	}
}
