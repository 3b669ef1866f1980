package verify

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/zkstage/zkstage/zoocfg"
)

// Conf is the parsed answer to `conf`.
type Conf struct {
	ServerID int `json:"serverId"`
	// HasMembership is false on 3.4, whose conf has no membership section:
	// membership then cannot be observed through conf.
	HasMembership bool              `json:"hasMembership"`
	Members       []ServerLine      `json:"members,omitempty"`
	ConfigVersion string            `json:"configVersion,omitempty"`
	Settings      map[string]string `json:"-"`
}

// ServerLine is one server line as conf and /zookeeper/config print it,
// parsed by zoocfg (the one server-line parser: it reads the bracketed IPv6
// addresses render writes).
type ServerLine = zoocfg.Server

// ParseServerLine parses key "server.N" and its value.
func ParseServerLine(key, value string) (ServerLine, error) {
	return zoocfg.ParseServerLine(key, value)
}

// sameAddress compares two addresses as ZooKeeper would resolve them: IP
// literals by value (::1 and 0:0:0:0:0:0:0:1 are one address), names as
// written, case aside.
func sameAddress(a, b string) bool {
	a, b = strings.Trim(a, "[]"), strings.Trim(b, "[]")
	if ia, ib := net.ParseIP(a), net.ParseIP(b); ia != nil && ib != nil {
		return ia.Equal(ib)
	}
	return strings.EqualFold(a, b)
}

// wildcard: no client address, or one that binds every interface.
func wildcard(a string) bool {
	if a == "" {
		return true
	}
	ip := net.ParseIP(strings.Trim(a, "[]"))
	return ip != nil && ip.IsUnspecified()
}

// ParseConf parses conf output (3.4: settings only; 3.5+: settings, then
// "membership:", server lines and "version=").
func ParseConf(out string) (*Conf, error) {
	c := &Conf{Settings: map[string]string{}, ServerID: -1}
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if line == "membership:" {
			c.HasMembership = true
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("conf: unexpected line %q", line)
		}
		switch {
		case strings.HasPrefix(k, "server."):
			s, err := ParseServerLine(k, v)
			if err != nil {
				return nil, fmt.Errorf("conf: %w", err)
			}
			c.Members = append(c.Members, s)
		case k == "version" && c.HasMembership:
			c.ConfigVersion = v
		case k == "serverId":
			id, err := strconv.Atoi(v)
			if err != nil {
				return nil, fmt.Errorf("conf: bad serverId %q", v)
			}
			c.ServerID = id
		default:
			c.Settings[k] = v
		}
	}
	if len(c.Settings) == 0 && len(c.Members) == 0 {
		return nil, fmt.Errorf("conf: no settings")
	}
	return c, nil
}

// ParseDynamicConfig parses the data of /zookeeper/config: server lines and
// a version line.
func ParseDynamicConfig(data string) ([]ServerLine, string, error) {
	var out []ServerLine
	version := ""
	for _, line := range strings.Split(data, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, "", fmt.Errorf("/zookeeper/config: unexpected line %q", line)
		}
		if k == "version" {
			version = v
			continue
		}
		s, err := ParseServerLine(k, v)
		if err != nil {
			return nil, "", fmt.Errorf("/zookeeper/config: %w", err)
		}
		out = append(out, s)
	}
	return out, version, nil
}
