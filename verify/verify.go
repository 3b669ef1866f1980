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
	"github.com/zkstage/zkstage/schema"
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
	// Dir is the cluster directory, for the acknowledgement hint.
	Dir string
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
	CheckSettings    = "settings"
)

// Run probes every member live at the end of the manifest's stage and
// checks the ensemble against it. The error is only for unusable input; a
// live ensemble that does not match is a report that is not OK.
func Run(ctx context.Context, m *render.Manifest, opts Options) (*Report, error) {
	if m == nil || len(m.Members) == 0 {
		return nil, errors.New("manifest has no members")
	}
	live := m.LiveMembers()
	// Under reconfig a removed host may still run, outside the
	// configuration, as a non-voting follower: it is checked with the rest.
	live = append(live, m.Outside...)
	if len(live) == 0 {
		return nil, fmt.Errorf("stage %d: no live member (the manifest's live list names no member)", m.Stage)
	}
	start := time.Now()
	r := &Report{Cluster: m.Cluster, Version: m.Version, Stage: m.Stage, StageName: m.Name, AcceptUnknown: opts.AcceptUnknown}
	probes := ProbeMembers(ctx, live, opts)
	exp := Expectation{Version: m.Version, LeaderDatacenters: m.LeaderDatacenters, Datacenters: m.Datacenters,
		StrictLeader: opts.StrictLeader, ZxidTolerance: opts.ZxidTolerance}
	for _, mem := range live {
		exp.Hosts = append(exp.Hosts, Expected{Member: mem, Membership: m.Members})
	}
	shows := ShowsFor(m.Version)
	if !shows.Membership {
		fromJournal(ctx, m, opts, &exp, probes)
	}
	ev := Evaluate(exp, probes)
	r.Checks = ev.Checks
	var leader *compiler.Member
	if ev.Leader != nil {
		leader = &ev.Leader.Member
		r.Leader = leader.Host
	}
	if shows.Membership {
		r.add(znodeConfig(ctx, m, leader, opts))
	}
	if len(m.Settings) > 0 {
		// Only at a stage's end: during a settings roll the hosts not
		// restarted yet rightly run the old settings.
		r.add(settingsCheck(m, live, probes))
	}
	if opts.Canary != "" {
		if leader == nil {
			r.add(Check{Name: CheckCanary, Status: Fail, Message: "no leader to write the canary through"})
		} else {
			r.add(canary(ctx, opts.Canary, *leader, live, opts.timeout()))
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

// znodeConfig: /zookeeper/config, read through a session after a sync,
// lists exactly the stage's membership (3.5+).
func znodeConfig(ctx context.Context, m *render.Manifest, leader *compiler.Member, opts Options) Check {
	c := Check{Name: CheckZNodeConfig, Status: Fail}
	if leader == nil {
		c.Status, c.Message = Unknown, "no single leader to read /zookeeper/config from"
		return c
	}
	data, err := readConfig(ctx, clientAddr(*leader), opts.timeout())
	if err != nil {
		c.Message = err.Error()
		return c
	}
	lines, version, err := ParseDynamicConfig(data)
	if err != nil {
		c.Message = err.Error()
		return c
	}
	c.Evidence = append(c.Evidence, fmt.Sprintf("read through %s after sync: %d servers, version=%s", leader.Host, len(lines), version))
	if m.Method == schema.MethodReconfig {
		return znodeConfigDynamic(m, lines, version, c)
	}
	if d := DiffMembership(m.Members, lines); len(d) > 0 {
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
	return c
}

// znodeConfigDynamic judges /zookeeper/config for a stage of a reconfig
// plan. Whether reconfiguration is on is visible only here: a static
// configuration keeps version=0, while with a dynamic config file the
// version is the zxid that committed it, set at the first election (seen
// on 3.5.10 and 3.8.0; the membership and conf are the same either way, so
// without this the enabling stage would verify before it ran). With it on
// the znode is the committed configuration, so a difference fails.
func znodeConfigDynamic(m *render.Manifest, lines []ServerLine, version string, c Check) Check {
	static := version == "0" || version == "" // no version line: nothing shows reconfiguration on
	switch {
	case m.Dynamic && static:
		c.Message = fmt.Sprintf("/zookeeper/config has version=0: the ensemble runs static configs, and stage %d runs with reconfiguration on (reconfigEnabled=true and a dynamic config file): roll the enable-reconfig stage first", m.Stage)
	case !m.Dynamic && !static:
		c.Message = fmt.Sprintf("/zookeeper/config has version=%s: the ensemble runs with reconfiguration on, and stage %d is static (reconfigEnabled=false); if it already ran with reconfiguration on, say so with policy.reconfigEnabled: true", version, m.Stage)
	default:
		if d := DiffMembership(m.Members, lines); len(d) > 0 {
			if !m.Dynamic {
				// Static: the znode can lag (see znodeConfig).
				c.Status = Warn
				c.Message = "/zookeeper/config differs from the stage (static configs: the znode can lag the running membership; conf is authoritative): " + strings.Join(d, "; ")
				return c
			}
			c.Message = "/zookeeper/config, the committed configuration, is not the stage's: " + strings.Join(d, "; ")
			return c
		}
		c.Status = Pass
		c.Message = fmt.Sprintf("/zookeeper/config lists the %d expected servers", len(lines))
		if m.Dynamic {
			c.Message += fmt.Sprintf(", reconfiguration on (version=%s)", version)
		}
	}
	return c
}

// settingsCheck compares the settings each live member shows in conf with
// the stage's (Manifest.Settings): a host that did not restart onto new
// settings still runs the old ones.
func settingsCheck(m *render.Manifest, live []compiler.Member, probes []*Probe) Check {
	c := Check{Name: CheckSettings}
	keys := make([]string, 0, len(m.Settings))
	for k := range m.Settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var wrong, unobserved []string
	for i, mem := range live {
		p := probes[i]
		if p.Conf == nil {
			unobserved = append(unobserved, mem.Host+": no conf answer")
			continue
		}
		var diffs []string
		for _, k := range keys {
			if got, ok := p.Conf.Settings[k]; !ok || !sameSetting(got, m.Settings[k]) {
				diffs = append(diffs, fmt.Sprintf("%s=%s (the stage's zoo.cfg: %s)", k, orNone(got), m.Settings[k]))
			}
		}
		if len(diffs) > 0 {
			wrong = append(wrong, fmt.Sprintf("%s runs %s: it has not restarted onto its files (zkstage roll --settings), or the spec does not say what it runs", mem.Host, strings.Join(diffs, ", ")))
		}
	}
	verdict(&c, wrong, unobserved, fmt.Sprintf("%d member(s) run other settings than the stage's", len(wrong)),
		fmt.Sprintf("settings not observed on %d member(s)", len(unobserved)),
		fmt.Sprintf("all %d live members run the stage's %s", len(live), strings.Join(keys, ", ")))
	return c
}

// sameSetting compares a conf value with a rendered one, as numbers when
// both are (ZooKeeper parses "077" as 77).
func sameSetting(got, want string) bool {
	g, err1 := strconv.ParseInt(strings.TrimSpace(got), 10, 64)
	w, err2 := strconv.ParseInt(strings.TrimSpace(want), 10, 64)
	if err1 == nil && err2 == nil {
		return g == w
	}
	return got == want
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
