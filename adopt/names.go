package adopt

import (
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

var hostNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.-]*$`)

// baseName derives a host name from an address: zk-192-168-1-100 for an
// IPv4 address, zk-2001-db8--7 for IPv6, the first label for a host name.
// The result always matches the schema's host-name pattern.
func baseName(address string) string {
	if a, err := netip.ParseAddr(address); err == nil {
		s := a.WithZone("").String()
		return "zk-" + strings.NewReplacer(".", "-", ":", "-").Replace(s)
	}
	label, _, _ := strings.Cut(address, ".")
	return sanitize(label)
}

// fullName is the fallback when first labels collide: the whole host name.
func fullName(address string) string {
	if _, err := netip.ParseAddr(address); err == nil {
		return baseName(address)
	}
	return sanitize(address)
}

func sanitize(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '.':
			b.WriteRune(c)
		default:
			b.WriteByte('-')
		}
	}
	out := b.String()
	if out == "" || !hostNameRE.MatchString(out) {
		out = "zk-" + strings.TrimLeft(out, "-.")
		if out == "zk-" {
			out = "zk"
		}
	}
	return out
}

// hostNames names every server: first labels, whole host names where first
// labels collide, and "-<id>" where even those collide (several servers on
// one address). Deterministic for a given membership.
func hostNames(ids []int, addr map[int]string) map[int]string {
	names := map[int]string{}
	count := func(f func(int) string) map[string]int {
		n := map[string]int{}
		for _, id := range ids {
			n[f(id)]++
		}
		return n
	}
	first := count(func(id int) string { return baseName(addr[id]) })
	full := count(func(id int) string { return fullName(addr[id]) })
	for _, id := range ids {
		switch {
		case first[baseName(addr[id])] == 1:
			names[id] = baseName(addr[id])
		case full[fullName(addr[id])] == 1:
			names[id] = fullName(addr[id])
		default:
			names[id] = fullName(addr[id]) + "-" + strconv.Itoa(id)
		}
	}
	return names
}

var identRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
