package compiler

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/fingerprints.golden")

// TestFingerprintGolden pins the fingerprints of the example clusters.
// Stage manifests on every GitOps branch in progress carry them: a change
// turns each of those stacks into a re-plan, so it must be deliberate
// (go test ./compiler -update, and say so in the commit).
func TestFingerprintGolden(t *testing.T) {
	var b strings.Builder
	for _, name := range []string{"lab", "reference"} {
		p, err := Compile(loadCluster(t, filepath.Join("..", "clusters", name)))
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(name + " " + p.Fingerprint + "\n")
	}
	golden := filepath.Join("testdata", "fingerprints.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("plan fingerprints changed: every stack in progress would become a re-plan.\ngot:\n%swant:\n%s(go test ./compiler -update if intended)", b.String(), want)
	}
}

// TestFingerprintIgnoresProse: rewording an explanation, a rule text or a
// stage name leaves the fingerprint alone; changing what the plan does
// (an id, a step, a margin, the live hosts) changes it.
func TestFingerprintIgnoresProse(t *testing.T) {
	p, err := Compile(loadCluster(t, filepath.Join("..", "clusters", "reference")))
	if err != nil {
		t.Fatal(err)
	}
	base := fingerprint(p)
	if base != p.Fingerprint {
		t.Fatalf("fingerprint is not a function of the plan: %s then %s", p.Fingerprint, base)
	}
	tests := []struct {
		name   string
		edit   func(p *Plan)
		change bool
	}{
		{"why reworded", func(p *Plan) { p.Stages[2].Why[0] = "reworded" }, false},
		{"why added", func(p *Plan) { p.Stages[1].Why = append(p.Stages[1].Why, "one more reason") }, false},
		{"rule text reworded", func(p *Plan) { p.Stages[2].Steps[0].Rule = "rule 2, said differently" }, false},
		{"stage renamed", func(p *Plan) { p.Stages[3].Name = "grow-five-to-seven-start" }, false},
		{"warnings", func(p *Plan) { p.Warnings = append(p.Warnings, "a new warning") }, false},
		{"placement", func(p *Plan) { p.Placement.Scenarios = nil }, false},
		{"cluster name", func(p *Plan) { p.Cluster = "other" }, false},
		{"version", func(p *Plan) { p.Version = "3.8.0" }, true},
		{"member id", func(p *Plan) { p.Stages[1].Members[0].ID = 101 }, true},
		{"member address", func(p *Plan) { p.Stages[1].Members[0].Address = "192.168.1.200" }, true},
		{"step order", func(p *Plan) {
			s := p.Stages[2].Steps
			s[0], s[1] = s[1], s[0]
		}, true},
		{"step margin", func(p *Plan) { p.Stages[2].Steps[0].Margin++ }, true},
		{"step action", func(p *Plan) { p.Stages[3].Steps[0].Action = Restart }, true},
		{"stage min margin", func(p *Plan) { p.Stages[4].MinMargin-- }, true},
		{"live hosts", func(p *Plan) { p.Stages[2].Live = p.Stages[2].Live[1:] }, true},
		{"leader rule", func(p *Plan) { p.Stages[2].LeaderRule = LeaderFirst }, true},
		{"stage dropped", func(p *Plan) { p.Stages = p.Stages[:len(p.Stages)-1] }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := Compile(loadCluster(t, filepath.Join("..", "clusters", "reference")))
			if err != nil {
				t.Fatal(err)
			}
			tt.edit(q)
			got := fingerprint(q)
			if changed := got != base; changed != tt.change {
				t.Errorf("fingerprint %s -> %s: changed %v, want %v", base, got, changed, tt.change)
			}
		})
	}
}
