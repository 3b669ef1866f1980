package verify

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/zkstage/zkstage/compiler"
)

// Expected is one host that should serve at the point checked.
type Expected struct {
	// Member is the host as it should run now: address, client port, role,
	// datacenter, and the id it should run.
	Member compiler.Member
	// Membership is the configuration the host should run.
	Membership []compiler.Member
	// Source and Record say where the host's membership is known from when
	// the version cannot show it (3.4): SourceJournal, SourceRunner or
	// SourceDeclared, and the fact itself. Empty: nothing records it.
	Source, Record string
}

// Where a fact comes from. Observed facts have no source.
const (
	// SourceJournal: the rollout journal in the ensemble records the step.
	SourceJournal = "journal"
	// SourceRunner: the runner checking its own roll knows what it did.
	SourceRunner = "runner"
	// SourceDeclared: no step since stage 0, which is the ensemble as the
	// spec declares it today.
	SourceDeclared = "declared"
)

// Expectation is what the live ensemble should show at one point: the end of
// a stage (Run) or after any step of a roll (the rollout runner's gate). Both
// are checked by Evaluate, one implementation.
type Expectation struct {
	Version string
	// Hosts should serve now.
	Hosts []Expected
	// LeaderDatacenters may lead, most preferred first.
	LeaderDatacenters []string
	// Datacenters maps a host to its datacenter when the member does not say.
	Datacenters map[string]string
	// StrictLeader fails (instead of warning) a leader outside the most
	// preferred datacenter that has serving voters.
	StrictLeader bool
	// ZxidTolerance is how many transactions a member may lag.
	ZxidTolerance int64
	// Unrecorded tells the operator how to acknowledge a membership that can
	// be neither observed nor found in the journal.
	Unrecorded string
}

// Evaluation is the checks of one round and the leader they found.
type Evaluation struct {
	Checks      []Check
	Leader      *Expected
	LeaderProbe *Probe
}

// Evaluate checks probes (probes[i] answers for e.Hosts[i]) against the
// expectation: every host serves in its role's mode under its id, exactly one
// leader, in an allowed datacenter, whose mntr shows exactly the other hosts
// as synced learners, agreeing zxids, and the membership each host runs (conf
// on 3.5+; on 3.4 the records of the journal or the runner).
func Evaluate(e Expectation, probes []*Probe) *Evaluation {
	if len(e.Hosts) == 0 {
		return &Evaluation{Checks: []Check{{Name: CheckMember, Status: Fail, Message: "no host should serve at this point: nothing to check"}}}
	}
	ev := &eval{e: e, probes: probes, shows: ShowsFor(e.Version), out: &Evaluation{}}
	ev.members()
	ev.leader()
	ev.leaderDC()
	ev.leaderSync()
	ev.zxid()
	ev.membership()
	return ev.out
}

type eval struct {
	e      Expectation
	probes []*Probe
	shows  Shows
	out    *Evaluation
}

func (v *eval) add(c Check) { v.out.Checks = append(v.out.Checks, c) }

func memberLabel(m compiler.Member) string {
	return fmt.Sprintf("id %d, %s:%d, %s", m.ID, m.Address, m.ClientPort, m.Datacenter)
}

// ExpectedModes is what srvr may say of a serving member of the role.
func ExpectedModes(m compiler.Member) []string {
	if m.Voter() {
		return []string{"leader", "follower"}
	}
	return []string{"observer"}
}

func (v *eval) dcOf(m compiler.Member) string {
	if d := v.e.Datacenters[m.Host]; d != "" {
		return d
	}
	return m.Datacenter
}

// members: every host answers srvr, serves in its role's mode under the id
// it should run (conf's serverId, shown by every version), and allows the
// words the verifier needs.
func (v *eval) members() {
	for i, x := range v.e.Hosts {
		mem, p := x.Member, v.probes[i]
		c := Check{Name: CheckMember, Host: mem.Host, Status: Fail}
		c.Evidence = append(c.Evidence, memberLabel(mem))
		switch {
		case p.SrvrErr != nil:
			c.Message = p.SrvrErr.Error()
			var we *WordError
			if errors.As(p.SrvrErr, &we) {
				switch we.Kind {
				case ErrNotServing:
					c.Message = fmt.Sprintf("not currently serving requests (srvr on %s)", p.Addr)
					if h := v.lowIDHint(mem); h != "" {
						c.Evidence = append(c.Evidence, "hint: "+h)
					}
				case ErrRefused:
					// Nothing listens: the server is down, not broken.
					c.Message = "not running: " + p.SrvrErr.Error()
				}
			}
		default:
			want := ExpectedModes(mem)
			ok := false
			for _, w := range want {
				ok = ok || p.Mode() == w
			}
			c.Evidence = append(c.Evidence, fmt.Sprintf("srvr: Mode: %s, Zxid: 0x%x, version %s", p.Mode(), p.Srvr.Zxid, p.Srvr.Version))
			if !ok {
				c.Message = fmt.Sprintf("mode %s, expected %s (role %s)", p.Mode(), strings.Join(want, " or "), mem.Role)
				break
			}
			// The verifier needs mntr and conf too; a word refused or
			// garbled here is a gate that cannot be passed later.
			var bad []string
			for _, err := range []error{p.MntrErr, p.ConfErr} {
				var we *WordError
				if errors.As(err, &we) && we.Kind != ErrNotServing {
					bad = append(bad, err.Error())
				}
			}
			if len(bad) > 0 {
				c.Message = strings.Join(bad, "; ")
				break
			}
			if p.Conf != nil && p.Conf.ServerID >= 0 && p.Conf.ServerID != mem.ID {
				c.Message = fmt.Sprintf("runs as id %d, expected %d (conf serverId)", p.Conf.ServerID, mem.ID)
				break
			}
			c.Status = Pass
			c.Message = fmt.Sprintf("serving as %s", p.Mode())
		}
		v.add(c)
	}
}

// lowIDHint explains a member that is not serving when peers with larger ids
// serve: election connections go from the larger id to the smaller, so a
// server whose id its peers do not know yet cannot join.
func (v *eval) lowIDHint(mem compiler.Member) string {
	var unaware, larger []string
	for i, x := range v.e.Hosts {
		o, p := x.Member, v.probes[i]
		if o.ID <= mem.ID || !p.Serving() {
			continue
		}
		larger = append(larger, fmt.Sprintf("%s (id %d)", o.Host, o.ID))
		if p.Conf != nil && p.Conf.HasMembership && !hasID(p.Conf.Members, mem.ID) {
			unaware = append(unaware, fmt.Sprintf("%s (id %d)", o.Host, o.ID))
		}
	}
	switch {
	case len(unaware) > 0:
		return fmt.Sprintf("serving peers with larger ids do not know id %d yet: %s; election connections go from the larger id to the smaller, so id %d stays LOOKING until they are restarted with the new config",
			mem.ID, strings.Join(unaware, ", "), mem.ID)
	case len(larger) > 0:
		return fmt.Sprintf("id %d is lower than serving peers %s: if they do not know id %d yet it cannot join until they are restarted with the new config",
			mem.ID, strings.Join(larger, ", "), mem.ID)
	}
	return ""
}

func hasID(lines []ServerLine, id int) bool {
	for _, l := range lines {
		if l.ID == id {
			return true
		}
	}
	return false
}

// leader: exactly one host says it leads.
func (v *eval) leader() {
	var leaders []string
	serving := 0
	for i, x := range v.e.Hosts {
		p := v.probes[i]
		if p.Serving() {
			serving++
		}
		if p.Mode() == "leader" {
			leaders = append(leaders, fmt.Sprintf("%s (id %d)", x.Member.Host, x.Member.ID))
			if v.out.Leader == nil {
				v.out.Leader, v.out.LeaderProbe = &v.e.Hosts[i], p
			}
		}
	}
	c := Check{Name: CheckLeader}
	switch len(leaders) {
	case 0:
		c.Status, c.Message = Fail, fmt.Sprintf("no leader among %d serving members", serving)
	case 1:
		c.Status, c.Message = Pass, "leader is "+leaders[0]
	default:
		c.Status, c.Message = Fail, fmt.Sprintf("%d members say they lead: %s", len(leaders), strings.Join(leaders, ", "))
		v.out.Leader, v.out.LeaderProbe = nil, nil
	}
	v.add(c)
}

// leaderDC: the leader is in a datacenter allowed to lead, preferably the
// most preferred one that has serving voters.
func (v *eval) leaderDC() {
	c := Check{Name: CheckLeaderDC, Status: Fail}
	if v.out.Leader == nil {
		c.Status, c.Message = Unknown, "no single leader to place"
		v.add(c)
		return
	}
	if len(v.e.LeaderDatacenters) == 0 {
		c.Status, c.Message = Pass, "no datacenter is restricted"
		v.add(c)
		return
	}
	L := v.out.Leader.Member
	dc := v.dcOf(L)
	dcs := strings.Join(v.e.LeaderDatacenters, ", ")
	c.Evidence = append(c.Evidence, fmt.Sprintf("leader %s (id %d) is in %s; allowed, most preferred first: %s", L.Host, L.ID, dc, dcs))
	allowed := false
	for _, d := range v.e.LeaderDatacenters {
		allowed = allowed || d == dc
	}
	if !allowed {
		c.Message = fmt.Sprintf("leader %s is in %s, which may not lead (allowed: %s); restart it to move the leadership (one election)", L.Host, dc, dcs)
		v.add(c)
		return
	}
	best := ""
	for _, d := range v.e.LeaderDatacenters {
		for i, x := range v.e.Hosts {
			if best == "" && x.Member.Voter() && v.probes[i].Serving() && v.dcOf(x.Member) == d {
				best = d
			}
		}
	}
	if best == "" || best == dc {
		c.Status, c.Message = Pass, fmt.Sprintf("leader in %s", dc)
		v.add(c)
		return
	}
	c.Status = Warn
	if v.e.StrictLeader {
		c.Status = Fail
	}
	c.Message = fmt.Sprintf("leader %s is in %s, but %s is more preferred and has serving members; restart the leader to move it (one election)", L.Host, dc, best)
	v.add(c)
}

// leaderSync: the leader's own counts of synced followers and learners, and
// its quorum size, match the hosts that should serve. What mntr shows
// depends on the version (Shows).
func (v *eval) leaderSync() {
	c := Check{Name: CheckLeaderSync, Status: Fail}
	if v.out.LeaderProbe == nil {
		c.Status, c.Message = Unknown, "no single leader to ask"
		v.add(c)
		return
	}
	L, lp := v.out.Leader, v.out.LeaderProbe
	if lp.MntrErr != nil {
		c.Message = "leader " + L.Member.Host + ": " + lp.MntrErr.Error()
		v.add(c)
		return
	}
	voters, observers := 0, 0
	for _, x := range v.e.Hosts {
		if x.Member.Voter() {
			voters++
		} else {
			observers++
		}
	}
	learners := len(v.e.Hosts) - 1
	mn := lp.Mntr
	var bad []string
	expect := func(key string, want int64, required bool) {
		got, ok := mn.Int(key)
		switch {
		case !ok && required:
			bad = append(bad, fmt.Sprintf("%s missing from mntr (ZooKeeper %s shows it)", key, v.e.Version))
		case !ok:
		case got != want:
			bad = append(bad, fmt.Sprintf("%s %d, expected %d", key, got, want))
			c.Evidence = append(c.Evidence, fmt.Sprintf("%s\t%d (expected %d)", key, got, want))
		default:
			c.Evidence = append(c.Evidence, fmt.Sprintf("%s\t%d", key, got))
		}
	}
	// A follower whose id is not a voter of the leader's configuration (in
	// a rename stage: the renamed host, restarted under its new id before
	// the leader) is a non-voting follower to a 3.6+ leader, and counted
	// among its synced followers too (seen on 3.8 during the reference
	// rename).
	nonVoting := 0
	leaderVoters := map[int]bool{}
	for _, m := range L.Membership {
		if m.Voter() {
			leaderVoters[m.ID] = true
		}
	}
	for _, x := range v.e.Hosts {
		if x.Member.Voter() && x.Member.Host != L.Member.Host && !leaderVoters[x.Member.ID] {
			nonVoting++
		}
	}
	if v.shows.Learners {
		expect("zk_learners", int64(learners), true)
		expect("zk_synced_followers", int64(voters-1), true)
		expect("zk_synced_observers", int64(observers), true)
		expect("zk_synced_non_voting_followers", int64(nonVoting), false)
	} else {
		// Before 3.6 zk_followers counts every learner, observers included,
		// and zk_synced_followers the voting ones.
		expect("zk_followers", int64(learners), true)
		expect("zk_synced_followers", int64(voters-1), true)
	}
	if v.shows.QuorumSize {
		// zk_quorum_size is the number of voting members of the leader's
		// config (seen on 3.8: 5 with five voters), not the majority.
		cfgVoters := 0
		for _, m := range L.Membership {
			if m.Voter() {
				cfgVoters++
			}
		}
		expect("zk_quorum_size", int64(cfgVoters), true)
	}
	if len(bad) > 0 {
		c.Message = "leader " + L.Member.Host + ": " + strings.Join(bad, "; ")
		if l, ok := mn.Int("zk_learners"); ok && l > int64(learners) {
			c.Message += fmt.Sprintf(" (unexpected learners: %d connected, %d expected)", l, learners)
		}
	} else {
		c.Status = Pass
		c.Message = fmt.Sprintf("leader %s has %d synced followers, %d observers", L.Member.Host, voters-1, observers)
	}
	v.add(c)
}

// zxid: serving members agree on the epoch and lag by at most the tolerance.
func (v *eval) zxid() {
	c := Check{Name: CheckZxid, Status: Fail}
	var maxZ int64 = -1
	n := 0
	for i, x := range v.e.Hosts {
		p := v.probes[i]
		if !p.Serving() {
			continue
		}
		n++
		c.Evidence = append(c.Evidence, fmt.Sprintf("%s: 0x%x (epoch %d, counter %d)", x.Member.Host, p.Srvr.Zxid, p.Srvr.Epoch(), p.Srvr.Counter()))
		if p.Srvr.Zxid > maxZ {
			maxZ = p.Srvr.Zxid
		}
	}
	if n == 0 {
		c.Status, c.Message = Unknown, "no serving member to compare"
		v.add(c)
		return
	}
	var behind []string
	for i, x := range v.e.Hosts {
		p := v.probes[i]
		if !p.Serving() {
			continue
		}
		// srvr's Zxid is the last zxid the server processed. A serving
		// member synced with the leader when it joined, so a member still in
		// an older epoch only misses the transactions of the current epoch
		// (seen on 3.8: right after an election the leader shows 0x100000000
		// and idle followers 0x0 until the first write).
		lag := maxZ - p.Srvr.Zxid
		if p.Srvr.Epoch() != maxZ>>32 {
			lag = maxZ & 0xffffffff
		}
		if lag > v.e.ZxidTolerance {
			behind = append(behind, fmt.Sprintf("%s lags by %d transactions (zxid 0x%x, newest 0x%x, tolerance %d)", x.Member.Host, lag, p.Srvr.Zxid, maxZ, v.e.ZxidTolerance))
		}
	}
	if len(behind) > 0 {
		c.Message = strings.Join(behind, "; ")
	} else {
		c.Status, c.Message = Pass, fmt.Sprintf("%d serving members agree (zxid 0x%x, tolerance %d)", n, maxZ, v.e.ZxidTolerance)
	}
	v.add(c)
}

// membership: every host runs the membership it should. 3.5+ shows it in
// conf; on 3.4 it is taken from the records (journal, runner, stage 0) and
// the check says so.
func (v *eval) membership() {
	c := Check{Name: CheckConf, Status: Fail}
	if !v.shows.Membership {
		v.recorded(&c)
		v.add(c)
		return
	}
	var wrong, unobserved []string
	for i, x := range v.e.Hosts {
		p := v.probes[i]
		switch {
		case p.ConfErr != nil:
			unobserved = append(unobserved, p.ConfErr.Error())
		case p.Conf == nil:
			unobserved = append(unobserved, x.Member.Host+": no conf answer")
		case !p.Conf.HasMembership:
			wrong = append(wrong, fmt.Sprintf("%s: conf has no membership section (not 3.5+?)", x.Member.Host))
		default:
			if d := DiffMembership(x.Membership, p.Conf.Members); len(d) > 0 {
				wrong = append(wrong, fmt.Sprintf("%s runs another config (version=%s): %s", x.Member.Host, p.Conf.ConfigVersion, strings.Join(d, "; ")))
			} else {
				c.Evidence = append(c.Evidence, fmt.Sprintf("%s: %d members as expected (serverId %d, version=%s)", x.Member.Host, len(p.Conf.Members), p.Conf.ServerID, p.Conf.ConfigVersion))
			}
		}
	}
	verdict(&c, wrong, unobserved, fmt.Sprintf("%d member(s) do not run the stage's membership", len(wrong)),
		fmt.Sprintf("membership not observed on %d member(s)", len(unobserved)),
		fmt.Sprintf("all %d live members list the %d expected servers", len(v.e.Hosts), len(v.e.Hosts[0].Membership)))
	v.add(c)
}

// verdict closes a check over several members: failed when one is wrong,
// unknown when one could not be observed, else passed; each wrong and
// unobserved member is a problem and evidence.
func verdict(c *Check, wrong, unobserved []string, failed, unknown, passed string) {
	c.Evidence = append(append(c.Evidence, wrong...), unobserved...)
	c.Problems = append(append(c.Problems, wrong...), unobserved...)
	switch {
	case len(wrong) > 0:
		c.Status, c.Message = Fail, failed
	case len(unobserved) > 0:
		c.Status, c.Message = Unknown, unknown
	default:
		c.Status, c.Message = Pass, passed
	}
}

// recorded is the membership check of a version that cannot show it.
func (v *eval) recorded(c *Check) {
	var missing []string
	sources := map[string]bool{}
	for _, x := range v.e.Hosts {
		if x.Source == "" {
			missing = append(missing, x.Member.Host)
			continue
		}
		sources[x.Source] = true
		c.Evidence = append(c.Evidence, fmt.Sprintf("%s: %s (%s)", x.Member.Host, x.Record, x.Source))
	}
	var src, from []string
	for s := range sources {
		src = append(src, s)
	}
	sort.Strings(src)
	for _, s := range src {
		from = append(from, sourceText[s])
	}
	c.Source = strings.Join(src, ",")
	why := fmt.Sprintf("ZooKeeper %s cannot show membership (conf has no membership section, no /zookeeper/config)", v.e.Version)
	if len(missing) > 0 {
		c.Status = Unknown
		c.Message = fmt.Sprintf("%s, and nothing records the step of %s", why, strings.Join(missing, ", "))
		if v.e.Unrecorded != "" {
			c.Message += ": " + v.e.Unrecorded
		}
		return
	}
	c.Status = Pass
	c.Message = fmt.Sprintf("%s: taken from %s for all %d members", why, strings.Join(from, " and "), len(v.e.Hosts))
}

var sourceText = map[string]string{
	SourceJournal:  "the rollout journal",
	SourceRunner:   "the runner's own steps",
	SourceDeclared: "the spec's stage 0 (no step since)",
}

// DiffMembership compares the expected members with observed server lines:
// ids, addresses, ports and roles. A client address may be the member's own
// address or a wildcard (production binds all interfaces; the lab binds the
// host's loopback address).
func DiffMembership(want []compiler.Member, got []ServerLine) []string {
	byID := map[int]ServerLine{}
	for _, g := range got {
		byID[g.ID] = g
	}
	var out []string
	seen := map[int]bool{}
	for _, w := range want {
		seen[w.ID] = true
		g, ok := byID[w.ID]
		if !ok {
			out = append(out, fmt.Sprintf("missing id %d (%s %s)", w.ID, w.Host, w.Address))
			continue
		}
		role := w.Role
		if role == "" {
			role = "participant"
		}
		var d []string
		if !sameAddress(g.Address, w.Address) {
			d = append(d, fmt.Sprintf("address %s, expected %s", g.Address, w.Address))
		}
		if g.QuorumPort != w.QuorumPort {
			d = append(d, fmt.Sprintf("quorum port %d, expected %d", g.QuorumPort, w.QuorumPort))
		}
		if g.ElectionPort != w.ElectPort {
			d = append(d, fmt.Sprintf("election port %d, expected %d", g.ElectionPort, w.ElectPort))
		}
		if g.Role != role {
			d = append(d, fmt.Sprintf("role %s, expected %s", g.Role, role))
		}
		if g.ClientPort != 0 && w.ClientPort != 0 && g.ClientPort != w.ClientPort {
			d = append(d, fmt.Sprintf("client port %d, expected %d", g.ClientPort, w.ClientPort))
		}
		if !wildcard(g.ClientAddr) && !sameAddress(g.ClientAddr, w.Address) {
			d = append(d, fmt.Sprintf("client address %s, expected %s or a wildcard", g.ClientAddr, w.Address))
		}
		if len(d) > 0 {
			out = append(out, fmt.Sprintf("id %d: %s", w.ID, strings.Join(d, ", ")))
		}
	}
	var extra []int
	for id := range byID {
		if !seen[id] {
			extra = append(extra, id)
		}
	}
	sort.Ints(extra)
	for _, id := range extra {
		out = append(out, fmt.Sprintf("unexpected id %d (server.%d=%s)", id, id, byID[id].Value()))
	}
	return out
}
