package zoocfg

import (
	"testing"
)

func TestParseServerLine(t *testing.T) {
	tests := []struct {
		name       string
		key, value string
		want       Server
	}{
		{"3.4 participant", "server.1", "zoo1:2888:3888",
			Server{ID: 1, Address: "zoo1", QuorumPort: 2888, ElectionPort: 3888, Role: "participant"}},
		{"3.4 observer", "server.4", "192.168.1.104:2555:3555:observer",
			Server{ID: 4, Address: "192.168.1.104", QuorumPort: 2555, ElectionPort: 3555, Role: "observer"}},
		{"id 0", "server.0", "192.168.1.100:2555:3555",
			Server{ID: 0, Address: "192.168.1.100", QuorumPort: 2555, ElectionPort: 3555, Role: "participant"}},
		{"3.5 client port", "server.2", "zoo2:2888:3888;2181",
			Server{ID: 2, Address: "zoo2", QuorumPort: 2888, ElectionPort: 3888, Role: "participant", ClientPort: 2181}},
		{"3.5 role and client addr", "server.3", "zoo3:2888:3888:participant;0.0.0.0:2181",
			Server{ID: 3, Address: "zoo3", QuorumPort: 2888, ElectionPort: 3888, Role: "participant", ClientAddr: "0.0.0.0", ClientPort: 2181}},
		{"3.5 observer with client port", "server.5", "10.0.0.5:2888:3888:observer;2181",
			Server{ID: 5, Address: "10.0.0.5", QuorumPort: 2888, ElectionPort: 3888, Role: "observer", ClientPort: 2181}},
		{"role case-insensitive", "server.6", "h:1:2:OBSERVER",
			Server{ID: 6, Address: "h", QuorumPort: 1, ElectionPort: 2, Role: "observer"}},
		{"IPv6 in brackets", "server.7", "[2001:db8::7]:2888:3888",
			Server{ID: 7, Address: "2001:db8::7", QuorumPort: 2888, ElectionPort: 3888, Role: "participant"}},
		{"IPv6 client addr", "server.8", "[::1]:2888:3888:participant;[::1]:2181",
			Server{ID: 8, Address: "::1", QuorumPort: 2888, ElectionPort: 3888, Role: "participant", ClientAddr: "::1", ClientPort: 2181}},
		{"trailing semicolon ignored like Java split", "server.9", "h:2888:3888;",
			Server{ID: 9, Address: "h", QuorumPort: 2888, ElectionPort: 3888, Role: "participant"}},
		{"conf 4lw output", "server.1", "127.0.51.1:2555:3555:participant;0.0.0.0:2181",
			Server{ID: 1, Address: "127.0.51.1", QuorumPort: 2555, ElectionPort: 3555, Role: "participant", ClientAddr: "0.0.0.0", ClientPort: 2181}},
		{"surrounding blanks trimmed", " server.10 ", "  h:1:2  ",
			Server{ID: 10, Address: "h", QuorumPort: 1, ElectionPort: 2, Role: "participant"}},
		{"port bounds", "server.11", "h:1:65535",
			Server{ID: 11, Address: "h", QuorumPort: 1, ElectionPort: 65535, Role: "participant"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseServerLine(tt.key, tt.value)
			if err != nil {
				t.Fatalf("ParseServerLine(%q, %q): %v", tt.key, tt.value, err)
			}
			if got != tt.want {
				t.Errorf("ParseServerLine(%q, %q)\n got %+v\nwant %+v", tt.key, tt.value, got, tt.want)
			}
		})
	}
}

func TestParseServerLineErrors(t *testing.T) {
	tests := []struct {
		key, value string
		want       string
	}{
		{"server.0", "192.168.3.1:2555:355555", "election port 355555 is outside 1..65535"},
		{"server.0", "192.168.3.1:0:3555", "quorum port 0 is outside 1..65535"},
		{"server.0", "h:2888:3888;70000", "client port 70000 is outside 1..65535"},
		{"server.0", "h:2888:99999999999999999999", "election port 99999999999999999999 is outside 1..65535"},
		{"server.0", "h:28a8:3888", `quorum port "28a8" is not a number`},
		{"server.0", "h:2888:", "election port is empty"},
		{"server.0", "h:2888", `malformed server line "h:2888": missing election port (want host:quorumPort:electionPort)`},
		{"server.0", "h", `malformed server line "h": want host:quorumPort:electionPort[:role][;[clientAddr:]clientPort]`},
		{"server.0", "", "empty server line: want host:quorumPort:electionPort[:role][;[clientAddr:]clientPort]"},
		{"server.0", ":2888:3888", `malformed server line ":2888:3888": empty host`},
		{"server.0", "fe80::1:2888:3888", `malformed server line "fe80::1:2888:3888": too many ':'-separated fields (an IPv6 address must be in brackets, e.g. [::1]:2888:3888)`},
		{"server.0", "[fe80::1:2888:3888", `malformed server line "[fe80::1:2888:3888": starts with '[' but has no matching ']'`},
		{"server.0", "[fe80::1]2888:3888", `malformed server line "[fe80::1]2888:3888": no ':' after ']'`},
		{"server.0", "[ ]:1:1", `malformed server line "[ ]:1:1": invalid character ' ' in host " "`},
		{"server.0", "h:2888:3888:leader", `unknown role "leader" (want participant or observer)`},
		{"server.0", "h:2888:3888;a;b", `malformed server line "h:2888:3888;a;b": more than one ';'`},
		{"server.0", "h:2888:3888;a:b:2181", `malformed client address "a:b:2181": want [clientAddr:]clientPort`},
		{"server.0", "a:2888:3888|b:2888:3888", "multiple addresses per server (3.6+ '|' form) are not supported yet"},
		{"server.x", "h:1:2", `server id "x" is not a non-negative number`},
		{"server.-1", "h:1:2", `server id "-1" is not a non-negative number`},
		{"server.", "h:1:2", `missing server id after "server."`},
		{"server.99999999999", "h:1:2", `server id "99999999999" is out of range`},
		{"srv.1", "h:1:2", `not a server line (key "srv.1" does not start with "server.")`},
	}
	for _, tt := range tests {
		t.Run(tt.key+"="+tt.value, func(t *testing.T) {
			_, err := ParseServerLine(tt.key, tt.value)
			if err == nil {
				t.Fatalf("ParseServerLine(%q, %q): no error, want %q", tt.key, tt.value, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("ParseServerLine(%q, %q)\n got error %q\nwant error %q", tt.key, tt.value, err, tt.want)
			}
		})
	}
}

// Value must render a line that parses back to the same server.
func TestServerValueRoundTrip(t *testing.T) {
	for _, v := range []string{
		"h:1:2", "h:1:2:observer", "h:1:2;2181", "h:1:2:observer;10.0.0.1:2181",
		"[::1]:2888:3888", "[::1]:2888:3888;[::1]:2181",
	} {
		s, err := ParseServerLine("server.3", v)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseServerLine(s.Key(), s.Value())
		if err != nil || back != s {
			t.Errorf("%q -> %q -> %+v, %v; want %+v", v, s.Value(), back, err, s)
		}
	}
}
