package schema

import (
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	cueerrors "cuelang.org/go/cue/errors"
)

// Every input that could reach zoo.cfg unchecked, or that CUE reports
// badly, is refused with file:line:col, the field and a message.
func TestLoadRefusesInput(t *testing.T) {
	for _, tc := range []struct{ name, extra, want string }{
		// Injection through a line break, and addresses that are none.
		{"address newline", `hosts: h4: {address: "10.0.0.4\nserver.4=6.6.6.6:2888:3888", dc: "a"}`, `t/cluster.cue:9:13: hosts.h4.address: "10.0.0.4\nserver.4=6.6.6.6:2888:3888" holds a control character`},
		{"address with port", `hosts: h4: {address: "host:1234", dc: "a"}`, `t/cluster.cue:9:13: hosts.h4.address: "host:1234" is not an IPv6 address (and an address has no port`},
		{"address octet", `hosts: h4: {address: "192.168.2.500", dc: "a"}`, `t/cluster.cue:9:13: hosts.h4.address: "192.168.2.500" is not a valid IPv4 address`},
		{"address leading zero", `hosts: h4: {address: "010.0.0.1", dc: "a"}`, `t/cluster.cue:9:13: hosts.h4.address: "010.0.0.1" is not a valid IPv4 address`},
		{"address blank inside", `hosts: h4: {address: "zk bad", dc: "a"}`, `t/cluster.cue:9:13: hosts.h4.address: "zk bad" is not an IPv4 or IPv6 address or a host name`},
		{"address blank", `hosts: h4: {address: " ", dc: "a"}`, `t/cluster.cue:9:13: hosts.h4.address: " " is not an IPv4 or IPv6 address or a host name`},
		{"address open bracket", `hosts: h4: {address: "[10.0.0.3", dc: "a"}`, `t/cluster.cue:9:13: hosts.h4.address: "[10.0.0.3": brackets hold an IPv6 literal`},
		{"address zone", `hosts: h4: {address: "fe80::1%eth0", dc: "a"}`, `t/cluster.cue:9:13: hosts.h4.address: "fe80::1%eth0": an IPv6 zone (%eth0) is not supported`},
		// Identity: one address, several spellings.
		{"same ipv6", `hosts: h4: {address: "::1", dc: "a"}
hosts: h5: {address: "[::1]", dc: "a"}`, `t/cluster.cue:10:13: hosts.h5.address: duplicate address and port [::1]:2181 (client port, already used by host "h4")`},
		{"same ipv6 long", `hosts: h4: {address: "::1", dc: "a"}
hosts: h5: {address: "0:0:0:0:0:0:0:1", dc: "a"}`, `t/cluster.cue:10:13: hosts.h5.address: duplicate address and port [0:0:0:0:0:0:0:1]:2181`},
		{"mapped ipv4", `hosts: h4: {address: "::ffff:10.0.0.1", dc: "a"}`, `t/cluster.cue:9:13: hosts.h4.address: duplicate address and port [::ffff:10.0.0.1]:2181 (client port, already used by host "h1")`},
		{"host name case", `hosts: h4: {address: "zk.example.com", dc: "a"}
hosts: h5: {address: "ZK.Example.COM", dc: "a"}`, `t/cluster.cue:10:13: hosts.h5.address: duplicate address and port ZK.Example.COM:2181`},
		// Names that become folders, file names and comments.
		{"dc newline", `datacenters: "a\nserver.9=x": {}`, `t/cluster.cue:9:14: datacenters."a\nserver.9=x": datacenter name "a\nserver.9=x": letters, digits, '_' and '-'`},
		{"host stage.json", `hosts: "stage.json": {address: "10.0.0.9", dc: "a"}`, `t/cluster.cue:9:8: hosts."stage.json": host name "stage.json" is the name of the stage manifest`},
		{"host too long", `hosts: "` + strings.Repeat("h", 256) + `": {address: "10.0.0.9", dc: "a"}`, `t/cluster.cue:9:8: hosts.` + strings.Repeat("h", 256) + `: a host name is at most 255 bytes (it names a folder): this one has 256`},
		{"host bad name", `hosts: "h 9": {address: "10.0.0.9", dc: "a"}`, `t/cluster.cue:9:8: hosts."h 9": host name "h 9": letters, digits, '.' and '-'`},
		{"host case collision", `hosts: H1: {address: "10.0.0.9", dc: "a"}`, `t/cluster.cue:5:2: hosts.h1: host name "h1" differs from "H1" only in letter case`},
		// Paths and extra values.
		{"dataDir newline", `settings: dataDir: "/d\nserver.9=1.2.3.4:1:2"`, `t/cluster.cue:9:11: settings.dataDir: "/d\nserver.9=1.2.3.4:1:2" holds a control character`},
		{"dataLogDir newline", `settings: dataLogDir: "/d\rx"`, `t/cluster.cue:9:11: settings.dataLogDir: "/d\rx" holds a control character`},
		{"extra control", `settings: extra: autopurge: "a\u0000b"`, `t/cluster.cue:9:18: settings.extra.autopurge: the value holds a control character`},
		// Values.
		{"tickTime beyond int", `settings: tickTime: 2147483648`, `t/cluster.cue:9:11: settings.tickTime: invalid value 2147483648 (out of bound <=2147483647)`},
		{"tickTime string", `settings: tickTime: "2000"`, `t/cluster.cue:9:11: settings.tickTime: invalid value "2000": want a number (int, without quotes), not a string`},
		{"admin port is client port", `settings: adminServer: {enabled: true, port: 2181}`, `t/cluster.cue:9:40: settings.adminServer.port: AdminServer port 2181 is also the client port of host "h1"`},
		{"myid beyond int64", `hosts: h4: {address: "10.0.0.4", dc: "a", myid: 99999999999999999999}`, `t/cluster.cue:9:43: hosts.h4.myid: myid 99999999999999999999 out of range (at most 255)`},
		// Messages: a value defined twice, patterns in words.
		{"defined twice", `name: "u"`, `t/cluster.cue:9:7: name: defined twice with different values: "t" at 1:7 and "u" at 9:7`},
		{"name pattern", `name: _|_ | "T"`, "name: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := LoadBytes("t/cluster.cue", spec("3.8.0", tc.extra+"\n"))
			if err == nil {
				t.Fatal("no error")
			}
			if got := positioned(err); !strings.Contains(got, tc.want) {
				t.Errorf("error\n got %q\nwant %q in it", got, tc.want)
			}
		})
	}
	_, _, err := LoadBytes("t/cluster.cue", spec("3.8.99999999999999999999", ""))
	if want := `t/cluster.cue:2:1: version: version "3.8.99999999999999999999": "99999999999999999999" is not a number`; err == nil || positioned(err) != want {
		t.Errorf("version beyond int: %v, want %q", err, want)
	}
}

// Bytes that are not spec text are refused once, at the first offender,
// before CUE reads them; the size is capped.
func TestLoadRefusesText(t *testing.T) {
	nul := `name: "a` + strings.Repeat("\x00", 1000) + `"`
	for _, tc := range []struct{ name, src, want string }{
		{"nul bytes", nul, `t/cluster.cue:1:9: NUL byte: a spec is UTF-8 text`},
		{"not utf-8", "name: \"t\"\nversion: \"\xff\"\n", `t/cluster.cue:2:11: byte 0xff is not UTF-8`},
		{"control", "name: \"t\x1b\"\n", `t/cluster.cue:1:9: control character U+001B`},
		{"too large", "// " + strings.Repeat("x", MaxSpecBytes), `t/cluster.cue:1:1: the spec is 1048579 bytes, more than the limit of 1048576`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := LoadBytes("t/cluster.cue", []byte(tc.src))
			if err == nil {
				t.Fatal("no error")
			}
			got := positioned(err)
			if !strings.Contains(got, tc.want) || strings.Count(got, "\n") > 0 {
				t.Errorf("error\n got %q\nwant one line with %q", got, tc.want)
			}
		})
	}
}

// Load reads regular files only: a named pipe would block for ever.
func TestLoadRefusesFIFO(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "cluster.cue"), 0o644); err != nil {
		t.Skip(err)
	}
	_, _, err := Load(dir)
	if err == nil || !strings.Contains(err.Error(), "cluster.cue: not a regular file (named pipe)") {
		t.Fatalf("error %v, want a refusal of the named pipe", err)
	}
}

// CUE's error count is capped: a spec with many errors lists MaxErrors and
// the count of the rest.
func TestLoadCapsErrors(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&b, "hosts: x%d: {address: \"10.1.0.%d\", dc: \"a\", zone: 1}\n", i, i)
	}
	_, _, err := LoadBytes("t/cluster.cue", spec("3.8.0", b.String()))
	list := cueerrors.Errors(err)
	if len(list) != MaxErrors+1 || !strings.Contains(list[MaxErrors].Error(), "and 150 more errors") {
		t.Fatalf("%d errors, last %v; want %d and a count", len(list), list[len(list)-1], MaxErrors+1)
	}
}

// A prefixed TTL key is a warning: it has no effect in zoo.cfg.
func TestLoadWarnsPrefixedTTLKey(t *testing.T) {
	_, warns, err := LoadBytes("t/cluster.cue", spec("3.8.0", `settings: extra: "zookeeper.extendedTypesEnabled": "true"`+"\n"))
	if err != nil || len(warns) != 1 || !strings.Contains(warns[0].String(), `t/cluster.cue:9:18: settings.extra."zookeeper.extendedTypesEnabled": ZooKeeper adds the "zookeeper." prefix`) {
		t.Fatalf("warnings %v, err %v", warns, err)
	}
}

// BenchmarkLoadNUL loads a 200 kB spec of NUL bytes inside a string (45 s
// before the text check, since CUE reports each NUL on its own).
func BenchmarkLoadNUL(b *testing.B) {
	src := []byte(`name: "a` + strings.Repeat("\x00", 200_000) + `"` + "\n")
	for b.Loop() {
		if _, _, err := LoadBytes("t/cluster.cue", src); err == nil {
			b.Fatal("no error")
		}
	}
}

// clientBind defaults to "any" on 3.4 (no clientPortAddress), "address" on
// 3.5+; a 3.4 spec that says "address" keeps it.
func TestClientBindDefault(t *testing.T) {
	for _, tc := range []struct{ version, extra, want string }{
		{"3.4.6", "", "any"},
		{"3.4.6", `settings: clientBind: "address"`, "address"},
		{"3.8.0", "", "address"},
		{"3.8.0", `settings: clientBind: "any"`, "any"},
	} {
		c, _, err := LoadBytes("t/cluster.cue", spec(tc.version, tc.extra+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		if c.Settings.ClientBind != tc.want {
			t.Errorf("%s %q: clientBind %s, want %s", tc.version, tc.extra, c.Settings.ClientBind, tc.want)
		}
	}
}
