package ansible_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zkstage/zkstage/compiler/compilertest"
	"github.com/zkstage/zkstage/render"
)

// TestInventory runs inventory.py on the stage manifests of the reference
// cluster: every member and live host is in the zookeeper group (a new
// host without files too: the pull must see it), only live hosts in
// zookeeper_live, and a manifest of an unknown format is refused.
func TestInventory(t *testing.T) {
	python := requirePython(t)
	c, p := compilertest.Plan(t, filepath.Join("..", "..", "clusters", "reference"))
	tests := []struct {
		stage      int
		format     int // 0: the rendered one
		all, live  string
		myid       int // zk1-dc1's
		wantRefuse bool
	}{
		{stage: 0, all: "zk1-dc1 zk2-dc1 zk3-dc1 zk4-dc1 zk5-dc1", live: "zk1-dc1 zk2-dc1 zk3-dc1 zk4-dc1 zk5-dc1", myid: 0},
		{stage: 2, all: "zk1-dc1 zk1-dc2 zk2-dc1 zk2-dc2 zk3-dc1 zk4-dc1 zk5-dc1", live: "zk1-dc1 zk2-dc1 zk3-dc1 zk4-dc1 zk5-dc1", myid: 100},
		{stage: 3, all: "zk1-dc1 zk1-dc2 zk2-dc1 zk2-dc2 zk3-dc1 zk4-dc1 zk5-dc1", live: "zk1-dc1 zk1-dc2 zk2-dc1 zk2-dc2 zk3-dc1 zk4-dc1 zk5-dc1", myid: 100},
		{stage: 3, format: render.ManifestFormat + 1, wantRefuse: true},
	}
	for _, tt := range tests {
		m := render.NewManifest(c, p, tt.stage)
		if tt.format != 0 {
			m.Format = tt.format
		}
		path, out, err := runInventory(t, python, m)
		if tt.wantRefuse {
			if err == nil {
				t.Errorf("stage %d format %d: the inventory accepted it:\n%s", tt.stage, tt.format, out)
			}
			continue
		}
		if err != nil {
			t.Fatalf("stage %d: %v", tt.stage, err)
		}
		var inv struct {
			Meta struct {
				Hostvars map[string]map[string]interface{} `json:"hostvars"`
			} `json:"_meta"`
			ZooKeeper struct {
				Hosts []string               `json:"hosts"`
				Vars  map[string]interface{} `json:"vars"`
			} `json:"zookeeper"`
			Live struct {
				Hosts []string `json:"hosts"`
			} `json:"zookeeper_live"`
		}
		if err := json.Unmarshal(out, &inv); err != nil {
			t.Fatalf("stage %d: %v\n%s", tt.stage, err, out)
		}
		if got := strings.Join(inv.ZooKeeper.Hosts, " "); got != tt.all {
			t.Errorf("stage %d: zookeeper hosts %s, want %s", tt.stage, got, tt.all)
		}
		if got := strings.Join(inv.Live.Hosts, " "); got != tt.live {
			t.Errorf("stage %d: zookeeper_live hosts %s, want %s", tt.stage, got, tt.live)
		}
		if got := inv.Meta.Hostvars["zk1-dc1"]["zk_myid"]; got != float64(tt.myid) {
			t.Errorf("stage %d: zk1-dc1 zk_myid %v, want %d", tt.stage, got, tt.myid)
		}
		if got := inv.ZooKeeper.Vars["zk_stage"]; got != float64(tt.stage) {
			t.Errorf("stage %d: zk_stage %v", tt.stage, got)
		}
		if got := inv.ZooKeeper.Vars["zk_method"]; got != "rolling" {
			t.Errorf("stage %d: zk_method %v, want rolling", tt.stage, got)
		}
		if got := inv.ZooKeeper.Vars["zk_rendered"]; got != filepath.Dir(path) {
			t.Errorf("stage %d: zk_rendered %v, want %s", tt.stage, got, filepath.Dir(path))
		}
	}
}

// TestInventoryReconfig: under reconfiguration the inventory says whether
// the stage's hosts run dynamic configs and which host a start, restart or
// stop step names (the add and remove operations are zkstage's own), and a
// host removed but still running keeps its address.
func TestInventoryReconfig(t *testing.T) {
	python := requirePython(t)
	c, p := compilertest.Plan(t, filepath.Join("..", "..", "clusters", "reconfig"))
	tests := []struct {
		stage   int
		dynamic bool
		steps   map[string]string // host -> zk_step
		address map[string]string // host -> ansible_host
	}{
		{stage: 0, dynamic: false, steps: map[string]string{"zk1-dc1": "", "zk2-dc1": ""}},
		{stage: 1, dynamic: true, steps: map[string]string{"zk1-dc1": "restart", "zk5-dc1": "restart"}},
		{stage: 2, dynamic: true, steps: map[string]string{"zk1-dc1": "", "zk2-dc1": ""}, address: map[string]string{"zk1-dc1": "192.168.1.100"}},
		{stage: 3, dynamic: true, steps: map[string]string{"zk1-dc1": "restart", "zk1-dc2": "start", "zk1-dc3": "start", "zk2-dc1": ""}},
	}
	for _, tt := range tests {
		_, out, err := runInventory(t, python, render.NewManifest(c, p, tt.stage))
		if err != nil {
			t.Fatalf("stage %d: %v", tt.stage, err)
		}
		var inv struct {
			Meta struct {
				Hostvars map[string]map[string]interface{} `json:"hostvars"`
			} `json:"_meta"`
			ZooKeeper struct {
				Vars map[string]interface{} `json:"vars"`
			} `json:"zookeeper"`
		}
		if err := json.Unmarshal(out, &inv); err != nil {
			t.Fatalf("stage %d: %v\n%s", tt.stage, err, out)
		}
		if got := inv.ZooKeeper.Vars["zk_dynamic"]; got != tt.dynamic {
			t.Errorf("stage %d: zk_dynamic %v, want %v", tt.stage, got, tt.dynamic)
		}
		if got := inv.ZooKeeper.Vars["zk_method"]; got != "reconfig" {
			t.Errorf("stage %d: zk_method %v, want reconfig", tt.stage, got)
		}
		for h, want := range tt.steps {
			if got := inv.Meta.Hostvars[h]["zk_step"]; got != want {
				t.Errorf("stage %d: %s zk_step %v, want %q", tt.stage, h, got, want)
			}
		}
		for h, want := range tt.address {
			if got := inv.Meta.Hostvars[h]["ansible_host"]; got != want {
				t.Errorf("stage %d: %s ansible_host %v, want %s", tt.stage, h, got, want)
			}
		}
	}
}

func requirePython(t *testing.T) string {
	t.Helper()
	python, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the Ansible inventory needs python3: %v", err)
		}
		t.Skip(err)
	}
	return python
}

// runInventory writes m as a stage.json and runs inventory.py --list on
// it: the manifest's path, the inventory's output and its error.
func runInventory(t *testing.T, python string, m *render.Manifest) (string, []byte, error) {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), render.ManifestFile)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, "inventory.py", "--list")
	cmd.Env = append(os.Environ(), "ZKSTAGE_STAGE_JSON="+path)
	out, err := cmd.Output()
	return path, out, err
}
