package compiler_test

import (
	"errors"
	"strings"
	"testing"

	cueerrors "cuelang.org/go/cue/errors"

	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/schema"
)

// TestRefusalPositions: every refusal points at the spec field it is about,
// with its path, never at line 1 of a spec that has no policy block.
func TestRefusalPositions(t *testing.T) {
	const head = `name: "r"
version: "3.8.0"
ports: {client: 2181, quorum: 2555, election: 3555}
datacenters: {
	dc1: {leader: "preferred", priority: 1}
	dc2: {leader: "allowed", priority: 2}
}
`
	tests := []struct {
		name, spec string
		line       int
		path, want string
	}{
		{name: "method", spec: strings.Replace(head, `"3.8.0"`, `"3.4.6"`, 1) + `hosts: {
	a: {address: "10.0.0.1", dc: "dc1", myid: 1}
	b: {address: "10.0.0.2", dc: "dc1", myid: 2}
	c: {address: "10.0.0.3", dc: "dc1", myid: 3}
}
policy: {
	renumber: "minimal"
	method:   "reconfig"
}
`, line: 15, path: "policy.method", want: `policy.method "reconfig" needs ZooKeeper 3.5.3 or later: 3.4.6 has no dynamic reconfiguration`},
		// Four voters cannot roll a rename and keep a quorum (dc2's d holds
		// the highest id, so dc1's c becomes 100); the refusal is about the
		// renamed host's id, though the spec has no policy block.
		{name: "rename", spec: head + `hosts: {
	a: {address: "10.0.0.1", dc: "dc1", myid: 1}
	b: {address: "10.0.0.2", dc: "dc1", myid: 2}
	c: {address: "10.0.0.3", dc: "dc1", myid: 3}
	d: {address: "10.0.0.4", dc: "dc2", myid: 4}
}
`, line: 11, path: "hosts.c.myid", want: "renumbering c 3 -> 100"},
		// renumber none keeps d's id 9 in never-datacenter dc3, the
		// highest: the healthy ensemble would elect it. The refusal points
		// at the datacenter's leader field.
		{name: "never leads", spec: `name: "r"
version: "3.8.0"
datacenters: {
	dc1: {leader: "preferred", priority: 1}
	dc3: {
		leader: "never"
	}
}
hosts: {
	a: {address: "10.0.0.1", dc: "dc1", myid: 1}
	b: {address: "10.0.0.2", dc: "dc1", myid: 2}
	d: {address: "10.0.0.4", dc: "dc3", myid: 9}
}
policy: renumber: "none"
`, line: 6, path: "datacenters.dc3.leader", want: "datacenter dc3 may never lead, yet with these ids one of its hosts could: the healthy ensemble elects d (id 9)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, err := schema.LoadBytes("cluster.cue", []byte(tt.spec))
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			_, err = compiler.Compile(c)
			var r *compiler.Refusal
			if !errors.As(err, &r) {
				t.Fatalf("compile: %v, want a refusal", err)
			}
			list := cueerrors.Errors(err)
			if len(list) != 1 {
				t.Fatalf("%d errors, want 1", len(list))
			}
			e := list[0]
			if got := e.Position().Line(); got != tt.line {
				t.Errorf("line %d, want %d (%s)", got, tt.line, e.Position())
			}
			if got := strings.Join(e.Path(), "."); got != tt.path {
				t.Errorf("path %s, want %s", got, tt.path)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("message %q lacks %q", err, tt.want)
			}
		})
	}
}
