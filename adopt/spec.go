package adopt

import (
	"fmt"
	"sort"
	"strings"

	"cuelang.org/go/cue/format"
	"cuelang.org/go/cue/literal"

	"github.com/zkstage/zkstage/schema"
)

// Spec is the imported cluster, ready to be written as cluster.cue.
type Spec struct {
	Name        string
	Version     string
	Ports       schema.Ports
	Datacenters []Datacenter
	Hosts       []Host // in myid order
	Settings    Settings
	// Sources name what the spec was imported from, for the header comment.
	Sources []string
}

// Datacenter is one datacenters entry.
type Datacenter struct {
	Name     string
	Leader   string // "" leaves the schema default
	Priority int    // 0 leaves the schema default
}

// Host is one hosts entry: a member today.
type Host struct {
	Name    string
	Address string
	DC      string
	MyID    int
	Role    string
	// Ports differing from the cluster ports (0: same).
	Client, Quorum, Election int
	// From is where the server line was read, for a comment.
	From string
}

// Settings are the settings carried over; zero values are left out so the
// schema defaults apply.
type Settings struct {
	TickTime, InitLimit, SyncLimit int
	DataDir, DataLogDir            string
	// AdminEnabled writes adminServer: {enabled: true, port: AdminPort}.
	AdminEnabled bool
	AdminPort    int
	ClientBind   string // "" (default), "address" or "any"
	Extra        map[string]string
}

// CUE renders the spec in the style of clusters/*/cluster.cue: top-level
// fields, no package, no imports, formatted by cue/format.
func (s *Spec) CUE() ([]byte, error) {
	var b strings.Builder
	q := literal.String.Quote
	fmt.Fprintf(&b, "// Imported by zkstage import from %s.\n", strings.Join(s.Sources, ", "))
	b.WriteString("// Review the datacenters and the leader rules before planning a change.\n")
	fmt.Fprintf(&b, "name: %s\nversion: %s\n\n", q(s.Name), q(s.Version))
	fmt.Fprintf(&b, "ports: {\n\tclient: %d\n\tquorum: %d\n\telection: %d\n}\n\n", s.Ports.Client, s.Ports.Quorum, s.Ports.Election)
	b.WriteString("datacenters: {\n")
	for _, d := range s.Datacenters {
		var f []string
		if d.Leader != "" {
			f = append(f, "leader: "+q(d.Leader))
		}
		if d.Priority != 0 {
			f = append(f, fmt.Sprintf("priority: %d", d.Priority))
		}
		fmt.Fprintf(&b, "\t%s: {%s}\n", label(d.Name), strings.Join(f, ", "))
	}
	b.WriteString("}\n\nhosts: {\n")
	for _, h := range s.Hosts {
		f := []string{"address: " + q(h.Address), "dc: " + q(h.DC), fmt.Sprintf("myid: %d", h.MyID)}
		if h.Role == schema.RoleObserver {
			f = append(f, "role: "+q(h.Role))
		}
		var p []string
		if h.Client != 0 {
			p = append(p, fmt.Sprintf("client: %d", h.Client))
		}
		if h.Quorum != 0 {
			p = append(p, fmt.Sprintf("quorum: %d", h.Quorum))
		}
		if h.Election != 0 {
			p = append(p, fmt.Sprintf("election: %d", h.Election))
		}
		if len(p) > 0 {
			f = append(f, "ports: {"+strings.Join(p, ", ")+"}")
		}
		fmt.Fprintf(&b, "\t%s: {%s}\n", q(h.Name), strings.Join(f, ", "))
	}
	b.WriteString("}\n\nsettings: {\n")
	st := s.Settings
	if st.TickTime != 0 {
		fmt.Fprintf(&b, "\ttickTime: %d\n", st.TickTime)
	}
	if st.InitLimit != 0 {
		fmt.Fprintf(&b, "\tinitLimit: %d\n", st.InitLimit)
	}
	if st.SyncLimit != 0 {
		fmt.Fprintf(&b, "\tsyncLimit: %d\n", st.SyncLimit)
	}
	if st.DataDir != "" {
		fmt.Fprintf(&b, "\tdataDir: %s\n", q(st.DataDir))
	}
	if st.DataLogDir != "" {
		fmt.Fprintf(&b, "\tdataLogDir: %s\n", q(st.DataLogDir))
	}
	if st.AdminEnabled {
		fmt.Fprintf(&b, "\tadminServer: {enabled: true, port: %d}\n", st.AdminPort)
	}
	if st.ClientBind != "" {
		fmt.Fprintf(&b, "\tclientBind: %s\n", q(st.ClientBind))
	}
	if len(st.Extra) > 0 {
		b.WriteString("\textra: {\n")
		keys := make([]string, 0, len(st.Extra))
		for k := range st.Extra {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "\t\t%s: %s\n", q(k), q(st.Extra[k]))
		}
		b.WriteString("\t}\n")
	}
	b.WriteString("}\n")
	out, err := format.Source([]byte(b.String()))
	if err != nil {
		return nil, fmt.Errorf("formatting the generated spec: %w", err)
	}
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	return out, nil
}

// label writes an identifier bare when CUE allows it, quoted otherwise.
func label(s string) string {
	if identRE.MatchString(s) && !strings.HasPrefix(s, "_") {
		return s
	}
	return literal.String.Quote(s)
}
