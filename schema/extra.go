package schema

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// owned maps the zoo.cfg keys zkstage writes itself to where their value
// comes from: settings.extra may not override them, because the plan's
// safety depends on them (zoo.cfg is read as Java properties, where the last
// of two equal keys wins, silently).
var owned = map[string]string{
	"tickTime":          "from settings.tickTime",
	"initLimit":         "from settings.initLimit",
	"syncLimit":         "from settings.syncLimit",
	"dataDir":           "from settings.dataDir",
	"dataLogDir":        "from settings.dataLogDir",
	"clientPort":        "from ports.client (or a host's ports.client)",
	"clientPortAddress": "from settings.clientBind",
	"peerType":          "from a host's role",
	"dynamicConfigFile": "(from policy.method: reconfig writes it beside zoo.cfg in settings.configDir)",
	"reconfigEnabled":   "(from policy.method: false for rolling, true for reconfig)",
	"skipACL":           "(from policy.reconfigAuth)",
	"DigestAuthenticationProvider.superDigest": "(from policy.superDigest)",
	"standaloneEnabled":                        "(false: a one-server stage must not fall back to standalone mode)",
	"4lw.commands.whitelist":                   "(conf, mntr, ruok, srvr: what the verifier needs)",
	"admin.enableServer":                       "from settings.adminServer.enabled",
	"admin.serverPort":                         "from settings.adminServer.port",
}

// ReservedKey reports whether zkstage renders key itself, or refuses it.
func ReservedKey(key string) bool { return extraRefusal(key) != "" }

// extraRefusal says why key may not be in settings.extra, or "".
func extraRefusal(key string) string {
	switch {
	case owned[key] != "":
		return fmt.Sprintf("zkstage writes %s itself %s", key, owned[key])
	case strings.HasPrefix(key, "server."):
		return fmt.Sprintf("zkstage writes %s itself from hosts", key)
	case strings.HasPrefix(key, "group."), strings.HasPrefix(key, "weight."):
		return "hierarchical quorums (group.N, weight.N) are not supported: the planner counts majorities"
	}
	return ""
}

// extraKey is what a zoo.cfg key looks like; anything else (a space, "=",
// ":" or a line break) would change how ZooKeeper splits the line.
var extraKey = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// Keys that select the myid limit (see MaxMyID). In zoo.cfg they have no
// "zookeeper." prefix: QuorumPeerConfig turns an unknown key k into the
// system property zookeeper.k.
const (
	KeyExtendedTypes = "extendedTypesEnabled"
	KeyEmulate353TTL = "emulate353TTLNodes"
)

// prefixedTTLKeys are the system-property spellings of those keys, a
// likely mistake in settings.extra.
var prefixedTTLKeys = map[string]bool{"zookeeper." + KeyExtendedTypes: true, "zookeeper." + KeyEmulate353TTL: true}

// checkExtra reports the settings.extra entries that cannot be rendered as
// one zoo.cfg line of their own.
func checkExtra(extra map[string]string, fail, warn func(path []string, format string, args ...interface{})) {
	for _, k := range SortedKeys(extra) {
		path := []string{"settings", "extra", k}
		if msg := ExtraRefusal(k, extra[k]); msg != "" {
			fail(path, "%s", msg)
		} else if prefixedTTLKeys[k] {
			warn(path, "ZooKeeper adds the \"zookeeper.\" prefix to a zoo.cfg key itself, so this sets the system property zookeeper.%s, which nothing reads: write %s", k, strings.TrimPrefix(k, "zookeeper."))
		}
	}
}

// ExtraRefusal says why key=value cannot be a settings.extra entry (one
// zoo.cfg line of its own that zkstage does not write itself), or "".
func ExtraRefusal(k, v string) string {
	switch {
	case !extraKey.MatchString(k):
		return fmt.Sprintf("%q is not a zoo.cfg key (letters, digits, '.', '_' and '-', starting with a letter or digit)", k)
	case extraRefusal(k) != "":
		return extraRefusal(k)
	case !utf8.ValidString(v):
		return "the value is not valid UTF-8"
	case strings.ContainsAny(v, "\r\n"):
		return "the value spans lines; a zoo.cfg value is one line"
	case strings.IndexFunc(v, unicode.IsControl) >= 0:
		return "the value holds a control character; a zoo.cfg value is one line of text"
	case strings.TrimSpace(v) != v:
		return "the value has leading or trailing blanks, which ZooKeeper drops or keeps depending on the key"
	}
	return ""
}
