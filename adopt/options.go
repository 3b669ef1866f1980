package adopt

import (
	"fmt"
	"net/netip"
	"path"
	"regexp"
	"strings"

	"github.com/zkstage/zkstage/schema"
)

// Options steer an import.
type Options struct {
	// Name is the cluster name (default "imported").
	Name string
	// Version is the ZooKeeper version; required for a file import (files
	// do not tell it), checked against srvr for a live import.
	Version string
	// DCs map addresses to datacenters; the first matching range wins. Empty:
	// every host is in one datacenter "dc1" that is the preferred leader site.
	DCs []DCRange
	// Ignore lists setting keys that are neither compared between the
	// sources nor carried over (the operator's choice, e.g. dataDir where
	// every server has its own; a lab is like that). The spec then keeps
	// zkstage's default for them.
	Ignore []string
}

// DCRange assigns the hosts whose address is in Prefix (or whose host name
// matches Glob) to datacenter Name.
type DCRange struct {
	Prefix netip.Prefix
	Glob   string
	Name   string
	Flag   string // as given, for messages
}

var (
	nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	dcRE   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)
)

// DefaultName is the cluster name when none is given.
const DefaultName = "imported"

// ParseDC reads one --dc value: CIDR=NAME (10.1.0.0/16=dc1), a single
// address (10.1.0.7=dc1) or a host-name pattern (zk*.dc2.example.com=dc2).
func ParseDC(s string) (DCRange, error) {
	spec, name, ok := strings.Cut(s, "=")
	if !ok || spec == "" || name == "" {
		return DCRange{}, fmt.Errorf("--dc %q: want CIDR=NAME, e.g. 192.168.1.0/24=dc1", s)
	}
	if !dcRE.MatchString(name) {
		return DCRange{}, fmt.Errorf("--dc %q: datacenter name %q must be letters, digits, '-' or '_'", s, name)
	}
	r := DCRange{Name: name, Flag: s}
	if p, err := netip.ParsePrefix(spec); err == nil {
		r.Prefix = p.Masked()
		return r, nil
	}
	if a, err := netip.ParseAddr(spec); err == nil {
		r.Prefix = netip.PrefixFrom(a, a.BitLen())
		return r, nil
	}
	if strings.Contains(spec, "/") {
		return DCRange{}, fmt.Errorf("--dc %q: %q is not a valid CIDR range", s, spec)
	}
	if _, err := path.Match(spec, ""); err != nil {
		return DCRange{}, fmt.Errorf("--dc %q: bad host-name pattern %q", s, spec)
	}
	r.Glob = spec
	return r, nil
}

// match reports whether the range covers address (an IP or a host name).
func (r DCRange) match(address string) bool {
	if r.Glob != "" {
		ok, _ := path.Match(r.Glob, address)
		return ok
	}
	a, err := netip.ParseAddr(address)
	if err != nil {
		return false
	}
	return r.Prefix.Contains(a.Unmap())
}

func (o *Options) check() error {
	if o.Name == "" {
		o.Name = DefaultName
	}
	if !nameRE.MatchString(o.Name) {
		return fmt.Errorf("--name %q: a cluster name is lower-case letters, digits and '-', starting with a letter or digit", o.Name)
	}
	if o.Version != "" {
		if _, err := parseVersion(o.Version); err != nil {
			return err
		}
	}
	return nil
}

var versionRE = regexp.MustCompile(`^3\.[4-9]\.[0-9]+$`)

func parseVersion(s string) (schema.Version, error) {
	if !versionRE.MatchString(s) {
		return schema.Version{}, fmt.Errorf("--version %q: want a ZooKeeper release 3.4.0 or later, e.g. 3.8.0", s)
	}
	return schema.ParseVersion(s)
}
