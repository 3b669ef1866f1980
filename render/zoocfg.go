// Package render turns a plan into files: per stage, per host, zoo.cfg and
// myid, plus the stage manifest. Output is deterministic (fixed key order,
// no timestamps) so the same spec always yields the same bytes and a drift
// check can compare them.
package render

import (
	"fmt"
	"sort"
	"strings"

	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/schema"
	"github.com/zkstage/zkstage/zoocfg"
)

// Whitelist holds the four-letter words the verifier needs (3.5.3+ enables
// only srvr by default).
var Whitelist = []string{"conf", "mntr", "ruok", "srvr"}

// ZooCfg renders the zoo.cfg of one host for a configuration (the members
// every live host of a stage runs). It takes the membership, not the stage
// or the plan, on purpose: config management restarts a server when its
// file changes, so the bytes must change only when the host's own step does
// (a new configuration or id), never because the stage number, its name or
// the plan fingerprint moved on. Those live in stage.json.
func ZooCfg(c *schema.Cluster, config []compiler.Member, self compiler.Member) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# Rendered by zkstage for cluster %s, host %s (myid %d, %s).\n", c.Name, self.Host, self.ID, self.Datacenter)
	b.WriteString("# Do not edit: change cluster.cue and re-render. The stage is named in stage.json.\n")
	// Values are written with Java-properties escaping: ZooKeeper reads
	// zoo.cfg with Properties.load (C:\\zk stays C:\zk).
	kv := func(k string, v interface{}) { fmt.Fprintf(&b, "%s=%s\n", k, zoocfg.EscapeValue(fmt.Sprint(v))) }
	s := c.Settings
	timingAndData(kv, s)
	dynamic := c.Version.Dynamic()
	if !dynamic {
		// 3.4 has no client address in server lines.
		kv("clientPort", self.ClientPort)
		if s.ClientBind == "address" {
			kv("clientPortAddress", self.Address)
		}
	} else {
		whitelistAndAdmin(kv, s)
		// Static membership: zkstage owns the config, ZooKeeper must not
		// rewrite it, and a one-member stage must not fall back to
		// standalone mode.
		kv("reconfigEnabled", "false")
		kv("standaloneEnabled", "false")
	}
	if !self.Voter() {
		kv("peerType", "observer")
	}
	for _, k := range schema.SortedKeys(s.Extra) {
		kv(k, s.Extra[k])
	}
	members := append([]compiler.Member{}, config...)
	sort.Slice(members, func(i, j int) bool { return members[i].ID < members[j].ID })
	for _, m := range members {
		kv(fmt.Sprintf("server.%d", m.ID), ServerLine(c, m))
	}
	return []byte(b.String())
}

// ServerLine renders the value of a server.N line for the cluster's version.
func ServerLine(c *schema.Cluster, m compiler.Member) string {
	addr := m.Address
	if strings.Contains(addr, ":") && !strings.HasPrefix(addr, "[") {
		addr = "[" + addr + "]" // IPv6
	}
	line := fmt.Sprintf("%s:%d:%d", addr, m.QuorumPort, m.ElectPort)
	if !c.Version.Dynamic() {
		if !m.Voter() {
			line += ":observer"
		}
		return line
	}
	line += ":" + m.Role
	if c.Settings.ClientBind == "any" {
		return fmt.Sprintf("%s;%d", line, m.ClientPort)
	}
	return fmt.Sprintf("%s;%s:%d", line, addr, m.ClientPort)
}

// MyID renders a myid file.
func MyID(id int) []byte { return []byte(fmt.Sprintf("%d\n", id)) }

// timingAndData are the first settings of every zoo.cfg, static or the
// static part under reconfiguration.
func timingAndData(kv func(string, interface{}), s schema.Settings) {
	kv("tickTime", s.TickTime)
	kv("initLimit", s.InitLimit)
	kv("syncLimit", s.SyncLimit)
	kv("dataDir", s.DataDir)
	if s.DataLogDir != "" {
		kv("dataLogDir", s.DataLogDir)
	}
}

// whitelistAndAdmin are the 3.5+ four-letter-word whitelist and the
// AdminServer switch.
func whitelistAndAdmin(kv func(string, interface{}), s schema.Settings) {
	kv("4lw.commands.whitelist", strings.Join(Whitelist, ","))
	if s.AdminServer.Enabled {
		kv("admin.enableServer", "true")
		kv("admin.serverPort", s.AdminServer.Port)
	} else {
		kv("admin.enableServer", "false")
	}
}
