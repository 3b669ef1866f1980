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
// one address). Names are lower case and unique even ignoring case (the
// schema refuses folders that collide on a case-insensitive file system);
// a name the rules give twice gets "-<id>" (and "-<n>") until it is free.
// Deterministic for a given membership.
func hostNames(ids []int, addr map[int]string) map[int]string {
	count := func(f func(int) string) map[string]int {
		n := map[string]int{}
		for _, id := range ids {
			n[f(id)]++
		}
		return n
	}
	base := func(id int) string { return strings.ToLower(baseName(addr[id])) }
	full := func(id int) string { return strings.ToLower(fullName(addr[id])) }
	first, whole := count(base), count(full)
	cand := map[int]string{}
	for _, id := range ids {
		switch {
		case first[base(id)] == 1:
			cand[id] = base(id)
		case whole[full(id)] == 1:
			cand[id] = full(id)
		default:
			cand[id] = full(id) + "-" + strconv.Itoa(id)
		}
	}
	uses := count(func(id int) string { return cand[id] })
	names := map[int]string{}
	taken := map[string]bool{}
	for _, id := range ids {
		if uses[cand[id]] == 1 {
			names[id] = cand[id]
			taken[cand[id]] = true
		}
	}
	for _, id := range ids {
		if names[id] != "" {
			continue
		}
		n := cand[id] + "-" + strconv.Itoa(id)
		for k := 2; taken[n]; k++ {
			n = cand[id] + "-" + strconv.Itoa(id) + "-" + strconv.Itoa(k)
		}
		names[id] = n
		taken[n] = true
	}
	return names
}

var identRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
