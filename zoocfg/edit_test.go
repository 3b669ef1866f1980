package zoocfg

import (
	"strings"
	"testing"
)

func TestEditsAndApply(t *testing.T) {
	old := "tickTime=200\ninitLimit=10\nsyncLimit=5\nmaxClientCnxns=60\ndynamicConfigFile=/etc/zookeeper/conf/zoo.cfg.dynamic\n"
	new := "tickTime=200\ninitLimit=10\nsyncLimit=6\nautopurge.purgeInterval=1\ndynamicConfigFile=/etc/zookeeper/conf/zoo.cfg.dynamic\n"
	edits, err := Edits([]byte(old), []byte(new))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range edits {
		got = append(got, e.String())
	}
	if want := "autopurge.purgeInterval=1 (new); remove maxClientCnxns; syncLimit=6 (was 5)"; strings.Join(got, "; ") != want {
		t.Errorf("edits %q, want %q", strings.Join(got, "; "), want)
	}
	// What ZooKeeper keeps: its own order, no comments, its own
	// dynamicConfigFile; a key written twice, one with blanks around '=',
	// and a continued line of another key.
	own := "syncLimit = 5\ninitLimit=10\nmaxClientCnxns=60\n4lw.commands.whitelist=conf,\\\n  srvr\nsyncLimit=5\ndynamicConfigFile=/etc/zookeeper/conf/zoo.cfg.dynamic.100000000\ntickTime=200"
	want := "syncLimit=6\ninitLimit=10\n4lw.commands.whitelist=conf,\\\n  srvr\nsyncLimit=6\ndynamicConfigFile=/etc/zookeeper/conf/zoo.cfg.dynamic.100000000\ntickTime=200\nautopurge.purgeInterval=1\n"
	if out := string(Apply([]byte(own), edits)); out != want {
		t.Errorf("applied:\n%s\nwant:\n%s", out, want)
	}
	// An edited key whose line is continued loses its continuation.
	cont := "maxClientCnxns=6\\\n0\ntickTime=200\n"
	if out := string(Apply([]byte(cont), []Edit{{Key: "maxClientCnxns", Old: "60", New: "77"}})); out != "maxClientCnxns=77\ntickTime=200\n" {
		t.Errorf("continued line:\n%s", out)
	}
	if e, err := Edits([]byte(old), []byte(old)); err != nil || len(e) != 0 {
		t.Errorf("same file: %v %v", e, err)
	}
}
