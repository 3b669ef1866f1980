package schema

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/token"
)

// Warning is a positioned diagnostic that does not make the spec invalid.
type Warning struct {
	Pos  token.Pos `json:"-"`
	Path string    `json:"path,omitempty"`
	Msg  string    `json:"message"`
}

func (w Warning) String() string {
	s := w.Msg
	if w.Path != "" {
		s = w.Path + ": " + s
	}
	if w.Pos.IsValid() {
		s = w.Pos.String() + ": " + s
	}
	return s
}

// check runs the rules CUE cannot express (uniqueness, references, version
// ranges) and the warnings, each positioned at the offending field.
func check(c *Cluster, user cue.Value, file string) (cueerrors.Error, []Warning) {
	var errs cueerrors.Error
	var warns []Warning
	at := func(path ...string) token.Pos {
		return posOf(user, quotePath(path), file)
	}
	fail := func(path []string, format string, args ...interface{}) {
		errs = cueerrors.Append(errs, fieldErr(at(path...), path, format, args...))
	}
	warn := func(path []string, format string, args ...interface{}) {
		warns = append(warns, Warning{Pos: at(path...), Path: joinPath(path), Msg: fmt.Sprintf(format, args...)})
	}

	if len(c.Hosts) == 0 {
		fail([]string{"hosts"}, "no hosts declared")
	}
	checkExtra(c.Settings.Extra, fail, warn)
	checkNames(c, fail)
	for _, p := range []struct{ field, value string }{{"dataDir", c.Settings.DataDir}, {"dataLogDir", c.Settings.DataLogDir}} {
		if msg := checkPath(p.value); msg != "" {
			fail([]string{"settings", p.field}, "%s", msg)
		}
	}
	maxID := MaxMyID(c.Version, c.Settings.Extra)
	byID := map[int]string{}
	type addrPort struct {
		addr string
		port int
	}
	bound := map[addrPort]string{}
	votersByDC := map[string]int{}
	targetVoters := 0
	adminClash := "" // the first host whose ports the AdminServer's clashes with
	for _, name := range SortedHosts(c) {
		h := c.Hosts[name]
		canon, err := Address(h.Address)
		if err != nil {
			fail([]string{"hosts", name, "address"}, "%v", err)
			continue
		}
		// One spelling downstream: an IPv6 literal without brackets (the
		// renderer adds them where zoo.cfg needs them).
		h.Address = strings.TrimSuffix(strings.TrimPrefix(h.Address, "["), "]")
		if _, ok := c.Datacenters[h.DC]; !ok {
			fail([]string{"hosts", name, "dc"}, "unknown datacenter %q (declared: %s)", h.DC, listKeys(c.Datacenters))
		}
		if h.MyID != nil {
			id := *h.MyID
			switch {
			case id < 0 || id > maxID:
				fail([]string{"hosts", name, "myid"}, "myid %d out of range 0..%d for ZooKeeper %s", id, maxID, c.Version)
			case byID[id] != "":
				fail([]string{"hosts", name, "myid"}, "duplicate myid %d (also host %q)", id, byID[id])
			default:
				byID[id] = name
			}
			if id == 0 {
				warn([]string{"hosts", name, "myid"}, "myid 0 is outside the documented range 1..255; it works in practice")
			}
		} else if h.Remove {
			fail([]string{"hosts", name, "remove"}, "host is marked for removal but is not a member today (no myid)")
		}
		ports := []struct {
			field string
			port  int
		}{{"client", h.Ports.Client}, {"quorum", h.Ports.Quorum}, {"election", h.Ports.Election}}
		for _, p := range ports {
			k := addrPort{canon, p.port}
			if other, dup := bound[k]; dup {
				fail([]string{"hosts", name, "address"}, "duplicate address and port %s (%s port, already used by %s)", net.JoinHostPort(h.Address, strconv.Itoa(p.port)), p.field, other)
				break // one error per host is enough
			}
			bound[k] = fmt.Sprintf("host %q", name)
		}
		if a := c.Settings.AdminServer; a.Enabled && c.Version.Dynamic() && adminClash == "" {
			for _, p := range ports {
				if p.port == a.Port {
					adminClash = name
					fail([]string{"settings", "adminServer", "port"}, "AdminServer port %d is also the %s port of host %q: the AdminServer binds it on every interface", a.Port, p.field, name)
					break
				}
			}
		}
		if !h.Remove && h.Role == RoleParticipant {
			targetVoters++
			votersByDC[h.DC]++
		}
	}
	checkReconfig(c, fail, warn)
	if errs != nil {
		return errs, warns
	}

	// Leadership needs a datacenter that may lead.
	mayLead := false
	for dc, n := range votersByDC {
		if n > 0 && c.Datacenters[dc].Leader != LeaderNever {
			mayLead = true
		}
	}
	if !mayLead && targetVoters > 0 {
		dcs := SortedKeys(votersByDC)
		fail([]string{"datacenters", dcs[0], "leader"}, "every voter is in a datacenter whose leader rule is \"never\": no server could lead")
	}
	if targetVoters == 0 {
		fail([]string{"hosts"}, "the target ensemble has no participant (voter)")
	}
	if errs != nil {
		return errs, warns
	}

	if targetVoters%2 == 0 {
		warn([]string{"hosts"}, "the target has %d voters, an even number: it tolerates %d failure(s), no more than %d voters would", targetVoters, (targetVoters-1)/2, targetVoters-1)
	}
	q := targetVoters/2 + 1
	largest, largestN := "", 0
	for _, dc := range SortedKeys(votersByDC) {
		if votersByDC[dc] > largestN {
			largest, largestN = dc, votersByDC[dc]
		}
	}
	if len(votersByDC) > 1 && targetVoters-largestN < q {
		warn([]string{"datacenters", largest}, "losing datacenter %s (%d of %d voters) leaves no quorum (%d needed)", largest, largestN, targetVoters, q)
	}
	if c.Version.Affected3829() && c.Policy.Method == "rolling" {
		warn([]string{"version"}, "ZooKeeper %s is affected by ZOOKEEPER-3829: a static membership change by rolling restarts can leave a leader that cannot commit; upgrade to 3.5.9+ or 3.6.2+ first", c.Version)
	}
	return nil, warns
}

// FormatPath writes a field path as CUE would: hosts.zk1.myid, with labels
// that hold a dot quoted.
func FormatPath(path []string) string { return joinPath(path) }

func joinPath(path []string) string {
	s := ""
	for i, p := range path {
		if i > 0 {
			s += "."
		}
		s += label(p)
	}
	return s
}

// label quotes a path element that holds anything but letters, digits, '_'
// and '-', as CUE would write it (settings.extra."zookeeper.snapCount"), so
// the path reads unambiguously and never holds a raw line break.
func label(p string) string {
	if p == "" || strings.IndexFunc(p, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-')
	}) >= 0 {
		return strconv.Quote(p)
	}
	return p
}

// SortedHosts returns the host names in lexical order.
func SortedHosts(c *Cluster) []string { return SortedKeys(c.Hosts) }

// SortedKeys returns the keys of a string-keyed map in lexical order.
func SortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func listKeys[V any](m map[string]V) string {
	keys := SortedKeys(m)
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += ", "
		}
		s += k
	}
	if s == "" {
		return "none"
	}
	return s
}
