package zoocfg

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseServerLine parses one server line, "server.N" and its value, by the
// rules of ZooKeeper's QuorumPeer.QuorumServer (3.4 and 3.5+ forms):
//
//	host:quorumPort:electionPort[:participant|observer][;[clientAddr:]clientPort]
//
// It also accepts the lines `conf` prints after "membership:", whose client
// part is always "addr:port". The error names the field at fault; Parse adds
// the file and line. File and Line of the result are left empty.
func ParseServerLine(key, value string) (Server, error) {
	key = strings.TrimSpace(key)
	value = strings.TrimSpace(value)
	var s Server
	if !strings.HasPrefix(key, "server.") {
		return s, fmt.Errorf("not a server line (key %q does not start with \"server.\")", key)
	}
	id, err := parseID(key[len("server."):])
	if err != nil {
		return s, err
	}
	s.ID = id
	if value == "" {
		return s, fmt.Errorf("empty server line: want host:quorumPort:electionPort[:role][;[clientAddr:]clientPort]")
	}
	// Java's split drops trailing empty strings: "a:1:2;" has no client part.
	parts := strings.Split(value, ";")
	for len(parts) > 1 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	if len(parts) > 2 {
		return s, fmt.Errorf("malformed server line %q: more than one ';'", value)
	}
	if strings.Contains(parts[0], "|") {
		return s, fmt.Errorf("multiple addresses per server (3.6+ '|' form) are not supported yet")
	}
	fields, err := hostAndPort(parts[0])
	if err != nil {
		return s, fmt.Errorf("malformed server line %q: %v", value, err)
	}
	switch {
	case len(fields) == 2:
		return s, fmt.Errorf("malformed server line %q: missing election port (want host:quorumPort:electionPort)", value)
	case len(fields) < 2:
		return s, fmt.Errorf("malformed server line %q: want host:quorumPort:electionPort[:role][;[clientAddr:]clientPort]", value)
	case len(fields) > 4:
		return s, fmt.Errorf("malformed server line %q: too many ':'-separated fields (an IPv6 address must be in brackets, e.g. [::1]:2888:3888)", value)
	}
	if err := checkHost(fields[0]); err != nil {
		return s, fmt.Errorf("malformed server line %q: %v", value, err)
	}
	s.Address = fields[0]
	if s.QuorumPort, err = parsePort("quorum port", fields[1]); err != nil {
		return s, err
	}
	if s.ElectionPort, err = parsePort("election port", fields[2]); err != nil {
		return s, err
	}
	s.Role = RoleParticipant
	if len(fields) == 4 {
		if s.Role, err = ParseRole(fields[3]); err != nil {
			return s, err
		}
	}
	if len(parts) == 2 {
		client, err := hostAndPort(parts[1])
		if err != nil {
			return s, fmt.Errorf("malformed client address %q: %v", parts[1], err)
		}
		switch len(client) {
		case 1:
		case 2:
			if err := checkHost(client[0]); err != nil {
				return s, fmt.Errorf("malformed client address %q: %v", parts[1], err)
			}
			s.ClientAddr = client[0]
		default:
			return s, fmt.Errorf("malformed client address %q: want [clientAddr:]clientPort", parts[1])
		}
		if s.ClientPort, err = parsePort("client port", client[len(client)-1]); err != nil {
			return s, err
		}
	}
	return s, nil
}

// ParseRole reads a role (server line suffix or peerType) case-insensitively,
// as QuorumServer.getType does.
func ParseRole(v string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case RoleObserver:
		return RoleObserver, nil
	case RoleParticipant:
		return RoleParticipant, nil
	}
	return "", fmt.Errorf("unknown role %q (want participant or observer)", v)
}

// parseID reads the N of server.N. ZooKeeper uses Long.parseLong; zoocfg
// wants plain decimal digits and an int.
func parseID(s string) (int, error) {
	if s == "" {
		return 0, fmt.Errorf("missing server id after \"server.\"")
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("server id %q is not a non-negative number", s)
		}
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("server id %q is out of range", s)
	}
	return int(n), nil
}

// parsePort reads a TCP port and checks it is within 1..65535.
func parsePort(field, s string) (int, error) {
	if s == "" {
		return 0, fmt.Errorf("%s is empty", field)
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%s %q is not a number", field, s)
		}
	}
	if len(s) > 9 {
		return 0, fmt.Errorf("%s %s is outside 1..65535", field, s)
	}
	n, _ := strconv.Atoi(s)
	if n < 1 || n > 65535 {
		return 0, fmt.Errorf("%s %d is outside 1..65535", field, n)
	}
	return n, nil
}

// hostAndPort mirrors ConfigUtils.getHostAndPort: "[v6]:a:b" keeps the
// bracketed host whole, anything else is split on ':'.
func hostAndPort(s string) ([]string, error) {
	if !strings.HasPrefix(s, "[") {
		return strings.Split(s, ":"), nil
	}
	i := strings.Index(s, "]")
	if i < 0 {
		return nil, fmt.Errorf("starts with '[' but has no matching ']'")
	}
	host := s[1:i]
	if host == "" {
		return nil, fmt.Errorf("empty host in brackets")
	}
	rest := s[i+1:]
	if rest == "" {
		return []string{host}, nil
	}
	if rest[0] != ':' {
		return nil, fmt.Errorf("no ':' after ']'")
	}
	if rest == ":" {
		return nil, fmt.Errorf("no port after ':'")
	}
	return append([]string{host}, strings.Split(rest[1:], ":")...), nil
}

// checkHost refuses host strings no resolver would take and that could not
// be written back unambiguously.
func checkHost(h string) error {
	if h == "" {
		return fmt.Errorf("empty host")
	}
	for _, c := range h {
		if c <= ' ' || c == 0x7f || strings.ContainsRune("[];|/", c) {
			return fmt.Errorf("invalid character %q in host %q", c, h)
		}
	}
	return nil
}
