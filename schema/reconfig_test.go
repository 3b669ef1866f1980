package schema

import (
	"strings"
	"testing"
)

func TestReconfigPolicyDefaults(t *testing.T) {
	c, warns, err := LoadBytes("t/cluster.cue", spec("3.8.0", "policy: {method: \"reconfig\", superDigest: \"super:D/InIHSb7yEEbrWz8b9l71RjZJU=\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 0 {
		t.Errorf("warnings: %v", warns)
	}
	want := Policy{Renumber: "minimal", Method: "reconfig", ReconfigAuth: AuthSuperDigest, SuperDigest: "super:D/InIHSb7yEEbrWz8b9l71RjZJU="}
	if c.Policy != want {
		t.Errorf("policy %+v, want %+v", c.Policy, want)
	}
	if c.Settings.ConfigDir != "/etc/zookeeper/conf" {
		t.Errorf("configDir %q", c.Settings.ConfigDir)
	}
}

func TestReconfigPolicyRefusals(t *testing.T) {
	for _, tc := range []struct{ name, extra, want string }{
		{"digest missing", "policy: method: \"reconfig\"\n", `t/cluster.cue:9:1: policy.reconfigAuth: reconfigAuth "superDigest" needs policy.superDigest`},
		{"enabled under rolling", "policy: reconfigEnabled: true\n", `t/cluster.cue:9:9: policy.reconfigEnabled: reconfigEnabled is only for policy.method "reconfig"`},
		{"bad digest", "policy: {method: \"reconfig\", superDigest: \"super\"}\n", "policy.superDigest"},
		{"relative configDir", "settings: configDir: \"conf\"\n", "settings.configDir"},
		{"extra skipACL", "settings: extra: skipACL: \"yes\"\n", "zkstage writes skipACL itself (from policy.reconfigAuth)"},
		{"digest from jvmflags given too", "policy: {method: \"reconfig\", superDigestFrom: \"jvmflags\",\n superDigest: \"super:D/InIHSb7yEEbrWz8b9l71RjZJU=\"}\n", `t/cluster.cue:10:2: policy.superDigest: superDigestFrom "jvmflags": the servers read the digest from their JVM flags, so it must not be in the spec`},
		{"jvmflags with skipACL", "policy: {method: \"reconfig\", reconfigAuth: \"skipACL\", superDigestFrom: \"jvmflags\"}\n", `t/cluster.cue:9:55: policy.superDigestFrom: superDigestFrom "jvmflags" is only for reconfigAuth "superDigest"`},
		{"jvmflags under rolling", "policy: superDigestFrom: \"jvmflags\"\n", `t/cluster.cue:9:9: policy.superDigestFrom: superDigestFrom is only for policy.method "reconfig"`},
		{"unknown digest source", "policy: {method: \"reconfig\", superDigestFrom: \"env\"}\n", "policy.superDigestFrom"},
	} {
		_, _, err := LoadBytes("t/cluster.cue", spec("3.8.0", tc.extra))
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
			continue
		}
		if !strings.Contains(positioned(err), tc.want) {
			t.Errorf("%s: error %q, want %q", tc.name, positioned(err), tc.want)
		}
	}
}

func TestReconfigSkipACLWarns(t *testing.T) {
	_, warns, err := LoadBytes("t/cluster.cue", spec("3.8.0", "policy: {method: \"reconfig\", reconfigAuth: \"skipACL\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 1 || warns[0].Path != "policy.reconfigAuth" || !strings.Contains(warns[0].Msg, "every ACL") {
		t.Errorf("warnings %v", warns)
	}
}

// TestReconfigDigestFromJVMFlags: the servers' JVM flags hold the digest, so
// the spec needs none and the enabling stage is still planned.
func TestReconfigDigestFromJVMFlags(t *testing.T) {
	c, warns, err := LoadBytes("t/cluster.cue", spec("3.8.0", "policy: {method: \"reconfig\", superDigestFrom: \"jvmflags\"}\n"))
	if err != nil {
		t.Fatal(positioned(err))
	}
	if len(warns) != 0 {
		t.Errorf("warnings: %v", warns)
	}
	if !c.Policy.DigestInJVMFlags() || c.Policy.SuperDigest != "" {
		t.Errorf("policy %+v: want the digest from the JVM flags", c.Policy)
	}
	c, _, err = LoadBytes("t/cluster.cue", spec("3.8.0", "policy: {method: \"reconfig\", superDigest: \"super:D/InIHSb7yEEbrWz8b9l71RjZJU=\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Policy.DigestInJVMFlags() {
		t.Errorf("policy %+v: the digest is in zoo.cfg", c.Policy)
	}
}
