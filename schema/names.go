package schema

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Address checks a host address and returns its canonical form, which two
// spellings of one address share: an IPv4 or IPv6 literal as netip writes
// it (IPv4-mapped IPv6 as IPv4, no brackets), a host name (RFC 1123) in
// lower case. The error says what is wrong, for a message about the field.
func Address(s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("empty address")
	}
	if i := strings.IndexFunc(s, unicode.IsControl); i >= 0 {
		return "", fmt.Errorf("%q holds a control character: an address is an IPv4 or IPv6 literal or a host name", s)
	}
	if strings.HasPrefix(s, "[") || strings.HasSuffix(s, "]") {
		inner := strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
		a, err := netip.ParseAddr(inner)
		if len(inner) != len(s)-2 || err != nil || !a.Is6() {
			return "", fmt.Errorf("%q: brackets hold an IPv6 literal, e.g. [2001:db8::1]", s)
		}
		return canonicalIP(s, a)
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return canonicalIP(s, a)
	}
	if strings.Contains(s, ":") {
		return "", fmt.Errorf("%q is not an IPv6 address (and an address has no port: ports go in ports)", s)
	}
	if err := hostName(s); err != nil {
		return "", err
	}
	return strings.ToLower(s), nil
}

func canonicalIP(s string, a netip.Addr) (string, error) {
	if a.Zone() != "" {
		return "", fmt.Errorf("%q: an IPv6 zone (%%%s) is not supported in zoo.cfg server lines", s, a.Zone())
	}
	return a.Unmap().String(), nil
}

var (
	labelRE   = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$`)
	numericRE = regexp.MustCompile(`^[0-9]+$`)
)

// hostName checks an RFC 1123 host name: dot-separated labels of letters,
// digits and '-', not starting or ending with '-', at most 63 bytes each and
// 253 in all. A name whose last label is all digits is refused: it is a
// mistyped IPv4 address (192.168.2.500, 010.0.0.1), not a name.
func hostName(s string) error {
	if len(s) > 253 {
		return fmt.Errorf("host name of %d bytes: at most 253", len(s))
	}
	labels := strings.Split(s, ".")
	for _, l := range labels {
		if len(l) > 63 || !labelRE.MatchString(l) {
			return fmt.Errorf("%q is not an IPv4 or IPv6 address or a host name (RFC 1123: labels of letters, digits and '-', separated by dots)", s)
		}
	}
	if numericRE.MatchString(labels[len(labels)-1]) {
		return fmt.Errorf("%q is not a valid IPv4 address (four numbers 0-255 without leading zeros) nor a host name", s)
	}
	return nil
}

// Tokens are the names zkstage writes into file and folder names and
// comments: hosts (a folder per host), datacenters.
var (
	hostTokenRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.-]*$`)
	dcTokenRE   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)
)

// reservedHostNames are the files zkstage writes beside the host folders of
// a stage.
var reservedHostNames = map[string]bool{"stage.json": true}

// MaxNameBytes is the longest host name: it names a folder, and file systems
// allow 255 bytes in a name.
const MaxNameBytes = 255

func checkHostName(name string) string {
	switch {
	case len(name) > MaxNameBytes:
		return fmt.Sprintf("a host name is at most %d bytes (it names a folder): this one has %d", MaxNameBytes, len(name))
	case !hostTokenRE.MatchString(name):
		return fmt.Sprintf("host name %q: letters, digits, '.' and '-', starting with a letter or digit (it names a folder)", name)
	case reservedHostNames[strings.ToLower(name)]:
		return fmt.Sprintf("host name %q is the name of the stage manifest zkstage writes beside the host folders", name)
	}
	return ""
}

func checkDCName(name string) string {
	if len(name) > MaxNameBytes || !dcTokenRE.MatchString(name) {
		return fmt.Sprintf("datacenter name %q: letters, digits, '_' and '-', starting with a letter or digit, at most %d bytes", name, MaxNameBytes)
	}
	return ""
}

// checkPath refuses a path with a control character: zoo.cfg is line
// based, so a newline would start a line of its own.
func checkPath(p string) string {
	switch {
	case !utf8.ValidString(p):
		return fmt.Sprintf("%q is not valid UTF-8", p)
	case strings.IndexFunc(p, unicode.IsControl) >= 0:
		return fmt.Sprintf("%q holds a control character (a line break would start a zoo.cfg line of its own)", p)
	case strings.TrimSpace(p) != p:
		return fmt.Sprintf("%q has leading or trailing blanks, which ZooKeeper drops", p)
	}
	return ""
}

// checkNames refuses host and datacenter names that are not tokens, and
// host names that differ only in letter case (their folders would be one on
// a case-insensitive file system).
func checkNames(c *Cluster, fail func(path []string, format string, args ...interface{})) {
	for _, name := range SortedKeys(c.Datacenters) {
		if msg := checkDCName(name); msg != "" {
			fail([]string{"datacenters", name}, "%s", msg)
		}
	}
	folded := map[string]string{}
	for _, name := range SortedHosts(c) {
		if msg := checkHostName(name); msg != "" {
			fail([]string{"hosts", name}, "%s", msg)
			continue
		}
		if other, ok := folded[strings.ToLower(name)]; ok {
			fail([]string{"hosts", name}, "host name %q differs from %q only in letter case: their folders would collide on a case-insensitive file system", name, other)
			continue
		}
		folded[strings.ToLower(name)] = name
	}
}
