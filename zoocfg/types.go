package zoocfg

import (
	"strconv"
	"strings"
)

// Roles a server line may declare.
const (
	RoleParticipant = "participant"
	RoleObserver    = "observer"
)

// Entry is one key=value of a config file, where it was written.
type Entry struct {
	Key   string `json:"key"`
	Value string `json:"value"`
	File  string `json:"file"`
	Line  int    `json:"line"`
}

// Pos returns "file:line".
func (e Entry) Pos() string { return pos(e.File, e.Line) }

// Server is one server.N line.
type Server struct {
	ID           int    `json:"id"`
	Address      string `json:"address"` // host name or IP, IPv6 without brackets
	QuorumPort   int    `json:"quorumPort"`
	ElectionPort int    `json:"electionPort"`
	// Role is participant unless the line says observer.
	Role string `json:"role"`
	// ClientAddr and ClientPort come from the 3.5+ ";[addr:]port" suffix;
	// zero values when the line has none.
	ClientAddr string `json:"clientAddr,omitempty"`
	ClientPort int    `json:"clientPort,omitempty"`

	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
}

// Pos returns "file:line" of the server line.
func (s Server) Pos() string { return pos(s.File, s.Line) }

// Key returns "server.N".
func (s Server) Key() string { return "server." + strconv.Itoa(s.ID) }

// Value renders the line's value in ZooKeeper's syntax (3.5+ form when the
// line has a client port).
func (s Server) Value() string {
	var b strings.Builder
	b.WriteString(HostPort(s.Address, s.QuorumPort))
	b.WriteString(":")
	b.WriteString(strconv.Itoa(s.ElectionPort))
	if s.Role == RoleObserver {
		b.WriteString(":observer")
	}
	if s.ClientPort != 0 {
		b.WriteString(";")
		if s.ClientAddr != "" {
			b.WriteString(HostPort(s.ClientAddr, s.ClientPort))
		} else {
			b.WriteString(strconv.Itoa(s.ClientPort))
		}
	}
	return b.String()
}

// SameMember reports whether two server lines describe the same member:
// same id, address, ports and role. A client port only counts when both
// lines carry one (3.4 lines never do).
func (s Server) SameMember(o Server) bool {
	if s.ID != o.ID || s.Address != o.Address || s.QuorumPort != o.QuorumPort ||
		s.ElectionPort != o.ElectionPort || s.Role != o.Role {
		return false
	}
	if s.ClientPort != 0 && o.ClientPort != 0 && s.ClientPort != o.ClientPort {
		return false
	}
	return true
}

// HostPort joins a host and a port, bracketing IPv6 addresses.
func HostPort(host string, port int) string {
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return host + ":" + strconv.Itoa(port)
}

// Config is one parsed file.
type Config struct {
	File string `json:"file"`
	// Entries holds every key=value other than server lines, in file order
	// (duplicates included; Get returns the last, as ZooKeeper does).
	Entries []Entry `json:"entries"`
	// Servers holds the server lines in file order.
	Servers []Server `json:"servers"`
	// Warnings are positioned remarks that do not stop an import.
	Warnings []*Error `json:"warnings,omitempty"`
	// Dynamic is true for a dynamic config file (server lines only).
	Dynamic bool `json:"dynamic,omitempty"`
}

// Get returns the last entry for key, as java.util.Properties keeps it.
func (c *Config) Get(key string) (Entry, bool) {
	for i := len(c.Entries) - 1; i >= 0; i-- {
		if c.Entries[i].Key == key {
			return c.Entries[i], true
		}
	}
	return Entry{}, false
}

// Server returns the server line with the given id.
func (c *Config) Server(id int) (Server, bool) {
	for _, s := range c.Servers {
		if s.ID == id {
			return s, true
		}
	}
	return Server{}, false
}

// Keys returns the distinct entry keys in the order of their last
// occurrence's first appearance (file order, duplicates removed).
func (c *Config) Keys() []string {
	seen := map[string]bool{}
	var keys []string
	for _, e := range c.Entries {
		if !seen[e.Key] {
			seen[e.Key] = true
			keys = append(keys, e.Key)
		}
	}
	return keys
}

// String is the line as ZooKeeper's conf and /zookeeper/config print it: the
// role always written, the client part as addr:port.
func (s Server) String() string {
	out := s.Key() + "=" + HostPort(s.Address, s.QuorumPort) + ":" + strconv.Itoa(s.ElectionPort) + ":" + s.Role
	if s.ClientPort != 0 {
		out += ";" + HostPort(s.ClientAddr, s.ClientPort)
	}
	return out
}
