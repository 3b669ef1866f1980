package verify

import (
	"strconv"
	"strings"
)

// Shows is what a ZooKeeper release lets the verifier observe. It is the one
// place that knows how versions differ; verify and the rollout runner's
// gate both read it. Seen on real 3.4.6, 3.5.10 and 3.8.0 servers (their
// answers are under testdata/4lw).
type Shows struct {
	Version string
	// Membership: conf prints "membership:", the server lines and
	// "version=", and /zookeeper/config exists (3.5+). On 3.4 nothing a
	// server answers tells which configuration it runs.
	Membership bool
	// Learners: the leader's mntr has zk_learners and zk_synced_observers
	// (3.6+). Before, zk_followers counts every learner, observers included.
	Learners bool
	// QuorumSize: mntr has zk_quorum_size, the number of voters in the
	// leader's configuration (3.6+).
	QuorumSize bool
	// Whitelist: four-letter words other than srvr must be whitelisted
	// (3.5.3+); 3.4 answers every word.
	Whitelist bool
}

// ShowsFor returns what the version shows. An unparsable version is taken
// as a current release.
func ShowsFor(version string) Shows {
	return Shows{
		Version:    version,
		Membership: versionAtLeast(version, 3, 5, 0),
		Learners:   versionAtLeast(version, 3, 6, 0),
		QuorumSize: versionAtLeast(version, 3, 6, 0),
		Whitelist:  versionAtLeast(version, 3, 5, 3),
	}
}

// versionAtLeast compares a "3.8.0"-style version with major.minor.patch.
func versionAtLeast(v string, major, minor, patch int) bool {
	f := strings.SplitN(v, ".", 3)
	if len(f) < 2 {
		return true // unknown: assume a current server
	}
	n := make([]int, 3)
	for i := range f {
		d := f[i]
		if j := strings.IndexFunc(d, func(r rune) bool { return r < '0' || r > '9' }); j >= 0 {
			d = d[:j]
		}
		x, err := strconv.Atoi(d)
		if err != nil {
			return true
		}
		n[i] = x
	}
	want := []int{major, minor, patch}
	for i := range n {
		if n[i] != want[i] {
			return n[i] > want[i]
		}
	}
	return true
}
