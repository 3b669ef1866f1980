package render

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/schema"
	"github.com/zkstage/zkstage/zoocfg"
)

// DynamicFile is the name of the bootstrap dynamic config file, beside
// zoo.cfg in settings.configDir. ZooKeeper reads it at the host's first
// start under reconfiguration, then writes zoo.cfg.dynamic.<version> files
// of its own and points zoo.cfg's dynamicConfigFile at the newest (seen on
// 3.5.10 and 3.8.0): from then on zoo.cfg and the dynamic files are
// ZooKeeper's, and config management must create them, never overwrite them.
const DynamicFile = "zoo.cfg.dynamic"

// dynamicStage reports whether the hosts of stage k run dynamic configs: a
// reconfig plan whose ensemble already had reconfiguration on, or one past
// its enabling stage.
func dynamicStage(c *schema.Cluster, p *compiler.Plan, k int) bool {
	if p.Policy.Method != schema.MethodReconfig {
		return false
	}
	if c.Policy.ReconfigEnabled {
		return true
	}
	for j := 1; j <= k; j++ {
		if p.Stages[j].Kind == compiler.KindReconfigEnable || p.Stages[j].Kind == compiler.KindBootstrap {
			return true
		}
	}
	return false
}

// bootstrapOf is the configuration host booted with under reconfiguration,
// as of stage k: the Bootstrap of its last start or restart up to k, else
// (reconfiguration on from the start, the host untouched) the membership
// of stage 0. It depends only on that step, never on the stage number, so
// the file's bytes change only when the host (re)starts.
func bootstrapOf(p *compiler.Plan, k int, host string) []compiler.Member {
	for j := k; j >= 1; j-- {
		st := &p.Stages[j]
		for _, s := range st.Steps {
			if s.Host != host || (s.Action != compiler.Start && s.Action != compiler.Restart) || len(s.Bootstrap) == 0 {
				continue
			}
			byID := map[int]compiler.Member{}
			for _, m := range p.Stages[j-1].Members {
				byID[m.ID] = m
			}
			for _, m := range st.Members {
				byID[m.ID] = m
			}
			var out []compiler.Member
			for _, id := range s.Bootstrap {
				out = append(out, byID[id])
			}
			return out
		}
	}
	return p.Stages[0].Members
}

// DynamicCfg renders a dynamic config file: the server lines only (3.5+
// form, with the role and the client address).
func DynamicCfg(c *schema.Cluster, config []compiler.Member) []byte {
	members := append([]compiler.Member{}, config...)
	sort.Slice(members, func(i, j int) bool { return members[i].ID < members[j].ID })
	var b strings.Builder
	for _, m := range members {
		fmt.Fprintf(&b, "server.%d=%s\n", m.ID, zoocfg.EscapeValue(ServerLine(c, m)))
	}
	return []byte(b.String())
}

// ZooCfgDynamic renders the static part of a host's zoo.cfg under dynamic
// reconfiguration: no server lines and no client port (both are in the
// dynamic file), reconfiguration on, and what lets the runner reconfigure.
// Like ZooCfg it takes nothing that varies per stage.
func ZooCfgDynamic(c *schema.Cluster, self compiler.Member) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# Rendered by zkstage for cluster %s, host %s (myid %d, %s).\n", c.Name, self.Host, self.ID, self.Datacenter)
	b.WriteString("# Dynamic reconfiguration: ZooKeeper rewrites this file and owns the dynamic config files beside it.\n")
	b.WriteString("# Config management creates them once and never overwrites them. The stage is named in stage.json.\n")
	kv := func(k string, v interface{}) { fmt.Fprintf(&b, "%s=%s\n", k, zoocfg.EscapeValue(fmt.Sprint(v))) }
	s := c.Settings
	timingAndData(kv, s)
	whitelistAndAdmin(kv, s)
	kv("reconfigEnabled", "true")
	// A configuration shrunk to one member must not fall back to
	// standalone mode (it could never be grown again by reconfig).
	kv("standaloneEnabled", "false")
	switch c.Policy.ReconfigAuth {
	case schema.AuthSkipACL:
		kv("skipACL", "yes")
	default:
		switch {
		case c.Policy.DigestInJVMFlags():
			// Kept out of the repository: the operator's JVM flags set
			// the same system property this key would.
			b.WriteString("# The superuser digest comes from the JVM flags: -Dzookeeper.DigestAuthenticationProvider.superDigest=...\n")
		case c.Policy.SuperDigest != "":
			// ZooKeeper turns the key into the system property
			// zookeeper.DigestAuthenticationProvider.superDigest.
			kv("DigestAuthenticationProvider.superDigest", c.Policy.SuperDigest)
		}
	}
	kv("dynamicConfigFile", path.Join(s.ConfigDir, DynamicFile))
	if !self.Voter() {
		kv("peerType", "observer")
	}
	for _, k := range schema.SortedKeys(s.Extra) {
		kv(k, s.Extra[k])
	}
	return []byte(b.String())
}

// running maps every host that ran up to stage k to the member it runs at
// the end of stage k (a removed host keeps its last id).
func running(p *compiler.Plan, k int) map[string]compiler.Member {
	out := map[string]compiler.Member{}
	for j := 0; j <= k; j++ {
		for _, s := range p.Stages[j].Steps {
			if s.Action == compiler.Start || s.Action == compiler.Restart {
				m := out[s.Host]
				m.ID = s.ID
				out[s.Host] = m
			}
		}
		for _, m := range p.Stages[j].Members {
			out[m.Host] = m
		}
	}
	return out
}

// reconfigManifest adds what the runner needs under reconfig: the method,
// the live hosts outside the configuration and the members' server lines.
func reconfigManifest(c *schema.Cluster, p *compiler.Plan, k int, m *Manifest) {
	m.Method = p.Policy.Method
	m.Dynamic = dynamicStage(c, p, k)
	in := map[string]bool{}
	m.ServerLines = map[int]string{}
	for _, mem := range m.Members {
		in[mem.Host] = true
		m.ServerLines[mem.ID] = ServerLine(c, mem)
	}
	run := running(p, k)
	for _, h := range m.Live {
		if !in[h] {
			m.Outside = append(m.Outside, run[h])
		}
	}
}

// dynamicFiles renders, for every host live at the end of stage k, myid,
// the static zoo.cfg and the dynamic file it booted with. A host live but
// outside the configuration (removed by reconfig, not yet stopped or
// renamed) keeps the files it runs with.
func dynamicFiles(c *schema.Cluster, p *compiler.Plan, k int) []File {
	st := &p.Stages[k]
	run := running(p, k)
	var files []File
	for _, h := range st.Live {
		m := run[h]
		files = append(files,
			File{Path: h + "/myid", Data: MyID(m.ID)},
			File{Path: h + "/zoo.cfg", Data: ZooCfgDynamic(c, m)},
			File{Path: h + "/" + DynamicFile, Data: DynamicCfg(c, bootstrapOf(p, k, h))})
	}
	return files
}
