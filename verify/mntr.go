package verify

import (
	"fmt"
	"strconv"
	"strings"
)

// Mntr is the parsed answer to `mntr`: key -> value, as printed.
type Mntr map[string]string

// ParseMntr parses "key<TAB>value" lines. Every real server seen (3.4.6,
// 3.5.10, 3.8.0) separates with a tab, and from 3.6 keys may hold blanks:
// the per-namespace metrics name the top-level znode ("zk_cnt_zk
// capture_write_per_namespace" for /zk capture). So the key ends at the
// first tab; only a line without one (3.4's documentation shows the
// separator as spaces) is split at the first blank.
func ParseMntr(out string) (Mntr, error) {
	m := Mntr{}
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		i := strings.IndexByte(line, '\t')
		if i < 0 {
			i = strings.IndexByte(line, ' ')
		}
		if i < 0 || !strings.HasPrefix(line, "zk_") {
			return nil, fmt.Errorf("mntr: unexpected line %q", line)
		}
		m[line[:i]] = strings.TrimSpace(line[i+1:])
	}
	if _, ok := m["zk_server_state"]; !ok {
		return nil, fmt.Errorf("mntr: no zk_server_state")
	}
	return m, nil
}

// Int returns an integer metric; ok is false when it is absent or not a number.
func (m Mntr) Int(key string) (int64, bool) {
	v, ok := m[key]
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}

// State is zk_server_state (leader, follower, observer, standalone).
func (m Mntr) State() string { return m["zk_server_state"] }
