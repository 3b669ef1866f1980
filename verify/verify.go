package verify

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/render"
)

// Options tune a verification round. The zero value is strict: 2 s per
// probe, all probes at once, zxids must agree exactly.
type Options struct {
	// Timeout bounds each probe (one four-letter word, one session call).
	Timeout time.Duration
	// Parallel is the number of hosts probed at once; 0 means all, 1 probes
	// one host at a time (the benchmark's baseline).
	Parallel int
	// StrictLeader fails (instead of warning) when the leader is not in the
	// most preferred datacenter that has serving members.
	StrictLeader bool
	// ZxidTolerance is how many transactions a member may lag the most
	// advanced one (same epoch) and still agree.
	ZxidTolerance int64
	// Canary, when set, is the znode path of the write/sync/read check.
	Canary string
	// AcceptUnknown lets checks that cannot be observed (membership on 3.4)
	// not fail the report. They are still reported as unknown.
	AcceptUnknown bool
}

func (o Options) timeout() time.Duration {
	if o.Timeout <= 0 {
		return 2 * time.Second
	}
	return o.Timeout
}

// Check names.
const (
	CheckMember      = "member"
	CheckLeader      = "leader"
	CheckLeaderDC    = "leader-datacenter"
	CheckLeaderSync  = "leader-sync"
	CheckZxid        = "zxid"
	CheckConf        = "membership-conf"
	CheckZNodeConfig = "membership-zookeeper-config"
	CheckCanary      = "canary"
)

// Run probes every member live at the end of the manifest's stage and
// checks the ensemble against it. The error is only for unusable input; a
// live ensemble that does not match is a report that is not OK.
func Run(ctx context.Context, m *render.Manifest, opts Options) (*Report, error) {
	if m == nil || len(m.Members) == 0 {
		return nil, errors.New("manifest has no members")
	}
	live := m.LiveMembers()
	if len(live) == 0 {
		return nil, fmt.Errorf("stage %d: no live member (the manifest's live list names no member)", m.Stage)
	}
	start := time.Now()
	r := &Report{Cluster: m.Cluster, Version: m.Version, Stage: m.Stage, StageName: m.Name, AcceptUnknown: opts.AcceptUnknown}
	probes := ProbeMembers(ctx, live, opts)
	v := &run{m: m, live: live, probes: probes, opts: opts, r: r}
	v.members()
	v.leader()
	v.leaderDC()
	v.leaderSync()
	v.zxid()
	v.conf()
	v.znodeConfig(ctx)
	if opts.Canary != "" {
		if v.leaderM == nil {
			r.add(Check{Name: CheckCanary, Status: Fail, Message: "no leader to write the canary through"})
		} else {
			r.add(canary(ctx, opts.Canary, *v.leaderM, live, opts.timeout()))
		}
	}
	r.Duration = time.Since(start)
	return r, nil
}

// ProbeMembers probes the members, opts.Parallel at a time (0: all at once).
func ProbeMembers(ctx context.Context, members []compiler.Member, opts Options) []*Probe {
	out := make([]*Probe, len(members))
	n := opts.Parallel
	if n <= 0 || n > len(members) {
		n = len(members)
	}
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for i, mem := range members {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int, mem compiler.Member) {
			defer wg.Done()
			defer func() { <-sem }()
			out[i] = ProbeHost(ctx, mem.Address, mem.ClientPort, opts.timeout())
		}(i, mem)
	}
	wg.Wait()
	return out
}

// RunWait repeats Run until the report is OK or ctx ends (its deadline is
// the --wait duration), calling progress after every round that is not OK.
// It returns the last report.
func RunWait(ctx context.Context, m *render.Manifest, opts Options, interval time.Duration, progress func(*Report)) (*Report, error) {
	if interval <= 0 {
		interval = time.Second
	}
	for {
		r, err := Run(ctx, m, opts)
		if err != nil || r.OK() {
			return r, err
		}
		if progress != nil {
			progress(r)
		}
		select {
		case <-ctx.Done():
			// One last round with a fresh deadline would hide the timeout;
			// the last report stands.
			return r, nil
		case <-time.After(interval):
		}
		if ctx.Err() != nil {
			return r, nil
		}
	}
}

type run struct {
	m       *render.Manifest
	live    []compiler.Member
	probes  []*Probe
	opts    Options
	r       *Report
	leaderM *compiler.Member
	leaderP *Probe
}

func memberLabel(m compiler.Member) string {
	return fmt.Sprintf("id %d, %s:%d, %s", m.ID, m.Address, m.ClientPort, m.Datacenter)
}

func expectedModes(m compiler.Member) []string {
	if m.Voter() {
		return []string{"leader", "follower"}
	}
	return []string{"observer"}
}

// members: every live member answers srvr, serves in its role's mode, and
// allows the words the verifier needs.
func (v *run) members() {
	for i, mem := range v.live {
		p := v.probes[i]
		c := Check{Name: CheckMember, Host: mem.Host, Status: Fail}
		c.Evidence = append(c.Evidence, memberLabel(mem))
		switch {
		case p.SrvrErr != nil:
			c.Message = p.SrvrErr.Error()
			var we *WordError
			if errors.As(p.SrvrErr, &we) && we.Kind == ErrNotServing {
				c.Message = fmt.Sprintf("not currently serving requests (srvr on %s)", p.Addr)
				if h := v.lowIDHint(mem); h != "" {
					c.Evidence = append(c.Evidence, "hint: "+h)
				}
			}
		default:
			want := expectedModes(mem)
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
			for _, e := range []error{p.MntrErr, p.ConfErr} {
				var we *WordError
				if errors.As(e, &we) && (we.Kind != ErrNotServing) {
					bad = append(bad, e.Error())
				}
			}
			if len(bad) > 0 {
				c.Message = strings.Join(bad, "; ")
				break
			}
			c.Status = Pass
			c.Message = fmt.Sprintf("serving as %s", p.Mode())
		}
		v.r.add(c)
	}
}

// lowIDHint explains a member that is not serving when peers with larger ids
// serve: election connections go from the larger id to the smaller, so a
// server whose id its peers do not know yet cannot join (DESIGN.md 2).
func (v *run) lowIDHint(mem compiler.Member) string {
	var unaware, larger []string
	for i, o := range v.live {
		p := v.probes[i]
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

// leader: exactly one member says it leads.
func (v *run) leader() {
	var leaders []string
	serving := 0
	for i, mem := range v.live {
		p := v.probes[i]
		if p.Serving() {
			serving++
		}
		if p.Mode() == "leader" {
			leaders = append(leaders, fmt.Sprintf("%s (id %d)", mem.Host, mem.ID))
			if v.leaderM == nil {
				m := mem
				v.leaderM, v.leaderP = &m, p
			}
		}
	}
	c := Check{Name: CheckLeader}
	switch len(leaders) {
	case 0:
		c.Status, c.Message = Fail, fmt.Sprintf("no leader among %d serving members", serving)
	case 1:
		c.Status, c.Message = Pass, "leader is "+leaders[0]
		v.r.Leader = v.leaderM.Host
	default:
		c.Status, c.Message = Fail, fmt.Sprintf("%d members say they lead: %s", len(leaders), strings.Join(leaders, ", "))
		v.leaderM, v.leaderP = nil, nil
	}
	v.r.add(c)
}

// leaderDC: the leader is in a datacenter allowed to lead, preferably the
// most preferred one that has serving voters.
func (v *run) leaderDC() {
	c := Check{Name: CheckLeaderDC, Status: Fail}
	if v.leaderM == nil {
		c.Status, c.Message = Unknown, "no single leader to place"
		v.r.add(c)
		return
	}
	dc := v.m.Datacenters[v.leaderM.Host]
	if dc == "" {
		dc = v.leaderM.Datacenter
	}
	c.Evidence = append(c.Evidence, fmt.Sprintf("leader %s (id %d) is in %s; allowed, most preferred first: %s",
		v.leaderM.Host, v.leaderM.ID, dc, strings.Join(v.m.LeaderDatacenters, ", ")))
	allowed := false
	for _, d := range v.m.LeaderDatacenters {
		allowed = allowed || d == dc
	}
	if !allowed {
		c.Message = fmt.Sprintf("leader %s is in %s, which may not lead (allowed: %s); restart it to move the leadership (one election)",
			v.leaderM.Host, dc, strings.Join(v.m.LeaderDatacenters, ", "))
		v.r.add(c)
		return
	}
	best := ""
	for _, d := range v.m.LeaderDatacenters {
		for i, mem := range v.live {
			if best == "" && mem.Voter() && v.probes[i].Serving() && v.dcOf(mem) == d {
				best = d
			}
		}
	}
	if best == "" || best == dc {
		c.Status, c.Message = Pass, fmt.Sprintf("leader in %s", dc)
		v.r.add(c)
		return
	}
	c.Status = Warn
	if v.opts.StrictLeader {
		c.Status = Fail
	}
	c.Message = fmt.Sprintf("leader %s is in %s, but %s is more preferred and has serving members; restart the leader to move it (one election)",
		v.leaderM.Host, dc, best)
	v.r.add(c)
}

func (v *run) dcOf(m compiler.Member) string {
	if d := v.m.Datacenters[m.Host]; d != "" {
		return d
	}
	return m.Datacenter
}

// leaderSync: the leader's own counts of synced followers, observers and
// learners, and its quorum size (3.6+), match the stage.
func (v *run) leaderSync() {
	c := Check{Name: CheckLeaderSync, Status: Fail}
	if v.leaderP == nil {
		c.Status, c.Message = Unknown, "no single leader to ask"
		v.r.add(c)
		return
	}
	if v.leaderP.MntrErr != nil {
		c.Message = v.leaderP.MntrErr.Error()
		v.r.add(c)
		return
	}
	voters, observers := 0, 0
	for _, mem := range v.live {
		if mem.Voter() {
			voters++
		} else {
			observers++
		}
	}
	mn := v.leaderP.Mntr
	var bad []string
	expect := func(key string, want int64, required bool) {
		got, ok := mn.Int(key)
		switch {
		case !ok && required:
			bad = append(bad, fmt.Sprintf("%s missing from mntr", key))
		case !ok:
		case got != want:
			bad = append(bad, fmt.Sprintf("%s %d, expected %d", key, got, want))
			c.Evidence = append(c.Evidence, fmt.Sprintf("%s\t%d (expected %d)", key, got, want))
		default:
			c.Evidence = append(c.Evidence, fmt.Sprintf("%s\t%d", key, got))
		}
	}
	dynamic := versionAtLeast(v.m.Version, 3, 5)
	expect("zk_synced_followers", int64(voters-1), true)
	if dynamic {
		expect("zk_synced_observers", int64(observers), true)
		expect("zk_learners", int64(len(v.live)-1), true)
		expect("zk_synced_non_voting_followers", 0, false)
	} else {
		expect("zk_followers", int64(len(v.live)-1), true)
	}
	if versionAtLeast(v.m.Version, 3, 6) {
		// zk_quorum_size is the number of voting members of the leader's
		// config (seen on 3.8: 5 with five voters), not the majority.
		cfgVoters := 0
		for _, mem := range v.m.Members {
			if mem.Voter() {
				cfgVoters++
			}
		}
		expect("zk_quorum_size", int64(cfgVoters), true)
	}
	if len(bad) > 0 {
		c.Message = "leader " + v.leaderM.Host + ": " + strings.Join(bad, "; ")
		if l, ok := mn.Int("zk_learners"); ok && l > int64(len(v.live)-1) {
			c.Message += fmt.Sprintf(" (unexpected learners: %d connected, %d expected)", l, len(v.live)-1)
		}
	} else {
		c.Status = Pass
		c.Message = fmt.Sprintf("leader %s has %d synced followers, %d observers", v.leaderM.Host, voters-1, observers)
	}
	v.r.add(c)
}

// zxid: serving members agree on the epoch and lag by at most the tolerance.
func (v *run) zxid() {
	c := Check{Name: CheckZxid, Status: Fail}
	var maxZ int64 = -1
	n := 0
	for i, mem := range v.live {
		p := v.probes[i]
		if !p.Serving() {
			continue
		}
		n++
		c.Evidence = append(c.Evidence, fmt.Sprintf("%s: 0x%x (epoch %d, counter %d)", mem.Host, p.Srvr.Zxid, p.Srvr.Epoch(), p.Srvr.Counter()))
		if p.Srvr.Zxid > maxZ {
			maxZ = p.Srvr.Zxid
		}
	}
	if n == 0 {
		c.Status, c.Message = Unknown, "no serving member to compare"
		v.r.add(c)
		return
	}
	var behind []string
	for i, mem := range v.live {
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
		if lag > v.opts.ZxidTolerance {
			behind = append(behind, fmt.Sprintf("%s lags by %d transactions (zxid 0x%x, newest 0x%x, tolerance %d)", mem.Host, lag, p.Srvr.Zxid, maxZ, v.opts.ZxidTolerance))
		}
	}
	if len(behind) > 0 {
		c.Message = strings.Join(behind, "; ")
	} else {
		c.Status, c.Message = Pass, fmt.Sprintf("%d serving members agree (zxid 0x%x, tolerance %d)", n, maxZ, v.opts.ZxidTolerance)
	}
	v.r.add(c)
}

// conf: every member's conf lists exactly the stage's membership (3.5+).
func (v *run) conf() {
	c := Check{Name: CheckConf, Status: Fail}
	if !versionAtLeast(v.m.Version, 3, 5) {
		c.Status = Unknown
		c.Message = fmt.Sprintf("membership cannot be observed on ZooKeeper %s: conf has no membership section", v.m.Version)
		v.r.add(c)
		return
	}
	var wrong, unobserved []string
	for i, mem := range v.live {
		p := v.probes[i]
		switch {
		case p.ConfErr != nil:
			unobserved = append(unobserved, p.ConfErr.Error())
		case !p.Conf.HasMembership:
			wrong = append(wrong, fmt.Sprintf("%s: conf has no membership section (not 3.5+?)", mem.Host))
		default:
			if d := diffMembership(v.m.Members, p.Conf.Members); len(d) > 0 {
				wrong = append(wrong, fmt.Sprintf("%s runs another config (version=%s): %s", mem.Host, p.Conf.ConfigVersion, strings.Join(d, "; ")))
			} else if p.Conf.ServerID != mem.ID {
				wrong = append(wrong, fmt.Sprintf("%s runs as id %d, expected %d", mem.Host, p.Conf.ServerID, mem.ID))
			} else {
				c.Evidence = append(c.Evidence, fmt.Sprintf("%s: %d members as expected (serverId %d, version=%s)", mem.Host, len(p.Conf.Members), p.Conf.ServerID, p.Conf.ConfigVersion))
			}
		}
	}
	c.Evidence = append(c.Evidence, wrong...)
	c.Evidence = append(c.Evidence, unobserved...)
	switch {
	case len(wrong) > 0:
		c.Message = fmt.Sprintf("%d member(s) do not run the stage's membership", len(wrong))
	case len(unobserved) > 0:
		c.Status = Unknown
		c.Message = fmt.Sprintf("membership not observed on %d member(s)", len(unobserved))
	default:
		c.Status = Pass
		c.Message = fmt.Sprintf("all %d live members list the %d expected servers", len(v.live), len(v.m.Members))
	}
	v.r.add(c)
}

// znodeConfig: /zookeeper/config, read through a session after a sync,
// lists exactly the stage's membership (3.5+).
func (v *run) znodeConfig(ctx context.Context) {
	c := Check{Name: CheckZNodeConfig, Status: Fail}
	if !versionAtLeast(v.m.Version, 3, 5) {
		c.Status = Unknown
		c.Message = fmt.Sprintf("membership cannot be observed on ZooKeeper %s: no /zookeeper/config", v.m.Version)
		v.r.add(c)
		return
	}
	if v.leaderM == nil {
		c.Status, c.Message = Unknown, "no single leader to read /zookeeper/config from"
		v.r.add(c)
		return
	}
	data, err := readConfig(ctx, clientAddr(*v.leaderM), v.opts.timeout())
	if err != nil {
		c.Message = err.Error()
		v.r.add(c)
		return
	}
	lines, version, err := ParseDynamicConfig(data)
	if err != nil {
		c.Message = err.Error()
		v.r.add(c)
		return
	}
	c.Evidence = append(c.Evidence, fmt.Sprintf("read through %s after sync: %d servers, version=%s", v.leaderM.Host, len(lines), version))
	if d := diffMembership(v.m.Members, lines); len(d) > 0 {
		// zkstage renders static configs (reconfigEnabled=false). Then the
		// znode is not the running membership: ZooKeeper 3.8 writes it
		// only at start-up (QuorumPeer.createFromConfig, before the
		// database is loaded, so a snapshot's older copy replaces it), on
		// a learner's SNAP sync and on reconfig; a leader never refreshes
		// it. Seen: after a rolling restart onto 7 members the leader kept
		// serving a 5-member /zookeeper/config, version=0, while conf on
		// every server showed the 7. The conf check above is the
		// authority; a stale znode is reported, not failed.
		c.Status = Warn
		c.Message = "/zookeeper/config differs from the stage (static configs: the znode can lag the running membership; conf is authoritative): " + strings.Join(d, "; ")
	} else {
		c.Status, c.Message = Pass, fmt.Sprintf("/zookeeper/config lists the %d expected servers", len(lines))
	}
	v.r.add(c)
}

// diffMembership compares the expected members with observed server lines:
// ids, addresses, ports and roles. A client address may be the member's own
// address or a wildcard (production binds all interfaces; the lab binds the
// host's loopback address).
func diffMembership(want []compiler.Member, got []ServerLine) []string {
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
		if g.Address != w.Address {
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
		switch g.ClientAddress {
		case "", "0.0.0.0", "::", "[::]", "0:0:0:0:0:0:0:0", w.Address:
		default:
			d = append(d, fmt.Sprintf("client address %s, expected %s or a wildcard", g.ClientAddress, w.Address))
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
		out = append(out, fmt.Sprintf("unexpected id %d (%s)", id, byID[id]))
	}
	return out
}

// versionAtLeast compares a "3.8.0"-style version with major.minor.
func versionAtLeast(v string, major, minor int) bool {
	f := strings.SplitN(v, ".", 3)
	if len(f) < 2 {
		return true // unknown: assume a current server
	}
	ma, err1 := strconv.Atoi(f[0])
	mi, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil {
		return true
	}
	return ma > major || (ma == major && mi >= minor)
}
