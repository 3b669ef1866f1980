package verify

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/zkstage/zkstage/render"
)

// znodeText is /zookeeper/config as ZooKeeper writes it for m's members
// (minus skip), with version.
func znodeText(m *render.Manifest, skip int, version string) string {
	var ids []int
	for id := range m.ServerLines {
		if id != skip {
			ids = append(ids, id)
		}
	}
	sort.Ints(ids)
	var b strings.Builder
	for _, id := range ids {
		fmt.Fprintf(&b, "server.%d=%s\n", id, m.ServerLines[id])
	}
	fmt.Fprintf(&b, "version=%s\n", version)
	return b.String()
}

// TestZNodeConfigUnderReconfig: under a reconfig plan the znode's version
// tells static (0) from dynamic, and the committed membership must match.
func TestZNodeConfigUnderReconfig(t *testing.T) {
	static, err := render.ReadManifest("../clusters/reconfig/stages/00-current/stage.json")
	if err != nil {
		t.Fatal(err)
	}
	enabled, err := render.ReadManifest("../clusters/reconfig/stages/01-enable-reconfig/stage.json")
	if err != nil {
		t.Fatal(err)
	}
	if static.Dynamic || !enabled.Dynamic {
		t.Fatalf("stage.json dynamic: stage 0 %v, stage 1 %v", static.Dynamic, enabled.Dynamic)
	}
	tests := []struct {
		name    string
		m       *render.Manifest
		text    string
		status  Status
		message string
	}{
		{name: "static stage, static ensemble", m: static, text: znodeText(enabled, -1, "0"), status: Pass, message: "lists the 5 expected servers"},
		{name: "static stage, reconfiguration already on", m: static, text: znodeText(enabled, -1, "100000000"), status: Fail, message: "say so with policy.reconfigEnabled: true"},
		{name: "enabling stage not rolled yet", m: enabled, text: znodeText(enabled, -1, "0"), status: Fail, message: "version=0: the ensemble runs static configs"},
		{name: "enabling stage rolled", m: enabled, text: znodeText(enabled, -1, "200000000"), status: Pass, message: "reconfiguration on (version=200000000)"},
		{name: "committed configuration differs", m: enabled, text: znodeText(enabled, 4, "200000005"), status: Fail, message: "the committed configuration, is not the stage's"},
		{name: "static stage, stale znode is a warning", m: static, text: znodeText(enabled, 4, "0"), status: Warn, message: "can lag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines, version, err := ParseDynamicConfig(tt.text)
			if err != nil {
				t.Fatal(err)
			}
			c := znodeConfigDynamic(tt.m, lines, version, Check{Name: CheckZNodeConfig, Status: Fail})
			if c.Status != tt.status || !strings.Contains(c.Message, tt.message) {
				t.Errorf("%s: %s, want %s: ...%s...", c.Status, c.Message, tt.status, tt.message)
			}
		})
	}
}
