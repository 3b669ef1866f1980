package rollout

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/journal"
	"github.com/zkstage/zkstage/verify"
	"github.com/zkstage/zkstage/zksession"
)

// EnvReconfigAuth holds the superuser credentials ("user:password") the
// runner logs in with to reconfigure, under policy.reconfigAuth
// "superDigest". It is read from the environment only, never from a flag,
// so that it appears in no process list or shell history. Unset: no login
// (enough with skipACL=yes).
const EnvReconfigAuth = "ZKSTAGE_RECONFIG_AUTH"

// ConfigZnode is where ZooKeeper 3.5+ publishes the committed configuration.
const ConfigZnode = "/zookeeper/config"

// IsReconfigStage reports whether a stage kind is executed by reconfig
// operations (the enabling stage is a rolling restart, run as one).
func IsReconfigStage(kind string) bool {
	switch kind {
	case compiler.KindReconfigRemove, compiler.KindReconfigAdd, compiler.KindReconfigStop:
		return true
	}
	return false
}

// zkConfig is /zookeeper/config as read after a sync.
type zkConfig struct {
	Members []verify.ServerLine
	Version string // hex, as ZooKeeper writes it: the zxid that committed it
}

func (c *zkConfig) ids() string {
	var ids []int
	for _, m := range c.Members {
		ids = append(ids, m.ID)
	}
	sort.Ints(ids)
	var s []string
	for _, id := range ids {
		s = append(s, strconv.Itoa(id))
	}
	return strings.Join(s, ",")
}

// readConfig reads /zookeeper/config through addr after a sync, so that the
// answer is the leader's committed configuration, not a lagging copy.
func readConfig(ctx context.Context, addr string, timeout time.Duration) (*zkConfig, error) {
	s, err := zksession.Dial(ctx, addr, timeout)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	var data []byte
	err = s.Do(ctx, timeout, "sync and read "+ConfigZnode, func() error {
		if _, err := s.Conn.Sync(ConfigZnode); err != nil {
			return err
		}
		b, _, err := s.Conn.Get(ConfigZnode)
		data = b
		return err
	})
	if err != nil {
		return nil, err
	}
	members, version, err := verify.ParseDynamicConfig(string(data))
	if err != nil {
		return nil, err
	}
	return &zkConfig{Members: members, Version: version}, nil
}

// reconfigError names what ZooKeeper answered. go-zookeeper knows neither
// NewConfigNoQuorum (-13) nor ReconfigInProgress (-14) by name.
func reconfigError(err error) string {
	switch {
	case errors.Is(err, zk.ErrBadVersion):
		return "the configuration changed since it was read (BadVersion): a concurrent reconfiguration; nothing forced"
	case errors.Is(err, zk.ErrNoAuth):
		return errNotAuthorized.Error()
	case errors.Is(err, zk.ErrReconfigDisabled):
		return "reconfiguration is disabled on the server (reconfigEnabled=false): the enabling stage has not run"
	case strings.Contains(err.Error(), "unknown error: -13"):
		return "NewConfigNoQuorum: no quorum of the new configuration is connected and synced to the leader"
	case strings.Contains(err.Error(), "unknown error: -14"):
		return "ReconfigInProgress: another reconfiguration is under way"
	}
	return err.Error()
}

// reconfigRun is the state of a reconfig stage's roll: the configuration
// the runner expects committed and the id every live host runs.
type reconfigRun struct {
	*runner
	committed []compiler.Member
	running   map[string]int
	lines     map[int]string
	beforeOp  func(ctx context.Context) // tests: a fault just before an operation
}

// runReconfig rolls a reconfig stage: its steps in plan order, the add and
// remove steps of one Op issued as one IncrementalReconfig call, every step
// gated.
func runReconfig(ctx context.Context, o Options, beforeOp func(context.Context)) (*Result, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	if o.Exec == nil {
		return nil, errors.New("rollout: no executor (--exec)")
	}
	o.defaults()
	r := &runner{opts: o, from: o.From, to: o.To, members: map[string]compiler.Member{}, fromID: map[string]int{},
		steps: o.To.Steps, done: map[int]bool{}, shows: verify.ShowsFor(o.To.Version)}
	rr := &reconfigRun{runner: r, committed: o.From.Members, running: map[string]int{}, lines: o.To.ServerLines, beforeOp: beforeOp}
	r.outside = rr.outside
	for _, ms := range [][]compiler.Member{o.From.Outside, o.From.Members} {
		for _, m := range ms {
			r.members[m.Host] = m
			r.fromID[m.Host] = m.ID
		}
	}
	for _, ms := range [][]compiler.Member{o.To.Outside, o.To.Members} {
		for _, m := range ms {
			if _, ok := r.members[m.Host]; !ok || m.ID == r.members[m.Host].ID {
				r.members[m.Host] = m
			}
		}
	}
	seen := map[string]bool{}
	for _, h := range append(append([]string{}, o.From.Live...), o.To.Live...) {
		if !seen[h] {
			seen[h] = true
			r.hosts = append(r.hosts, h)
		}
	}
	for _, h := range o.From.Live {
		id, ok := r.fromID[h]
		if !ok {
			return nil, fmt.Errorf("rollout: live host %s of stage %d is in neither its membership nor its outside list", h, o.From.Stage)
		}
		rr.running[h] = id
	}
	for _, s := range r.steps {
		if _, ok := r.members[s.Host]; !ok {
			return nil, fmt.Errorf("rollout: step %s %s: host is in neither stage", s.Action, s.Host)
		}
		if !seen[s.Host] {
			seen[s.Host] = true
			r.hosts = append(r.hosts, s.Host)
		}
	}
	sort.Strings(r.hosts)

	return r.withCanary(ctx, o, rr.serversNow(), func(res *Result) { rr.roll(ctx, res) })
}

// serversNow are the client addresses of the hosts running now.
func (rr *reconfigRun) serversNow() []string {
	var out []string
	for _, h := range sortedHosts(rr.running) {
		m := rr.members[h]
		out = append(out, net.JoinHostPort(m.Address, strconv.Itoa(m.ClientPort)))
	}
	return out
}

func sortedHosts(m map[string]int) []string {
	var out []string
	for h := range m {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

// batch is the steps run as one unit: one host step, or every add/remove
// step of one Op.
type batch struct{ idx []int }

func (rr *reconfigRun) batches() []batch {
	var out []batch
	for i, s := range rr.steps {
		if s.Action == compiler.Add || s.Action == compiler.Remove {
			if n := len(out); n > 0 {
				prev := rr.steps[out[n-1].idx[0]]
				if (prev.Action == compiler.Add || prev.Action == compiler.Remove) && prev.Op == s.Op {
					out[n-1].idx = append(out[n-1].idx, i)
					continue
				}
			}
		}
		out = append(out, batch{idx: []int{i}})
	}
	return out
}

func (rr *reconfigRun) roll(ctx context.Context, res *Result) {
	n := len(rr.steps)
	for i, s := range rr.steps {
		res.Steps = append(res.Steps, StepResult{Plan: i + 1, Action: string(s.Action), Host: s.Host, ID: s.ID,
			FromID: s.FromID, Status: StatusNotRun, PlannedMargin: s.Margin})
	}
	if n == 0 {
		res.OK = true
		res.Message = fmt.Sprintf("stage %d has no steps", rr.to.Stage)
		return
	}
	// The stage must start from the previous stage's committed
	// configuration: anything else is a concurrent change (or a stage
	// already rolled), and is refused, never forced.
	cfg, err := rr.readCommitted(ctx)
	if err != nil {
		res.Message = "cannot read the committed configuration: " + err.Error()
		return
	}
	if d := verify.DiffMembership(rr.committed, cfg.Members); len(d) > 0 {
		if rr.alreadyDone(ctx, cfg, res) {
			return
		}
		res.Message = fmt.Sprintf("%s (version %s, ids %s) is not stage %d's configuration: %s; refused (a concurrent change, or the stage partly ran)",
			ConfigZnode, cfg.Version, cfg.ids(), rr.from.Stage, strings.Join(d, "; "))
		return
	}
	// Host steps an interrupted run did (a joiner started, a renamed host
	// restarted under its new id) are done; without --resume the stage is
	// refused, as a rolling one is.
	st0 := rr.observe(ctx)
	k, ok := rr.markDone(res, func(s compiler.Step) (bool, string) { return rr.hostDone(st0, s), "observed" })
	if !ok {
		return
	}
	for i, s := range rr.steps {
		if rr.done[i] {
			rr.running[s.Host] = s.ID
			m := rr.members[s.Host]
			m.ID = s.ID
			rr.members[s.Host] = m
		}
	}
	authChecked := false
	for _, b := range rr.batches() {
		if rr.done[b.idx[0]] {
			continue
		}
		first := rr.steps[b.idx[0]]
		// Pre-step check: the gate of the state so far must hold (a few
		// rounds, so one slow answer does not stop a healthy roll).
		var problems []string
		var st *state
		for attempt := 1; attempt <= precheckRounds; attempt++ {
			st = rr.observe(ctx)
			if problems = rr.gateNow(ctx, st, nil); len(problems) == 0 || ctx.Err() != nil {
				break
			}
			time.Sleep(2 * rr.opts.Poll)
		}
		k++
		for _, i := range b.idx {
			res.Steps[i].K = k
			res.Steps[i].WasLeader = st.Leader == rr.steps[i].Host
		}
		sr := &res.Steps[b.idx[0]]
		if len(problems) > 0 {
			rr.failBatch(res, b, StatusRefused, "refused before the step: "+mainProblem(problems, first.Host), problems)
			return
		}
		if !authChecked && rr.opsLeft() {
			// Once per run, before its first step: credentials that
			// the leader refuses stop the stage before anything runs.
			authChecked = true
			if err := rr.checkAuthorized(ctx, rr.leaderAddr(st)); err != nil {
				rr.failBatch(res, b, StatusRefused, "refused before the step: "+err.Error(), nil)
				return
			}
		}
		var ok bool
		if first.Action == compiler.Add || first.Action == compiler.Remove {
			ok = rr.op(ctx, st, b, k, n, res)
		} else {
			ok = rr.hostStep(ctx, st, b.idx[0], k, n, sr)
			if !ok {
				res.Failure = sr
				res.Message = fmt.Sprintf("step %d/%d %s %s: %s", k, n, sr.Action, sr.Host, sr.Reason)
			}
		}
		if !ok {
			rr.finish(res)
			return
		}
		for _, i := range b.idx {
			res.Elections += res.Steps[i].Elections
		}
	}
	res.OK = true
	rr.placeLeader(ctx, res)
	rr.finish(res)
}

// placeLeader: a reconfig stage can end with the leader outside the most
// preferred datacenter (a removed leader hands over to a member ZooKeeper
// picks, in no id order zkstage could steer). No reconfig operation moves
// the leadership to a chosen member, so the move is the rolling one: when
// the highest id among the other voters is in the preferred datacenter,
// the leader restarts once (one election), onto the same files, gated like
// any step. Options.KeepLeader turns it off.
func (rr *reconfigRun) placeLeader(ctx context.Context, res *Result) {
	if rr.opts.KeepLeader || len(rr.to.LeaderDatacenters) == 0 || ctx.Err() != nil {
		return
	}
	st := rr.observe(ctx)
	L, pref := st.Leader, rr.to.LeaderDatacenters[0]
	if L == "" || rr.dcOf(L) == pref {
		return
	}
	next, nextID := rr.successor(L)
	if next == "" || rr.dcOf(next) != pref {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the leader %s is in %s, not in the preferred %s; restarting it would elect %s (id %d) in %s, so it stays", L, rr.dcOf(L), pref, next, nextID, rr.dcOf(next)))
		return
	}
	s := compiler.Step{Action: compiler.Restart, Host: L, ID: rr.running[L]}
	rr.steps = append(rr.steps, s)
	sr := &StepResult{K: len(res.Steps) + 1, Action: ActionMoveLeader, Host: L, ID: s.ID, Status: StatusNotRun, WasLeader: true}
	ok := rr.hostStep(ctx, st, len(rr.steps)-1, sr.K, sr.K, sr)
	res.LeaderMove = sr
	if !ok {
		res.OK, res.Failure = false, sr
		res.Message = fmt.Sprintf("moving the leader back to %s: restart %s: %s", pref, L, sr.Reason)
		return
	}
	sr.Reason = fmt.Sprintf("the leader %s was in %s; %s (id %d) in %s won the election its restart started", L, rr.dcOf(L), next, nextID, pref)
	res.Elections += sr.Elections
}

// hostDone tells whether host step s of an earlier, interrupted run is
// done: the host serves under the step's id although the stage started
// with it stopped (a joiner) or under another id (a renamed host). A
// restart that keeps the id leaves nothing to see, so it is never done.
func (rr *reconfigRun) hostDone(st *state, s compiler.Step) bool {
	if s.Action != compiler.Start && s.Action != compiler.Restart {
		return false
	}
	o := st.Hosts[s.Host]
	if o == nil || !o.Serving || o.ID != s.ID {
		return false
	}
	before, ran := rr.running[s.Host]
	return !ran || before != s.ID
}

// successor is the voter of the committed configuration that wins the
// election once leader L goes away: with equal zxids the highest running id.
func (rr *reconfigRun) successor(L string) (string, int) {
	next, nextID := "", -1
	for _, m := range rr.committed {
		if _, ok := rr.running[m.Host]; ok && m.Host != L && m.Voter() && m.ID > nextID {
			next, nextID = m.Host, m.ID
		}
	}
	return next, nextID
}

// alreadyDone: the committed configuration is already this stage's (an
// earlier roll's operation committed after its runner gave up, as when a
// frozen quorum of joiners comes back) and the stage's end state holds:
// every step is reported already done.
func (rr *reconfigRun) alreadyDone(ctx context.Context, cfg *zkConfig, res *Result) bool {
	if len(verify.DiffMembership(rr.to.Members, cfg.Members)) > 0 {
		return false
	}
	saved, savedRunning := rr.committed, rr.running
	rr.committed, rr.running = rr.to.Members, map[string]int{}
	for _, h := range rr.to.Live {
		rr.running[h] = rr.members[h].ID
	}
	for _, m := range append(append([]compiler.Member{}, rr.to.Outside...), rr.to.Members...) {
		if _, ok := rr.running[m.Host]; ok {
			rr.running[m.Host] = m.ID
		}
	}
	if problems := rr.gateNow(ctx, rr.observe(ctx), nil); len(problems) > 0 {
		rr.committed, rr.running = saved, savedRunning
		return false
	}
	for i := range res.Steps {
		res.Steps[i].Status, res.Steps[i].Source = StatusAlreadyDone, "observed"
		rr.done[i] = true
	}
	res.OK = true
	res.Message = fmt.Sprintf("stage %d is already done: %s (version %s) is its configuration and every host runs as it should", rr.to.Stage, ConfigZnode, cfg.Version)
	rr.finish(res)
	return true
}

// readCommitted reads /zookeeper/config through the first running host that
// answers.
func (rr *reconfigRun) readCommitted(ctx context.Context) (*zkConfig, error) {
	var errs []string
	for _, addr := range rr.serversNow() {
		cfg, err := readConfig(ctx, addr, rr.opts.ProbeTimeout)
		if err == nil {
			return cfg, nil
		}
		errs = append(errs, err.Error())
	}
	return nil, errors.New(strings.Join(errs, "; "))
}

func (rr *reconfigRun) failBatch(res *Result, b batch, status, reason string, evidence []string) {
	for _, i := range b.idx {
		res.Steps[i].Status, res.Steps[i].Reason = status, reason
	}
	sr := &res.Steps[b.idx[0]]
	sr.Evidence = evidence
	res.Failure = sr
	res.Message = fmt.Sprintf("step %d/%d %s %s: %s", sr.K, len(rr.steps), sr.Action, sr.Host, reason)
}

// outside reports whether host runs now under an id the committed
// configuration does not hold.
func (rr *reconfigRun) outside(host string) bool {
	id, ok := rr.running[host]
	if !ok {
		return false
	}
	for _, m := range rr.committed {
		if m.ID == id {
			return false
		}
	}
	return true
}

// hostStep starts, restarts or stops one host and waits for its gate.
func (rr *reconfigRun) hostStep(ctx context.Context, st *state, i, k, n int, sr *StepResult) bool {
	s := rr.steps[i]
	winner := ""
	if s.Action == compiler.Restart && st.Leader == s.Host {
		winner, _ = rr.successor(s.Host)
	}
	ok := rr.runStep(ctx, st, k, n, s, sr, stepHooks{
		exec: func(ctx, sctx context.Context) error { return rr.execWith(ctx, sctx, s, winner, sr) },
		ran: func() {
			switch s.Action {
			case compiler.Stop:
				delete(rr.running, s.Host)
			default:
				rr.running[s.Host] = s.ID
				m := rr.members[s.Host]
				m.ID = s.ID
				rr.members[s.Host] = m
			}
		},
		gate: func(ctx context.Context) (*state, []string) { return rr.waitGateNow(ctx, &s) },
	})
	if ok {
		rr.done[i] = true
		rr.record(ctx, s, "", "", sr)
	}
	return ok
}

func leaderEpoch(st *state) int64 {
	if st.Leader == "" {
		return -1
	}
	return st.Hosts[st.Leader].Epoch
}

// elections counts leader changes by the epoch (a leader handing over on
// its removal starts a new epoch without an election round).
func elections(before int64, st *state) int {
	if before < 0 || st.Leader == "" {
		return 0
	}
	return int(st.Hosts[st.Leader].Epoch - before)
}

// op issues the batch's add or remove steps as one IncrementalReconfig,
// conditioned on the config version just read, and waits for its gate.
// ZooKeeper commits it only with a quorum of both configurations; when it
// does not (an error, or no answer within the step timeout) the runner
// reads /zookeeper/config again to report which configuration is in force,
// and the roll stops.
func (rr *reconfigRun) op(ctx context.Context, st *state, b batch, k, n int, res *Result) bool {
	sr := &res.Steps[b.idx[0]]
	sr.Started = time.Now()
	epochBefore := leaderEpoch(st)
	first := rr.steps[b.idx[0]]
	rr.emitStart(k, n, first, sr)
	next, joining, leaving := rr.nextConfig(b)
	if len(joining) > 0 && b.idx[0] > 0 && rr.steps[b.idx[0]-1].Action == compiler.Start {
		// A joiner that just passed its gate is still starting up (it
		// restarts its own election once synced, and its JVM is warming);
		// the -add waits a moment so that its acknowledgement is not the
		// slowest part of the commit.
		settle(ctx, activationSettle)
	}
	cfg, err := rr.readCommitted(ctx)
	if err != nil {
		rr.failBatch(res, b, StatusRefused, "cannot read the committed configuration: "+err.Error(), nil)
		return false
	}
	if d := verify.DiffMembership(rr.committed, cfg.Members); len(d) > 0 {
		rr.failBatch(res, b, StatusRefused, fmt.Sprintf("%s (version %s) is not the configuration this stage expects: %s", ConfigZnode, cfg.Version, strings.Join(d, "; ")), nil)
		return false
	}
	version, err := strconv.ParseInt(cfg.Version, 16, 64)
	if err != nil {
		rr.failBatch(res, b, StatusRefused, fmt.Sprintf("%s version %q is not a hex zxid", ConfigZnode, cfg.Version), nil)
		return false
	}
	if rr.beforeOp != nil {
		rr.beforeOp(ctx)
	}
	addr := rr.leaderAddr(st)
	sctx, cancel := context.WithDeadline(ctx, sr.Started.Add(rr.opts.StepTimeout))
	defer cancel()
	opErr := rr.reconfigure(sctx, addr, joining, leaving, version)
	sr.CommandTime = time.Since(sr.Started)
	what := fmt.Sprintf("reconfig %s conditioned on version %s via %s", opText(joining, leaving), cfg.Version, addr)
	if opErr != nil {
		reason := what + ": " + opErr.Error()
		// Which configuration is in force now? Read after a sync (a fresh
		// deadline: the step's may be spent).
		after, rerr := rr.readCommitted(context.WithoutCancel(ctx))
		ev := []string{reason}
		switch {
		case rerr != nil:
			ev = append(ev, "the configuration in force could not be read: "+rerr.Error())
		case len(verify.DiffMembership(rr.committed, after.Members)) == 0:
			ev = append(ev, fmt.Sprintf("the old configuration is in force: %s version %s, ids %s", ConfigZnode, after.Version, after.ids()))
			reason += fmt.Sprintf("; the old configuration (version %s) is still in force", after.Version)
		default:
			ev = append(ev, fmt.Sprintf("%s now holds version %s, ids %s", ConfigZnode, after.Version, after.ids()))
			reason += fmt.Sprintf("; %s now holds version %s (ids %s): check before going on", ConfigZnode, after.Version, after.ids())
		}
		rr.failBatch(res, b, StatusFailed, reason, ev)
		rr.stats(sr)
		rr.emitFailed(k, n, first, sr)
		return false
	}
	rr.committed = next
	// Every member restarts its leader election as it activates the new
	// configuration (seen on 3.5.10 and 3.8.0: each drops and reopens its
	// election connections); writes resume once a quorum has done so. The
	// gate's probes wait that long rather than compete with it.
	settle(sctx, activationSettle)
	gst, problems := rr.waitGateNow(sctx, nil)
	sr.GateTime = time.Since(sr.Started) - sr.CommandTime
	if len(problems) > 0 {
		rr.failBatch(res, b, StatusFailed, fmt.Sprintf("%s committed, but the gate did not pass within %s: %s", what, rr.opts.StepTimeout, mainProblem(problems, first.Host)), problems)
		rr.stats(sr)
		return false
	}
	// The gate saw the new members; the version must have moved on too (it
	// is the zxid that committed the configuration).
	after, err := rr.readCommitted(ctx)
	if err != nil {
		rr.failBatch(res, b, StatusFailed, fmt.Sprintf("%s committed, but %s could not be read again: %v", what, ConfigZnode, err), nil)
		rr.stats(sr)
		return false
	}
	newVersion := after.Version
	if nv, err := strconv.ParseInt(newVersion, 16, 64); err != nil || nv <= version {
		rr.failBatch(res, b, StatusFailed, fmt.Sprintf("%s committed, but %s version %s is not newer than %s", what, ConfigZnode, newVersion, cfg.Version), nil)
		rr.stats(sr)
		return false
	}
	rr.stats(sr)
	for _, i := range b.idx {
		s := &res.Steps[i]
		s.Status, s.LeaderAfter = StatusDone, gst.Leader
		if i != b.idx[0] {
			s.Started, s.Duration, s.CommandTime, s.GateTime = sr.Started, sr.Duration, sr.CommandTime, sr.GateTime
		}
		rr.done[i] = true
	}
	sr.Elections = elections(epochBefore, gst)
	for _, i := range b.idx {
		rr.record(ctx, rr.steps[i], cfg.Version, newVersion, sr)
	}
	rr.emitDone(k, n, first, sr)
	return true
}

// activationSettle is how long the gate waits after a committed operation
// before its first observation, and an -add after the last joiner started.
const activationSettle = 500 * time.Millisecond

func settle(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

func opText(joining, leaving []string) string {
	var parts []string
	if len(joining) > 0 {
		parts = append(parts, "-add "+strings.Join(joining, ","))
	}
	if len(leaving) > 0 {
		parts = append(parts, "-remove "+strings.Join(leaving, ","))
	}
	return strings.Join(parts, " ")
}

// nextConfig is the committed configuration after the batch, and the
// server lines and ids it sends.
func (rr *reconfigRun) nextConfig(b batch) ([]compiler.Member, []string, []string) {
	next := append([]compiler.Member{}, rr.committed...)
	var joining, leaving []string
	for _, i := range b.idx {
		s := rr.steps[i]
		switch s.Action {
		case compiler.Add:
			m := rr.members[s.Host]
			m.ID = s.ID
			next = append(next, m)
			line := rr.lines[s.ID]
			joining = append(joining, fmt.Sprintf("server.%d=%s", s.ID, line))
		case compiler.Remove:
			var keep []compiler.Member
			for _, m := range next {
				if m.ID != s.ID {
					keep = append(keep, m)
				}
			}
			next = keep
			leaving = append(leaving, strconv.Itoa(s.ID))
		}
	}
	sort.Slice(next, func(i, j int) bool { return next[i].ID < next[j].ID })
	return next, joining, leaving
}

// leaderAddr is the client address of the live leader (else the first
// running host): the request goes to the server that proposes it.
func (rr *reconfigRun) leaderAddr(st *state) string {
	if st.Leader != "" {
		m := rr.members[st.Leader]
		return net.JoinHostPort(m.Address, strconv.Itoa(m.ClientPort))
	}
	return rr.serversNow()[0]
}

// reconfigure sends one IncrementalReconfig, logged in as the superuser
// when $ZKSTAGE_RECONFIG_AUTH is set.
func (rr *reconfigRun) reconfigure(ctx context.Context, addr string, joining, leaving []string, version int64) error {
	s, err := rr.session(ctx, addr)
	if err != nil {
		return err
	}
	defer s.Close()
	timeout := time.Until(deadlineOf(ctx, rr.opts.StepTimeout))
	return s.Do(ctx, timeout, "reconfig", func() error {
		_, err := s.Conn.IncrementalReconfig(joining, leaving, version)
		if err != nil {
			return errors.New(reconfigError(err))
		}
		return nil
	})
}

func deadlineOf(ctx context.Context, def time.Duration) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return time.Now().Add(def)
}

// waitGateNow observes until the gate of the state so far passes.
func (rr *reconfigRun) waitGateNow(ctx context.Context, s *compiler.Step) (*state, []string) {
	var lastSt *state
	var last []string
	for {
		st := rr.observe(ctx)
		problems := rr.gateNow(ctx, st, s)
		if cutShort(ctx) && last != nil {
			// Cut short by the step's deadline: the last whole
			// observation's verdict stands (see runner.waitGate).
			return lastSt, last
		}
		if len(problems) == 0 {
			return st, nil
		}
		lastSt, last = st, problems
		select {
		case <-ctx.Done():
			return st, problems
		case <-time.After(rr.opts.Poll):
		}
	}
}

// gateNow checks the live state against what the runner expects now: a
// stopped host is down; every running host serves under its id, the
// members of the committed configuration as voters (or observers) and the
// others as non-voting followers; conf on every one lists the committed
// configuration; one leader, in an allowed datacenter, whose mntr counts
// every other running host as synced; and /zookeeper/config, read after a
// sync, holds the committed configuration.
func (rr *reconfigRun) gateNow(ctx context.Context, st *state, s *compiler.Step) []string {
	var problems []string
	if s != nil && s.Action == compiler.Stop {
		if o := st.Hosts[s.Host]; o != nil && !o.Down {
			problems = append(problems, fmt.Sprintf("%s still answers on %s after stop (%s)", s.Host, o.Addr, o.describe()))
		}
	}
	dcs := map[string]string{}
	for _, h := range rr.hosts {
		dcs[h] = rr.dcOf(h)
	}
	exp := verify.Expectation{Version: rr.to.Version, LeaderDatacenters: rr.to.LeaderDatacenters, Datacenters: dcs, ZxidTolerance: 1 << 40}
	var probes []*verify.Probe
	for _, h := range sortedHosts(rr.running) {
		m := rr.members[h]
		m.ID = rr.running[h]
		exp.Hosts = append(exp.Hosts, verify.Expected{Member: m, Membership: rr.committed})
		o := st.Hosts[h]
		p := o.Probe
		if p == nil {
			p = &verify.Probe{Addr: o.Addr, SrvrErr: errors.New(o.describe())}
		}
		probes = append(probes, p)
	}
	for _, c := range verify.Evaluate(exp, probes).Checks {
		if c.Status != verify.Fail && c.Status != verify.Unknown {
			continue
		}
		switch {
		case len(c.Problems) > 0:
			problems = append(problems, c.Problems...)
		case c.Host != "":
			problems = append(problems, c.Host+": "+c.Message)
		default:
			problems = append(problems, c.Message)
		}
	}
	if len(problems) > 0 {
		return problems
	}
	cfg, err := rr.readCommitted(ctx)
	if err != nil {
		return []string{ConfigZnode + ": " + err.Error()}
	}
	if d := verify.DiffMembership(rr.committed, cfg.Members); len(d) > 0 {
		return []string{fmt.Sprintf("%s (version %s, ids %s) is not the expected configuration: %s", ConfigZnode, cfg.Version, cfg.ids(), strings.Join(d, "; "))}
	}
	return nil
}

// record writes one step to the rollout journal, with the config versions
// before and after for an add or remove.
func (rr *reconfigRun) record(ctx context.Context, s compiler.Step, from, to string, sr *StepResult) {
	if rr.opts.NoJournal {
		return
	}
	rec := journal.Record{Fingerprint: rr.to.Fingerprint, Stage: rr.to.Stage, StageName: rr.to.Name, Action: string(s.Action),
		Host: s.Host, ID: s.ID, FromID: s.FromID, At: time.Now().UTC(), By: journal.ByRoll, ConfigFrom: from, ConfigTo: to}
	if err := journal.Append(ctx, rr.serversNow(), rr.to.Cluster, rr.opts.ProbeTimeout, rec); err != nil {
		sr.Reason = "done, not recorded in the journal: " + err.Error()
	}
}
