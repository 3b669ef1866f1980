package verify

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func read(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseSrvr(t *testing.T) {
	tests := []struct {
		file, mode, version string
		zxid                int64
		nodes               int64
	}{
		{"3.8.0-leader.srvr", "leader", "3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC", 0x100000000, 5},
		{"3.8.0-follower.srvr", "follower", "3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC", 0, 5},
		{"3.8.0-observer.srvr", "observer", "3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC", 0, 5},
		{"3.4.6-follower.srvr", "follower", "3.4.6-1569965, built on 02/20/2014 09:09 GMT", 0x100000000, 4},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			s, err := ParseSrvr(read(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if s.Mode != tc.mode || s.Version != tc.version || s.Zxid != tc.zxid || s.NodeCount != tc.nodes {
				t.Errorf("got %+v", s)
			}
		})
	}
	if s, _ := ParseSrvr(read(t, "3.4.6-follower.srvr")); s.Epoch() != 1 || s.Counter() != 0 {
		t.Errorf("epoch/counter of 0x100000000: %d %d", s.Epoch(), s.Counter())
	}
	for _, bad := range []string{"", "HTTP/1.1 400 Bad Request\r\n\r\n", read(t, "3.8.0-notserving.srvr"), "Zookeeper version: x\nZxid: 0xzz\nMode: leader\n"} {
		if _, err := ParseSrvr(bad); err == nil {
			t.Errorf("ParseSrvr(%q) accepted", bad)
		}
	}
}

func TestParseMntr(t *testing.T) {
	tests := []struct {
		file, state string
		want        map[string]int64
		absent      []string
	}{
		{"3.8.0-leader.mntr", "leader", map[string]int64{"zk_synced_followers": 1, "zk_synced_observers": 1, "zk_learners": 2, "zk_quorum_size": 2, "zk_synced_non_voting_followers": 0}, nil},
		{"3.8.0-follower.mntr", "follower", map[string]int64{"zk_quorum_size": 2}, []string{"zk_synced_followers", "zk_learners"}},
		{"3.8.0-observer.mntr", "observer", nil, []string{"zk_synced_followers"}},
		{"3.4.6-leader.mntr", "leader", map[string]int64{"zk_followers": 4, "zk_synced_followers": 4, "zk_pending_syncs": 0}, []string{"zk_quorum_size", "zk_learners", "zk_synced_observers"}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			m, err := ParseMntr(read(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if m.State() != tc.state {
				t.Errorf("state %q, want %q", m.State(), tc.state)
			}
			for k, v := range tc.want {
				if got, ok := m.Int(k); !ok || got != v {
					t.Errorf("%s = %d (%v), want %d", k, got, ok, v)
				}
			}
			for _, k := range tc.absent {
				if _, ok := m[k]; ok {
					t.Errorf("%s present", k)
				}
			}
		})
	}
	for _, bad := range []string{"", "garbage\n", "zk_version\t3.8.0\n"} {
		if _, err := ParseMntr(bad); err == nil {
			t.Errorf("ParseMntr(%q) accepted", bad)
		}
	}
}

func TestParseConf(t *testing.T) {
	c, err := ParseConf(read(t, "3.8.0-observer.conf"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"server.1=127.0.99.1:2555:3555;127.0.99.1:2181 participant",
		"server.2=127.0.99.2:2555:3555;127.0.99.2:2181 participant",
		"server.3=127.0.99.3:2555:3555:observer;127.0.99.3:2181 observer",
	}
	if !c.HasMembership || c.ServerID != 3 || c.ConfigVersion != "0" || len(c.Members) != 3 {
		t.Fatalf("got %+v", c)
	}
	for i, w := range want {
		if got := lineText(c.Members[i]); got != w {
			t.Errorf("member %d: %s, want %s", i, got, w)
		}
	}
	old, err := ParseConf(read(t, "3.4.6-follower.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if old.HasMembership || len(old.Members) != 0 || old.ServerID != 1 || old.Settings["quorumPort"] != "2555" {
		t.Errorf("3.4 conf: %+v", old)
	}
	for _, bad := range []string{"", "garbage", "membership: \nserver.x=1:2:3\n", "membership: \nserver.1=127.0.0.1:2555\n", "membership: \nserver.1=127.0.0.1:2555:355555\n", "membership: \nserver.1=a:1:2:boss\n"} {
		if _, err := ParseConf(bad); err == nil {
			t.Errorf("ParseConf(%q) accepted", bad)
		}
	}
}

func TestParseServerLineForms(t *testing.T) {
	tests := []struct{ key, value, want string }{
		{"server.1", "127.0.0.1:2555:3555", "server.1=127.0.0.1:2555:3555 participant"},
		{"server.2", "127.0.0.2:2555:3555:observer;2181", "server.2=127.0.0.2:2555:3555:observer;2181 observer"},
		{"server.3", "127.0.0.3:2555:3555:participant;0.0.0.0:2181", "server.3=127.0.0.3:2555:3555;0.0.0.0:2181 participant"},
		// render writes IPv6 addresses in brackets; conf prints them so too.
		{"server.4", "[fd00::4]:2555:3555:participant;[fd00::4]:2181", "server.4=[fd00::4]:2555:3555;[fd00::4]:2181 participant"},
	}
	for _, tc := range tests {
		s, err := ParseServerLine(tc.key, tc.value)
		if err != nil || lineText(s) != tc.want {
			t.Errorf("%s=%s: %s %v, want %s", tc.key, tc.value, lineText(s), err, tc.want)
		}
	}
	lines, version, err := ParseDynamicConfig("server.1=127.0.0.1:2555:3555:participant;0.0.0.0:2181\nversion=100000000\n")
	if err != nil || len(lines) != 1 || version != "100000000" {
		t.Errorf("dynamic config: %v %q %v", lines, version, err)
	}
}

// lineText is a server line as ZooKeeper writes it, then its role.
func lineText(s ServerLine) string { return s.Key() + "=" + s.Value() + " " + s.Role }

// fakeServer answers every connection with answer (or never, when answer is
// nil) and returns its address.
func fakeServer(t *testing.T, addr string, answer func(word string) string) string {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				buf := make([]byte, 4)
				_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
				n, _ := c.Read(buf)
				if answer == nil {
					time.Sleep(5 * time.Second)
					return
				}
				_, _ = c.Write([]byte(answer(string(buf[:n]))))
			}(c)
		}
	}()
	return ln.Addr().String()
}

func TestWordErrors(t *testing.T) {
	ctx := context.Background()
	silent := fakeServer(t, "127.0.29.1:0", nil)
	garbageSrv := fakeServer(t, "127.0.29.2:0", func(string) string { return "HTTP/1.1 400 Bad Request\r\n\r\n" })
	notWL := fakeServer(t, "127.0.29.3:0", func(w string) string { return w + " is not executed because it is not in the whitelist.\n" })
	closed := fakeServer(t, "127.0.29.4:0", func(string) string { return "" })
	// A port nothing listens on: listen, note the address, close.
	ln, err := net.Listen("tcp", "127.0.29.5:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := ln.Addr().String()
	ln.Close()

	tests := []struct {
		addr string
		kind ErrorKind
		msg  string
	}{
		{silent, ErrTimeout, "timeout"},
		{refused, ErrRefused, "connection refused"},
		{notWL, ErrNotWhitelisted, "add mntr to 4lw.commands.whitelist"},
		{closed, ErrEmpty, "empty answer"},
	}
	for _, tc := range tests {
		start := time.Now()
		_, err := Word(ctx, tc.addr, "mntr", 300*time.Millisecond)
		var we *WordError
		if !errors.As(err, &we) || we.Kind != tc.kind || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: got %v, want %s (%q)", tc.addr, err, tc.kind, tc.msg)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: took %s with a 300ms timeout", tc.addr, d)
		}
	}
	p := ProbeHost(ctx, "127.0.29.2", mustPort(t, garbageSrv), 300*time.Millisecond)
	if p.Serving() || p.SrvrErr == nil || !strings.Contains(p.SrvrErr.Error(), "garbage answer") {
		t.Errorf("garbage listener: %+v", p)
	}
}

func mustPort(t *testing.T, addr string) int {
	_, p, _ := net.SplitHostPort(addr)
	n := 0
	for _, c := range p {
		n = n*10 + int(c-'0')
	}
	return n
}
