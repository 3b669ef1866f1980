package verify

import (
	"fmt"
	"net"
	"strconv"
	"strings"
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

// ServerLine is one `server.N=host:quorum:election[:role][;[clientAddr:]clientPort]`.
type ServerLine struct {
	ID            int    `json:"id"`
	Address       string `json:"address"`
	QuorumPort    int    `json:"quorumPort"`
	ElectionPort  int    `json:"electionPort"`
	Role          string `json:"role"` // participant | observer
	ClientAddress string `json:"clientAddress,omitempty"`
	ClientPort    int    `json:"clientPort,omitempty"`
}

func (s ServerLine) String() string {
	out := fmt.Sprintf("server.%d=%s:%d:%d:%s", s.ID, s.Address, s.QuorumPort, s.ElectionPort, s.Role)
	if s.ClientPort != 0 {
		out += fmt.Sprintf(";%s:%d", s.ClientAddress, s.ClientPort)
	}
	return out
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

// ParseServerLine parses key "server.N" and its value. (A small parser of its
// own: the zoo.cfg parser of package zoocfg was not there when this was
// written; the grammar is the one ZooKeeper's QuorumServer accepts.)
func ParseServerLine(key, value string) (ServerLine, error) {
	var s ServerLine
	id, err := strconv.Atoi(strings.TrimPrefix(key, "server."))
	if err != nil {
		return s, fmt.Errorf("%s: bad server id", key)
	}
	s.ID = id
	addrPart, clientPart, hasClient := strings.Cut(value, ";")
	f := strings.Split(addrPart, ":")
	if len(f) < 3 || len(f) > 4 {
		return s, fmt.Errorf("%s=%s: want host:quorumPort:electionPort[:role]", key, value)
	}
	s.Address = f[0]
	if s.QuorumPort, err = port(f[1]); err != nil {
		return s, fmt.Errorf("%s: quorum port: %w", key, err)
	}
	if s.ElectionPort, err = port(f[2]); err != nil {
		return s, fmt.Errorf("%s: election port: %w", key, err)
	}
	s.Role = "participant"
	if len(f) == 4 {
		switch f[3] {
		case "participant", "observer":
			s.Role = f[3]
		default:
			return s, fmt.Errorf("%s: unknown role %q", key, f[3])
		}
	}
	if hasClient {
		host, p, err := net.SplitHostPort(clientPart)
		if err != nil { // only a port
			host, p = "", clientPart
		}
		s.ClientAddress = host
		if s.ClientPort, err = port(p); err != nil {
			return s, fmt.Errorf("%s: client port: %w", key, err)
		}
	}
	return s, nil
}

func port(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("%q is not a port (1..65535)", s)
	}
	return n, nil
}
