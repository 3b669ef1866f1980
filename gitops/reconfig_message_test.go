package gitops

import (
	"strings"
	"testing"

	"github.com/zkstage/zkstage/compiler/compilertest"
	"github.com/zkstage/zkstage/render"
)

// The commit message of a reconfig stage names the target membership and
// the reconfig operations, which no rendered file shows.
func TestReconfigStageMessage(t *testing.T) {
	c, p := compilertest.Plan(t, "../clusters/reconfig")
	stageFiles := func(k int) map[string][]byte {
		files, err := render.StageFiles(c, p, k)
		if err != nil {
			t.Fatal(err)
		}
		return filesMap(files)
	}
	for _, tc := range []struct {
		k    int
		want []string
	}{
		{1, []string{"turns dynamic reconfiguration on", "the superuser digest (the roll logs in with $ZKSTAGE_RECONFIG_AUTH)",
			"modified `zk1-dc1/zoo.cfg`", "added `zk1-dc1/zoo.cfg.dynamic`"}},
		{2, []string{"reconfig operation 1, conditioned on the config version the roll reads from `/zookeeper/config`: `reconfig -remove 0`",
			"target membership (what `/zookeeper/config` lists once the stage is done): zk2-dc1=1, zk3-dc1=2, zk4-dc1=3, zk5-dc1=4",
			"still running outside the configuration (non-voting): `zk1-dc1` id 0", "  - modified `stage.json`\n\n## Why",
			"never overwrites `zoo.cfg` or the dynamic config files of a running member"}},
		{3, []string{"renamed: `zk1-dc1` id 0 → 100", "starts: `zk1-dc3` id 0 with the committed configuration plus itself",
			"`reconfig -add server.100=192.168.1.100:2555:3555:participant;192.168.1.100:2181,server.0=192.168.3.1:2555:3555:participant;192.168.3.1:2181,",
			"added `zk1-dc3/zoo.cfg.dynamic`", "modified `zk1-dc1/myid`"}},
	} {
		msg := (&message{c: c, p: p, k: tc.k, dir: "clusters/reconfig", base: "main", entry: EntryNext, prev: stageFiles(tc.k - 1), cur: stageFiles(tc.k)}).text()
		for _, w := range tc.want {
			if !strings.Contains(msg, w) {
				t.Errorf("stage %d: message lacks %q:\n%s", tc.k, w, msg)
			}
		}
	}
}

// With the digest in the servers' JVM flags, the enabling stage's message
// says so: nothing in the commit shows the operator that the flag must be
// set before the roll.
func TestReconfigStageMessageDigestFromJVMFlags(t *testing.T) {
	c, p := compilertest.Plan(t, "../clusters/reconfig")
	c.Policy.SuperDigest, c.Policy.SuperDigestFrom = "", "jvmflags"
	files := func(k int) map[string][]byte {
		f, err := render.StageFiles(c, p, k)
		if err != nil {
			t.Fatal(err)
		}
		return filesMap(f)
	}
	msg := (&message{c: c, p: p, k: 1, dir: "clusters/reconfig", base: "main", entry: EntryNext, prev: files(0), cur: files(1)}).text()
	for _, w := range []string{"zoo.cfg does not hold: every server's JVM flags must set -Dzookeeper.DigestAuthenticationProvider.superDigest before it restarts"} {
		if !strings.Contains(msg, w) {
			t.Errorf("message lacks %q:\n%s", w, msg)
		}
	}
	if strings.Contains(msg, "D/InIHSb7yEEbrWz8b9l71RjZJU=") {
		t.Errorf("message holds the digest:\n%s", msg)
	}
}
