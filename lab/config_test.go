package lab

import (
	"strings"
	"testing"
)

func TestParseHostFilesRefuses(t *testing.T) {
	good := "clientPort=2181\nserver.1=127.0.11.1:2555:3555;2181\nserver.2=127.0.11.2:2555:3555;2181\n"
	tests := []struct {
		name, cfg, myid, want string
	}{
		{"outside loopback", "clientPort=2181\nserver.1=192.168.1.100:2555:3555;2181\n", "1", `zk1/zoo.cfg:2: server.1: address "192.168.1.100" is outside 127.0.0.0/8`},
		{"peer outside loopback", "clientPort=2181\nserver.1=127.0.11.1:2555:3555\nserver.2=10.0.0.1:2555:3555\n", "1", `zk1/zoo.cfg:3: server.2: address "10.0.0.1"`},
		{"hostname", "clientPort=2181\nserver.1=localhost:2555:3555\n", "1", `address "localhost" is outside 127.0.0.0/8`},
		{"own id missing", good, "7", "no server.7 line for the host's own id"},
		{"bad myid", good, "x", `zk1/myid: "x" is not a server id`},
		{"bad client port", "clientPort=21x\n", "1", "zk1/zoo.cfg:1: clientPort"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseHostFiles("zk1", []byte(tc.cfg), []byte(tc.myid), nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestLabConfigOverrides(t *testing.T) {
	in := "tickTime=2000\ninitLimit=10\ndataDir=/var/lib/zookeeper\nclientPort=2181\n" +
		"4lw.commands.whitelist=conf,mntr,ruok,srvr\nadmin.enableServer=true\nadmin.serverPort=8080\n" +
		"server.1=127.0.11.1:2555:3555;2181\nserver.2=127.0.11.2:2555:3555:observer;0.0.0.0:2181\nserver.3=127.0.11.3:2555:3555\n"
	hc, err := parseHostFiles("zk2", []byte(in), []byte("2\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if hc.Address != "127.0.11.2" || hc.ClientPort != 2181 || hc.MyID != 2 {
		t.Fatalf("parsed %+v", hc)
	}
	got := string(labConfig(hc, "/state/zk2/data", 200, "3.8.0", map[string]string{"4lw.commands.whitelist": "srvr,conf"}))
	want := "tickTime=200\ninitLimit=10\ndataDir=/state/zk2/data\nclientPort=2181\n" +
		"4lw.commands.whitelist=srvr,conf\nadmin.enableServer=false\nadmin.serverPort=8080\n" +
		"server.1=127.0.11.1:2555:3555;127.0.11.1:2181\nserver.2=127.0.11.2:2555:3555:observer;127.0.11.2:2181\nserver.3=127.0.11.3:2555:3555\n" +
		"# zkstage lab overrides\nclientPortAddress=127.0.11.2\ndataLogDir=/state/zk2/data\n"
	if got != want {
		t.Errorf("lab config:\n%s\nwant:\n%s", got, want)
	}
}

// The overrides a version does not know are not written: 3.4 has no
// AdminServer, and no whitelist before 3.4.10.
func TestLabConfigOverridesByVersion(t *testing.T) {
	// What the renderer writes for 3.4: clientPort, no roles, no client
	// part on the server lines.
	in34 := "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=/var/lib/zookeeper\nclientPort=2181\n" +
		"server.1=127.0.11.1:2555:3555\nserver.2=127.0.11.2:2555:3555\n"
	in35 := "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=/var/lib/zookeeper\n" +
		"4lw.commands.whitelist=conf,mntr,ruok,srvr\nadmin.enableServer=false\n" +
		"server.1=127.0.11.1:2555:3555:participant;127.0.11.1:2181\nserver.2=127.0.11.2:2555:3555:participant;127.0.11.2:2181\n"
	tail34 := "server.1=127.0.11.1:2555:3555\nserver.2=127.0.11.2:2555:3555\n# zkstage lab overrides\n"
	tests := []struct {
		version, in, want string
	}{
		{"3.4.6", in34, "tickTime=200\ninitLimit=10\nsyncLimit=5\ndataDir=/d\nclientPort=2181\n" + tail34 +
			"clientPortAddress=127.0.11.1\ndataLogDir=/d\n"},
		{"3.4.14", in34, "tickTime=200\ninitLimit=10\nsyncLimit=5\ndataDir=/d\nclientPort=2181\n" + tail34 +
			"4lw.commands.whitelist=*\nclientPortAddress=127.0.11.1\ndataLogDir=/d\n"},
		{"3.5.10", in35, "tickTime=200\ninitLimit=10\nsyncLimit=5\ndataDir=/d\n4lw.commands.whitelist=*\nadmin.enableServer=false\n" +
			"server.1=127.0.11.1:2555:3555:participant;127.0.11.1:2181\nserver.2=127.0.11.2:2555:3555:participant;127.0.11.2:2181\n" +
			"# zkstage lab overrides\ndataLogDir=/d\n"},
		// Unknown: every override, as before versions were told apart.
		{"", in34, "tickTime=200\ninitLimit=10\nsyncLimit=5\ndataDir=/d\nclientPort=2181\n" + tail34 +
			"4lw.commands.whitelist=*\nadmin.enableServer=false\nclientPortAddress=127.0.11.1\ndataLogDir=/d\n"},
	}
	for _, tc := range tests {
		t.Run("v"+tc.version, func(t *testing.T) {
			hc, err := parseHostFiles("zk1", []byte(tc.in), []byte("1\n"), nil)
			if err != nil {
				t.Fatal(err)
			}
			if hc.ClientPort != 2181 || hc.Address != "127.0.11.1" {
				t.Fatalf("parsed %+v", hc)
			}
			if got := string(labConfig(hc, "/d", 200, tc.version, nil)); got != tc.want {
				t.Errorf("lab config for %q:\n%s\nwant:\n%s", tc.version, got, tc.want)
			}
		})
	}
}

func TestMissingRuntime(t *testing.T) {
	old := DebianJavaDir
	DebianJavaDir = t.TempDir()
	t.Cleanup(func() { DebianJavaDir = old })
	t.Setenv(EnvZooKeeperHome, "")
	t.Setenv(EnvZooKeeperHomes, "")
	_, err := New(Options{State: t.TempDir()})
	if err == nil {
		t.Fatal("no error without ZooKeeper")
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") || !strings.Contains(msg, "apt-get install -y zookeeper") {
		t.Errorf("want one line naming apt-get install -y zookeeper, got %q", msg)
	}
	t.Setenv("PATH", t.TempDir())
	t.Setenv("JAVA_HOME", "")
	_, err = FindRuntime("", "", "")
	if err == nil || !strings.HasPrefix(err.Error(), "java not found: install it with `apt-get install -y zookeeper`") {
		t.Errorf("missing java: got %v", err)
	}
}

// Under reconfiguration the server lines (and the client port) are in the
// bootstrap dynamic file; the lab binds their client part like zoo.cfg's.
func TestDynamicFile(t *testing.T) {
	cfg := "tickTime=2000\nreconfigEnabled=true\ndynamicConfigFile=/etc/zookeeper/conf/zoo.cfg.dynamic\n"
	dyn := "server.1=127.0.81.1:2555:3555:participant;2181\nserver.2=127.0.81.2:2555:3555:participant;127.0.81.2:2181\n"
	hc, err := parseHostFiles("zk2", []byte(cfg), []byte("2\n"), []byte(dyn))
	if err != nil {
		t.Fatal(err)
	}
	if hc.Address != "127.0.81.2" || hc.ClientPort != 2181 || hc.HasClientPort {
		t.Fatalf("parsed %+v", hc)
	}
	want := "server.1=127.0.81.1:2555:3555:participant;127.0.81.1:2181\nserver.2=127.0.81.2:2555:3555:participant;127.0.81.2:2181\n"
	if got := string(labDynamic(hc)); got != want {
		t.Errorf("dynamic file:\n%s\nwant:\n%s", got, want)
	}
	if _, err := parseHostFiles("zk3", []byte(cfg), []byte("3\n"), []byte(dyn)); err == nil || !strings.Contains(err.Error(), "no server.3 line") {
		t.Errorf("own id missing: %v", err)
	}
}
