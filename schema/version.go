package schema

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Version is a ZooKeeper release, e.g. 3.8.0.
type Version struct {
	Major, Minor, Patch int
}

// ParseVersion parses "3.M.P".
func ParseVersion(s string) (Version, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return Version{}, fmt.Errorf("version %q: want MAJOR.MINOR.PATCH", s)
	}
	var v [3]int
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return Version{}, fmt.Errorf("version %q: %q is not a number", s, p)
		}
		v[i] = n
	}
	return Version{v[0], v[1], v[2]}, nil
}

func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// AtLeast reports whether v >= major.minor.patch.
func (v Version) AtLeast(major, minor, patch int) bool {
	if v.Major != major {
		return v.Major > major
	}
	if v.Minor != minor {
		return v.Minor > minor
	}
	return v.Patch >= patch
}

// Dynamic reports whether the version has the 3.5 config syntax
// (";clientPort", 4lw whitelist, AdminServer, /zookeeper/config).
func (v Version) Dynamic() bool { return v.AtLeast(3, 5, 0) }

// Affected3829 reports whether static membership changes on this version can
// leave a leader that cannot commit (ZOOKEEPER-3829, fixed in 3.5.9 and 3.6.2).
func (v Version) Affected3829() bool {
	if v.Major != 3 {
		return false
	}
	switch v.Minor {
	case 5:
		return v.Patch <= 8
	case 6:
		return v.Patch <= 1
	}
	return false
}

// HasQuorumSize reports whether the leader's mntr has zk_quorum_size (3.6+).
func (v Version) HasQuorumSize() bool { return v.AtLeast(3, 6, 0) }

func (v Version) MarshalJSON() ([]byte, error) { return json.Marshal(v.String()) }

func (v *Version) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	p, err := ParseVersion(s)
	if err != nil {
		return err
	}
	*v = p
	return nil
}

// MaxMyID is the largest server id the version accepts with these extra
// settings: 255, 254 with extended types (TTL nodes) on 3.5+, 127 with
// emulate353TTLNodes. The zoo.cfg keys are extendedTypesEnabled and
// emulate353TTLNodes (ZooKeeper reads them as the system properties
// zookeeper.extendedTypesEnabled and zookeeper.emulate353TTLNodes), true in
// any letter case as Java's Boolean.parseBoolean reads it.
func MaxMyID(v Version, extra map[string]string) int {
	if v.Dynamic() {
		if strings.EqualFold(extra[KeyEmulate353TTL], "true") {
			return 127
		}
		if strings.EqualFold(extra[KeyExtendedTypes], "true") {
			return 254
		}
	}
	return 255
}
