package render

import (
	"bytes"
	"fmt"
	"math/rand"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/schema"
)

// hostFiles maps each host of a rendered stage to its files' bytes
// (zoo.cfg, then myid); stage.json is left out.
func hostFiles(t testing.TB, c *schema.Cluster, p *compiler.Plan, k int) map[string][]byte {
	t.Helper()
	files, err := StageFiles(c, p, k)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		host, name, ok := strings.Cut(f.Path, "/")
		if !ok {
			continue
		}
		out[host] = append(out[host], []byte(name+"\x00")...)
		out[host] = append(out[host], f.Data...)
		out[host] = append(out[host], 0)
	}
	return out
}

// changedHosts lists the hosts whose files appear, vanish or differ from
// stage k-1 to stage k.
func changedHosts(t testing.TB, c *schema.Cluster, p *compiler.Plan, k int) []string {
	prev, cur := hostFiles(t, c, p, k-1), hostFiles(t, c, p, k)
	set := map[string]bool{}
	for h, b := range cur {
		if !bytes.Equal(prev[h], b) {
			set[h] = true
		}
	}
	for h := range prev {
		if _, ok := cur[h]; !ok {
			set[h] = true
		}
	}
	return sortedSet(set)
}

func stepHosts(st *compiler.Stage) []string {
	set := map[string]bool{}
	for _, s := range st.Steps {
		set[s.Host] = true
	}
	return sortedSet(set)
}

func sortedSet(set map[string]bool) []string {
	out := []string{}
	for h := range set {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

// checkStable fails the test for every stage whose changed host files are
// not exactly the hosts its steps touch: config management restarts a
// server when its files change, so any other change is a restart the plan
// did not simulate.
func checkStable(t *testing.T, c *schema.Cluster, p *compiler.Plan) {
	t.Helper()
	for k := 1; k < len(p.Stages); k++ {
		st := &p.Stages[k]
		got, want := changedHosts(t, c, p, k), stepHosts(st)
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("stage %02d %s: files change on [%s], steps touch [%s]", k, st.Name, strings.Join(got, " "), strings.Join(want, " "))
		}
	}
}

// TestFilesChangeOnlyWithASteps: over every stage of the example clusters,
// the hosts whose files change are exactly the hosts with a step.
func TestFilesChangeOnlyWithAStep(t *testing.T) {
	tests := []struct {
		cluster string
		// the hosts whose files change in stage 3 (grow-5-to-7-start):
		// only the two that start, not the five that keep running.
		start3 string
	}{
		{"reference", "zk1-dc2 zk2-dc2"},
		{"lab", "zk1-dc2 zk2-dc2"},
	}
	for _, tt := range tests {
		t.Run(tt.cluster, func(t *testing.T) {
			c, p := plan(t, filepath.Join("..", "clusters", tt.cluster))
			checkStable(t, c, p)
			if got := strings.Join(changedHosts(t, c, p, 3), " "); got != tt.start3 {
				t.Errorf("stage 03: files change on %s, want %s", got, tt.start3)
			}
		})
	}
}

// TestFilesChangeOnlyWithAStepRandom checks the same over random specs:
// renames under every renumber policy, growth, observers, shrinks, 3.4 and
// 3.5+ syntax. Specs the schema or the planner refuses are skipped; enough
// must plan.
func TestFilesChangeOnlyWithAStepRandom(t *testing.T) {
	const specs = 300
	planned, stages := 0, 0
	kinds := map[string]bool{}
	for seed := int64(0); seed < specs; seed++ {
		src := randomSpec(rand.New(rand.NewSource(seed)))
		c, _, err := schema.LoadBytes(fmt.Sprintf("random-%d.cue", seed), []byte(src))
		if err != nil {
			continue // a spec the schema refuses (no voter left, say)
		}
		p, err := compiler.Compile(c)
		if err != nil {
			continue
		}
		planned++
		stages += len(p.Stages) - 1
		for _, st := range p.Stages {
			kinds[st.Kind] = true
		}
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			checkStable(t, c, p)
			if t.Failed() {
				t.Logf("spec:\n%s", src)
			}
		})
	}
	t.Logf("%d of %d random specs planned, %d stages checked", planned, specs, stages)
	if planned < specs/3 || stages < specs {
		t.Errorf("only %d of %d random specs planned (%d stages): the generator no longer exercises the renderer", planned, specs, stages)
	}
	for _, k := range []string{compiler.KindRename, compiler.KindGrowRoll, compiler.KindGrowStart, compiler.KindShrinkStop, compiler.KindShrinkRoll, compiler.KindBootstrap} {
		if !kinds[k] {
			t.Errorf("no random spec planned a %s stage", k)
		}
	}
}

// randomSpec writes a cluster spec: 0..7 members today (0: a bootstrap) with random ids,
// 0..6 new hosts over three datacenters (some observers), some members
// removed, a random renumber policy and version.
func randomSpec(r *rand.Rand) string {
	var b strings.Builder
	versions := []string{"3.4.6", "3.5.10", "3.8.0"}
	policies := []string{"minimal", "strict", "none"}
	fmt.Fprintf(&b, "name: \"random\"\nversion: %q\n", versions[r.Intn(len(versions))])
	b.WriteString("datacenters: {dc1: {leader: \"preferred\", priority: 1}, dc2: {leader: \"allowed\", priority: 2}, dc3: {leader: \"never\"}}\nhosts: {\n")
	dcs := []string{"dc1", "dc2", "dc3"}
	current := r.Intn(8)
	ids := r.Perm(20)
	for i := 0; i < current; i++ {
		fmt.Fprintf(&b, "  \"a%d\": {address: \"10.1.0.%d\", dc: %q, myid: %d", i, i+1, dcs[r.Intn(2)], ids[i])
		if r.Intn(8) == 0 {
			b.WriteString(", role: \"observer\"")
		}
		if r.Intn(5) == 0 {
			b.WriteString(", remove: true")
		}
		b.WriteString("}\n")
	}
	for i, fresh := 0, r.Intn(7); i < fresh; i++ {
		fmt.Fprintf(&b, "  \"b%d\": {address: \"10.2.0.%d\", dc: %q", i, i+1, dcs[r.Intn(3)])
		if r.Intn(6) == 0 {
			b.WriteString(", role: \"observer\"")
		}
		b.WriteString("}\n")
	}
	fmt.Fprintf(&b, "}\npolicy: {renumber: %q, reserve: %d}\n", policies[r.Intn(len(policies))], r.Intn(4)/3)
	return b.String()
}
