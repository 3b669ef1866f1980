package gitops

import (
	"fmt"
	"sort"
	"strings"

	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/render"
	"github.com/zkstage/zkstage/schema"
)

// reconfigKind reports whether a stage changes membership by dynamic
// reconfiguration (or turns it on).
func reconfigKind(kind string) bool {
	switch kind {
	case compiler.KindReconfigEnable, compiler.KindReconfigRemove, compiler.KindReconfigAdd, compiler.KindReconfigStop:
		return true
	}
	return false
}

// reconfigChanges writes, for a reconfig stage, the target membership and
// the reconfig operations the roll issues: the files do not say them (under
// reconfiguration ZooKeeper owns the dynamic config files).
func (m *message) reconfigChanges(b *strings.Builder) {
	st := &m.p.Stages[m.k]
	man := render.NewManifest(m.c, m.p, m.k)
	switch st.Kind {
	case compiler.KindReconfigEnable:
		fmt.Fprintf(b, "- turns dynamic reconfiguration on: every member restarts onto reconfigEnabled=true, standaloneEnabled=false, a dynamic config file (`%s`) and %s; membership unchanged (one election)\n",
			render.DynamicFile, authName(m.c.Policy))
	case compiler.KindReconfigStop:
		for _, mem := range st.Removed {
			fmt.Fprintf(b, "- stops: `%s` id %d, already removed from the configuration (its files are deleted)\n", mem.Host, mem.ID)
		}
	}
	ops := map[int][]compiler.Step{}
	for _, s := range st.Steps {
		if s.Action == compiler.Add || s.Action == compiler.Remove {
			ops[s.Op] = append(ops[s.Op], s)
		}
	}
	var nums []int
	for n := range ops {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	for _, s := range st.Steps {
		if s.Action == compiler.Start {
			fmt.Fprintf(b, "- starts: `%s` id %d with the committed configuration plus itself (its files appear; it follows without a vote until added)\n", s.Host, s.ID)
		}
	}
	for _, n := range nums {
		var add, rm []string
		for _, s := range ops[n] {
			if s.Action == compiler.Add {
				add = append(add, fmt.Sprintf("server.%d=%s", s.ID, man.ServerLines[s.ID]))
			} else {
				rm = append(rm, fmt.Sprint(s.ID))
			}
		}
		var parts []string
		if len(add) > 0 {
			parts = append(parts, "-add "+strings.Join(add, ","))
		}
		if len(rm) > 0 {
			parts = append(parts, "-remove "+strings.Join(rm, ","))
		}
		fmt.Fprintf(b, "- reconfig operation %d, conditioned on the config version the roll reads from `/zookeeper/config`: `reconfig %s`\n", n, strings.Join(parts, " "))
	}
	var ids []string
	for _, mem := range st.Members {
		ids = append(ids, fmt.Sprintf("%s=%d", mem.Host, mem.ID))
	}
	fmt.Fprintf(b, "- target membership (what `/zookeeper/config` lists once the stage is done): %s\n", strings.Join(ids, ", "))
	for _, o := range man.Outside {
		fmt.Fprintf(b, "- still running outside the configuration (non-voting): `%s` id %d\n", o.Host, o.ID)
	}
}

func authName(p schema.Policy) string {
	switch {
	case p.ReconfigAuth == schema.AuthSkipACL:
		return "skipACL=yes"
	case p.DigestInJVMFlags():
		return "the superuser digest, which zoo.cfg does not hold: every server's JVM flags must set -Dzookeeper.DigestAuthenticationProvider.superDigest before it restarts (the roll logs in with $ZKSTAGE_RECONFIG_AUTH and refuses a reconfig stage before its first step if the leader does not accept it)"
	}
	return "the superuser digest (the roll logs in with $ZKSTAGE_RECONFIG_AUTH)"
}
