package adopt

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/zkstage/zkstage/render"
	"github.com/zkstage/zkstage/schema"
	"github.com/zkstage/zkstage/zoocfg"
)

// Result is an import's outcome.
type Result struct {
	Spec *Spec
	// CUE is the formatted cluster.cue.
	CUE []byte
	// Warnings are remarks for stderr ("file:line: key: message").
	Warnings []string
}

// perHostKeys may differ between the files of one ensemble: they describe
// the server the file belongs to, not the ensemble.
var perHostKeys = map[string]bool{
	zoocfg.KeyClientPort: true, zoocfg.KeyClientPortAddress: true,
	zoocfg.KeyPeerType: true, zoocfg.KeyDynamicConfigFile: true,
}

// builder accumulates errors and warnings while turning views into a Spec.
type builder struct {
	opts    Options
	version schema.Version
	views   []*view
	errs    zoocfg.Errors
	warns   []string
}

func (b *builder) fail(file string, line int, key, format string, args ...interface{}) {
	b.errs = append(b.errs, &zoocfg.Error{File: file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (b *builder) warn(file string, line int, key, format string, args ...interface{}) {
	e := &zoocfg.Error{File: file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)}
	b.warns = append(b.warns, e.Error())
}

// build merges the views into a spec, or reports every disagreement.
func (b *builder) build() (*Result, error) {
	members := b.membership()
	b.checkMyIDs(members)
	settings := b.settings()
	if len(b.errs) > 0 {
		return nil, b.errs
	}
	spec := &Spec{Name: b.opts.Name, Version: b.version.String(), Settings: settings}
	for _, v := range b.views {
		spec.Sources = append(spec.Sources, v.origin)
	}
	ids := make([]int, 0, len(members))
	addr := map[int]string{}
	for id, s := range members {
		ids = append(ids, id)
		addr[id] = s.Address
	}
	sort.Ints(ids)
	maxID := schema.MaxMyID(b.version, settings.Extra)
	for _, id := range ids {
		if id > maxID {
			s := members[id]
			b.fail(s.File, s.Line, s.Key(), "server id %d is out of range 0..%d for ZooKeeper %s", id, maxID, b.version)
		}
	}
	client := b.clientPorts(ids, members)
	spec.Settings.ClientBind = b.clientBind(ids, members)
	names := hostNames(ids, addr)
	dcs := b.datacenters(ids, members)
	if len(b.errs) > 0 {
		return nil, b.errs
	}

	spec.Ports = schema.Ports{
		Client:   mostCommon(ids, func(id int) int { return client[id] }),
		Quorum:   mostCommon(ids, func(id int) int { return members[id].QuorumPort }),
		Election: mostCommon(ids, func(id int) int { return members[id].ElectionPort }),
	}
	for _, id := range ids {
		s := members[id]
		h := Host{Name: names[id], Address: s.Address, DC: dcs[id], MyID: id, Role: s.Role, From: s.Pos()}
		if client[id] != spec.Ports.Client {
			h.Client = client[id]
		}
		if s.QuorumPort != spec.Ports.Quorum {
			h.Quorum = s.QuorumPort
		}
		if s.ElectionPort != spec.Ports.Election {
			h.Election = s.ElectionPort
		}
		spec.Hosts = append(spec.Hosts, h)
	}
	spec.Datacenters = b.leaderRules()
	out, err := spec.CUE()
	if err != nil {
		return nil, err
	}
	// The spec must pass vet; a failure here is a bug in adopt (or a case it
	// does not pre-check), reported against the generated text.
	if _, _, err := schema.LoadBytes("imported cluster.cue", out); err != nil {
		return nil, fmt.Errorf("the imported spec does not pass zkstage vet: %w", err)
	}
	return &Result{Spec: spec, CUE: out, Warnings: b.warns}, nil
}

// membership compares the server lines of every view and returns them by
// id, or records one error per difference.
func (b *builder) membership() map[int]zoocfg.Server {
	members := map[int]zoocfg.Server{}
	ref := map[int]*view{}
	var order []int
	for _, v := range b.views {
		for _, s := range v.servers {
			if _, ok := members[s.ID]; !ok {
				members[s.ID] = s
				ref[s.ID] = v
				order = append(order, s.ID)
			}
		}
	}
	for _, v := range b.views {
		for _, id := range order {
			want := members[id]
			got, ok := v.server(id)
			switch {
			case !ok:
				b.fail(v.serversFrom, 0, "", "server.%d is missing (%s has server.%d=%s)", id, want.Pos(), id, want.Value())
			case !got.SameMember(want):
				b.fail(got.File, got.Line, got.Key(), "%s differs from %s: %s", got.Value(), want.Pos(), want.Value())
			}
		}
	}
	if len(members) == 0 && len(b.errs) == 0 {
		for _, v := range b.views {
			b.fail(v.serversFrom, 0, "", "no server.N line: a standalone server cannot be adopted (zkstage manages ensembles)")
		}
	}
	return members
}

// checkMyIDs ties each myid to a server line and checks peerType.
func (b *builder) checkMyIDs(members map[int]zoocfg.Server) {
	owner := map[int]*view{}
	for _, v := range b.views {
		if v.myid == nil {
			continue
		}
		id := *v.myid
		s, ok := v.server(id)
		if !ok {
			b.fail(v.myidFile, v.myidLine, "", "myid %d matches no server line of %s", id, v.serversFrom)
			continue
		}
		if o := owner[id]; o != nil {
			b.fail(v.myidFile, v.myidLine, "", "myid %d is also the myid of %s (%s): two sources for one server", id, o.origin, o.myidFile)
			continue
		}
		owner[id] = v
		if pt, ok := v.get(zoocfg.KeyPeerType); ok {
			if r, _ := zoocfg.ParseRole(pt.Value); r != "" && r != s.Role {
				b.warn(pt.File, pt.Line, pt.Key, "peerType=%s but %s says %s; ZooKeeper follows the server line", pt.Value, s.Pos(), s.Role)
			}
		}
	}
}

// clientPorts finds each server's client port: its server line's
// ";port", else the clientPort of the file whose myid is that server, else
// the clientPort every file agrees on.
func (b *builder) clientPorts(ids []int, members map[int]zoocfg.Server) map[int]int {
	out := map[int]int{}
	byID := map[int]*view{}
	for _, v := range b.views {
		if v.myid != nil {
			byID[*v.myid] = v
		}
	}
	common, commonErr := b.commonClientPort()
	for _, id := range ids {
		s := members[id]
		own := byID[id]
		var ownPort int
		var ownEntry zoocfg.Entry
		if own != nil {
			if e, ok := own.get(zoocfg.KeyClientPort); ok {
				ownEntry = e
				ownPort, _ = strconv.Atoi(e.Value)
			}
		}
		switch {
		case s.ClientPort != 0:
			if ownPort != 0 && ownPort != s.ClientPort {
				b.fail(ownEntry.File, ownEntry.Line, ownEntry.Key, "%d differs from the client port of %s: %d", ownPort, s.Pos(), s.ClientPort)
			}
			out[id] = s.ClientPort
		case ownPort != 0:
			out[id] = ownPort
		case commonErr != "":
			b.fail(s.File, s.Line, s.Key(), "client port unknown: %s; pass each zoo.cfg with its myid so that every server's clientPort is known", commonErr)
		case common != 0:
			out[id] = common
		default:
			out[id] = 2181
			b.warn(s.File, s.Line, s.Key(), "no client port (no ';port' and no clientPort): assuming 2181")
		}
	}
	return out
}

// commonClientPort is the clientPort all views agree on (0 if none has
// one), or a description of their disagreement.
func (b *builder) commonClientPort() (int, string) {
	port := 0
	var first zoocfg.Entry
	for _, v := range b.views {
		e, ok := v.get(zoocfg.KeyClientPort)
		if !ok {
			continue
		}
		n, _ := strconv.Atoi(e.Value)
		if port == 0 {
			port, first = n, e
			continue
		}
		if n != port {
			return 0, fmt.Sprintf("%s has clientPort=%d, %s has clientPort=%d", first.Pos(), port, e.Pos(), n)
		}
	}
	return port, ""
}

// clientBind reads how 3.5+ server lines bind the client port: the server's
// own address everywhere ("address", the schema default) or every interface
// (";port" or 0.0.0.0: "any"). 3.4 lines have no client part: there the
// clientPortAddress key tells (clientBind34).
func (b *builder) clientBind(ids []int, members map[int]zoocfg.Server) string {
	if !b.version.Dynamic() {
		return b.clientBind34(members)
	}
	kinds := map[string][]zoocfg.Server{}
	for _, id := range ids {
		s := members[id]
		switch s.ClientAddr {
		case s.Address:
			kinds["address"] = append(kinds["address"], s)
		case "", "0.0.0.0", "::", "0:0:0:0:0:0:0:0":
			kinds["any"] = append(kinds["any"], s)
		default:
			b.fail(s.File, s.Line, s.Key(), "client address %s is neither the server's address nor 0.0.0.0: zkstage binds the client port to one or the other", s.ClientAddr)
		}
	}
	switch {
	case len(kinds["address"]) > 0 && len(kinds["any"]) > 0:
		a, n := kinds["address"][0], kinds["any"][0]
		b.fail(n.File, n.Line, n.Key(), "binds the client port to every interface but %s binds its own address: zkstage binds all servers the same way", a.Pos())
	case len(kinds["any"]) > 0:
		return "any"
	}
	return "" // "address" is the default
}

// clientBind34 reads clientPortAddress from 3.4 files: absent (or a
// wildcard) in every file is "any", the 3.4 default; the server's own
// address in every file is "address". A file whose server is not known
// (no myid) cannot say whose address it names.
func (b *builder) clientBind34(members map[int]zoocfg.Server) string {
	var any, own *zoocfg.Entry
	for _, v := range b.views {
		if b.ignored(zoocfg.KeyClientPortAddress) {
			return ""
		}
		e, ok := v.get(zoocfg.KeyClientPortAddress)
		switch {
		case !ok || isWildcard(e.Value):
			if !ok {
				e = zoocfg.Entry{File: v.origin}
			}
			any = &e
			continue
		case v.myid == nil:
			b.fail(e.File, e.Line, e.Key, "no myid for this zoo.cfg: cannot tell whether %s is its server's own address; pass its myid file", e.Value)
			continue
		}
		s, ok := members[*v.myid]
		if a, _ := schema.Address(e.Value); !ok || a != canonical(s.Address) {
			b.fail(e.File, e.Line, e.Key, "%s is not the address of server.%d (%s): zkstage binds the client port to the server's own address or to every interface", e.Value, *v.myid, s.Address)
			continue
		}
		own = &e
	}
	switch {
	case any != nil && own != nil:
		b.fail(own.File, own.Line, own.Key, "binds the client port to its own address but %s binds every interface: zkstage binds all servers the same way", any.Pos())
	case own != nil:
		return "address"
	}
	return "" // "any" is the 3.4 default
}

func isWildcard(addr string) bool {
	switch addr {
	case "0.0.0.0", "::", "0:0:0:0:0:0:0:0":
		return true
	}
	return false
}

func canonical(addr string) string {
	a, _ := schema.Address(addr)
	return a
}

func (b *builder) ignored(key string) bool {
	for _, k := range b.opts.Ignore {
		if k == key {
			return true
		}
	}
	return false
}

// leaderRules writes the datacenters in the order of the --dc flags: the
// first is the preferred leader site (priority 1), the others may lead in
// that order (priorities 2, 3, ...). Without --dc there is one, dc1,
// preferred. The planner then puts the leader where the flags say, and the
// operator reviews explicit rules (the spec's header says to) instead of
// defaults that tie every datacenter.
func (b *builder) leaderRules() []Datacenter {
	if len(b.opts.DCs) == 0 {
		return []Datacenter{{Name: "dc1", Leader: schema.LeaderPreferred, Priority: 1}}
	}
	var out []Datacenter
	seen := map[string]bool{}
	for _, r := range b.opts.DCs {
		if seen[r.Name] {
			continue
		}
		seen[r.Name] = true
		d := Datacenter{Name: r.Name, Leader: schema.LeaderAllowed, Priority: len(out) + 1}
		if len(out) == 0 {
			d.Leader = schema.LeaderPreferred
		}
		out = append(out, d)
	}
	return out
}

// datacenters assigns each server to the first --dc range that covers it.
func (b *builder) datacenters(ids []int, members map[int]zoocfg.Server) map[int]string {
	out := map[int]string{}
	for _, id := range ids {
		if len(b.opts.DCs) == 0 {
			out[id] = "dc1"
			continue
		}
		s := members[id]
		for _, r := range b.opts.DCs {
			if r.match(s.Address) {
				out[id] = r.Name
				break
			}
		}
		if out[id] == "" {
			var flags []string
			for _, r := range b.opts.DCs {
				flags = append(flags, r.Flag)
			}
			b.fail(s.File, s.Line, s.Key(), "address %s is in no --dc range (%s)", s.Address, strings.Join(flags, ", "))
		}
	}
	return out
}

// settings compares the shared settings of every view and maps them.
func (b *builder) settings() Settings {
	var st Settings
	st.Extra = map[string]string{}
	var keys []string
	seen := map[string]bool{}
	for _, v := range b.views {
		for _, k := range v.keys() {
			if !seen[k] && !perHostKeys[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	ignore := map[string]bool{}
	for _, k := range b.opts.Ignore {
		ignore[k] = true
	}
	values := map[string]zoocfg.Entry{}
	var kept []string
	for _, k := range keys {
		if ignore[k] {
			b.warn("", 0, k, "ignored (--ignore): not compared between the sources, the spec keeps zkstage's default")
			continue
		}
		kept = append(kept, k)
		var ref zoocfg.Entry
		var refView *view
		for _, v := range b.views {
			e, ok := v.get(k)
			if !ok {
				continue
			}
			if refView == nil {
				ref, refView = e, v
				continue
			}
			if e.Value != ref.Value {
				b.fail(e.File, e.Line, k, "%q differs from %s: %q", e.Value, ref.Pos(), ref.Value)
			}
		}
		for _, v := range b.views {
			if _, ok := v.get(k); !ok {
				b.fail(v.origin, 0, "", "%s is not set (%s has %s=%s)", k, ref.Pos(), k, ref.Value)
			}
		}
		values[k] = ref
	}
	atoi := func(k string) int {
		n, _ := strconv.Atoi(values[k].Value)
		return n
	}
	dynamic := b.version.Dynamic()
	adminEnabled := dynamic // ZooKeeper 3.5+ starts the AdminServer unless told not to
	st.AdminPort = 8080
	for _, k := range kept {
		e := values[k]
		switch k {
		case zoocfg.KeyTickTime:
			st.TickTime = atoi(k)
		case zoocfg.KeyInitLimit:
			st.InitLimit = atoi(k)
		case zoocfg.KeySyncLimit:
			st.SyncLimit = atoi(k)
		case zoocfg.KeyDataDir:
			st.DataDir = e.Value
		case zoocfg.KeyDataLogDir:
			if e.Value != values[zoocfg.KeyDataDir].Value {
				st.DataLogDir = e.Value
			}
		case "admin.enableServer":
			adminEnabled = dynamic && strings.EqualFold(e.Value, "true")
		case zoocfg.KeyAdminServerPort:
			st.AdminPort = atoi(k)
		case "4lw.commands.whitelist":
			if !coversWhitelist(e.Value) {
				b.warn(e.File, e.Line, k, "not carried over: zkstage renders 4lw.commands.whitelist=%s", strings.Join(render.Whitelist, ","))
			}
		case "reconfigEnabled", "standaloneEnabled":
			if !strings.EqualFold(e.Value, "false") {
				b.warn(e.File, e.Line, k, "not carried over: zkstage renders %s=false (static membership)", k)
			}
		default:
			if schema.ReservedKey(k) {
				b.warn(e.File, e.Line, k, "not carried over: zkstage renders %s itself", k)
				continue
			}
			if e.Value == "" {
				b.fail(e.File, e.Line, k, "no value: a stray line, or a key=value without the value; remove it or give it a value")
				continue
			}
			if msg := schema.ExtraRefusal(k, e.Value); msg != "" {
				b.fail(e.File, e.Line, k, "%s", msg)
				continue
			}
			st.Extra[k] = e.Value
		}
	}
	if dynamic && adminEnabled {
		st.AdminEnabled = true
		if _, ok := values["admin.enableServer"]; !ok && len(b.views) > 0 && !b.views[0].live {
			v := b.views[0]
			b.warn(v.origin, 0, "", "admin.enableServer is not set: ZooKeeper %s starts the AdminServer (port %d), so the spec enables it", b.version, st.AdminPort)
		}
	}
	for _, v := range b.views {
		for _, k := range []string{zoocfg.KeyClientPortAddress, zoocfg.KeyDynamicConfigFile} {
			e, ok := v.get(k)
			if ok && k == zoocfg.KeyClientPortAddress && !dynamic {
				continue // settings.clientBind (clientBind34)
			}
			if ok {
				b.warn(e.File, e.Line, k, "not carried over: zkstage renders %s", map[string]string{
					zoocfg.KeyClientPortAddress: "the client address on the server lines (settings.clientBind)",
					zoocfg.KeyDynamicConfigFile: "static configs (server lines in zoo.cfg)",
				}[k])
			}
		}
	}
	return st
}

// coversWhitelist reports whether a whitelist is what zkstage renders
// (same words, any order); "*" is not, since zkstage narrows it.
func coversWhitelist(v string) bool {
	var words []string
	for _, w := range strings.Split(v, ",") {
		if w = strings.TrimSpace(w); w != "" {
			words = append(words, w)
		}
	}
	sort.Strings(words)
	want := append([]string{}, render.Whitelist...)
	sort.Strings(want)
	return strings.Join(words, ",") == strings.Join(want, ",")
}

// mostCommon returns the most frequent value, the smallest on ties.
func mostCommon(ids []int, f func(int) int) int {
	n := map[int]int{}
	for _, id := range ids {
		n[f(id)]++
	}
	best, bestN := 0, 0
	for v, c := range n {
		if c > bestN || (c == bestN && v < best) {
			best, bestN = v, c
		}
	}
	return best
}
