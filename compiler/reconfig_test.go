package compiler

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	cueerrors "cuelang.org/go/cue/errors"

	"github.com/zkstage/zkstage/schema"
)

// referenceAt loads the reference cluster at a version, with a policy
// block appended.
func referenceAt(t *testing.T, version, policy string) *schema.Cluster {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "clusters", "reference", "cluster.cue"))
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(b), `version: "3.4.6"`, `version: "`+version+`"`, 1) + "\npolicy: {" + policy + "}\n"
	c, _, err := schema.LoadBytes("cluster.cue", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const skipACL = `method: "reconfig", reconfigAuth: "skipACL"`

func TestReconfigReferencePlan(t *testing.T) {
	p, err := Compile(referenceAt(t, "3.8.0", skipACL))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"00 current ids=0,1,2,3,4",
		"01 enable-reconfig ids=0,1,2,3,4 steps=restart:zk1-dc1:0,restart:zk2-dc1:1,restart:zk3-dc1:2,restart:zk4-dc1:3,restart:zk5-dc1:4",
		"02 remove-0 ids=1,2,3,4 steps=remove:zk1-dc1:0",
		"03 add-4-to-11 ids=0,1,2,3,4,5,6,7,8,9,100 steps=restart:zk1-dc1:100,start:zk1-dc3:0,start:zk1-dc2:5,start:zk2-dc2:6,start:zk3-dc2:7,start:zk4-dc2:8,start:zk5-dc2:9," +
			"add:zk1-dc1:100,add:zk1-dc3:0,add:zk1-dc2:5,add:zk2-dc2:6,add:zk3-dc2:7,add:zk4-dc2:8,add:zk5-dc2:9",
	}
	got := summary(p)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if p.Policy.Method != "reconfig" {
		t.Errorf("policy %+v", p.Policy)
	}
	enable, remove, add := p.Stages[1], p.Stages[2], p.Stages[3]
	if enable.Kind != KindReconfigEnable || remove.Kind != KindReconfigRemove || add.Kind != KindReconfigAdd {
		t.Errorf("kinds %s %s %s", enable.Kind, remove.Kind, add.Kind)
	}
	// The enabling restart keeps margin 1 (4 of 5 live, quorum 3).
	if enable.MinMargin != 1 {
		t.Errorf("enable margin %d", enable.MinMargin)
	}
	// Removing 0 leaves 4 of 4 (quorum 3); the add: old 4 (quorum 3), new 11 all live (quorum 6).
	if remove.MinMargin != 1 || add.MinMargin != 1 {
		t.Errorf("margins remove %d add %d", remove.MinMargin, add.MinMargin)
	}
	// Every add step is one operation; every start boots with the committed config plus itself.
	for _, s := range add.Steps {
		switch s.Action {
		case Add:
			if s.Op != 1 {
				t.Errorf("%s: op %d", s.Host, s.Op)
			}
		case Start, Restart:
			if want := "1,2,3,4," + itoa(s.ID); joinInts(s.Bootstrap) != want {
				t.Errorf("%s bootstraps with %s, want %s", s.Host, joinInts(s.Bootstrap), want)
			}
		}
	}
	if r := add.Steps[0]; r.Action != Restart || r.FromID == nil || *r.FromID != 0 {
		t.Errorf("rename step %+v", r)
	}
	if len(add.Renamed) != 1 || add.Renamed[0] != (Rename{Host: "zk1-dc1", From: 0, To: 100}) {
		t.Errorf("renamed %+v", add.Renamed)
	}
	// The removed id's host keeps running until it is renamed.
	if !contains(remove.Live, "zk1-dc1") {
		t.Errorf("remove stage live %v", remove.Live)
	}
	if last := p.Stages[len(p.Stages)-1]; len(last.Live) != 11 {
		t.Errorf("final live %v", last.Live)
	}
}

func TestReconfigAlreadyEnabled(t *testing.T) {
	p, err := Compile(referenceAt(t, "3.5.10", skipACL+", reconfigEnabled: true"))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Stages) != 3 || p.Stages[1].Kind != KindReconfigRemove {
		t.Fatalf("plan %v", summary(p))
	}
}

// The enabling stage says how the servers learn to authorize the runner:
// with the digest in their JVM flags, that the flags must be set first.
func TestReconfigEnablingNamesTheAuthentication(t *testing.T) {
	for _, tc := range []struct{ policy, want string }{
		{`method: "reconfig", superDigest: "super:D/InIHSb7yEEbrWz8b9l71RjZJU="`, "a dynamic config file and the superuser digest; "},
		{`method: "reconfig", superDigestFrom: "jvmflags"`, "a dynamic config file and the superuser digest from the servers' JVM flags (-Dzookeeper.DigestAuthenticationProvider.superDigest, set before this stage); "},
		{skipACL, "a dynamic config file and skipACL=yes; "},
	} {
		p, err := Compile(referenceAt(t, "3.8.0", tc.policy))
		if err != nil {
			t.Fatal(err)
		}
		if why := strings.Join(p.Stages[1].Why, "\n"); p.Stages[1].Kind != KindReconfigEnable || !strings.Contains(why, tc.want) {
			t.Errorf("%s: stage 1 %s, why:\n%s\nwant %q", tc.policy, p.Stages[1].Kind, why, tc.want)
		}
	}
}

func shrinkSpec(t *testing.T, n, keep int, policy string) *schema.Cluster {
	var hosts []hostSpec
	for i := 1; i <= n; i++ {
		hosts = append(hosts, hostSpec{name: "h" + itoa(i), dc: "a", myid: i, remove: i > keep})
	}
	return buildSpec(t, "3.8.0", map[string]string{"a": "preferred"}, hosts, policy)
}

func TestReconfigShrink(t *testing.T) {
	for _, tc := range []struct {
		n, keep int
		reserve string
		want    []string
	}{
		{5, 3, "", []string{
			"00 current ids=1,2,3,4,5",
			"01 enable-reconfig ids=1,2,3,4,5 steps=restart:h1:1,restart:h2:2,restart:h3:3,restart:h4:4,restart:h5:5",
			"02 remove-4-5 ids=1,2,3 steps=remove:h4:4,remove:h5:5",
			"03 stop-2-removed ids=1,2,3 steps=stop:h4:4,stop:h5:5",
		}},
		{4, 3, "", []string{
			"00 current ids=1,2,3,4",
			"01 enable-reconfig ids=1,2,3,4 steps=restart:h1:1,restart:h2:2,restart:h3:3,restart:h4:4",
			"02 remove-4 ids=1,2,3 steps=remove:h4:4",
			"03 stop-1-removed ids=1,2,3 steps=stop:h4:4",
		}},
		// Reserve 1: 5 -> 3 would keep 3 of 3 (margin 1), 7 -> 3 keeps
		// margin 1 too, but 7 -> 4 first has 4 of 4 (quorum 3).
		{7, 3, ", reserve: 1", []string{
			"00 current ids=1,2,3,4,5,6,7",
			"01 enable-reconfig ids=1,2,3,4,5,6,7 steps=restart:h1:1,restart:h2:2,restart:h3:3,restart:h4:4,restart:h5:5,restart:h6:6,restart:h7:7",
			"02 remove-4-5-6-7 ids=1,2,3 steps=remove:h4:4,remove:h5:5,remove:h6:6,remove:h7:7",
			"03 stop-4-removed ids=1,2,3 steps=stop:h4:4,stop:h5:5,stop:h6:6,stop:h7:7",
		}},
	} {
		p, err := Compile(shrinkSpec(t, tc.n, tc.keep, `method: "reconfig", reconfigAuth: "skipACL"`+tc.reserve))
		if err != nil {
			t.Errorf("%d -> %d: %v", tc.n, tc.keep, err)
			continue
		}
		if got := summary(p); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
			t.Errorf("%d -> %d:\n%s\nwant:\n%s", tc.n, tc.keep, strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
		}
	}
}

// With reserve 2, removing one of 5 leaves 4 (quorum 3, margin 1): every
// removal is refused, at the host's remove field.
func TestReconfigShrinkRefusedByReserve(t *testing.T) {
	_, err := Compile(shrinkSpec(t, 5, 3, `method: "reconfig", reconfigAuth: "skipACL", reserve: 1`))
	if err != nil {
		t.Fatalf("reserve 1: %v", err)
	}
	_, err = Compile(shrinkSpec(t, 5, 3, `method: "reconfig", reconfigAuth: "skipACL", reserve: 2`))
	if err == nil {
		t.Fatal("reserve 2 accepted")
	}
	// The enabling restart is the first to fail: 4 of 5 live, quorum 3.
	if !strings.Contains(err.Error(), "turns reconfiguration on cannot keep reserve 2") {
		t.Errorf("error %v", err)
	}
	_, err = Compile(shrinkSpec(t, 5, 3, `method: "reconfig", reconfigAuth: "skipACL", reconfigEnabled: true, reserve: 2`))
	if err == nil {
		t.Fatal("reserve 2 accepted")
	}
	var ce cueerrors.Error
	if !asCue(err, &ce) || strings.Join(ce.Path(), ".") != "hosts.h4.remove" || !strings.Contains(err.Error(), "margin 1 < reserve 2") {
		t.Errorf("refusal %v at %v", err, ce)
	}
}

func TestReconfigRefused34(t *testing.T) {
	for _, v := range []string{"3.4.6", "3.5.2"} {
		_, err := Compile(referenceAt(t, v, skipACL))
		var ce cueerrors.Error
		if err == nil || !asCue(err, &ce) {
			t.Fatalf("%s: %v", v, err)
		}
		if strings.Join(ce.Path(), ".") != "policy.method" || ce.Position().Line() == 0 || !strings.Contains(err.Error(), "needs ZooKeeper 3.5.3 or later") {
			t.Errorf("%s: refusal %q at %v %v", v, err, ce.Path(), ce.Position())
		}
	}
}

func asCue(err error, out *cueerrors.Error) bool {
	ce, ok := err.(cueerrors.Error)
	*out = ce
	return ok
}

func itoa(i int) string { return strconv.Itoa(i) }

func joinInts(ids []int) string {
	var s []string
	for _, i := range ids {
		s = append(s, itoa(i))
	}
	return strings.Join(s, ",")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// An observer joins by the same -add, with its role in the server line's
// member; it costs no quorum.
func TestReconfigAddsObserver(t *testing.T) {
	hosts := []hostSpec{{name: "h1", dc: "a", myid: 1}, {name: "h2", dc: "a", myid: 2}, {name: "h3", dc: "a", myid: 3},
		{name: "o1", dc: "a", myid: -1, role: "observer"}}
	p, err := Compile(buildSpec(t, "3.8.0", map[string]string{"a": "preferred"}, hosts, `method: "reconfig", reconfigAuth: "skipACL", reconfigEnabled: true`))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"00 current ids=1,2,3",
		"01 add-1-observer ids=1,2,3,4o steps=start:o1:4,add:o1:4",
	}
	if got := summary(p); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if m := p.Stages[1].MinMargin; m != 1 {
		t.Errorf("margin %d, want 1 (3 of 3 voters, quorum 2, before and after)", m)
	}
}

// A reserve no add can keep is refused at policy.reserve.
func TestReconfigAddRefusedByReserve(t *testing.T) {
	hosts := []hostSpec{{name: "h1", dc: "a", myid: 1}, {name: "h2", dc: "a", myid: 2}, {name: "h3", dc: "a", myid: 3}, {name: "h4", dc: "a", myid: -1}}
	_, err := Compile(buildSpec(t, "3.8.0", map[string]string{"a": "preferred"}, hosts, `method: "reconfig", reconfigAuth: "skipACL", reconfigEnabled: true, reserve: 2`))
	var ce cueerrors.Error
	if err == nil || !asCue(err, &ce) || strings.Join(ce.Path(), ".") != "policy.reserve" || !strings.Contains(err.Error(), "margin 1 < reserve 2") {
		t.Fatalf("refusal %v", err)
	}
}
