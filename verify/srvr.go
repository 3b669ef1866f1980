package verify

import (
	"fmt"
	"strconv"
	"strings"
)

// Srvr is the parsed answer to `srvr`.
type Srvr struct {
	Version   string `json:"version"`
	Mode      string `json:"mode"` // leader | follower | observer | standalone | read-only
	Zxid      int64  `json:"zxid"`
	NodeCount int64  `json:"nodeCount"`
}

// Epoch is the high 32 bits of the zxid (the leader epoch).
func (s *Srvr) Epoch() int64 { return s.Zxid >> 32 }

// Counter is the low 32 bits of the zxid (transactions in the epoch).
func (s *Srvr) Counter() int64 { return s.Zxid & 0xffffffff }

// ParseSrvr parses srvr output of ZooKeeper 3.4 to 3.9. It needs the
// "Zookeeper version", "Zxid" and "Mode" lines; anything else is ignored.
func ParseSrvr(out string) (*Srvr, error) {
	var s Srvr
	seen := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(strings.TrimRight(line, "\r"), ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch k {
		case "Zookeeper version":
			s.Version = v
		case "Mode":
			s.Mode = v
		case "Zxid":
			z, err := strconv.ParseInt(strings.TrimPrefix(v, "0x"), 16, 64)
			if err != nil {
				return nil, fmt.Errorf("srvr: bad Zxid %q", v)
			}
			s.Zxid = z
		case "Node count":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("srvr: bad Node count %q", v)
			}
			s.NodeCount = n
		default:
			continue
		}
		seen[k] = true
	}
	for _, k := range []string{"Zookeeper version", "Zxid", "Mode"} {
		if !seen[k] {
			return nil, fmt.Errorf("srvr: no %q line", k)
		}
	}
	return &s, nil
}
