package schema

// checkReconfig checks the policy fields that only dynamic reconfiguration
// reads: they must not be set for rolling (a spec saying reconfig is on
// while the plan rolls static configs would render the wrong files), and
// superDigest authentication needs the digest the servers are given.
func checkReconfig(c *Cluster, fail, warn func(path []string, format string, args ...interface{})) {
	p := c.Policy
	if p.Method != MethodReconfig {
		if p.ReconfigEnabled {
			fail([]string{"policy", "reconfigEnabled"}, "reconfigEnabled is only for policy.method \"reconfig\": the rolling method renders static configs (reconfigEnabled=false)")
		}
		if p.SuperDigest != "" {
			fail([]string{"policy", "superDigest"}, "superDigest is only for policy.method \"reconfig\"")
		}
		if p.SuperDigestFrom != "" {
			fail([]string{"policy", "superDigestFrom"}, "superDigestFrom is only for policy.method \"reconfig\"")
		}
		return
	}
	if !c.Version.AtLeast(3, 5, 3) {
		// The planner refuses the method there, with the reason; a
		// complaint about authentication first would mislead.
		return
	}
	if p.SuperDigestFrom == DigestFromJVMFlags {
		if p.ReconfigAuth != AuthSuperDigest {
			fail([]string{"policy", "superDigestFrom"}, "superDigestFrom \"jvmflags\" is only for reconfigAuth \"superDigest\": with skipACL there is no digest")
		}
		if p.SuperDigest != "" {
			// The point of jvmflags is that the digest stays out of the
			// repository: one given here would be committed anyway.
			fail([]string{"policy", "superDigest"}, "superDigestFrom \"jvmflags\": the servers read the digest from their JVM flags, so it must not be in the spec (it would be committed); remove superDigest")
		}
		return
	}
	if p.ReconfigAuth == AuthSuperDigest && p.SuperDigest == "" && !p.ReconfigEnabled {
		fail([]string{"policy", "reconfigAuth"}, "reconfigAuth \"superDigest\" needs policy.superDigest (\"user:base64(sha1(user:password))\", what `java org.apache.zookeeper.server.auth.DigestAuthenticationProvider user:password` prints) for the enabling stage to give the servers, or superDigestFrom \"jvmflags\" when their JVM flags hold it, or reconfigAuth \"skipACL\"")
	}
	if p.ReconfigAuth == AuthSkipACL {
		warn([]string{"policy", "reconfigAuth"}, "skipACL=yes turns every ACL of the ensemble off, not only the one on reconfig; prefer superDigest")
	}
}
