package compiler

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

// TestAssignIDsCases pins the ids of clusters that the first id assignment
// refused or renamed too much although an assignment with fewer renames
// exists (issue 12), and checks that each plans.
func TestAssignIDsCases(t *testing.T) {
	ab := map[string]string{"a": "preferred", "b": "allowed/2"}
	an := map[string]string{"a": "preferred", "n": "never"}
	tests := []struct {
		name    string
		version string
		dcs     map[string]string
		hosts   []hostSpec
		policy  string
		want    map[string]int
		renames int
		why     string // a line of why that must be there
	}{
		{
			// Nothing is free above 255: the new hosts take the highest
			// free ids below it, the more preferred one higher.
			name: "none, a host runs 255", version: "3.4.6", dcs: ab,
			hosts: []hostSpec{{"h1", "a", "", 1, false}, {"h2", "a", "", 2, false}, {"h3", "a", "", 3, false},
				{"h4", "a", "", 4, false}, {"h5", "b", "", 255, false}, {"h6", "b", "", -1, false}, {"h7", "a", "", -1, false}},
			policy: `renumber: "none"`,
			want:   map[string]int{"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 255, "h6": 253, "h7": 254},
			why:    "renumber none: only 0 free id(s) above 255, the highest id run today: h6 253, h7 254 below it",
		},
		{
			// One id is free above the current ones: the most preferred new
			// host takes it, the other waits below; the never-datacenter
			// host takes the lowest free id.
			name: "none, one id above", version: "3.8.0", dcs: map[string]string{"a": "preferred", "b": "allowed/2", "n": "never"},
			hosts: []hostSpec{{"h1", "a", "", 1, false}, {"h2", "a", "", 2, false}, {"h3", "a", "", 3, false},
				{"h4", "b", "", 4, false}, {"h5", "b", "", 254, false}, {"h6", "b", "", -1, false}, {"h7", "a", "", -1, false}, {"n1", "n", "", -1, false}},
			policy: `renumber: "none"`,
			want:   map[string]int{"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 254, "h6": 253, "h7": 255, "n1": 5},
			why:    "renumber none: only 1 free id(s) above 254, the highest id run today: h6 253 below it",
		},
		{
			// dc b runs 255, which nothing can top: b's host moves below
			// a's instead (what strict does too), one rename.
			name: "minimal, allowed datacenter on 255", version: "3.4.6", dcs: ab,
			hosts: []hostSpec{{"h1", "a", "", 2, false}, {"h2", "a", "", 3, false}, {"h3", "a", "", 4, false},
				{"h4", "a", "", 5, false}, {"h5", "b", "", 255, false}},
			want:    map[string]int{"h1": 2, "h2": 3, "h3": 4, "h4": 5, "h5": 1},
			renames: 1,
			why:     "renumber minimal: with the fewest renames (1), h4 holds the highest voter id, 5",
		},
		{
			name: "strict, allowed datacenter on 255", version: "3.4.6", dcs: ab,
			hosts: []hostSpec{{"h1", "a", "", 2, false}, {"h2", "a", "", 3, false}, {"h3", "a", "", 4, false},
				{"h4", "a", "", 5, false}, {"h5", "b", "", 255, false}},
			policy: `renumber: "strict"`,
			// Ties go to the lowest cut: b's range is 0..0.
			want:    map[string]int{"h1": 2, "h2": 3, "h3": 4, "h4": 5, "h5": 0},
			renames: 1,
		},
		{
			// b runs 254 and 255: both move below a's highest host, to the
			// two free ids nobody runs (strict would move a's 1..3 too).
			name: "minimal, allowed datacenter on 254 and 255", version: "3.4.6", dcs: ab,
			hosts: []hostSpec{{"a1", "a", "", 1, false}, {"a2", "a", "", 2, false}, {"a3", "a", "", 3, false},
				{"a5", "a", "", 5, false}, {"a6", "a", "", 6, false}, {"b1", "b", "", 254, false}, {"b2", "b", "", 255, false}},
			want:    map[string]int{"a1": 1, "a2": 2, "a3": 3, "a5": 5, "a6": 6, "b1": 4, "b2": 0},
			renames: 2,
		},
		{
			// b's range 0..1 offers 1 (nobody runs it) and 0 (a0 leaves
			// it): the renamed b host needs 1, so the new one, although
			// first by name, takes 0.
			name: "strict, renamed host after a new one", version: "3.8.0", dcs: ab,
			hosts: []hostSpec{{"a0", "a", "", 0, false}, {"a3", "a", "", 3, false}, {"a4", "a", "", 4, false}, {"a5", "a", "", 5, false},
				{"rm", "a", "", 2, true}, {"z", "b", "", 6, false}, {"y", "b", "", -1, false}},
			policy:  `renumber: "strict"`,
			want:    map[string]int{"a0": 7, "a3": 3, "a4": 4, "a5": 5, "y": 0, "z": 1},
			renames: 2,
		},
		{
			name: "strict, renamed host first by name", version: "3.8.0", dcs: ab,
			hosts: []hostSpec{{"a0", "a", "", 0, false}, {"a3", "a", "", 3, false}, {"a4", "a", "", 4, false}, {"a5", "a", "", 5, false},
				{"rm", "a", "", 2, true}, {"a-z", "b", "", 6, false}, {"y", "b", "", -1, false}},
			policy:  `renumber: "strict"`,
			want:    map[string]int{"a0": 7, "a3": 3, "a4": 4, "a5": 5, "y": 0, "a-z": 1},
			renames: 2,
		},
		{
			// The same squeeze among never-datacenter hosts.
			name: "minimal, renamed never host after a new one", version: "3.8.0", dcs: an,
			hosts: []hostSpec{{"a0", "a", "", 0, false}, {"a3", "a", "", 3, false}, {"a4", "a", "", 4, false}, {"a5", "a", "", 5, false},
				{"rm", "a", "", 2, true}, {"z", "n", "", 6, false}, {"y", "n", "", -1, false}},
			want:    map[string]int{"a0": 100, "a3": 3, "a4": 4, "a5": 5, "y": 0, "z": 1},
			renames: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := buildSpec(t, tt.version, tt.dcs, tt.hosts, tt.policy)
			a, err := assignIDs(c)
			if err != nil {
				t.Fatalf("assignIDs: %v", err)
			}
			if got, want := idsString(a.ids), idsString(tt.want); got != want {
				t.Errorf("ids %s, want %s", got, want)
			}
			if len(a.renames) != tt.renames {
				t.Errorf("%d renames %v, want %d", len(a.renames), a.renames, tt.renames)
			}
			if tt.why != "" && !containsLine(a.why, tt.why) {
				t.Errorf("why %q lacks %q", a.why, tt.why)
			}
			if _, err := Compile(c); err != nil {
				t.Errorf("compile: %v", err)
			}
		})
	}
}

// TestAssignIDsIgnoreNames: renaming hosts (which changes the order in
// which they are handed ids) never changes whether ids exist or how many
// renames they take.
func TestAssignIDsIgnoreNames(t *testing.T) {
	dcs := map[string]string{"a": "preferred", "b": "allowed/2", "n": "never"}
	base := []hostSpec{{"a0", "a", "", 0, false}, {"a3", "a", "", 3, false}, {"a4", "a", "", 4, false}, {"a5", "a", "", 5, false},
		{"rm", "a", "", 2, true}, {"z", "b", "", 6, false}, {"y", "b", "", -1, false}, {"x", "n", "", 7, false}, {"w", "n", "", -1, false}}
	for _, policy := range []string{"minimal", "strict", "none"} {
		counts := map[int]bool{}
		for perm := 0; perm < 8; perm++ {
			hosts := append([]hostSpec(nil), base...)
			for i := range hosts {
				// Prefixes that reorder the hosts by name, differently per perm.
				hosts[i].name = fmt.Sprintf("%c-%s", 'a'+byte((i*(perm+3)+perm)%len(hosts)), hosts[i].name)
			}
			a, err := assignIDs(buildSpec(t, "3.8.0", dcs, hosts, fmt.Sprintf("renumber: %q", policy)))
			if err != nil {
				t.Fatalf("%s perm %d: %v", policy, perm, err)
			}
			counts[len(a.renames)] = true
		}
		if len(counts) != 1 {
			t.Errorf("%s: rename counts %v depend on host names", policy, counts)
		}
	}
}

func idsString(ids map[string]int) string {
	var s []string
	for name, id := range ids {
		s = append(s, fmt.Sprintf("%s=%d", name, id))
	}
	sort.Strings(s)
	return strings.Join(s, " ")
}

func containsLine(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}
