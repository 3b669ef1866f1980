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
