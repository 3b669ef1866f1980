package rollout

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/zkstage/zkstage/lab"
	"github.com/zkstage/zkstage/render"
)

// The authorization tests use 127.0.87.x, a range no other test uses.

// authSpec: three servers (ids 1..3) and a joiner, the superuser digest in
// the servers' JVM flags rather than in the spec.
func authSpec(version string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "name: \"auth\"\nversion: %q\nports: {client: 2181, quorum: 2555, election: 3555}\n", version)
	b.WriteString("datacenters: dc1: {leader: \"preferred\", priority: 1}\nhosts: {\n")
	for i := 1; i <= 4; i++ {
		id := ""
		if i <= 3 {
			id = fmt.Sprintf(", myid: %d", i)
		}
		fmt.Fprintf(&b, "\t\"zk%d\": {address: \"127.0.87.%d\", dc: \"dc1\"%s}\n", i, i, id)
	}
	b.WriteString("}\nsettings: {tickTime: 200, initLimit: 10, syncLimit: 5}\n")
	b.WriteString("policy: {method: \"reconfig\", renumber: \"none\", superDigestFrom: \"jvmflags\"}\n")
	return b.String()
}

// TestReconfigDigestFromJVMFlags: servers that get the superuser digest from
// their JVM flags (no rendered file holds it) are reconfigured with
// $ZKSTAGE_RECONFIG_AUTH; credentials the leader refuses, wrong or missing,
// stop the grow stage before its first step: the joiner is never started
// and the configuration is unchanged.
func TestReconfigDigestFromJVMFlags(t *testing.T) {
	for _, v := range []string{"3.5.10", "3.8.0"} {
		t.Run(v, func(t *testing.T) { reconfigDigestFromJVMFlags(t, v) })
	}
}

func reconfigDigestFromJVMFlags(t *testing.T, version string) {
	digest := superDigest(reconfigPassword)
	f := newReconfigFixtureLab(t, authSpec(version), lab.Options{Version: version,
		JVMFlags: []string{"-Dzookeeper.DigestAuthenticationProvider.superDigest=" + digest}})
	if got := planKinds(f.p); got != "reconfig-enable reconfig-add" {
		t.Fatalf("plan %s", got)
	}
	_, hash, _ := strings.Cut(digest, ":")
	for k := range f.p.Stages {
		files, err := render.StageFiles(f.c, f.p, k)
		if err != nil {
			t.Fatal(err)
		}
		for _, file := range files {
			if strings.Contains(string(file.Data), hash) || strings.Contains("\n"+string(file.Data), "\nDigestAuthenticationProvider.superDigest") {
				t.Errorf("stage %d: %s holds the digest:\n%s", k, file.Path, file.Data)
			}
		}
	}
	run := func(k int) *Result {
		t.Helper()
		res, err := Run(context.Background(), f.opts(k, nil))
		if err != nil {
			t.Fatal(err)
		}
		logResult(t, res)
		return res
	}
	if res := run(1); !res.OK {
		t.Fatalf("enabling stage: %s", res.Message)
	}
	f.verify(t, 1)

	for _, auth := range []string{"super:wrong", ""} {
		t.Setenv(EnvReconfigAuth, auth)
		res := run(2)
		if res.OK || res.Failure == nil || res.Failure.K != 1 || res.Failure.Status != StatusRefused {
			t.Fatalf("auth %q: want the stage refused at its first step, got ok=%v failure %+v (%s)", auth, res.OK, res.Failure, res.Message)
		}
		if !strings.Contains(res.Failure.Reason, "NoAuth") || !strings.Contains(res.Failure.Reason, EnvReconfigAuth) {
			t.Errorf("auth %q: reason %q", auth, res.Failure.Reason)
		}
		for _, s := range res.Steps[1:] {
			if s.Status != StatusNotRun {
				t.Errorf("auth %q: step %d %s %s: %s", auth, s.Plan, s.Action, s.Host, s.Status)
			}
		}
		if st := f.lab.HostStatus(context.Background(), "zk4"); st.Running {
			t.Errorf("auth %q: the joiner zk4 was started", auth)
		}
		cfg, err := readConfig(context.Background(), "127.0.87.1:2181", 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.ids() != "1,2,3" {
			t.Errorf("auth %q: %s lists %s, want 1,2,3", auth, ConfigZnode, cfg.ids())
		}
	}

	t.Setenv(EnvReconfigAuth, reconfigPassword)
	if res := run(2); !res.OK {
		t.Fatalf("grow stage with the right credentials: %s", res.Message)
	}
	f.verify(t, 2)
	cfg, err := readConfig(context.Background(), "127.0.87.4:2181", 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ids() != "1,2,3,4" {
		t.Errorf("%s lists %s, want 1,2,3,4", ConfigZnode, cfg.ids())
	}
}
