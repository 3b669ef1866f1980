package zoocfg

import (
	"reflect"
	"strings"
	"testing"
)

// A 3.4.6 zoo.cfg as Debian and most 3.4 tutorials ship it.
const cfg34 = `# The number of milliseconds of each tick
tickTime=2000
# The number of ticks that the initial
# synchronization phase can take
initLimit=10
syncLimit=5
dataDir=/var/lib/zookeeper
# the port at which the clients will connect
clientPort=2181
server.0=192.168.1.100:2555:3555
server.1=192.168.1.101:2555:3555
server.2=192.168.1.102:2555:3555
server.3=192.168.1.103:2555:3555
server.4=192.168.1.104:2555:3555:observer
peerType=observer
`

// A 3.5+ file with the client port in the server lines, blanks, '!'
// comments, ':' and blank separators and a continued line.
const cfg38 = `! zkstage lab
tickTime = 200
initLimit: 10
syncLimit 5
dataDir=/var/lib/zookeeper
4lw.commands.whitelist=conf,mntr,ruok,srvr
admin.enableServer=false
reconfigEnabled=false
standaloneEnabled=false
   # indented comment
server.1=127.0.51.1:2555:3555:participant;2181
server.2=127.0.51.2:2555:3555;0.0.0.0:2181
server.3=[::1]:2556:3556:observer;\
    [::1]:2182
`

func TestParse(t *testing.T) {
	tests := []struct {
		name     string
		src      string
		servers  []Server
		entries  map[string]string
		peerType string
	}{
		{
			name: "3.4 with observer and peerType",
			src:  cfg34,
			servers: []Server{
				{ID: 0, Address: "192.168.1.100", QuorumPort: 2555, ElectionPort: 3555, Role: "participant", Line: 10},
				{ID: 1, Address: "192.168.1.101", QuorumPort: 2555, ElectionPort: 3555, Role: "participant", Line: 11},
				{ID: 2, Address: "192.168.1.102", QuorumPort: 2555, ElectionPort: 3555, Role: "participant", Line: 12},
				{ID: 3, Address: "192.168.1.103", QuorumPort: 2555, ElectionPort: 3555, Role: "participant", Line: 13},
				{ID: 4, Address: "192.168.1.104", QuorumPort: 2555, ElectionPort: 3555, Role: "observer", Line: 14},
			},
			entries:  map[string]string{"tickTime": "2000", "initLimit": "10", "syncLimit": "5", "dataDir": "/var/lib/zookeeper", "clientPort": "2181", "peerType": "observer"},
			peerType: "observer",
		},
		{
			name: "3.5+ forms, separators, IPv6, continuation",
			src:  cfg38,
			servers: []Server{
				{ID: 1, Address: "127.0.51.1", QuorumPort: 2555, ElectionPort: 3555, Role: "participant", ClientPort: 2181, Line: 11},
				{ID: 2, Address: "127.0.51.2", QuorumPort: 2555, ElectionPort: 3555, Role: "participant", ClientAddr: "0.0.0.0", ClientPort: 2181, Line: 12},
				{ID: 3, Address: "::1", QuorumPort: 2556, ElectionPort: 3556, Role: "observer", ClientAddr: "::1", ClientPort: 2182, Line: 13},
			},
			entries: map[string]string{"tickTime": "200", "initLimit": "10", "syncLimit": "5", "dataDir": "/var/lib/zookeeper",
				"4lw.commands.whitelist": "conf,mntr,ruok,srvr", "admin.enableServer": "false", "reconfigEnabled": "false", "standaloneEnabled": "false"},
		},
		{
			name:    "CRLF, escapes and trailing blanks",
			src:     "tickTime=2000  \r\ndataDir=C:\\\\zk\\u0041\r\nserver.1=h:1:2\r\n",
			servers: []Server{{ID: 1, Address: "h", QuorumPort: 1, ElectionPort: 2, Role: "participant", Line: 3}},
			entries: map[string]string{"tickTime": "2000", "dataDir": `C:\zkA`},
		},
		{
			name:    "key without value",
			src:     "server.1=h:1:2\nautopurge.snapRetainCount\n",
			servers: []Server{{ID: 1, Address: "h", QuorumPort: 1, ElectionPort: 2, Role: "participant", Line: 1}},
			entries: map[string]string{"autopurge.snapRetainCount": ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("zoo.cfg", []byte(tt.src))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			for i := range tt.servers {
				tt.servers[i].File = "zoo.cfg"
			}
			if !reflect.DeepEqual(c.Servers, tt.servers) {
				t.Errorf("servers\n got %+v\nwant %+v", c.Servers, tt.servers)
			}
			got := map[string]string{}
			for _, e := range c.Entries {
				got[e.Key] = e.Value
				if e.File != "zoo.cfg" || e.Line < 1 {
					t.Errorf("entry %s has no position: %+v", e.Key, e)
				}
			}
			if !reflect.DeepEqual(got, tt.entries) {
				t.Errorf("entries\n got %v\nwant %v", got, tt.entries)
			}
			if c.PeerType() != tt.peerType {
				t.Errorf("PeerType() = %q, want %q", c.PeerType(), tt.peerType)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"port out of range", "server.0=192.168.3.1:2555:355555\n",
			[]string{"zoo.cfg:1: server.0: election port 355555 is outside 1..65535"}},
		{"duplicate id", "server.1=a:1:2\n# x\nserver.1=b:1:2\n",
			[]string{"zoo.cfg:3: server.1: duplicate server id 1 (also line 1)"}},
		{"duplicate id written differently", "server.1=a:1:2\nserver.01=b:1:2\n",
			[]string{"zoo.cfg:2: server.01: duplicate server id 1 (also line 1)"}},
		{"malformed server line", "tickTime=2000\nserver.2=zoo2\n",
			[]string{`zoo.cfg:2: server.2: malformed server line "zoo2": want host:quorumPort:electionPort[:role][;[clientAddr:]clientPort]`}},
		{"empty file", "", []string{"zoo.cfg:1: empty file: no key=value line"}},
		{"comments only", "# nothing\n\n   ! here\n", []string{"zoo.cfg:1: empty file: no key=value line"}},
		{"hierarchical quorums", "server.1=a:1:2\ngroup.1=1:2:3\nweight.1=1\n", []string{
			"zoo.cfg:2: group.1: hierarchical quorums (group.N, weight.N) are not supported yet",
			"zoo.cfg:3: weight.1: hierarchical quorums (group.N, weight.N) are not supported yet"}},
		{"bad clientPort", "clientPort=0\nserver.1=a:1:2\n", []string{"zoo.cfg:1: clientPort: port 0 is outside 1..65535"}},
		{"bad tickTime", "tickTime=fast\nserver.1=a:1:2\n", []string{`zoo.cfg:1: tickTime: value "fast" is not a positive number`}},
		{"bad peerType", "peerType=leader\nserver.1=a:1:2\n", []string{`zoo.cfg:1: peerType: unknown role "leader" (want participant or observer)`}},
		{"bad unicode escape", "dataDir=/x\\u00zz\n", []string{`zoo.cfg:1: dataDir: malformed \uxxxx escape`}},
		{"server lines with dynamicConfigFile", "dynamicConfigFile=zoo.cfg.dynamic\nserver.1=a:1:2\n",
			[]string{"zoo.cfg:2: server.1: server lines must be in the dynamic config file when dynamicConfigFile is set (line 1)"}},
		{"several errors in file order", "server.1=a:1:2\nserver.2=b:1:70000\nserver.1=c:1:2\n", []string{
			"zoo.cfg:2: server.2: election port 70000 is outside 1..65535",
			"zoo.cfg:3: server.1: duplicate server id 1 (also line 1)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("zoo.cfg", []byte(tt.src))
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			errs, ok := err.(Errors)
			if !ok {
				t.Fatalf("error is %T, want Errors", err)
			}
			var got []string
			for _, e := range errs {
				got = append(got, e.Error())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestParseDynamic(t *testing.T) {
	c, err := ParseDynamic("zoo.cfg.dynamic.100000000", []byte("server.1=a:1:2;2181\nserver.2=b:1:2:observer;2181\nversion=100000000\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Servers) != 2 || c.Servers[1].Role != RoleObserver {
		t.Errorf("servers = %+v", c.Servers)
	}
	if v, _ := c.Get(KeyVersion); v.Value != "100000000" {
		t.Errorf("version = %q", v.Value)
	}
	_, err = ParseDynamic("dyn", []byte("server.1=a:1:2\ntickTime=2000\n"))
	want := "dyn:2: tickTime: only server.N lines (and version) belong in a dynamic config file"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}

func TestDuplicateKeyWarning(t *testing.T) {
	c, err := Parse("zoo.cfg", []byte("tickTime=2000\nserver.1=a:1:2\ntickTime=3000\n"))
	if err != nil {
		t.Fatal(err)
	}
	if e, _ := c.Get("tickTime"); e.Value != "3000" || e.Line != 3 {
		t.Errorf("Get(tickTime) = %+v, want the last one (line 3)", e)
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0].Error(), "zoo.cfg:3: tickTime: duplicate key (also line 1)") {
		t.Errorf("warnings = %v", c.Warnings)
	}
}

func TestParseFileMissing(t *testing.T) {
	_, err := ParseFile("testdata/does-not-exist.cfg")
	want := "testdata/does-not-exist.cfg: no such file or directory"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}
