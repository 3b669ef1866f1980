package verify

import (
	"fmt"
	"strings"
	"testing"

	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/render"
)

// The answers in testdata/4lw are real: 3.4.6 and 3.5.10 from the upstream
// builds in shared/zookeeper (three servers, 127.0.9.x, a znode written),
// 3.8.0 from Debian's package on a three-server lab ensemble (127.0.9.1-3,
// znodes /zkcapture-380 and "/zk capture" written). Each version's leader
// and one follower answered srvr, mntr, conf and stat. The parsers must read
// every version the spec may declare, so each file is parsed here with the
// facts the verifier relies on.

// fixture is one server's four answers.
type fixture struct {
	version, role string
	// srvr and stat
	fullVersion string
	zxid, nodes int64
	// conf
	serverID      int
	hasMembership bool
	members       []string // server lines as ServerLine.String prints them
	// mntr
	mntrInts   map[string]int64
	mntrAbsent []string
}

func (f fixture) file(word string) string {
	return fmt.Sprintf("4lw/%s-%s-%s.txt", f.version, f.role, word)
}

const (
	v346  = "3.4.6-1569965, built on 11/25/2026 05:42 GMT"
	v3510 = "3.5.10-a32c7183d42325b03e44a06aade6a0f16955bf13, built on 11/25/2026 05:42 GMT"
	// Debian's build leaves the git property unexpanded.
	v380 = "3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC"
)

var members3510 = []string{
	"server.1=127.0.9.11:2392:2393:participant",
	"server.2=127.0.9.12:2392:2393:participant",
	"server.3=127.0.9.13:2392:2393:participant",
}

var members380 = []string{
	"server.1=127.0.9.1:2555:3555:participant;127.0.9.1:2181",
	"server.2=127.0.9.2:2555:3555:participant;127.0.9.2:2181",
	"server.3=127.0.9.3:2555:3555:participant;127.0.9.3:2181",
}

var fixtures = []fixture{
	// 3.4: leader mntr counts followers; nothing about learners, observers
	// or the quorum size.
	{version: "3.4.6", role: "leader", fullVersion: v346, zxid: 0x100000007, nodes: 5, serverID: 3,
		mntrInts:   map[string]int64{"zk_followers": 2, "zk_synced_followers": 2, "zk_pending_syncs": 0, "zk_znode_count": 5},
		mntrAbsent: []string{"zk_learners", "zk_synced_observers", "zk_quorum_size", "zk_peer_state"}},
	{version: "3.4.6", role: "follower", fullVersion: v346, zxid: 0x100000007, nodes: 5, serverID: 1,
		mntrInts:   map[string]int64{"zk_znode_count": 5},
		mntrAbsent: []string{"zk_followers", "zk_synced_followers", "zk_quorum_size"}},
	// 3.5: membership in conf; the leader's mntr is still 3.4's.
	{version: "3.5.10", role: "leader", fullVersion: v3510, zxid: 0x100000005, nodes: 6, serverID: 3, hasMembership: true, members: members3510,
		mntrInts:   map[string]int64{"zk_followers": 2, "zk_synced_followers": 2, "zk_pending_syncs": 0, "zk_max_proposal_size": 95},
		mntrAbsent: []string{"zk_learners", "zk_synced_observers", "zk_quorum_size", "zk_peer_state"}},
	{version: "3.5.10", role: "follower", fullVersion: v3510, zxid: 0x100000005, nodes: 6, serverID: 1, hasMembership: true, members: members3510,
		mntrAbsent: []string{"zk_followers", "zk_synced_followers", "zk_quorum_size"}},
	// 3.8: the leader counts learners and synced observers and no longer
	// prints zk_followers; every server prints zk_quorum_size.
	{version: "3.8.0", role: "leader", fullVersion: v380, zxid: 0x100000008, nodes: 7, serverID: 3, hasMembership: true, members: members380,
		mntrInts: map[string]int64{"zk_synced_followers": 2, "zk_learners": 2, "zk_synced_observers": 0, "zk_synced_non_voting_followers": 0,
			"zk_pending_syncs": 0, "zk_quorum_size": 3,
			// A per-namespace metric: its key holds the znode name, space and all.
			"zk_cnt_zk capture_write_per_namespace": 1},
		mntrAbsent: []string{"zk_followers"}},
	{version: "3.8.0", role: "follower", fullVersion: v380, zxid: 0x100000008, nodes: 7, serverID: 1, hasMembership: true, members: members380,
		mntrInts:   map[string]int64{"zk_quorum_size": 3},
		mntrAbsent: []string{"zk_followers", "zk_synced_followers", "zk_learners", "zk_synced_observers"}},
}

func TestFixtureSrvrAndStat(t *testing.T) {
	for _, f := range fixtures {
		// stat prints srvr's lines plus the clients; the parser reads both.
		for _, word := range []string{"srvr", "stat"} {
			t.Run(f.version+"/"+f.role+"/"+word, func(t *testing.T) {
				s, err := ParseSrvr(read(t, f.file(word)))
				if err != nil {
					t.Fatal(err)
				}
				if s.Mode != f.role || s.Version != f.fullVersion || s.Zxid != f.zxid || s.NodeCount != f.nodes {
					t.Errorf("got %+v, want mode %s version %q zxid %#x nodes %d", s, f.role, f.fullVersion, f.zxid, f.nodes)
				}
				if s.Epoch() != 1 {
					t.Errorf("epoch %d, want 1 (one election since the data dirs were made)", s.Epoch())
				}
			})
		}
	}
}

func TestFixtureMntr(t *testing.T) {
	for _, f := range fixtures {
		t.Run(f.version+"/"+f.role, func(t *testing.T) {
			out := read(t, f.file("mntr"))
			m, err := ParseMntr(out)
			if err != nil {
				t.Fatal(err)
			}
			if m.State() != f.role {
				t.Errorf("zk_server_state %q, want %q", m.State(), f.role)
			}
			if m["zk_version"] != f.fullVersion {
				t.Errorf("zk_version %q, want %q", m["zk_version"], f.fullVersion)
			}
			// One key per line: no line is lost or merged into another.
			if lines := strings.Count(strings.TrimSpace(out), "\n") + 1; len(m) != lines {
				t.Errorf("%d keys from %d lines", len(m), lines)
			}
			for k, want := range f.mntrInts {
				if got, ok := m.Int(k); !ok || got != want {
					t.Errorf("%s = %d (present and a number: %v), want %d", k, got, ok, want)
				}
			}
			for _, k := range f.mntrAbsent {
				if v, ok := m[k]; ok {
					t.Errorf("%s = %q, want absent on %s", k, v, f.version)
				}
			}
		})
	}
}

func TestFixtureConf(t *testing.T) {
	for _, f := range fixtures {
		t.Run(f.version+"/"+f.role, func(t *testing.T) {
			out := read(t, f.file("conf"))
			if f.hasMembership {
				// What the parser has to cope with, as the servers print it.
				if !strings.Contains(out, "\nmembership: \n") || !strings.HasSuffix(out, "\nversion=0") {
					t.Fatalf("%s: want a \"membership: \" line and a last line version=0 without newline:\n%q", f.file("conf"), out)
				}
			}
			c, err := ParseConf(out)
			if err != nil {
				t.Fatal(err)
			}
			if c.ServerID != f.serverID {
				t.Errorf("serverId %d, want %d", c.ServerID, f.serverID)
			}
			if c.HasMembership != f.hasMembership {
				t.Errorf("HasMembership %v, want %v", c.HasMembership, f.hasMembership)
			}
			var got []string
			for _, s := range c.Members {
				got = append(got, s.String())
			}
			if strings.Join(got, "\n") != strings.Join(f.members, "\n") {
				t.Errorf("members:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(f.members, "\n"))
			}
			wantVersion := ""
			if f.hasMembership {
				wantVersion = "0"
			}
			if c.ConfigVersion != wantVersion {
				t.Errorf("config version %q, want %q", c.ConfigVersion, wantVersion)
			}
			if c.Settings["tickTime"] != "200" || c.Settings["clientPort"] == "" {
				t.Errorf("settings tickTime %q clientPort %q", c.Settings["tickTime"], c.Settings["clientPort"])
			}
			// 3.4 shows clientPort but not the address it binds.
			if _, ok := c.Settings["clientPortAddress"]; ok {
				t.Errorf("clientPortAddress in conf: %q", c.Settings["clientPortAddress"])
			}
		})
	}
}

// The key ends at the first tab (keys may hold blanks from 3.6 on); a line
// without a tab is split at the first blank.
func TestParseMntrSeparators(t *testing.T) {
	tests := []struct {
		name, line, key, value string
	}{
		{"tab", "zk_znode_count\t7", "zk_znode_count", "7"},
		{"blank in key", "zk_cnt_zk capture_write_per_namespace\t1", "zk_cnt_zk capture_write_per_namespace", "1"},
		{"blank in value", "zk_version\t3.4.6-1569965, built on 02/20/2014 09:09 GMT", "zk_version", "3.4.6-1569965, built on 02/20/2014 09:09 GMT"},
		{"blanks only", "zk_znode_count   7", "zk_znode_count", "7"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseMntr("zk_server_state\tleader\n" + tc.line + "\n")
			if err != nil {
				t.Fatal(err)
			}
			if got, ok := m[tc.key]; !ok || got != tc.value {
				t.Errorf("%q: %q = %q (%v), want %q; parsed %v", tc.line, tc.key, got, ok, tc.value, m)
			}
		})
	}
}

// The settings check on real conf answers: the values the servers print
// (maxClientCnxns 60, initLimit 10, syncLimit 5) against a stage's.
func TestFixtureSettingsCheck(t *testing.T) {
	for _, f := range fixtures {
		t.Run(f.version+"/"+f.role, func(t *testing.T) {
			c, err := ParseConf(read(t, f.file("conf")))
			if err != nil {
				t.Fatal(err)
			}
			live := []compiler.Member{{Host: "h1"}}
			probes := []*Probe{{Conf: c}}
			for _, tc := range []struct {
				settings map[string]string
				status   Status
				want     string
			}{
				{map[string]string{"initLimit": "10", "syncLimit": "5", "maxClientCnxns": "060"}, Pass, "all 1 live members run the stage's initLimit, maxClientCnxns, syncLimit"},
				{map[string]string{"initLimit": "10", "syncLimit": "6"}, Fail, "h1 runs syncLimit=5 (the stage's zoo.cfg: 6): it has not restarted onto its files"},
				{map[string]string{"minSessionTimeout": "400", "maxSessionTimeout": "8000"}, Fail, "h1 runs maxSessionTimeout=4000 (the stage's zoo.cfg: 8000)"},
			} {
				ch := settingsCheck(&render.Manifest{Settings: tc.settings}, live, probes)
				if ch.Status != tc.status || !strings.Contains(ch.Message+"\n"+strings.Join(ch.Problems, "\n"), tc.want) {
					t.Errorf("%v: %s %q %q, want %s %q", tc.settings, ch.Status, ch.Message, ch.Problems, tc.status, tc.want)
				}
			}
			if ch := settingsCheck(&render.Manifest{Settings: map[string]string{"syncLimit": "5"}}, live, []*Probe{{}}); ch.Status != Unknown {
				t.Errorf("no conf answer: %s %q", ch.Status, ch.Message)
			}
		})
	}
}
