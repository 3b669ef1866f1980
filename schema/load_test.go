package schema

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	cueerrors "cuelang.org/go/cue/errors"
)

// spec builds a small valid spec around the given extra lines.
func spec(version string, extra string) []byte {
	return []byte(`name: "t"
version: "` + version + `"
datacenters: a: leader: "preferred"
hosts: {
	h1: {address: "10.0.0.1", dc: "a", myid: 1}
	h2: {address: "10.0.0.2", dc: "a", myid: 2}
	h3: {address: "10.0.0.3", dc: "a", myid: 3}
}
` + extra)
}

func TestLoadDefaults(t *testing.T) {
	c, warns, err := LoadBytes("t/cluster.cue", spec("3.8.0", `hosts: h3: ports: {client: 2182}
hosts: h4: {address: "10.0.0.4", dc: "a", role: "observer"}
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 0 {
		t.Errorf("warnings: %v", warns)
	}
	if want := (Ports{Client: 2181, Quorum: 2888, Election: 3888}); c.Ports != want {
		t.Errorf("ports %+v, want %+v", c.Ports, want)
	}
	s := c.Settings
	if s.TickTime != 2000 || s.InitLimit != 10 || s.SyncLimit != 5 || s.DataDir != "/var/lib/zookeeper" ||
		s.DataLogDir != "" || s.AdminServer != (AdminServer{Enabled: false, Port: 8080}) || s.ClientBind != "address" || len(s.Extra) != 0 || s.ConfigDir != "" {
		t.Errorf("settings %+v", s)
	}
	if want := (Policy{Renumber: "minimal", Reserve: 0, Method: "rolling"}); c.Policy != want {
		t.Errorf("policy %+v, want %+v", c.Policy, want)
	}
	if d := c.Datacenters["a"]; d.Name != "a" || d.Leader != LeaderPreferred || d.Priority != 100 || d.Pos.Line() != 3 {
		t.Errorf("datacenter %+v", d)
	}
	h3, h4 := c.Hosts["h3"], c.Hosts["h4"]
	if want := (Ports{Client: 2182, Quorum: 2888, Election: 3888}); h3.Ports != want {
		t.Errorf("h3 ports %+v, want the client override only: %+v", h3.Ports, want)
	}
	if h3.Role != RoleParticipant || h3.Remove || !h3.Member() || h3.Pos.Line() != 9 {
		t.Errorf("h3 %+v", h3)
	}
	if h4.Role != RoleObserver || h4.Member() {
		t.Errorf("h4 %+v: want a new observer", h4)
	}
	if c.File != "t/cluster.cue" || c.Version != (Version{3, 8, 0}) {
		t.Errorf("file %q version %v", c.File, c.Version)
	}
}

func TestLoadWarnings(t *testing.T) {
	for _, tc := range []struct {
		name, version, extra string
		want                 []string
	}{
		{"clean", "3.8.0", ``, nil},
		{"myid 0", "3.8.0", `hosts: h0: {address: "10.0.0.9", dc: "a", myid: 0}` + "\n",
			[]string{
				"t/cluster.cue:9:43: hosts.h0.myid: myid 0 is outside the documented range 1..255; it works in practice",
				"t/cluster.cue:9:8: hosts: the target has 4 voters, an even number: it tolerates 1 failure(s), no more than 3 voters would",
			}},
		{"largest dc", "3.8.0", `datacenters: b: {}
hosts: h4: {address: "10.0.0.4", dc: "b"}
hosts: h5: {address: "10.0.0.5", dc: "b"}
`, []string{"t/cluster.cue:3:14: datacenters.a: losing datacenter a (3 of 5 voters) leaves no quorum (3 needed)"}},
		{"3829 rolling", "3.5.8", ``, []string{
			"t/cluster.cue:2:1: version: ZooKeeper 3.5.8 is affected by ZOOKEEPER-3829: a static membership change by rolling restarts can leave a leader that cannot commit; upgrade to 3.5.9+ or 3.6.2+ first"}},
		{"3829 fixed", "3.5.9", ``, nil},
		{"removed voters do not count", "3.8.0", `hosts: h3: remove: true
hosts: h4: {address: "10.0.0.4", dc: "a", role: "observer"}
`, []string{"t/cluster.cue:10:8: hosts: the target has 2 voters, an even number: it tolerates 0 failure(s), no more than 1 voters would"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, warns, err := LoadBytes("t/cluster.cue", spec(tc.version, tc.extra))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range warns {
				got = append(got, w.String())
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("warnings:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// Errors name the file, line, column and field; the CLI scripts cover every
// message, this covers the library's error value.
func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct{ name, extra, want string }{
		{"port", `ports: quorum: 355555`, "t/cluster.cue:9:8: ports.quorum: invalid value 355555 (out of bound <=65535)"},
		{"dup id", `hosts: h4: {address: "10.0.0.4", dc: "a", myid: 3}`, "t/cluster.cue:9:43: hosts.h4.myid: duplicate myid 3 (also host \"h3\")"},
		{"extra owned", `settings: extra: clientPort: "2181"`, "t/cluster.cue:9:18: settings.extra.clientPort: zkstage writes clientPort itself from ports.client (or a host's ports.client)"},
		{"extra weight", `settings: extra: "weight.1": "1"`, "t/cluster.cue:9:18: settings.extra.\"weight.1\": hierarchical quorums (group.N, weight.N) are not supported: the planner counts majorities"},
		{"extra blank", `settings: extra: autopurge: " 3"`, "t/cluster.cue:9:18: settings.extra.autopurge: the value has leading or trailing blanks, which ZooKeeper drops or keeps depending on the key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := LoadBytes("t/cluster.cue", spec("3.8.0", tc.extra+"\n"))
			if err == nil {
				t.Fatal("no error")
			}
			if got := positioned(err); got != tc.want {
				t.Errorf("error\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// positioned formats a one-entry error list as the CLI prints it.
func positioned(err error) string {
	var lines []string
	for _, e := range cueerrors.Errors(err) {
		format, args := e.Msg()
		line := e.Position().String() + ": "
		if len(e.Path()) > 0 {
			line += FormatPath(e.Path()) + ": "
		}
		lines = append(lines, line+fmt.Sprintf(format, args...))
	}
	return strings.Join(lines, "\n")
}

func TestExtraKeysAllowed(t *testing.T) {
	for _, k := range []string{"autopurge.snapRetainCount", "zookeeper.snapCount", "maxClientCnxns", "4lw.foo", "jute.maxbuffer", "ssl.quorum.keyStore.location"} {
		if ReservedKey(k) || !extraKey.MatchString(k) {
			t.Errorf("%s: refused", k)
		}
	}
	for _, k := range []string{"tickTime", "server.1", "group.1", "weight.3", "clientPortAddress", "admin.serverPort", "4lw.commands.whitelist"} {
		if !ReservedKey(k) {
			t.Errorf("%s: allowed", k)
		}
	}
}

func TestVersion(t *testing.T) {
	for _, tc := range []struct {
		in                         string
		dynamic, quorumSize, f3829 bool
		maxID, maxTTL, maxEmulate  int
	}{
		{"3.4.6", false, false, false, 255, 255, 255},
		{"3.5.8", true, false, true, 255, 254, 127},
		{"3.5.9", true, false, false, 255, 254, 127},
		{"3.6.1", true, true, true, 255, 254, 127},
		{"3.6.2", true, true, false, 255, 254, 127},
		{"3.8.0", true, true, false, 255, 254, 127},
	} {
		v, err := ParseVersion(tc.in)
		if err != nil || v.String() != tc.in {
			t.Fatalf("ParseVersion(%q) = %v, %v", tc.in, v, err)
		}
		if v.Dynamic() != tc.dynamic || v.HasQuorumSize() != tc.quorumSize || v.Affected3829() != tc.f3829 {
			t.Errorf("%s: dynamic %v quorumSize %v 3829 %v", v, v.Dynamic(), v.HasQuorumSize(), v.Affected3829())
		}
		// The zoo.cfg keys: ZooKeeper adds the "zookeeper." prefix itself.
		ttl := map[string]string{"extendedTypesEnabled": "TRUE"}
		emu := map[string]string{"extendedTypesEnabled": "true", "emulate353TTLNodes": "true"}
		if MaxMyID(v, nil) != tc.maxID || MaxMyID(v, ttl) != tc.maxTTL || MaxMyID(v, emu) != tc.maxEmulate {
			t.Errorf("%s: MaxMyID %d %d %d", v, MaxMyID(v, nil), MaxMyID(v, ttl), MaxMyID(v, emu))
		}
		// The system-property spelling in zoo.cfg sets zookeeper.zookeeper.*: no effect.
		prefixed := map[string]string{"zookeeper.extendedTypesEnabled": "true", "zookeeper.emulate353TTLNodes": "true"}
		if MaxMyID(v, prefixed) != tc.maxID {
			t.Errorf("%s: MaxMyID with prefixed keys %d, want %d", v, MaxMyID(v, prefixed), tc.maxID)
		}
	}
	for _, bad := range []string{"3.8", "3.8.x", "3.-1.0", ""} {
		if _, err := ParseVersion(bad); err == nil {
			t.Errorf("ParseVersion(%q): no error", bad)
		}
	}
}

func TestMorePreferred(t *testing.T) {
	dc := func(name, leader string, prio int) *Datacenter {
		return &Datacenter{Name: name, Leader: leader, Priority: prio}
	}
	order := []*Datacenter{dc("p1", LeaderPreferred, 1), dc("p2", LeaderPreferred, 5), dc("a1", LeaderAllowed, 1), dc("a2", LeaderAllowed, 1), dc("n", LeaderNever, 1)}
	for i := range order {
		for j := range order {
			if got := order[i].MorePreferred(order[j]); got != (i < j) {
				t.Errorf("%s more preferred than %s: %v", order[i].Name, order[j].Name, got)
			}
		}
	}
}
