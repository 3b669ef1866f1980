package adopt

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/compiler/compilertest"
	"github.com/zkstage/zkstage/render"
	"github.com/zkstage/zkstage/schema"
)

// For both example clusters (and testdata/rich) and every stage, importing the rendered files
// gives a spec whose stage 0 is that stage's membership, with the same
// settings. Host names differ (import derives them from addresses), so
// members are compared by id, address, datacenter, role and ports.
func TestRoundTripExampleClusters(t *testing.T) {
	for _, dir := range []string{"../clusters/reference", "../clusters/lab", "testdata/rich"} {
		c, p := compilertest.Plan(t, dir)
		if len(p.Stages) < 2 && !strings.HasPrefix(dir, "testdata") {
			t.Fatalf("%s: %d stages; the round trip wants a multi-stage plan", dir, len(p.Stages))
		}
		// One --dc per address puts every host back in its datacenter.
		var dcs []DCRange
		for _, name := range schema.SortedHosts(c) {
			h := c.Hosts[name]
			r, err := ParseDC(h.Address + "=" + h.DC)
			if err != nil {
				t.Fatal(err)
			}
			dcs = append(dcs, r)
		}
		for k := range p.Stages {
			st := p.Stages[k]
			t.Run(filepath.Base(dir)+"/"+render.StageDir(p, k), func(t *testing.T) {
				files, err := render.StageFiles(c, p, k)
				if err != nil {
					t.Fatal(err)
				}
				tmp := t.TempDir()
				var args []string
				for _, f := range files {
					path := filepath.Join(tmp, f.Path)
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, f.Data, 0o644); err != nil {
						t.Fatal(err)
					}
					if strings.HasSuffix(f.Path, "/zoo.cfg") || strings.HasSuffix(f.Path, "/myid") {
						args = append(args, path)
					}
				}
				res, err := ImportFiles(args, Options{Name: c.Name, Version: c.Version.String(), DCs: dcs})
				if err != nil {
					t.Fatalf("import: %v", err)
				}
				for _, w := range res.Warnings {
					t.Errorf("unexpected warning: %s", w)
				}
				out := filepath.Join(tmp, "imported")
				if err := os.MkdirAll(out, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(out, "cluster.cue"), res.CUE, 0o644); err != nil {
					t.Fatal(err)
				}
				ic, _, err := schema.Load(out)
				if err != nil {
					t.Fatalf("imported spec does not load: %v\n%s", err, res.CUE)
				}
				ip, err := compiler.Compile(ic)
				if err != nil {
					t.Fatalf("imported spec does not compile: %v\n%s", err, res.CUE)
				}
				if got, want := comparable(ip.Stages[0].Members), comparable(st.Members); !reflect.DeepEqual(got, want) {
					t.Errorf("stage 0 of the import\n got %+v\nwant %+v", got, want)
				}
				if got, want := normSettings(ic.Settings), normSettings(c.Settings); !reflect.DeepEqual(got, want) {
					t.Errorf("settings\n got %+v\nwant %+v", got, want)
				}
				if ic.Version != c.Version || ic.Name != c.Name {
					t.Errorf("name/version %s %s, want %s %s", ic.Name, ic.Version, c.Name, c.Version)
				}
			})
		}
	}
}

// comparable drops host names and orders by id.
func comparable(ms []compiler.Member) []compiler.Member {
	out := make([]compiler.Member, len(ms))
	for i, m := range ms {
		m.Host = ""
		out[i] = m
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func normSettings(s schema.Settings) schema.Settings {
	if len(s.Extra) == 0 {
		s.Extra = nil
	}
	return s
}
