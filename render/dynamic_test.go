package render

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/zkstage/zkstage/compiler"
)

// Under reconfig a host's files change only in the stage that (re)starts
// it: the enabling stage, its rename, its join. A remove stage changes no
// host file, and no rendered zoo.cfg holds a server line.
func TestReconfigFilesChangeOnlyWithTheHostsStep(t *testing.T) {
	c, p := plan(t, filepath.Join("..", "clusters", "reconfig"))
	prev := map[string]string{}
	for k := range p.Stages {
		files, err := StageFiles(c, p, k)
		if err != nil {
			t.Fatal(err)
		}
		stepped := map[string]bool{}
		for _, s := range p.Stages[k].Steps {
			if s.Action == compiler.Start || s.Action == compiler.Restart {
				stepped[s.Host] = true
			}
		}
		cur := map[string]string{}
		for _, f := range files {
			if f.Path == ManifestFile {
				continue
			}
			cur[f.Path] = string(f.Data)
			host := strings.SplitN(f.Path, "/", 2)[0]
			if k > 0 && prev[f.Path] != string(f.Data) && !stepped[host] {
				t.Errorf("stage %d %s: %s changes without a step of %s", k, p.Stages[k].Kind, f.Path, host)
			}
			if k > 0 && strings.HasSuffix(f.Path, "/zoo.cfg") && strings.Contains(string(f.Data), "\nserver.") {
				t.Errorf("stage %d: %s has server lines (they belong in the dynamic file)", k, f.Path)
			}
		}
		if k > 0 {
			for path := range prev {
				if _, ok := cur[path]; !ok && p.Stages[k].Kind != compiler.KindReconfigStop {
					t.Errorf("stage %d %s: %s disappears", k, p.Stages[k].Kind, path)
				}
			}
		}
		prev = cur
	}
	// The joiner boots with the committed four plus itself.
	files, _ := StageFiles(c, p, 3)
	for _, f := range files {
		if f.Path == "zk1-dc2/"+DynamicFile {
			var ids []string
			for _, l := range strings.Split(strings.TrimSpace(string(f.Data)), "\n") {
				ids = append(ids, strings.SplitN(strings.TrimPrefix(l, "server."), "=", 2)[0])
			}
			if got := strings.Join(ids, ","); got != "1,2,3,4,5" {
				t.Errorf("zk1-dc2 bootstraps with %s", got)
			}
		}
	}
}

// The superuser digest is a zoo.cfg key unless the servers' JVM flags hold
// it (superDigestFrom "jvmflags"): then no rendered file carries it, so it
// is never committed.
func TestReconfigDigestSource(t *testing.T) {
	c, p := plan(t, filepath.Join("..", "clusters", "reconfig"))
	self := p.Stages[1].Members[0]
	digest := c.Policy.SuperDigest
	if digest == "" {
		t.Fatal("clusters/reconfig has no superDigest")
	}
	key := "\nDigestAuthenticationProvider.superDigest="
	for _, tc := range []struct {
		name, from, auth, digest string
		want, not                []string
	}{
		{"zoo.cfg", "", "superDigest", digest, []string{key + digest + "\n"}, []string{"skipACL", "JVM flags"}},
		{"jvmflags", "jvmflags", "superDigest", "", []string{"\n# The superuser digest comes from the JVM flags: -Dzookeeper.DigestAuthenticationProvider.superDigest=...\n"}, []string{key, digest, "skipACL"}},
		{"skipACL", "", "skipACL", "", []string{"\nskipACL=yes\n"}, []string{key, "JVM flags"}},
	} {
		cc := *c
		cc.Policy.SuperDigestFrom, cc.Policy.ReconfigAuth, cc.Policy.SuperDigest = tc.from, tc.auth, tc.digest
		cfg := string(ZooCfgDynamic(&cc, self))
		for _, w := range tc.want {
			if !strings.Contains(cfg, w) {
				t.Errorf("%s: zoo.cfg lacks %q:\n%s", tc.name, w, cfg)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(cfg, n) {
				t.Errorf("%s: zoo.cfg holds %q:\n%s", tc.name, n, cfg)
			}
		}
	}
}
